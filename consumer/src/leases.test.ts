import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { delay } from '@stockmarket/common';
import type { ConsumeMessage } from 'amqplib';
import { LeaseTokens, type TokenChannel } from './lease-tokens.js';
import {
  LEASE_TOKEN_EXCHANGE,
  LeaseRounds,
  LeaseTerms,
  leaseQueueName,
  patienceRounds,
  roundsBeforeTrying,
} from './leases.js';

const companies = ['AAPL', 'MSFT', 'TSLA', 'NVDA'];

/** Leases as the broker keeps them: one owner each, freed when the owner dies. */
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
  assert.match(LEASE_TOKEN_EXCHANGE, /^stockmarket\.lease\..+$/);
});

test('a lease term lasts from the send time of the last request whose token came back', () => {
  const terms = new LeaseTerms(2000);
  assert.equal(terms.valid('AAPL', 0), false, 'never renewed: no write');
  terms.renewed('AAPL', 1000);
  assert.equal(terms.valid('AAPL', 2999), true);
  assert.equal(terms.valid('AAPL', 3000), false);
  terms.renewed('AAPL', 500); // an older proof arriving late does not move the term back
  assert.equal(terms.valid('AAPL', 2999), true);
  assert.equal(terms.valid('MSFT', 2999), false, 'each company has its own term');
  assert.equal(terms.expired(['AAPL', 'MSFT'], 2000), 'MSFT');
  assert.equal(terms.renewEveryMs, 500);
  assert.equal(new LeaseTerms(60_000).renewEveryMs, 1000, 'at most a second apart');
});

/** Polls `check` every 10 ms until it holds, failing after 5 s. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** A lease queue's single active consumer as the broker keeps it: the token goes to the active one only. */
class FakeTokenChannel extends EventEmitter {
  active = true;
  readonly published: string[] = [];
  readonly nacked: ConsumeMessage[] = [];
  closed = false;
  waiting = 1;
  private onMessage: ((message: ConsumeMessage | null) => void) | undefined;

  async prefetch() {}
  async checkQueue() {
    return { queue: '', messageCount: this.waiting, consumerCount: 0 };
  }
  publish(_exchange: string, routingKey: string) {
    this.published.push(routingKey);
    this.waiting = 1;
    return true;
  }
  async consume(_queue: string, onMessage: (message: ConsumeMessage | null) => void) {
    this.onMessage = onMessage;
    if (this.active) setImmediate(() => this.deliver());
    return { consumerTag: 'lease-tag' };
  }
  async close() {
    this.closed = true;
    this.emit('close');
  }
  nack(message: ConsumeMessage) {
    this.nacked.push(message);
    if (this.active) setImmediate(() => this.deliver());
  }
  deliver() {
    this.onMessage?.({ content: Buffer.from('token'), fields: {}, properties: {} } as unknown as ConsumeMessage);
  }
}

function tokensOn(channel: FakeTokenChannel, terms = new LeaseTerms(200), lost: string[] = []) {
  const tokens = new LeaseTokens(
    async () => channel as unknown as TokenChannel,
    terms,
    50,
    (company) => lost.push(company),
  );
  return { tokens, terms, lost };
}

test('a claim wins when the token is delivered (the active consumer), and renewals keep the term', async () => {
  const channel = new FakeTokenChannel();
  const { tokens, terms } = tokensOn(channel);
  assert.equal(await tokens.claim('AAPL'), true);
  assert.deepEqual(tokens.companiesHeld, ['AAPL']);
  assert.deepEqual(channel.published, [], 'a token was waiting: none published');
  assert.equal(terms.valid('AAPL'), true);
  tokens.renew();
  tokens.renew(); // one return at a time
  assert.equal(channel.nacked.length, 1);
  await until('the token back', () => channel.nacked.length === 1 && terms.sinceRenewalMs('AAPL') < 200);
  // Another replica became active: the returned token does not come back, the term runs out.
  channel.active = false;
  await delay(20);
  const before = terms.sinceRenewalMs('AAPL');
  tokens.renew();
  assert.ok(terms.sinceRenewalMs('AAPL') >= before, 'a return that has not come back renews nothing');
  await until('the term to run out', () => !terms.valid('AAPL'));
});

test('a claim with no token within the wait is refused (another holds it) and its channel closed; a late token is given back', async () => {
  const channel = new FakeTokenChannel();
  channel.active = false;
  channel.waiting = 0;
  const { tokens } = tokensOn(channel);
  assert.equal(await tokens.claim('MSFT'), false);
  assert.equal(channel.closed, true, 'closed, not cancelled: a token after a cancel would stay stuck');
  assert.deepEqual(channel.published, ['MSFT'], 'no token was waiting: one published');
  assert.deepEqual(tokens.companiesHeld, []);
  channel.deliver();
  assert.equal(channel.nacked.length, 1, 'the late token went back to the queue');
});

test('a held lease is lost when the broker cancels its consumer or its channel closes', async () => {
  const cancelledChannel = new FakeTokenChannel();
  const cancelled = tokensOn(cancelledChannel);
  assert.equal(await cancelled.tokens.claim('TSLA'), true);
  (cancelledChannel as unknown as { onMessage: (message: null) => void }).onMessage(null);
  assert.deepEqual(cancelled.lost, ['TSLA']);
  const closedChannel = new FakeTokenChannel();
  const closed = tokensOn(closedChannel);
  assert.equal(await closed.tokens.claim('AAPL'), true);
  closedChannel.emit('close');
  assert.deepEqual(closed.lost, ['AAPL']);
});
