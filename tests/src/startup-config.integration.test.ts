import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serviceEntry } from '@stockmarket/stack';

/** A broker password as docker compose gives it (the services have no default password). */
const passwordFile = join(mkdtempSync(join(tmpdir(), 'startup-config-')), 'rabbitmq-password');
writeFileSync(passwordFile, 'startup-config-password\n', { mode: 0o600 });

/** Starts a service with the given environment and returns its exit code and output. */
function start(service: 'publisher' | 'consumer' | 'liveview', env: Record<string, string>) {
  const result = spawnSync(process.execPath, [serviceEntry(service)], {
    env: { PATH: process.env.PATH ?? '', RABBITMQ_PASSWORD_FILE: passwordFile, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

const badSettings: Array<['publisher' | 'consumer' | 'liveview', string, string]> = [
  ['publisher', 'RABBITMQ_URL', 'http://not-amqp'],
  ['publisher', 'TICKER_INTERVAL', 'fast'],
  ['publisher', 'PUBLISHER_RATE', '-5'],
  ['publisher', 'COMPANIES', 'aapl,,'],
  ['publisher', 'PUBLISHER_SYMBOLS', 'TSLA:-1'],
  ['publisher', 'PUBLISHER_QUEUE_TYPE', 'stream'],
  ['publisher', 'SEED', 'abc'],
  ['consumer', 'MONGODB_URL', 'postgres://x'],
  ['consumer', 'BATCH_SIZE', '0'],
  ['consumer', 'MONGODB_WRITE_CONCERN', 'most'],
  ['consumer', 'QUEUES', 'AAPL,AAPL'],
  ['consumer', 'CONSUMER_LEASES', 'perhaps'],
  ['liveview', 'PORT', '70000'],
  ['liveview', 'MONGODB_DB', 'a/b'],
  ['liveview', 'LIVEVIEW_POLL_INTERVAL_MS', '1'],
  ['liveview', 'LIVEVIEW_RABBITMQ_URLS', 'http://localhost:5672/stockmarket'],
  ['liveview', 'LOG_LEVEL', 'chatty'],
];

for (const [service, variable, value] of badSettings) {
  test(`${service} refuses ${variable}=${value} at start-up, naming the variable`, () => {
    const { code, output } = start(service, { [variable]: value });
    assert.equal(code, 2, `exit code 2, got ${code}: ${output}`);
    assert.match(output, new RegExp(`${variable} \\(`), 'the message names the variable');
    assert.doesNotMatch(output, /"stack"|\n\s+at /, 'no stack trace for a configuration error');
  });
}

test('a service without its password stops at start-up naming the variable to set; a bad file names its path, never a content', () => {
  for (const service of ['publisher', 'consumer'] as const) {
    const missing = start(service, { RABBITMQ_PASSWORD_FILE: '' });
    assert.equal(missing.code, 2, missing.output);
    assert.match(
      missing.output,
      new RegExp(`RABBITMQ_URL \\(.*\\): user \\\\?"${service}\\\\?" has no password: set RABBITMQ_PASSWORD_FILE`),
    );
  }
  const unreadable = start('publisher', { RABBITMQ_PASSWORD_FILE: '/nonexistent/rabbitmq-password' });
  assert.equal(unreadable.code, 2, unreadable.output);
  assert.match(
    unreadable.output,
    /RABBITMQ_PASSWORD_FILE \(\\?"\/nonexistent\/rabbitmq-password\\?"\): cannot read the file \(ENOENT\)/,
  );
  const both = start('publisher', { RABBITMQ_PASSWORD: 'inline-4711' });
  assert.equal(both.code, 2, both.output);
  assert.match(both.output, /RABBITMQ_PASSWORD and RABBITMQ_PASSWORD_FILE are both set/);
  assert.doesNotMatch(
    both.output + unreadable.output,
    /inline-4711|startup-config-password/,
    'no password in the output',
  );
});
