import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batcher } from './batcher.js';

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

test('with a size of one every item closes its batch at once', () => {
  const batcher = new Batcher<number>(1, 10);
  assert.deepEqual(batcher.add('TSLA', 1, 0), [1]);
  assert.equal(batcher.size, 0);
  assert.equal(batcher.msUntilDue(0), Number.POSITIVE_INFINITY);
});

test('a batch closes when its oldest item has waited the interval, not before', () => {
  const batcher = new Batcher<string>(100, 500);
  batcher.add('AAPL', 'a', 1000);
  batcher.add('AAPL', 'b', 1400);
  batcher.add('TSLA', 'c', 1300);
  assert.equal(batcher.size, 3);
  assert.deepEqual(batcher.takeDue(1499), []);
  assert.deepEqual(batcher.takeDue(1500), [['AAPL', ['a', 'b']]]);
  assert.equal(batcher.size, 1);
  assert.deepEqual(batcher.takeDue(1799), []);
  assert.deepEqual(batcher.takeDue(1800), [['TSLA', ['c']]]);
  assert.equal(batcher.size, 0);
});

test('msUntilDue counts down to the oldest open batch', () => {
  const batcher = new Batcher<number>(50, 10);
  batcher.add('TSLA', 1, 100);
  batcher.add('AAPL', 2, 105);
  batcher.add('TSLA', 3, 108);
  assert.equal(batcher.msUntilDue(104), 6);
  assert.deepEqual(batcher.takeDue(109), []);
  assert.deepEqual(batcher.takeDue(110), [['TSLA', [1, 3]]]);
  assert.equal(batcher.msUntilDue(110), 5);
  assert.equal(batcher.msUntilDue(200), 0, 'an overdue batch is due now');
  assert.deepEqual(batcher.takeDue(200), [['AAPL', [2]]]);
  assert.equal(batcher.msUntilDue(200), Number.POSITIVE_INFINITY);
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
  assert.equal(batcher.size, 0);
  assert.deepEqual(batcher.takeDue(10_000), []);
  assert.equal(batcher.add('AAPL', 5, 0), undefined, 'a cleared key starts a new batch');
  assert.equal(batcher.size, 1);
});
