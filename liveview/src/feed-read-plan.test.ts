import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candleIdsToRead, LOOKBACK_MS } from './feed-read-plan.js';

test('candleIdsToRead: every second since the previous trade and the minutes around, bounded', () => {
  const t = 1_700_000_099_400; // 59.4 s into the minute that starts at 1700000040000
  assert.deepEqual(candleIdsToRead('AAPL', t, t - 2000, t - 2000), [
    'AAPL:1s:1700000097000',
    'AAPL:1s:1700000098000',
    'AAPL:1s:1700000099000',
    'AAPL:1m:1700000040000',
  ]);
  // Crossing a minute boundary reads both minutes.
  const crossing = candleIdsToRead('AAPL', t + 1000, t, undefined);
  assert.deepEqual(crossing, [
    'AAPL:1s:1700000099000',
    'AAPL:1s:1700000100000',
    'AAPL:1m:1700000040000',
    'AAPL:1m:1700000100000',
  ]);
  // A stock that moved backwards (a late batch) still re-reads its own seconds.
  assert.ok(candleIdsToRead('AAPL', t - 5000, t, t).includes('AAPL:1s:1700000094000'));
  // First sight of a company: only its newest second.
  assert.deepEqual(candleIdsToRead('MSFT', t, undefined, undefined), [
    'MSFT:1s:1700000099000',
    'MSFT:1m:1700000040000',
  ]);
  // After a long gap, never more than the look-back.
  const ids = candleIdsToRead('AAPL', t, t - 3_600_000, undefined);
  assert.equal(ids.filter((id) => id.includes(':1s:')).length, LOOKBACK_MS / 1000 + 1);
});
