import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delay } from '@stockmarket/common';
import { LeaseRenewal, LeaseRounds, LeaseTerm, leaseQueueName, patienceRounds, roundsBeforeTrying } from './leases.js';

const companies = ['AAPL', 'MSFT', 'TSLA', 'NVDA'];

/** Exclusive lease queues as the broker keeps them: one owner each, freed when the owner dies. */
class FakeBroker {
  readonly owners = new Map<string, string>();

  replica(name: string, softCap: number) {
    const rounds = new LeaseRounds(companies, softCap);
    const round = () =>
      rounds.claim(
        async (company) => {
          const owner = this.owners.get(company);
          if (owner !== undefined && owner !== name) return false;
          this.owners.set(company, name);
          return true;
        },
        () => true,
        async () => {},
      );
    return { name, rounds, round };
  }

  die(name: string) {
    for (const [company, owner] of this.owners) if (owner === name) this.owners.delete(company);
  }
}

const held = (replicas: { rounds: LeaseRounds }[]) => replicas.map((replica) => replica.rounds.count);

test('below the soft cap a replica takes every free company', async () => {
  const broker = new FakeBroker();
  const alone = broker.replica('a', 1000);
  await alone.round();
  assert.deepEqual(alone.rounds.companiesHeld, companies);
});

test('replicas starting together spread the companies: one refused moves on to the next free one', async () => {
  const broker = new FakeBroker();
  const replicas = ['a', 'b', 'c', 'd'].map((name) => broker.replica(name, 1));
  // One round each, in any order: every replica below its cap ends with one company.
  for (const replica of replicas.reverse()) await replica.round();
  assert.deepEqual(held(replicas), [1, 1, 1, 1]);
  assert.equal(new Set(broker.owners.values()).size, 4);
});

test('at the cap a replica leaves an orphan to one below its cap (restarted or standby)', async () => {
  const broker = new FakeBroker();
  const replicas = ['a', 'b', 'c', 'd'].map((name) => broker.replica(name, 1));
  for (const replica of replicas) await replica.round();
  broker.die('a');
  // The busy replicas go first, twice: they leave the orphan alone for their patience.
  for (let round = 0; round < 2; round++) for (const replica of replicas.slice(1)) await replica.round();
  assert.equal(broker.owners.size, companies.length - 1, 'the busy replicas wait');
  const restarted = broker.replica('a', 1);
  await restarted.round();
  assert.equal(restarted.rounds.count, 1, 'the restarted replica takes it back at once');
  assert.deepEqual(held(replicas.slice(1)), [1, 1, 1]);
});

test('a busy replica waits one longest reconnect backoff plus 2 s, in lease rounds', () => {
  assert.equal(patienceRounds(1_000), 12);
  assert.equal(patienceRounds(200), 60);
  assert.equal(patienceRounds(1_000, 3_000), 5);
});

test('with no replica below its cap, the orphans go to the least loaded busy replicas', async () => {
  assert.equal(roundsBeforeTrying(0, 1), 0);
  assert.equal(roundsBeforeTrying(1, 1), 3);
  assert.equal(roundsBeforeTrying(2, 1), 6, 'every lease beyond the cap makes a replica wait longer');
  const broker = new FakeBroker();
  const replicas = ['a', 'b', 'c', 'd'].map((name) => broker.replica(name, 1));
  for (const replica of replicas) await replica.round();
  broker.die('a');
  broker.die('b');
  const [, , c, d] = replicas as [
    unknown,
    unknown,
    ReturnType<FakeBroker['replica']>,
    ReturnType<FakeBroker['replica']>,
  ];
  // Each survivor holds one; the two orphans end up one each, not both on the first to look.
  for (let round = 0; round < 12; round++) {
    await c.round();
    await d.round();
  }
  assert.deepEqual(held([c, d]), [2, 2]);
  assert.equal(broker.owners.size, companies.length, 'no company left unwritten');
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
