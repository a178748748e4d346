import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ProbeSample, staleness, timelineOf } from './probe.js';

const companies = ['AAPL', 'MSFT'];
const fresh = (at: number, replica = 'a'): ProbeSample => ({
  at,
  replica,
  lastTradeAt: { AAPL: at - 100, MSFT: at - 300 },
});
const stuck = (at: number, since: number, replica = 'a'): ProbeSample => ({
  at,
  replica,
  lastTradeAt: { AAPL: since, MSFT: at - 100 },
});

test('staleness is the age of the stalest company, infinite for a failed request or a missing company', () => {
  assert.equal(staleness(fresh(10_000), companies), 300);
  assert.equal(staleness({ at: 1, error: 'ECONNREFUSED', lastTradeAt: {} }, companies), Number.POSITIVE_INFINITY);
  assert.equal(staleness({ at: 5_000, replica: 'a', lastTradeAt: { AAPL: 4_900 } }, companies), 5_000);
});

test('detection is the first stale sample after the fault, recovery the first fresh one after it', () => {
  const samples = [fresh(900), fresh(1_000), fresh(1_500), stuck(4_000, 1_400), stuck(5_000, 1_400), fresh(6_000)];
  const timeline = timelineOf(samples, 1_200, companies, 2_000);
  assert.equal(timeline.detectedMs, 4_000 - 1_200);
  assert.equal(timeline.recoveredMs, 6_000 - 1_200);
  assert.equal(timeline.worstStalenessMs, 5_000 - 1_400);
  assert.equal(timeline.failedRequests, 0);
});

test('a move to another replica is detected even when prices stay fresh; failed requests are counted', () => {
  const samples = [
    fresh(1_000, 'a'),
    { at: 1_100, error: 'socket hang up', lastTradeAt: {} },
    fresh(1_200, 'b'),
    fresh(1_300, 'b'),
  ];
  const timeline = timelineOf(samples, 1_050, companies, 2_000);
  assert.equal(timeline.detectedMs, 50);
  assert.equal(timeline.recoveredMs, 150);
  assert.deepEqual([timeline.replicaBefore, timeline.replicaAfter, timeline.failedRequests], ['a', 'b', 1]);
});

test('a request sent before the fault and answered after it by another replica counts as after', () => {
  const samples = [fresh(1_000, 'a'), { ...fresh(1_090, 'b'), answeredAt: 1_400 }, fresh(1_500, 'b')];
  const timeline = timelineOf(samples, 1_100, companies, 2_000);
  assert.equal(timeline.replicaBefore, 'a');
  assert.equal(timeline.detectedMs, 1_400 - 1_100, 'detected when the moved request was answered');
});

test('a fault the page never noticed has no detection and no recovery', () => {
  const timeline = timelineOf([fresh(1_000), fresh(2_000), fresh(3_000)], 1_500, companies, 2_000);
  assert.equal(timeline.detectedMs, undefined);
  assert.equal(timeline.recoveredMs, undefined);
});

test('where routing was not sticky before the fault (compose), a change of replica alone is no detection', () => {
  const alternating = [fresh(800, 'a'), fresh(900, 'b'), fresh(1_000, 'a'), fresh(1_100, 'b'), fresh(1_200, 'a')];
  const timeline = timelineOf(alternating, 1_050, companies, 2_000);
  assert.equal(timeline.detectedMs, undefined);
});
