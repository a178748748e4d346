import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CandleView } from '@stockmarket/common';
import { SessionBook, sessionStartOf } from './session-stats.js';

const DAY = 86_400_000;
const day = 20_000 * DAY;
const minute = (start: number, over: Partial<CandleView> = {}): CandleView => ({
  company: 'AAPL',
  interval: '1m',
  start,
  open: 10,
  high: 11,
  low: 9,
  close: 10.5,
  vwap: 10,
  volume: 100,
  trades: 10,
  buys: 6,
  sells: 4,
  lastTradeAt: start + 30_000,
  ...over,
});

test('the session: open of its first minute, extremes over all, volume-weighted VWAP', () => {
  const book = new SessionBook();
  const changed = book.apply([
    minute(day + 120_000, { open: 12, high: 13, low: 11.5, close: 12.5, vwap: 12, volume: 300 }),
    minute(day + 60_000),
    { ...minute(day + 60_000), interval: '1s' },
  ]);
  assert.deepEqual(changed, ['AAPL']);
  const stats = book.stats('AAPL');
  assert.ok(stats);
  assert.equal(stats.start, day);
  assert.equal(stats.open, 10);
  assert.equal(stats.close, 12.5);
  assert.equal(stats.high, 13);
  assert.equal(stats.low, 9);
  assert.equal(stats.volume, 400);
  assert.equal(stats.vwap, (10 * 100 + 12 * 300) / 400);
  assert.equal(stats.buys, 12);
  assert.equal(stats.minutes, 2);
});

test('a revised minute replaces its older figures; a new day starts a new session; older days are ignored', () => {
  const book = new SessionBook();
  book.apply([minute(day + 60_000)]);
  book.apply([minute(day + 60_000, { high: 20, volume: 50 })]);
  assert.equal(book.stats('AAPL')?.high, 20);
  assert.equal(book.stats('AAPL')?.volume, 50);
  book.apply([minute(day + DAY + 60_000, { open: 30 })]);
  assert.equal(book.stats('AAPL')?.open, 30);
  assert.equal(book.stats('AAPL')?.start, day + DAY);
  assert.deepEqual(book.apply([minute(day + 120_000)]), []);
  assert.equal(book.stats('AAPL')?.minutes, 1);
  assert.equal(sessionStartOf(day + DAY - 1), day);
  assert.deepEqual(
    book.all(['AAPL', 'MSFT']).map((s) => s.company),
    ['AAPL'],
  );
});
