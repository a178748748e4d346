import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_COMPANIES } from '@stockmarket/common';
import { publishRaw, ServiceProcess, waitFor } from '@stockmarket/stack';
import type { Db } from 'mongodb';
import { consumerServers, QUICK_CONSUMER } from './servers.js';
import {
  candleDifferences,
  makeTrades,
  type PublishedTrade,
  storedCandles,
  storedTradeCount,
  truthCandles,
} from './trades.js';

const COMPANIES = [...DEFAULT_COMPANIES];
const servers = consumerServers();

function consumerEnv(database: string, env: Record<string, string> = {}): Record<string, string> {
  return servers.consumerEnv(database, { ...QUICK_CONSUMER, ...env });
}

async function publishAll(trades: Map<string, PublishedTrade[]>): Promise<void> {
  for (const [company, list] of trades) await publishRaw(servers.rabbitmq, company, list);
}

const queuesEmpty = () => servers.queuesEmpty(COMPANIES);

/** Waits until every published trade is stored and acked, then compares every candle with the truth. */
async function assertMatchesTruth(db: Db, published: PublishedTrade[], timeoutMs = 240_000): Promise<void> {
  await waitFor(
    `${published.length} trades stored and every queue empty`,
    async () => (await storedTradeCount(db)) === published.length && (await queuesEmpty()),
    { timeoutMs, intervalMs: 500 },
  );
  const differences = candleDifferences(await storedCandles(db), truthCandles(published));
  assert.deepEqual(differences, [], 'every stored 1 s and 1 m candle equals the ground truth');
  // The latest batch of each company ends with its latest trade.
  for (const company of COMPANIES) {
    const last = published
      .filter((trade) => trade.company === company)
      .sort((a, b) => a.ts - b.ts)
      .pop();
    const stock = await db.collection('stocks').findOne({ company });
    assert.equal(stock?.lastTradeAt, last?.ts, `${company} lastTradeAt`);
    assert.equal(stock?.lastPrice, last?.price, `${company} lastPrice`);
  }
}

test('kill -9 at random moments, restarted each time: every aggregate equals the ground truth', async () => {
  const trades = makeTrades(COMPANIES, 4000, { prefix: 'k' });
  const published = [...trades.values()].flat();
  await publishAll(trades);
  const db = servers.client.db('kill');
  const consumer = await ServiceProcess.start('consumer', consumerEnv('kill'), { label: 'consumer-kill' });
  let midRun = 0;
  try {
    for (let kill = 0; kill < 4; kill++) {
      // A random moment: not a synchronisation, the point is not to choose it.
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 1200));
      const before = await storedTradeCount(db);
      await consumer.kill();
      if (before < published.length) midRun++;
      await consumer.restart();
    }
    assert.ok(midRun >= 1, 'at least one kill hit the consumer in the middle of the backlog');
    await assertMatchesTruth(db, published);
  } finally {
    await consumer.stop();
  }
});

test('three replicas give the same result as one, and a killed lease holder is taken over', async () => {
  const first = makeTrades(COMPANIES, 1500, { prefix: 'r' });
  const second = makeTrades(COMPANIES, 1500, { prefix: 's', start: Date.UTC(2024, 0, 2, 15, 0, 0) + 71 });
  await publishAll(first);
  const db = servers.client.db('replicas');
  const replicas = await Promise.all(
    [0, 1, 2].map((index) =>
      ServiceProcess.start('consumer', consumerEnv('replicas', { CONSUMER_MAX_LEASES: '1' }), {
        label: `consumer-replica-${index}`,
      }),
    ),
  );
  try {
    const leases = async () => {
      let total = 0;
      for (const replica of replicas)
        if (replica.process.running) total += await replica.metric('consumer_leases_held');
      return total;
    };
    // One writer per company, whatever the spread.
    await waitFor('three leases held in all', async () => (await leases()) === 3);
    await assertMatchesTruth(db, [...first.values()].flat());

    // Kill every replica that holds a lease but one: the survivors must take the orphans.
    const holders: ServiceProcess[] = [];
    for (const replica of replicas) if ((await replica.metric('consumer_leases_held')) > 0) holders.push(replica);
    for (const holder of holders.slice(0, Math.max(1, holders.length - 1))) await holder.kill();
    await publishAll(second);
    await waitFor('three leases held again', async () => (await leases()) === 3, { timeoutMs: 60_000 });
    await assertMatchesTruth(db, [...first.values(), ...second.values()].flat());
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()));
  }
});

test('database stopped for seconds under load: /readyz is 503, nothing is lost, the consumer catches up', async () => {
  const trades = makeTrades(COMPANIES, 3000, { prefix: 'o' });
  const published = [...trades.values()].flat();
  const db = servers.client.db('outage');
  const consumer = await ServiceProcess.start('consumer', consumerEnv('outage'), { label: 'consumer-outage' });
  const readyStatus = async () => (await fetch(`${consumer.url}/readyz`)).status;
  try {
    // Publish in chunks while the database goes away and comes back.
    const chunk = 300;
    const publishing = (async () => {
      for (let offset = 0; offset < 3000; offset += chunk) {
        for (const [company, list] of trades)
          await publishRaw(servers.rabbitmq, company, list.slice(offset, offset + chunk));
      }
    })();
    await waitFor('some trades stored', async () => (await storedTradeCount(db)) > 0, { timeoutMs: 60_000 });
    await servers.mongo.pause();
    const pausedAt = Date.now();
    try {
      await waitFor('/readyz 503 while the database is down', async () => (await readyStatus()) === 503, {
        timeoutMs: 30_000,
      });
      // The outage lasts at least 5 s; meanwhile the consumer stays alive and not ready.
      await waitFor(
        'a 5 s outage',
        async () => {
          assert.ok(consumer.process.running, 'the consumer keeps running');
          assert.equal(await readyStatus(), 503);
          return Date.now() - pausedAt >= 5_000;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
    } finally {
      await servers.mongo.resume();
    }
    await publishing;
    await waitFor('/readyz 200 again', async () => (await readyStatus()) === 200, { timeoutMs: 60_000 });
    await assertMatchesTruth(db, published);
    assert.ok(consumer.process.running, 'caught up by itself, without a restart');
  } finally {
    await consumer.stop();
  }
});
