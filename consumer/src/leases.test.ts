import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaseQueueName, leasesToTry } from './leases.js';

const companies = ['AAPL', 'MSFT', 'TSLA', 'NVDA'];

test('below the soft cap a replica tries every free company', () => {
  assert.deepEqual(leasesToTry(companies, new Set(), new Map(), 1000), companies);
  assert.deepEqual(leasesToTry(companies, new Set(['MSFT']), new Map(), 1000), ['AAPL', 'TSLA', 'NVDA']);
});

test('the soft cap stops a replica from taking companies another replica would take', () => {
  assert.deepEqual(leasesToTry(companies, new Set(), new Map(), 2), ['AAPL', 'MSFT']);
  assert.deepEqual(leasesToTry(companies, new Set(['AAPL', 'MSFT']), new Map(), 2), []);
});

test('at the cap, a company left free for the patience rounds (an orphan) is taken anyway', () => {
  const held = new Set(['AAPL', 'MSFT']);
  const freeRounds = new Map([
    ['TSLA', 3],
    ['NVDA', 2],
  ]);
  assert.deepEqual(leasesToTry(companies, held, freeRounds, 2), ['TSLA']);
  assert.deepEqual(leasesToTry(companies, held, freeRounds, 2, 2), ['TSLA', 'NVDA']);
});

test('lease queue names fit the consumer user permissions (stockmarket.lease.<TICKER>)', () => {
  assert.equal(leaseQueueName('BRK.B'), 'stockmarket.lease.BRK.B');
  assert.match(leaseQueueName('AAPL'), /^stockmarket\.lease\..+$/);
});
