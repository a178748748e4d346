import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, envUrl, parseEnv } from './config.js';
import { resolveFileVariables, withSecrets } from './secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'secrets-test-'));
function secretFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** The problems of the ConfigError that `run` throws. */
function problemsOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('no error');
}

test('X_FILE becomes X, without the trailing newline', () => {
  const path = secretFile('plain', 's3cret value\n');
  const env = resolveFileVariables({ X_FILE: path, OTHER: 'kept' }, ['X']);
  assert.deepEqual(env, { X: 's3cret value', OTHER: 'kept' });
});

test('X and X_FILE both set is an error naming both', () => {
  const path = secretFile('both', 'from-file');
  const message = problemsOf(() => resolveFileVariables({ X: 'inline', X_FILE: path }, ['X']));
  assert.match(message, /X_FILE \(".*both"\): X and X_FILE are both set/);
  assert.doesNotMatch(message, /from-file|inline/);
});

test('an unreadable or empty file names the variable and the path, never the content', () => {
  const missing = join(dir, 'missing');
  assert.match(
    problemsOf(() => resolveFileVariables({ X_FILE: missing }, ['X'])),
    /X_FILE \(".*missing"\): cannot read the file \(ENOENT\)/,
  );
  const empty = secretFile('empty', '\n');
  assert.match(
    problemsOf(() => resolveFileVariables({ X_FILE: empty }, ['X'])),
    /X_FILE \(".*empty"\): the file is empty/,
  );
});

test('the password goes into every URL that names a user', () => {
  const env = withSecrets({
    RABBITMQ_PASSWORD_FILE: secretFile('rabbit', 'p@ss/w:rd\n'),
    RABBITMQ_URL: 'amqp://publisher@rabbitmq1:5672/stockmarket',
    RABBITMQ_URLS:
      'amqp://publisher@rabbitmq1:5672/stockmarket?heartbeat=10,amqp://publisher@rabbitmq2:5672/stockmarket',
    MONGODB_PASSWORD_FILE: secretFile('mongo', 'mongo-secret'),
    MONGODB_URL: 'mongodb://consumer@mongo1:27017,mongo2:27017/stockmarket?replicaSet=rs0&authSource=admin',
  });
  const url = new URL(env.RABBITMQ_URL ?? '');
  assert.equal(url.username, 'publisher');
  assert.equal(decodeURIComponent(url.password), 'p@ss/w:rd');
  assert.deepEqual(
    (env.RABBITMQ_URLS ?? '').split(',').map((item) => new URL(item).host),
    ['rabbitmq1:5672', 'rabbitmq2:5672'],
  );
  assert.match(env.RABBITMQ_URLS ?? '', /heartbeat=10/);
  assert.equal(
    env.MONGODB_URL,
    'mongodb://consumer:mongo-secret@mongo1:27017,mongo2:27017/stockmarket?replicaSet=rs0&authSource=admin',
  );
  assert.equal(env.RABBITMQ_PASSWORD_FILE, undefined);
});

test('a URL that names a user without a password is an error naming the variables', () => {
  const message = problemsOf(() => withSecrets({ RABBITMQ_URL: 'amqp://publisher@localhost/stockmarket' }));
  assert.match(
    message,
    /RABBITMQ_URL \("amqp:\/\/publisher@localhost\/stockmarket"\): user "publisher" has no password: set RABBITMQ_PASSWORD_FILE/,
  );
});

test('a password both in the URL and in the variable is an error; a URL without a user takes none', () => {
  const path = secretFile('twice', 'file-password');
  const message = problemsOf(() => withSecrets({ RABBITMQ_PASSWORD_FILE: path, RABBITMQ_URL: 'amqp://u:inline@h/v' }));
  assert.match(message, /RABBITMQ_URL \("amqp:\/\/u:\*\*\*@h\/v"\): carries a password and RABBITMQ_PASSWORD is set/);
  assert.doesNotMatch(message, /file-password|inline/);
  assert.match(
    problemsOf(() => withSecrets({ MONGODB_PASSWORD_FILE: path, MONGODB_URL: 'mongodb://mongo1:27017/' })),
    /MONGODB_URL \(.*\): names no user, but MONGODB_PASSWORD is set/,
  );
  // Without the variables, URLs pass as they are (a database without authentication).
  assert.deepEqual(withSecrets({ MONGODB_URL: 'mongodb://mongo1:27017/' }), { MONGODB_URL: 'mongodb://mongo1:27017/' });
});

test("parseEnv's errors hide the passwords of URLs", () => {
  const message = problemsOf(() =>
    parseEnv({ RABBITMQ_URL: envUrl(['amqps:']) }, { RABBITMQ_URL: 'amqp://u:hidden-pw@h/v' }),
  );
  assert.match(message, /amqp:\/\/u:\*\*\*@h\/v/);
  assert.doesNotMatch(message, /hidden-pw/);
});
