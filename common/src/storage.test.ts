import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bucketTradeKey,
  candleId,
  collectionNames,
  decodeBucketTrade,
  encodeBucketTrade,
  indexPlan,
  type StoredTrade,
  secondKey,
  secondOfKey,
  tradeIdOfKey,
} from './storage.js';

const T0 = Date.UTC(2024, 0, 2, 14, 30, 0);

test('bucket encoding of a trade round-trips, extreme values included', () => {
  const sell: StoredTrade = { id: '01J-abc_9', price: 417.28, quantity: 12, side: 'sell', ts: T0 + 123 };
  assert.deepEqual(decodeBucketTrade(sell.id, encodeBucketTrade(sell)), sell);
  const buy: StoredTrade = { id: 'x', price: 0.0001, quantity: 1_000_000_000, side: 'buy', ts: T0 };
  assert.deepEqual(decodeBucketTrade('x', encodeBucketTrade(buy)), buy);
});

test('field keys inside documents round-trip and never start with a digit', () => {
  assert.equal(tradeIdOfKey(bucketTradeKey('123abc')), '123abc');
  assert.equal(secondOfKey(secondKey(T0)), T0);
  assert.match(bucketTradeKey('1'), /^[a-z]/);
  assert.match(secondKey(T0), /^[a-z]/);
});

test('only the stocks collection follows the configuration', () => {
  assert.deepEqual(collectionNames('quotes'), {
    stocks: 'quotes',
    candles: 'candles',
    history: 'stock_history',
    buckets: 'trade_buckets',
  });
  assert.equal(collectionNames().stocks, 'stocks');
  assert.equal(candleId('AAPL', '1m', T0), `AAPL:1m:${T0}`);
});

test('the index plan covers every collection, with unique names per collection', () => {
  const names = collectionNames('quotes');
  const plan = indexPlan(names);
  assert.deepEqual(new Set(plan.map((entry) => entry.collection)), new Set(Object.values(names)));
  for (const collection of Object.values(names)) {
    const indexNames = plan.filter((entry) => entry.collection === collection).map((entry) => entry.index.name);
    assert.equal(new Set(indexNames).size, indexNames.length, collection);
  }
});
