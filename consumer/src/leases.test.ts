import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delay } from '@stockmarket/common';
import { LeaseRenewal, LeaseTerm, leaseQueueName, leasesToTry } from './leases.js';

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

test('a lease term lasts one heartbeat from the send time of the last answered renewal', () => {
  const term = new LeaseTerm(2);
  assert.equal(term.validForMs, 2000);
  assert.equal(term.valid(0), false, 'never renewed: no write');
  term.renewed(1000);
  assert.equal(term.valid(2999), true);
  assert.equal(term.valid(3000), false);
  term.renewed(500); // an older answer arriving late does not move the term back
  assert.equal(term.valid(2999), true);
  assert.equal(term.renewEveryMs, 500);
  assert.equal(new LeaseTerm(60).renewEveryMs, 1000, 'at most a second apart');
});

test('without a heartbeat the broker never frees a silent lease, so the term never runs out', () => {
  const term = new LeaseTerm(0);
  term.renewed(0);
  assert.equal(term.valid(1e12), true);
});

/** Polls `check` every 20 ms until it holds, failing after 5 s. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

test('renewals ask for every held lease; an unanswered one lets the term run out', async () => {
  const asked: string[] = [];
  let answer = true;
  const channel = {
    checkQueue: (queue: string) => {
      asked.push(queue);
      // A cut-off broker: the request is never answered.
      return answer ? Promise.resolve({ queue, messageCount: 0, consumerCount: 0 }) : new Promise<never>(() => {});
    },
  };
  const term = new LeaseTerm(0.4); // renewed every 100 ms
  let rounds = 0;
  const renewal = new LeaseRenewal(
    channel,
    term,
    () => ['AAPL', 'MSFT'],
    () => rounds++,
  );
  try {
    await until('a renewal', () => term.valid());
    assert.deepEqual(asked.slice(0, 2), ['stockmarket.lease.AAPL', 'stockmarket.lease.MSFT']);
    answer = false;
    await until('the term to run out', () => !term.valid());
    const askedWhenCut = asked.length;
    const roundsWhenCut = rounds;
    await until('two more rounds', () => rounds >= roundsWhenCut + 2);
    assert.ok(asked.length <= askedWhenCut + 2, 'one unanswered renewal at a time, not a pile of them');
  } finally {
    renewal.stop();
  }
});
