import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { companyListSchema } from './companies.js';
import { brokerUrls, ConfigError, envInt, envUrl, envUrlList, parseEnv } from './config.js';

const shape = {
  RABBITMQ_URL: envUrl(['amqp:']),
  TICKER_INTERVAL: envInt(100, 0, 1000),
  COMPANIES: companyListSchema.default(['AAPL']),
  NAME: z.string().default('x'),
};

test('parses, applies defaults and freezes', () => {
  const config = parseEnv(shape, { RABBITMQ_URL: 'amqp://h', COMPANIES: 'MSFT, TSLA' });
  assert.deepEqual(config, { RABBITMQ_URL: 'amqp://h', TICKER_INTERVAL: 100, COMPANIES: ['MSFT', 'TSLA'], NAME: 'x' });
  assert.ok(Object.isFrozen(config));
});

test('names every bad variable in one error', () => {
  assert.throws(
    () => parseEnv(shape, { TICKER_INTERVAL: 'fast', COMPANIES: 'aapl' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /RABBITMQ_URL \(unset\)/);
      assert.match(error.message, /TICKER_INTERVAL \("fast"\)/);
      assert.match(error.message, /COMPANIES/);
      return true;
    },
  );
});

test('RABBITMQ_URLS: a list of broker URLs, else the single RABBITMQ_URL', () => {
  const urls = { RABBITMQ_URL: envUrl(['amqp:'], 'amqp://one'), RABBITMQ_URLS: envUrlList(['amqp:', 'amqps:']) };
  assert.deepEqual(brokerUrls(parseEnv(urls, {})), ['amqp://one']);
  assert.deepEqual(brokerUrls(parseEnv(urls, { RABBITMQ_URLS: ' amqp://a:5672/v, amqps://b ,' })), [
    'amqp://a:5672/v',
    'amqps://b',
  ]);
  for (const bad of ['amqp://a,http://b', 'amqp://a,amqp://a', ' , ']) {
    assert.throws(() => parseEnv(urls, { RABBITMQ_URLS: bad }), /RABBITMQ_URLS/);
  }
});
