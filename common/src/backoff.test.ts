import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from './backoff.js';

test('grows exponentially, is capped, and jitters within half the window', () => {
  const options = { initialMs: 100, maxMs: 5_000 };
  assert.equal(
    backoffDelay(0, options, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(0, options, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(3, options, () => 0),
    400,
  );
  assert.equal(
    backoffDelay(30, options, () => 1),
    5_000,
  );
  for (let attempt = 0; attempt < 20; attempt++) {
    const value = backoffDelay(attempt, options);
    assert.ok(value >= 50 && value <= 5_000);
  }
});
