import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_GAP_SLOTS, withGaps } from './chart-gaps.js';

const bar = (start: number) => ({ start });
const draw = (series: { start: number }[], step = 1000) =>
  withGaps(
    series,
    step,
    (candle) => `bar ${candle.start}`,
    (start) => `gap ${start}`,
  );

test('missing seconds become empty slots; neighbours stay neighbours', () => {
  assert.deepEqual(draw([bar(0), bar(1000), bar(4000)]), ['bar 0', 'bar 1000', 'gap 2000', 'gap 3000', 'bar 4000']);
  assert.deepEqual(draw([]), []);
  assert.deepEqual(draw([bar(0), bar(60_000)], 60_000), ['bar 0', 'bar 60000']);
});

test('a 21 s outage is 20 empty slots; a very long one is capped', () => {
  assert.equal(draw([bar(0), bar(21_000)]).filter((slot) => slot.startsWith('gap')).length, 20);
  assert.equal(draw([bar(0), bar(10_000_000)]).length, MAX_GAP_SLOTS + 2);
});
