import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TradePacker } from './trade-packer.js';

test('one trade per message: every trade leaves at once', () => {
  const packer = new TradePacker<number>(1, 10);
  assert.deepEqual(packer.add('TSLA', 1, 0), [1]);
  assert.equal(packer.size, 0);
  assert.equal(packer.msUntilDue(0), Number.POSITIVE_INFINITY);
});

test('a company message leaves when full, others keep packing', () => {
  const packer = new TradePacker<number>(3, 10);
  assert.equal(packer.add('TSLA', 1, 0), undefined);
  assert.equal(packer.add('AAPL', 2, 1), undefined);
  assert.equal(packer.add('TSLA', 3, 2), undefined);
  assert.deepEqual(packer.add('TSLA', 4, 3), [1, 3, 4]);
  assert.equal(packer.size, 1);
  assert.deepEqual(packer.takeAll(), [['AAPL', [2]]]);
  assert.equal(packer.size, 0);
});

test('a partial message leaves once its oldest trade waited the linger', () => {
  const packer = new TradePacker<number>(50, 10);
  packer.add('TSLA', 1, 100);
  packer.add('AAPL', 2, 105);
  packer.add('TSLA', 3, 108);
  assert.equal(packer.msUntilDue(104), 6);
  assert.deepEqual(packer.takeDue(109), []);
  assert.deepEqual(packer.takeDue(110), [['TSLA', [1, 3]]]);
  assert.equal(packer.msUntilDue(110), 5);
  assert.deepEqual(packer.takeDue(200), [['AAPL', [2]]]);
});
