import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Decimal128, Double, Int32, Long } from 'mongodb';
import { toCandleView, toStockView } from './feed-documents.js';

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
