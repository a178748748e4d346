import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { companyListSchema } from './companies.js';
import { brokerUrls, ConfigError, envInt, envMongoUrl, envUrl, envUrlList, parseEnv } from './config.js';
import { redactUrl } from './logger.js';

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

test("a MongoDB URL is checked with the driver's parser: a replica set's seed list passes", () => {
  const mongo = { MONGODB_URL: envMongoUrl() };
  const seedList = 'mongodb://consumer:p%40ss@mongo1:27017,mongo2:27017,mongo3:27017/stockmarket?replicaSet=rs0';
  assert.equal(parseEnv(mongo, { MONGODB_URL: seedList }).MONGODB_URL, seedList);
  assert.equal(
    parseEnv(mongo, { MONGODB_URL: 'mongodb+srv://db.example/x' }).MONGODB_URL,
    'mongodb+srv://db.example/x',
  );
  for (const bad of ['http://mongo1:27017', 'mongodb://', 'not a url']) {
    assert.throws(() => parseEnv(mongo, { MONGODB_URL: bad }), /MONGODB_URL/);
  }
});

test('redactUrl hides the password of a seed list too', () => {
  assert.equal(
    redactUrl('mongodb://consumer:secret@mongo1:27017,mongo2:27017/db?replicaSet=rs0'),
    'mongodb://consumer:***@mongo1:27017,mongo2:27017/db?replicaSet=rs0',
  );
  assert.equal(
    redactUrl('amqp://publisher:secret@rabbitmq:5672/stockmarket'),
    'amqp://publisher:***@rabbitmq:5672/stockmarket',
  );
});
