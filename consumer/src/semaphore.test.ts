import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore } from './semaphore.js';

test('the semaphore runs at most its permits at once, in arrival order', async () => {
  const slots = new Semaphore(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  const releases: Array<() => void> = [];
  const tasks = [0, 1, 2, 3].map((index) =>
    slots.run(async () => {
      active++;
      peak = Math.max(peak, active);
      order.push(index);
      await new Promise<void>((resolve) => releases.push(resolve));
      active--;
    }),
  );
  // Release the running tasks one by one; each release lets one waiter in.
  for (let released = 0; released < 4; released++) {
    for (let spins = 0; releases.length <= released && spins < 100; spins++) await Promise.resolve();
    releases[released]?.();
  }
  await Promise.all(tasks);
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3]);
  assert.equal(slots.pending, 0);
});

test('a failing task gives its permit back', async () => {
  const slots = new Semaphore(1);
  await assert.rejects(
    slots.run(async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(await slots.run(async () => 42), 42);
});
