import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { companyListSchema } from './companies.js';
import { ConfigError, envInt, envUrl, parseEnv } from './config.js';

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
