import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsumerView, LiveviewReplicaView } from '../../shared/system-message.js';
import { EventLog, type Observed } from './events.js';

const consumer = (name: string, up: boolean, leases: string[]): ConsumerView => ({
  name,
  up,
  seenAt: 1,
  leases,
  batchesPerSecond: 0,
  buffered: 0,
});
const liveview = (name: string, up: boolean): LiveviewReplicaView => ({
  name,
  up,
  seenAt: 1,
  clients: 0,
  feedLagSeconds: 0,
  self: false,
});
const picture = (over: Partial<Observed> = {}): Observed => ({
  publishers: [],
  broker: {
    configured: true,
    up: true,
    downSince: 0,
    queues: [],
    publishPerSecond: 0,
    deliverPerSecond: 0,
    deadLetters: 0,
  },
  consumers: [],
  database: [{ name: 'mongo1', state: 'PRIMARY' }],
  liveviews: [],
  ...over,
});

test('the first picture is the baseline: no events', () => {
  assert.deepEqual(new EventLog().observe(picture({ liveviews: [liveview('liveview-1', true)] }), 1_000), []);
});

test('a replica lost and back: the return carries the outage', () => {
  const log = new EventLog();
  log.observe(picture({ liveviews: [liveview('liveview-1', true)] }), 1_000);
  assert.equal(log.observe(picture({ liveviews: [liveview('liveview-1', false)] }), 2_000)[0]?.text, 'liveview-1 lost');
  const [back] = log.observe(picture({ liveviews: [liveview('liveview-1', true)] }), 6_600);
  assert.equal(back?.text, 'liveview-1 back after 4.6 s');
  assert.equal(back?.durationMs, 4_600);
});

test('a lease moves from a dead consumer to the standby, with the time it was unowned', () => {
  const log = new EventLog();
  log.observe(picture({ consumers: [consumer('consumer-1', true, ['AAPL']), consumer('consumer-2', true, [])] }), 0);
  const lost = log.observe(
    picture({ consumers: [consumer('consumer-1', false, ['AAPL']), consumer('consumer-2', true, [])] }),
    1_000,
  );
  assert.deepEqual(
    lost.map((event) => event.kind),
    ['replica-lost'],
  );
  const [moved] = log.observe(
    picture({ consumers: [consumer('consumer-1', false, ['AAPL']), consumer('consumer-2', true, ['AAPL'])] }),
    1_800,
  );
  assert.equal(moved?.text, 'AAPL lease consumer-1 -> consumer-2 in 0.8 s');
});

test('a lease taken over in the round its owner was lost: timed from when the owner was last seen', () => {
  const log = new EventLog();
  log.observe(
    picture({
      consumers: [{ ...consumer('consumer-1', true, ['AAPL']), seenAt: 5_000 }, consumer('consumer-2', true, [])],
    }),
    5_000,
  );
  const events = log.observe(
    picture({
      consumers: [
        { ...consumer('consumer-1', false, ['AAPL']), seenAt: 5_000 },
        consumer('consumer-2', true, ['AAPL']),
      ],
    }),
    6_000,
  );
  assert.deepEqual(
    events.map((event) => event.text),
    ['consumer-1 lost', 'AAPL lease consumer-1 -> consumer-2 in 1.0 s'],
  );
});

test('a lease its owner lost and took again (broker restart) says so', () => {
  const log = new EventLog();
  log.observe(picture({ consumers: [consumer('consumer-2', true, ['AAPL'])] }), 0);
  log.observe(picture({ consumers: [consumer('consumer-2', true, [])] }), 1_000);
  const [retaken] = log.observe(picture({ consumers: [consumer('consumer-2', true, ['AAPL'])] }), 9_000);
  assert.equal(retaken?.text, 'AAPL lease retaken by consumer-2 after 8.0 s');
});

test('a new PRIMARY, after a time without one', () => {
  const log = new EventLog();
  log.observe(picture(), 0);
  const [none] = log.observe(
    picture({
      database: [
        { name: 'mongo1', state: 'down' },
        { name: 'mongo2', state: 'SECONDARY' },
      ],
    }),
    1_000,
  );
  assert.equal(none?.text, 'no PRIMARY (was mongo1)');
  const [elected] = log.observe(
    picture({
      database: [
        { name: 'mongo1', state: 'down' },
        { name: 'mongo2', state: 'PRIMARY' },
      ],
    }),
    3_500,
  );
  assert.equal(elected?.text, 'PRIMARY mongo1 -> mongo2 in 2.5 s');
});

test('the broker unreachable: its outage measured from the first failed scrape', () => {
  const log = new EventLog();
  const base = picture();
  log.observe(base, 0);
  const down = { ...base.broker, up: false, downSince: 1_000 };
  assert.equal(log.observe(picture({ broker: down }), 1_000)[0]?.text, 'broker unreachable');
  assert.deepEqual(log.observe(picture({ broker: down }), 2_000), []);
  const [back] = log.observe(base, 5_600);
  assert.equal(back?.text, 'broker unreachable 4.6 s');
  assert.equal(back?.durationMs, 4_600);
});

test('the publisher blocked and unblocked; the log keeps the newest events only', () => {
  const log = new EventLog(2);
  const publisher = (blocked: boolean) => ({
    name: 'publisher',
    up: true,
    seenAt: 0,
    tradesPerSecond: 0,
    unconfirmed: 0,
    blocked,
  });
  log.observe(picture({ publishers: [publisher(false)] }), 0);
  log.observe(picture({ publishers: [publisher(true)] }), 1_000);
  log.observe(picture({ publishers: [publisher(false)] }), 3_000);
  log.observe(picture({ publishers: [publisher(true)] }), 4_000);
  assert.deepEqual(
    log.all.map((event) => event.text),
    ['publisher unblocked after 2.0 s', 'publisher blocked by the broker (resource alarm)'],
  );
});
