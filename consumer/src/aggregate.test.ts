import assert from 'node:assert/strict';
import { test } from 'node:test';
import { figuresOf, type SecondEntry } from '@stockmarket/common';
import {
  bookedFromSeconds,
  candleFromSeconds,
  candleFromTrades,
  groupByWindow,
  MINUTE,
  SECOND,
  secondEntry,
  summarizeBatch,
  type TradeRecord,
  windowStart,
} from './aggregate.js';

const T0 = Date.UTC(2024, 0, 2, 14, 30, 0); // a whole minute
const trade = (id: string, ts: number, price: number, quantity = 1, side: 'buy' | 'sell' = 'buy'): TradeRecord => ({
  id,
  ts,
  price,
  quantity,
  side,
});
const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);

test('batch summary: avgPrice is the plain mean, vwap weighs by quantity, last is by event time', () => {
  const trades = [trade('c', T0 + 30, 12, 1), trade('a', T0 + 10, 10, 3), trade('b', T0 + 20, 20, 1, 'sell')];
  const summary = summarizeBatch(trades);
  close(summary.avgPrice, 14);
  close(summary.vwap, (10 * 3 + 20 + 12) / 5);
  assert.equal(summary.volume, 5);
  assert.equal(summary.count, 3);
  assert.equal(summary.lastPrice, 12);
  assert.equal(summary.firstTradeAt, T0 + 10);
  assert.equal(summary.lastTradeAt, T0 + 30);
  assert.deepEqual([summary.firstId, summary.lastId], ['a', 'c']);
  assert.throws(() => summarizeBatch([]), /empty/);
});

test('the mean of whole-number prices stays exact and order does not matter', () => {
  const trades = [trade('x', T0, 1), trade('y', T0, 2), trade('z', T0, 4)];
  assert.equal(summarizeBatch(trades).avgPrice, 7 / 3);
  assert.deepEqual(summarizeBatch(trades), summarizeBatch([...trades].reverse()));
});

test('windows: a trade at the exact boundary opens the next window; the last ms closes the previous', () => {
  assert.equal(windowStart(T0 + 999, SECOND), T0);
  assert.equal(windowStart(T0 + 1000, SECOND), T0 + 1000);
  assert.equal(windowStart(T0 + MINUTE - 1, MINUTE), T0);
  assert.equal(windowStart(T0 + MINUTE, MINUTE), T0 + MINUTE);
  const trades = [
    trade('a', T0 + 999, 5),
    trade('b', T0 + 1000, 6),
    trade('c', T0 + 1999, 7),
    trade('d', T0 + 2000, 8),
  ];
  const groups = groupByWindow(trades, (item) => item.ts, SECOND);
  assert.deepEqual(
    [...groups].map(([start, items]) => [start - T0, items.map((item) => item.id)]),
    [
      [0, ['a']],
      [1000, ['b', 'c']],
      [2000, ['d']],
    ],
  );
});

test('OHLC: open and close by event time (ties by id), high, low, volume, vwap, buys and sells', () => {
  const trades = [
    trade('t3', T0 + 500, 101, 2, 'sell'),
    trade('t1', T0 + 100, 100, 1),
    trade('t5', T0 + 900, 99, 1, 'sell'),
    trade('t2', T0 + 300, 105, 4),
    trade('t4', T0 + 900, 98, 3), // same time as t5: t4 < t5 by id, so t5 closes
  ];
  const candle = candleFromTrades(trades);
  assert.equal(candle.open, 100);
  assert.equal(candle.high, 105);
  assert.equal(candle.low, 98);
  assert.equal(candle.close, 99);
  assert.equal(candle.volume, 11);
  close(candle.vwap, (100 + 101 * 2 + 99 + 105 * 4 + 98 * 3) / 11);
  assert.deepEqual([candle.trades, candle.buys, candle.sells], [5, 3, 2]);
  assert.equal(candle.lastTradeAt, T0 + 900);
  assert.deepEqual(candleFromTrades([...trades].reverse()), candle);
  assert.throws(() => candleFromTrades([]), /empty/);
});

test('a minute from its seconds equals the candle of all its trades', () => {
  const trades: TradeRecord[] = [];
  for (let i = 0; i < 240; i++) {
    // Every 250 ms over the minute, including both boundaries' first and last milliseconds.
    const ts = T0 + Math.min(MINUTE - 1, i * 250 + (i % 4 === 3 ? 249 : 0));
    trades.push(
      trade(`t${String(i).padStart(3, '0')}`, ts, 100 + Math.sin(i) * 5, 1 + (i % 7), i % 3 ? 'buy' : 'sell'),
    );
  }
  const seconds = new Map<number, SecondEntry>();
  for (const [start, items] of groupByWindow(trades, (item) => item.ts, SECOND)) {
    seconds.set(start, secondEntry(candleFromTrades(items)));
  }
  assert.equal(seconds.size, 60);
  const fromSeconds = candleFromSeconds(seconds);
  const direct = candleFromTrades(trades);
  for (const key of ['open', 'high', 'low', 'close', 'volume', 'trades', 'buys', 'sells', 'lastTradeAt'] as const) {
    assert.equal(fromSeconds[key], direct[key], key);
  }
  close(fromSeconds.vwap, direct.vwap);
  // Seconds stored in any order (a map read back from the database) give the same minute.
  assert.deepEqual(candleFromSeconds(new Map([...seconds].reverse())), fromSeconds);
  assert.throws(() => candleFromSeconds(new Map()), /empty/);
});

test('booked figures of a minute: the sum over its seconds equals the figures of all its trades, in any order', () => {
  const trades: TradeRecord[] = [];
  for (let i = 0; i < 120; i++) trades.push(trade(`b${i}`, T0 + i * 500, 100.01 + (i % 13), 1 + (i % 5)));
  const seconds = new Map<number, SecondEntry>();
  for (const [start, items] of groupByWindow(trades, (item) => item.ts, SECOND)) {
    seconds.set(start, secondEntry(candleFromTrades(items), items));
  }
  assert.deepEqual(bookedFromSeconds(seconds), figuresOf(trades));
  assert.deepEqual(bookedFromSeconds(new Map([...seconds].reverse())), figuresOf([...trades].reverse()));
  // A second without the figures (written before reconciliation existed): no exact booked figures.
  seconds.set(T0 + MINUTE - 1000, secondEntry(candleFromTrades([trade('old', T0 + MINUTE - 1, 100, 1)])));
  assert.equal(bookedFromSeconds(seconds), undefined);
});
