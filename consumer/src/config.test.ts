import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@stockmarket/common';
import { loadConsumerConfig } from './config.js';

/** The broker password as docker compose gives it (RABBITMQ_PASSWORD_FILE), here inline. */
const load = (env: NodeJS.ProcessEnv) => loadConsumerConfig({ RABBITMQ_PASSWORD: 'test-password', ...env });

test('no default password: the broker URL names the user, and a missing password names the variable', () => {
  assert.equal(new URL(load({}).RABBITMQ_URL).password, 'test-password');
  assert.throws(
    () => loadConsumerConfig({}),
    (error: Error) =>
      /RABBITMQ_URL \(.*\): user "consumer" has no password: set RABBITMQ_PASSWORD_FILE/.test(error.message),
  );
});

test('defaults: the original batch size, all companies as queues, majority writes, leases on', () => {
  const config = load({});
  assert.equal(config.BATCH_SIZE, 1000);
  assert.deepEqual(config.QUEUES, ['AAPL', 'MSFT', 'TSLA']);
  assert.equal(config.MONGODB_WRITE_CONCERN, 'majority');
  assert.equal(config.CONSUMER_LEASES, true);
  assert.equal(config.MONGODB_DB, 'stockmarket');
  assert.equal(config.MONGODB_COLLECTION, 'stocks');
  assert.ok(Object.isFrozen(config));
});

test('one queue, like the original one-consumer-per-company setting; a numeric write concern', () => {
  const config = load({ QUEUES: 'TSLA', MONGODB_WRITE_CONCERN: '1', CONSUMER_LEASES: 'false' });
  assert.deepEqual(config.QUEUES, ['TSLA']);
  assert.equal(config.MONGODB_WRITE_CONCERN, 1);
  assert.equal(config.CONSUMER_LEASES, false);
});

test('bad values name their variable', () => {
  assert.throws(
    () => load({ BATCH_SIZE: '0', CONSUMER_PREFETCH: 'many' }),
    (error: unknown) =>
      error instanceof ConfigError && /BATCH_SIZE/.test(error.message) && /CONSUMER_PREFETCH/.test(error.message),
  );
});

test('a queue outside COMPANIES is refused at start-up', () => {
  assert.throws(
    () => load({ QUEUES: 'AAPL,NFLX' }),
    (error: unknown) => error instanceof ConfigError && /QUEUES .*NFLX not in COMPANIES/.test(error.message),
  );
  assert.deepEqual(load({ QUEUES: 'NFLX', COMPANIES: 'NFLX,AAPL' }).QUEUES, ['NFLX']);
});

test('COMPANY_QUEUES_DURABLE: durable by default, false for the original programs, else refused', () => {
  assert.equal(load({}).COMPANY_QUEUES_DURABLE, true);
  assert.equal(load({ COMPANY_QUEUES_DURABLE: 'false' }).COMPANY_QUEUES_DURABLE, false);
  assert.throws(
    () => load({ COMPANY_QUEUES_DURABLE: 'maybe' }),
    (error: unknown) => error instanceof ConfigError && /COMPANY_QUEUES_DURABLE/.test(error.message),
  );
});
