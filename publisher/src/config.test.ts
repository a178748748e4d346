import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPublisherConfig, totalRate } from './config.js';

/** The broker password as docker compose gives it (RABBITMQ_PASSWORD_FILE), here inline. */
const load = (env: NodeJS.ProcessEnv) => loadPublisherConfig({ RABBITMQ_PASSWORD: 'test-password', ...env });

test('no default password: the broker URL names the user, and a missing password names the variable', () => {
  assert.equal(new URL(load({}).RABBITMQ_URL).password, 'test-password');
  assert.throws(
    () => loadPublisherConfig({}),
    (error: Error) =>
      /RABBITMQ_URL \(.*\): user "publisher" has no password: set RABBITMQ_PASSWORD_FILE/.test(error.message),
  );
});

test('defaults: the original three companies, one trade per 100 ms each, classic queues', () => {
  const config = load({});
  assert.deepEqual(config.COMPANIES, ['AAPL', 'MSFT', 'TSLA']);
  assert.equal(config.TICKER_INTERVAL, 100);
  assert.equal(totalRate(config), 30);
  assert.equal(config.PUBLISHER_QUEUE_TYPE, 'classic');
  assert.equal(config.PUBLISHER_MAX_IN_FLIGHT, 2_000);
  assert.ok(Object.isFrozen(config));
});

test('PUBLISHER_RATE overrides TICKER_INTERVAL; per-symbol parameters are parsed', () => {
  const config = load({
    TICKER_INTERVAL: '10',
    PUBLISHER_RATE: '2500',
    PUBLISHER_SYMBOLS: 'TSLA:250:0.0008:0.00001, AAPL:190',
  });
  assert.equal(totalRate(config), 2_500);
  assert.deepEqual(config.PUBLISHER_SYMBOLS, {
    TSLA: { start: 250, volatility: 0.0008, drift: 0.00001 },
    AAPL: { start: 190, volatility: undefined, drift: undefined },
  });
  assert.equal(totalRate(load({ TICKER_INTERVAL: '10', COMPANIES: 'AAPL,MSFT' })), 200);
});

test('bad configuration fails with a message naming the variable', () => {
  const cases: Record<string, string> = {
    PUBLISHER_SYMBOLS: 'TSLA:-5',
    PUBLISHER_QUEUE_TYPE: 'stream',
    PUBLISHER_RATE: '-1',
    RABBITMQ_URL: 'http://localhost',
    SEED: 'abc',
  };
  for (const [name, value] of Object.entries(cases)) {
    assert.throws(
      () => load({ [name]: value }),
      (error: Error) => error.message.includes(name),
      `${name}=${value}`,
    );
  }
});

test('COMPANY_QUEUES_DURABLE: durable by default, false for the original programs, never with quorum', () => {
  assert.equal(load({}).COMPANY_QUEUES_DURABLE, true);
  assert.equal(load({ COMPANY_QUEUES_DURABLE: 'false' }).COMPANY_QUEUES_DURABLE, false);
  for (const env of [
    { COMPANY_QUEUES_DURABLE: 'maybe' },
    { COMPANY_QUEUES_DURABLE: 'false', PUBLISHER_QUEUE_TYPE: 'quorum' },
  ]) {
    assert.throws(
      () => load(env),
      (error: Error) => error.message.includes('COMPANY_QUEUES_DURABLE'),
    );
  }
});
