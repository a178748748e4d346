import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tradeSchema } from '@stockmarket/common';
import { normalSampler, seededRandom } from './random.js';
import { START_PRICES, symbolParamsFor, TradeSimulator } from './simulator.js';

function meanAndSd(values: readonly number[]): { mean: number; sd: number } {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}

test('log returns have the configured drift and volatility over many steps', () => {
  const drift = 0.001;
  const volatility = 0.01;
  const steps = 100_000;
  const simulator = new TradeSimulator(['AAPL'], symbolParamsFor({}, volatility, drift), seededRandom(7));
  let previous = START_PRICES.AAPL as number;
  const returns: number[] = [];
  // Quotes are rounded to cents; at these prices that adds far less noise than the tolerance.
  for (let i = 0; i < steps; i++) {
    const trade = simulator.next();
    returns.push(Math.log(trade.price / previous));
    previous = trade.price;
  }
  const { mean, sd } = meanAndSd(returns);
  // Standard error of the mean: 0.01 / sqrt(1e5) = 3.2e-5; five of them is a safe margin.
  assert.ok(Math.abs(mean - drift) < 1.6e-4, `mean ${mean} near ${drift}`);
  assert.ok(Math.abs(sd / volatility - 1) < 0.02, `sd ${sd} near ${volatility}`);
});

test('per-symbol overrides set start price, volatility and drift; others use the defaults', () => {
  const params = symbolParamsFor({ TSLA: { start: 250, volatility: 0.002 }, ZZZ: { drift: 0.01 } }, 0.0005, 0);
  assert.deepEqual(params('TSLA'), { start: 250, volatility: 0.002, drift: 0 });
  assert.deepEqual(params('AAPL'), { start: START_PRICES.AAPL, volatility: 0.0005, drift: 0 });
  assert.deepEqual(params('ZZZ'), { start: 100, volatility: 0.0005, drift: 0.01 });
  const first = new TradeSimulator(['TSLA'], params, seededRandom(1)).next();
  assert.ok(Math.abs(first.price / 250 - 1) < 0.02, `first TSLA price ${first.price} starts near 250`);
});

test('prices stay positive under heavy volatility and negative drift', () => {
  const simulator = new TradeSimulator(['AAPL', 'MSFT', 'TSLA'], symbolParamsFor({}, 0.2, -0.05), seededRandom(3));
  let lowest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 50_000; i++) {
    const trade = simulator.next();
    assert.ok(trade.price > 0 && Number.isFinite(trade.price), `positive price, got ${trade.price}`);
    lowest = Math.min(lowest, trade.price);
  }
  assert.equal(lowest, 0.01, 'the walk went down to the smallest quote and no further');
});

test('trades are valid contract messages: companies in turn, buy and sell, integer quantities', () => {
  const companies = ['AAPL', 'MSFT', 'TSLA'];
  const simulator = new TradeSimulator(companies, symbolParamsFor({}, 0.0005, 0), seededRandom(11));
  const sides = { buy: 0, sell: 0 };
  const quantities: number[] = [];
  for (let i = 0; i < 30_000; i++) {
    const trade = simulator.next();
    assert.equal(trade.company, companies[i % companies.length]);
    assert.ok(tradeSchema.safeParse(trade).success, JSON.stringify(trade));
    assert.ok(Number.isInteger(trade.quantity) && trade.quantity >= 1 && trade.quantity <= 1_100);
    assert.equal(Math.round(trade.price * 100) / 100, trade.price, 'quoted in cents');
    sides[trade.eventType]++;
    quantities.push(trade.quantity);
  }
  assert.ok(Math.abs(sides.buy / 30_000 - 0.5) < 0.02, `buys and sells balanced: ${JSON.stringify(sides)}`);
  assert.ok(new Set(quantities).size > 100, 'quantities vary');
});

test('the same SEED gives the same stream; another seed a different one', () => {
  const make = (seed: number) =>
    new TradeSimulator(['AAPL', 'MSFT', 'TSLA'], symbolParamsFor({}, 0.001, 0), seededRandom(seed));
  const take = (simulator: TradeSimulator) => Array.from({ length: 1_000 }, () => simulator.next());
  assert.deepEqual(take(make(42)), take(make(42)));
  assert.notDeepEqual(take(make(42)), take(make(43)));
});

test('the generators: uniform in [0, 1) and standard normal deviates', () => {
  const random = seededRandom(5);
  const uniforms = Array.from({ length: 50_000 }, random);
  assert.ok(uniforms.every((value) => value >= 0 && value < 1));
  assert.ok(Math.abs(meanAndSd(uniforms).mean - 0.5) < 0.01);
  const normal = normalSampler(seededRandom(9));
  const normals = Array.from({ length: 50_000 }, normal);
  const { mean, sd } = meanAndSd(normals);
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(sd - 1) < 0.03, `sd ${sd}`);
});
