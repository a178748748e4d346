import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withSecrets } from '@stockmarket/common';
import { passwordsToFiles } from './service-secrets.js';

test("a service's passwords go into files, its URLs keep the user, and the service reads them back", () => {
  const dir = mkdtempSync(join(tmpdir(), 'stockmarket-service-secrets-'));
  const env = {
    RABBITMQ_URL: 'amqp://consumer:s3cr%2Ft@127.0.0.1:5672/stockmarket',
    RABBITMQ_URLS:
      'amqp://consumer:s3cr%2Ft@127.0.0.1:5672/stockmarket,amqp://consumer:s3cr%2Ft@127.0.0.1:5673/stockmarket',
    MONGODB_URL: 'mongodb://127.0.0.1:27017/?replicaSet=rs0',
    LOG_LEVEL: 'info',
  };
  const moved = passwordsToFiles(env, dir);
  assert.doesNotMatch(JSON.stringify(moved), /s3cr/, 'no password in the environment');
  assert.equal(moved.RABBITMQ_URL, 'amqp://consumer@127.0.0.1:5672/stockmarket');
  assert.equal(moved.MONGODB_URL, env.MONGODB_URL, 'no password, nothing to move');
  assert.equal(moved.MONGODB_PASSWORD_FILE, undefined);
  const file = moved.RABBITMQ_PASSWORD_FILE ?? '';
  assert.equal(readFileSync(file, 'utf8'), 's3cr/t\n');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const resolved = withSecrets(moved);
  assert.equal(resolved.RABBITMQ_URL, 'amqp://consumer:s3cr%2Ft@127.0.0.1:5672/stockmarket');
  assert.equal(resolved.RABBITMQ_URLS, env.RABBITMQ_URLS);
});

test('different passwords in one group are left as they are', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stockmarket-service-secrets-'));
  const env = { RABBITMQ_URL: 'amqp://consumer:wrong@h/v', RABBITMQ_URLS: 'amqp://consumer:right@h/v' };
  assert.deepEqual(passwordsToFiles(env, dir), env);
});
