import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CandleView, StockView } from '@stockmarket/common';
import { FeedState } from './feed-state.js';

const COMPANIES = ['AAPL', 'MSFT', 'TSLA'];

/** A small deterministic PRNG, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function candle(company: string, interval: '1s' | '1m', start: number, trades: number): CandleView {
  const close = 100 + trades;
  return {
    company,
    interval,
    start,
    open: 100,
    high: close + 1,
    low: 99,
    close,
    vwap: close - 0.5,
    volume: trades * 10,
    trades,
    buys: trades,
    sells: 0,
    lastTradeAt: start + 999,
  };
}

/** What a client holds: the snapshot, then every update merged in by key. */
class ClientView {
  readonly stocks = new Map<string, StockView>();
  readonly candles = new Map<string, CandleView>();
  duplicates = 0;
  apply(change: { stocks: readonly StockView[]; candles: readonly CandleView[] }): void {
    for (const stock of change.stocks) {
      if (JSON.stringify(this.stocks.get(stock.company)) === JSON.stringify(stock)) this.duplicates++;
      this.stocks.set(stock.company, stock);
    }
    for (const view of change.candles) {
      const key = `${view.company}:${view.interval}:${view.start}`;
      if (JSON.stringify(this.candles.get(key)) === JSON.stringify(view)) this.duplicates++;
      this.candles.set(key, view);
    }
  }
}

test('snapshot + follow: a client joining at any tick ends with exactly the state, nothing missed or sent twice', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const next = random(seed);
    const history = 20;
    const state = new FeedState(history);
    const trades = new Map<string, number>();
    const prices = new Map<string, number>();
    const clients: ClientView[] = [];
    const joinAt = new Set(Array.from({ length: 5 }, () => Math.floor(next() * 60)));
    let now = 1_700_000_000_000;
    for (let tick = 0; tick < 60; tick++) {
      if (joinAt.has(tick)) {
        const client = new ClientView();
        client.apply(state.snapshot(COMPANIES, history));
        clients.push(client);
      }
      now += Math.floor(next() * 1500);
      const stocks: StockView[] = [];
      const candles: CandleView[] = [];
      for (const company of COMPANIES) {
        if (next() < 0.3) continue;
        const second = Math.floor(now / 1000) * 1000;
        // Re-reads of unchanged candles (the poll reads a window) must not be pushed again.
        for (const start of [second - 1000, second]) {
          const key = `${company}:${start}`;
          const count = (trades.get(key) ?? 0) + (start === second ? 1 + Math.floor(next() * 3) : 0);
          if (count === 0) continue;
          trades.set(key, count);
          candles.push(candle(company, '1s', start, count));
          candles.push(candle(company, '1m', Math.floor(start / 60_000) * 60_000, count));
        }
        const price = (prices.get(company) ?? 100) + (next() - 0.5);
        prices.set(company, price);
        stocks.push({ company, avgPrice: price, lastPrice: price, lastTradeAt: now, updatedAt: now });
      }
      // The unchanged stocks are re-read every tick as well.
      for (const company of COMPANIES) {
        const known = state.stock(company);
        if (known && !stocks.some((stock) => stock.company === company)) stocks.push({ ...known });
      }
      const change = { candles: state.applyCandles(candles), stocks: state.applyStocks(stocks) };
      for (const client of clients) client.apply(change);
    }
    const truth = state.snapshot(COMPANIES, history);
    assert.ok(clients.length > 0, `seed ${seed}: some client joined`);
    for (const client of clients) {
      assert.equal(client.duplicates, 0, `seed ${seed}: no update arrived twice`);
      assert.deepEqual(
        [...client.stocks.values()].sort((a, b) => a.company.localeCompare(b.company)),
        truth.stocks,
        `seed ${seed}: stocks`,
      );
      // The client may hold older candles than the state keeps (it does not evict), never fewer.
      for (const view of truth.candles) {
        assert.deepEqual(client.candles.get(`${view.company}:${view.interval}:${view.start}`), view, `seed ${seed}`);
      }
    }
  }
});

test('applyStocks returns only what changed; documents with only company and avgPrice count', () => {
  const state = new FeedState(10);
  assert.deepEqual(state.applyStocks([{ company: 'ACME', avgPrice: 12.5 }]), [{ company: 'ACME', avgPrice: 12.5 }]);
  assert.deepEqual(state.applyStocks([{ company: 'ACME', avgPrice: 12.5 }]), []);
  assert.deepEqual(state.applyStocks([{ company: 'ACME', avgPrice: 13 }]), [{ company: 'ACME', avgPrice: 13 }]);
  assert.deepEqual(state.snapshot(['AAPL'], 5).stocks, [{ company: 'ACME', avgPrice: 13 }]);
});

test('the candle history keeps the newest per series and ignores what is older than all it keeps', () => {
  const state = new FeedState(3);
  const made = [1, 2, 3, 4, 5].map((n) => candle('AAPL', '1s', n * 1000, 1));
  assert.equal(state.applyCandles(made).length, 5);
  assert.deepEqual(
    state.recentCandles('AAPL', '1s', 10).map((view) => view.start),
    [3000, 4000, 5000],
  );
  assert.deepEqual(state.applyCandles([candle('AAPL', '1s', 1000, 9)]), [], 'older than the kept window');
  assert.equal(state.applyCandles([candle('AAPL', '1s', 5000, 2)]).length, 1, 'a candle that grew is news');
  assert.equal(state.newestCandleStart('AAPL', '1s'), 5000);
  assert.deepEqual(state.recentCandles('AAPL', '1m', 10), []);
  assert.deepEqual(
    state.snapshot(['AAPL'], 2).candles.map((view) => view.start),
    [4000, 5000],
  );
});
