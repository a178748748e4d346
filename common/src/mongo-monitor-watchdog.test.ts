import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { createLogger } from './logger.js';
import { longestServerCheckMs, MongoMonitorWatchdog } from './mongo-monitor-watchdog.js';
import { waitFor } from './wait.js';

/** The client's side the watchdog sees: heartbeat events, close and connect. */
class FakeClient extends EventEmitter {
  readonly calls: string[] = [];
  /** How many connects fail (no server answers) before one succeeds. */
  failingConnects = 0;
  async close() {
    this.calls.push('close');
  }
  async connect() {
    this.calls.push('connect');
    if (this.failingConnects-- > 0) throw new Error('Server selection timed out after 2000 ms');
    return this;
  }
}

const logger = createLogger('test', 'silent');

test('the longest check: connect timeout and heartbeat interval (a streaming check), plus 5 s', () => {
  assert.equal(longestServerCheckMs({}), 45_000, "the driver's defaults");
  assert.equal(longestServerCheckMs({ connectTimeoutMS: 10_000 }), 25_000);
});

test('a server check that never ends gets the client closed and connected again, once', async () => {
  const client = new FakeClient();
  let restarts = 0;
  const watchdog = new MongoMonitorWatchdog(client as never, logger, 100, () => restarts++);
  try {
    client.emit('serverHeartbeatStarted', { connectionId: 'db:27017' });
    await waitFor('the restart', async () => restarts === 1, { timeoutMs: 2_000 });
    assert.deepEqual(client.calls, ['close', 'connect']);
    assert.equal(watchdog.restarts, 1);
  } finally {
    watchdog.stop();
  }
});

test('a connect that fails after the close is tried again until one succeeds', async () => {
  const client = new FakeClient();
  client.failingConnects = 3;
  let restarts = 0;
  const watchdog = new MongoMonitorWatchdog(client as never, logger, 100, () => restarts++, 10);
  try {
    client.emit('serverHeartbeatStarted', { connectionId: 'db:27017' });
    await waitFor('the restart', async () => restarts === 1, { timeoutMs: 2_000 });
    assert.deepEqual(client.calls, ['close', 'connect', 'connect', 'connect', 'connect']);
  } finally {
    watchdog.stop();
  }
});

test('checks that end, succeeded or failed, leave the client alone', async () => {
  const client = new FakeClient();
  const watchdog = new MongoMonitorWatchdog(client as never, logger, 100);
  try {
    const started = performance.now();
    for (let check = 0; check < 10; check++) {
      client.emit('serverHeartbeatStarted', { connectionId: 'db:27017' });
      await new Promise((resolve) => setTimeout(resolve, 40));
      client.emit(check % 2 ? 'serverHeartbeatFailed' : 'serverHeartbeatSucceeded', { connectionId: 'db:27017' });
    }
    assert.ok(performance.now() - started > 300, 'the watchdog looked several times');
    assert.equal(watchdog.hungServer(), undefined);
    assert.deepEqual(client.calls, []);
  } finally {
    watchdog.stop();
  }
});
