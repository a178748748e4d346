import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batcher, Semaphore } from './batcher.js';

test('a batch closes at its size, per company', () => {
  const batcher = new Batcher<number>(3, 1000);
  assert.equal(batcher.add('AAPL', 1, 0), undefined);
  assert.equal(batcher.add('MSFT', 10, 0), undefined);
  assert.equal(batcher.add('AAPL', 2, 1), undefined);
  assert.deepEqual(batcher.add('AAPL', 3, 2), [1, 2, 3]);
  assert.equal(batcher.size, 1, 'MSFT keeps its open batch');
  assert.equal(batcher.add('AAPL', 4, 3), undefined, 'AAPL starts a new batch');
  assert.equal(batcher.size, 2);
});

test('a batch closes when its oldest item has waited the interval, not before', () => {
  const batcher = new Batcher<string>(100, 500);
  batcher.add('AAPL', 'a', 1000);
  batcher.add('AAPL', 'b', 1400);
  batcher.add('TSLA', 'c', 1300);
  assert.deepEqual(batcher.takeDue(1499), []);
  assert.deepEqual(batcher.takeDue(1500), [['AAPL', ['a', 'b']]]);
  assert.deepEqual(batcher.takeDue(1799), []);
  assert.deepEqual(batcher.takeDue(1800), [['TSLA', ['c']]]);
  assert.equal(batcher.size, 0);
});

test('takeAll closes every open batch (shutdown), clear drops them (lost channel)', () => {
  const batcher = new Batcher<number>(10, 1000);
  batcher.add('AAPL', 1, 0);
  batcher.add('MSFT', 2, 0);
  assert.deepEqual(
    batcher.takeAll().sort((a, b) => a[0].localeCompare(b[0])),
    [
      ['AAPL', [1]],
      ['MSFT', [2]],
    ],
  );
  assert.equal(batcher.size, 0);
  batcher.add('AAPL', 3, 0);
  batcher.add('AAPL', 4, 0);
  assert.equal(batcher.clear(), 2);
  assert.deepEqual(batcher.takeDue(10_000), []);
});

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
