import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Latencies } from './latency.js';

test('percentiles of 1..1000 ms, within the histogram precision', () => {
  const latencies = Latencies.of(Array.from({ length: 1000 }, (_, i) => i + 1));
  const summary = latencies.summary();
  assert.equal(summary.n, 1000);
  assert.equal(summary.p50, 500);
  assert.equal(summary.p99, 990);
  assert.equal(summary.max, 1000);
});

test('histograms merge across processes through their encoding', () => {
  const a = Latencies.of([1, 2, 3]);
  const b = Latencies.decode(Latencies.of([100, 200]).encode());
  a.add(b);
  assert.deepEqual({ n: a.summary().n, max: a.summary().max, p50: a.summary().p50 }, { n: 5, max: 200, p50: 3 });
});

test('an empty histogram has no percentiles, and out-of-range delays are clamped', () => {
  assert.ok(Number.isNaN(Latencies.create().summary().p50));
  const clamped = Latencies.of([-5, 10_000_000]).summary();
  assert.equal(clamped.n, 2);
  assert.equal(clamped.p50, 0);
  assert.ok(clamped.max >= 600_000 && clamped.max < 601_000, String(clamped.max));
});
