// RabbitMQ 4's quorum-queue changes, on a three-node cluster (the compose default):
// - quorum queues get a default delivery limit of 20, and a message returned because its
//   consumer's connection closed counts as a delivery. Our consumer holds up to
//   CONSUMER_PREFETCH unacked trades per queue and returns them at every crash, fencing, lease
//   move and database outage, so without a limit set on purpose good trades would end up in the
//   dead-letter queue. The definitions set `delivery-limit: -1` by policy (docs/reliability.md).
// - services declare the company queues and the dead-letter queue without `x-queue-type`: the
//   vhost's default queue type (quorum, from the definitions) makes those declarations match and
//   makes a ticker added through COMPANIES a quorum queue.
//
// Part of `npm test` with the other cluster suites (STOCKMARKET_BROKER_CLUSTER_TESTS=false leaves
// them out).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEAD_LETTER_QUEUE, DEFAULT_COMPANIES } from '@stockmarket/common';
import {
  LocalStack,
  publishRaw,
  queueDepth,
  type RabbitMqCluster,
  ServiceProcess,
  stackConfig,
  waitFor,
} from '@stockmarket/stack';
import { MongoClient } from 'mongodb';
import { makeTrades, storedTradeCount } from '../consumer/trades.js';

const COMPANIES = [...DEFAULT_COMPANIES];
/** The queue the trades go to (one is enough: the prefetch is per queue; three took 3x as long). */
const QUEUE = 'AAPL';
/** As many trades as the consumer's default prefetch per queue: every one is held at each crash. */
const TRADES = 2000;
const CRASHES = 25;

let stack: LocalStack;
let cluster: RabbitMqCluster;
let client: MongoClient;
const skip = stackConfig.STOCKMARKET_BROKER_CLUSTER_TESTS ? false : 'STOCKMARKET_BROKER_CLUSTER_TESTS=false';

before(async () => {
  if (skip) return;
  stack = await LocalStack.start({ brokers: 3, consumers: 0, liveviews: 1, publisher: false });
  cluster = stack.cluster as RabbitMqCluster;
  client = new MongoClient(stack.mongo.url, { serverSelectionTimeoutMS: 2_000 });
});
after(async () => {
  await client?.close();
  await stack?.stop();
});

interface QueueCounts {
  readonly name: string;
  readonly type: string;
  readonly messages: number;
  readonly messages_ready: number;
  readonly messages_unacknowledged: number;
}

async function queueCounts(): Promise<Map<string, QueueCounts>> {
  const out = await cluster.anyRunning.ctl(
    'list_queues',
    '-p',
    'stockmarket',
    'name',
    'type',
    'messages',
    'messages_ready',
    'messages_unacknowledged',
    '--formatter',
    'json',
  );
  return new Map((JSON.parse(out) as QueueCounts[]).map((row) => [row.name, row]));
}

test(`delivery limit: ${CRASHES} consumer crashes in a row, each with a full prefetch unacked, dead-letter no good trade`, {
  skip,
}, async (t) => {
  const started = Date.now();
  await publishRaw(stack.rabbitmq, QUEUE, makeTrades([QUEUE], TRADES, { prefix: 'dl' }).get(QUEUE) ?? []);
  const total = TRADES;
  // A consumer that takes its full prefetch and never writes (the batch neither fills nor
  // times out), so that each kill -9 returns every trade to its queue unacked.
  const holder = await stack.addConsumer({
    CONSUMER_PREFETCH: String(TRADES),
    BATCH_SIZE: '100000',
    CONSUMER_FLUSH_INTERVAL_MS: '600000',
    CONSUMER_LEASE_RETRY_MS: '100',
  });
  let brokerSawAllUnacked = 0;
  for (let crash = 0; crash < CRASHES; crash++) {
    // Every trade delivered to the consumer and held unacked: its own count (exact) and the
    // broker's (whose queue statistics may lag a restart by a moment) both say so.
    const counts = await waitFor(
      `crash ${crash + 1}: every trade delivered to the consumer`,
      async () => {
        if ((await holder.metric('consumer_buffered_trades')) !== total) return undefined;
        const queues = await queueCounts();
        const held = COMPANIES.every((company) => queues.get(company)?.messages_ready === 0);
        return held ? queues : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // The wait above is the precondition (it fails the test when not met); the broker's own
    // figure is reported, not asserted (its statistics may lag).
    const unacked = COMPANIES.reduce((sum, company) => sum + (counts.get(company)?.messages_unacknowledged ?? 0), 0);
    if (unacked === total) brokerSawAllUnacked++;
    await holder.kill();
    await holder.restart();
  }
  await holder.stop();
  stack.consumers.splice(stack.consumers.indexOf(holder), 1);

  const crashesMs = Date.now() - started;
  const deadLettered = (await queueCounts()).get(DEAD_LETTER_QUEUE)?.messages ?? 0;
  t.diagnostic(JSON.stringify({ trades: total, crashes: CRASHES, brokerSawAllUnacked, deadLettered, crashesMs }));
  assert.equal(deadLettered, 0, `good trades dead-lettered after ${CRASHES} returns each (limit by policy)`);

  // A normal consumer then stores every one of them.
  await stack.addConsumer();
  const db = client.db('stockmarket');
  await waitFor(
    `${total} trades stored`,
    async () => (await storedTradeCount(db)) === total && (await queueDepth(stack.rabbitmq, DEAD_LETTER_QUEUE)) === 0,
    { timeoutMs: 180_000, intervalMs: 500 },
  );
  t.diagnostic(`all ${total} stored ${Date.now() - started - crashesMs} ms after the last crash`);
});

test('a ticker added through COMPANIES gets a quorum queue on every node, and no service warns about queue arguments', {
  skip,
}, async () => {
  const companies = [...COMPANIES, 'NVDA'].join(',');
  const publisher = await ServiceProcess.start(
    'publisher',
    stack.publisherEnv({ COMPANIES: companies, TICKER_INTERVAL: '100' }),
    {
      label: 'publisher-nvda',
    },
  );
  const consumer = await stack.addConsumer({ COMPANIES: companies });
  try {
    const nvda = await waitFor('the NVDA queue, replicated', async () => {
      const queue = (await cluster.quorumQueues()).find((candidate) => candidate.name === 'NVDA');
      return queue && queue.members.length === cluster.nodes.length ? queue : undefined;
    });
    assert.deepEqual([...nvda.members].sort(), cluster.nodes.map((node) => node.nodeName).sort());
    assert.equal((await queueCounts()).get('NVDA')?.type, 'quorum');
    // Its trades are stored like the others'.
    await waitFor('NVDA trades stored', async () =>
      Boolean(await client.db('stockmarket').collection('stocks').findOne({ company: 'NVDA' })),
    );
    for (const service of [publisher, consumer]) {
      assert.doesNotMatch(service.process.output, /queue exists with other arguments/, service.process.options.name);
    }
  } finally {
    await publisher.stop();
  }
});
