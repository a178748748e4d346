import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextEndpoint } from './amqp-session.js';

test('a lost or refusing node hands over to the next one; a full round is one backoff step', () => {
  assert.deepEqual(nextEndpoint(3, 0), { index: 1, roundDone: false });
  assert.deepEqual(nextEndpoint(3, 1), { index: 2, roundDone: false });
  assert.deepEqual(nextEndpoint(3, 2), { index: 0, roundDone: true });
  // One node: every failure is a whole round, so it backs off as before.
  assert.deepEqual(nextEndpoint(1, 0), { index: 0, roundDone: true });
});
