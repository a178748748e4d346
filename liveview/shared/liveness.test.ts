import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeartbeatMessage } from '@stockmarket/common';
import { DATABASE_CATCH_UP_MS, formatAge, type LivenessInput, liveness, toPageClock } from './liveness.js';

const beat = (over: Partial<HeartbeatMessage> = {}): HeartbeatMessage => ({
  replica: 'r1',
  sentAt: 10_000,
  fresh: true,
  lastReadAt: 10_000,
  newestTradeAt: 9_800,
  intervalMs: 1_000,
  tradeStaleAfterMs: 2_500,
  ...over,
});
const input = (over: Partial<LivenessInput> = {}): LivenessInput => ({
  connected: true,
  everConnected: true,
  now: 100_000,
  connectedAt: 90_000,
  heartbeatAt: 99_800,
  heartbeat: beat(),
  lastTradeAt: 99_600,
  ...over,
});

test('fresh heartbeats and a recent trade: connected, with the trade age on the page clock', () => {
  assert.deepEqual(liveness(input()), { state: 'connected', tradeAgeMs: 400, drop: false });
});

test('the trade age turns amber from 70 % of the limit and stale beyond it; publisher once the replica read nothing newer', () => {
  assert.equal(liveness(input({ lastTradeAt: 100_000 - 1_800 })).state, 'delayed');
  // The heartbeat does not yet show a read well after the newest trade: stale, cause unknown.
  const early = liveness(input({ lastTradeAt: 100_000 - 2_600 }));
  assert.deepEqual([early.state, early.cause, early.drop], ['stale', 'unknown', false]);
  // The replica read the database 2.6 s after the newest trade and found nothing newer.
  const confirmed = liveness(
    input({ lastTradeAt: 100_000 - 2_900, heartbeat: beat({ newestTradeAt: 7_300, lastReadAt: 9_900 }) }),
  );
  assert.deepEqual([confirmed.state, confirmed.cause], ['stale', 'publisher']);
});

test('nothing new right after a database outage: not blamed on the publisher until the catch-up time has passed', () => {
  // The replica reads again and finds nothing newer: the consumer has not written its backlog yet.
  const evidence = { lastTradeAt: 100_000 - 2_900, heartbeat: beat({ newestTradeAt: 7_300, lastReadAt: 9_900 }) };
  const catchingUp = liveness(input({ ...evidence, databaseSuspectedAt: 100_000 - 3_000 }));
  assert.deepEqual([catchingUp.state, catchingUp.cause], ['stale', 'unknown']);
  const later = liveness(input({ ...evidence, databaseSuspectedAt: 100_000 - DATABASE_CATCH_UP_MS - 1 }));
  assert.deepEqual([later.state, later.cause], ['stale', 'publisher']);
});

test('a replica that cannot read the database: stale, cause database', () => {
  const result = liveness(input({ heartbeat: beat({ fresh: false }) }));
  assert.equal(result.state, 'stale');
  assert.equal(result.cause, 'database');
  // Before the replica calls itself stale: no trades and its last read lagged 1.5 s when it sent
  // the heartbeat: the database, not the publisher.
  const lagging = liveness(input({ lastTradeAt: 97_000, heartbeat: beat({ lastReadAt: 8_500 }) }));
  assert.deepEqual([lagging.state, lagging.cause], ['stale', 'database']);
});

test('no trades and heartbeats overdue (not yet missed): the replica is the suspect', () => {
  const late = liveness(input({ lastTradeAt: 97_000, heartbeatAt: 100_000 - 1_600 }));
  assert.deepEqual([late.state, late.cause, late.drop], ['stale', 'replica', false]);
});

test('missed heartbeats: stale, cause replica, and the connection is dropped', () => {
  const result = liveness(input({ heartbeatAt: 100_000 - 2_600 }));
  assert.deepEqual([result.state, result.cause, result.drop], ['stale', 'replica', true]);
  // No heartbeat yet on a new connection: measured from the connection.
  assert.equal(liveness(input({ heartbeatAt: 0, connectedAt: 99_000 })).drop, false);
  assert.equal(liveness(input({ heartbeatAt: 0, connectedAt: 97_000 })).drop, true);
});

test('connected but no snapshot yet: still reconnecting (the old figures must not judge the new replica)', () => {
  const waiting = input({ awaitingSnapshot: true, heartbeatAt: 0, connectedAt: 99_900, lastTradeAt: 90_000 });
  assert.deepEqual(liveness(waiting), { state: 'reconnecting', tradeAgeMs: 10_000, drop: false });
  assert.equal(liveness({ ...waiting, connectedAt: 97_000 }).drop, true);
});

test('not connected: connecting, then reconnecting', () => {
  assert.equal(liveness(input({ connected: false, everConnected: false })).state, 'connecting');
  assert.equal(liveness(input({ connected: false })).state, 'reconnecting');
});

test('no trade time known (a contract-only consumer): no staleness judged from trades', () => {
  assert.equal(liveness(input({ lastTradeAt: 0 })).state, 'connected');
  assert.equal(formatAge(undefined), 'no trade time');
});

test('replica times move to the page clock by the send time, whatever the clock offset', () => {
  assert.equal(toPageClock(9_800, 10_000, 500_000), 499_800);
  assert.equal(toPageClock(0, 10_000, 500_000), 0);
  assert.equal(formatAge(400), '0.4 s ago');
  assert.equal(formatAge(42_000), '42 s ago');
  assert.equal(formatAge(180_000), '3 min ago');
});
