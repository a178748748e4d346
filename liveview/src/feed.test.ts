import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Decimal128, Double, Int32, Long } from 'mongodb';
import { candleIdsToRead, LOOKBACK_MS, toCandleView, toStockView } from './feed.js';

test('toStockView: the contract shape (company + avgPrice) is enough; richer fields are kept', () => {
  assert.deepEqual(toStockView({ _id: 'x', company: 'ACME', avgPrice: 12.5 }), { company: 'ACME', avgPrice: 12.5 });
  assert.deepEqual(toStockView({ company: 'ACME', avgPrice: new Double(12) }), { company: 'ACME', avgPrice: 12 });
  assert.deepEqual(toStockView({ company: 'ACME', avgPrice: Decimal128.fromString('1.25') }), {
    company: 'ACME',
    avgPrice: 1.25,
  });
  const at = new Date(1_700_000_000_000);
  assert.deepEqual(
    toStockView({
      company: 'TSLA',
      avgPrice: new Double(417.28),
      lastPrice: 418,
      vwap: new Double(417.5),
      batchSize: new Int32(12),
      lastTradeAt: Long.fromNumber(1_700_000_000_123),
      updatedAt: at,
      volume: 99,
    }),
    {
      company: 'TSLA',
      avgPrice: 417.28,
      lastPrice: 418,
      vwap: 417.5,
      batchSize: 12,
      lastTradeAt: 1_700_000_000_123,
      updatedAt: at.getTime(),
    },
  );
});

test('toStockView: documents the page cannot show are skipped, not shown as NaN', () => {
  for (const doc of [
    {},
    { company: 'ACME' },
    { avgPrice: 1 },
    { company: '', avgPrice: 1 },
    { company: 42, avgPrice: 1 },
    { company: 'ACME', avgPrice: 'cheap' },
    { company: 'ACME', avgPrice: Number.NaN },
    { company: 'ACME', avgPrice: null },
  ]) {
    assert.equal(toStockView(doc), undefined, JSON.stringify(doc));
  }
  assert.deepEqual(toStockView({ company: 'ACME', avgPrice: 1, lastPrice: 'x', lastTradeAt: null }), {
    company: 'ACME',
    avgPrice: 1,
  });
});

test('toCandleView: maps a stored candle, drops the 1 m per-second map and half-written documents', () => {
  const doc = {
    _id: 'AAPL:1m:1700000040000',
    company: 'AAPL',
    interval: '1m',
    start: 1_700_000_040_000,
    open: 100,
    high: new Double(102),
    low: 99,
    close: 101,
    vwap: 100.5,
    volume: 30,
    trades: new Int32(3),
    buys: 2,
    sells: 1,
    lastTradeAt: 1_700_000_041_500,
    updatedAt: new Date(),
    s: { x1700000040000: { o: 100 } },
  };
  assert.deepEqual(toCandleView(doc), {
    company: 'AAPL',
    interval: '1m',
    start: 1_700_000_040_000,
    open: 100,
    high: 102,
    low: 99,
    close: 101,
    vwap: 100.5,
    volume: 30,
    trades: 3,
    buys: 2,
    sells: 1,
    lastTradeAt: 1_700_000_041_500,
  });
  assert.equal(toCandleView({ company: 'AAPL', interval: '1m', start: 0, s: {} }), undefined, 'only the map yet');
  assert.equal(toCandleView({ ...doc, interval: '5m' }), undefined, 'unknown interval');
  assert.equal(toCandleView({ ...doc, company: undefined }), undefined);
  assert.equal(toCandleView({ ...doc, close: 'x' }), undefined);
});

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
