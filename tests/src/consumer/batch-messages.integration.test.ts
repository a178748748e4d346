import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEAD_LETTER_QUEUE, DEFAULT_COMPANIES, TRADE_BATCH_CONTENT_TYPE } from '@stockmarket/common';
import { drainQueue, publishRaw, waitFor } from '@stockmarket/stack';
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

// The batched wire format (docs/consumer.md) against a real broker and database: batch messages
// in the company queues, each trade validated, stored and deduplicated on its own.
const COMPANIES = [...DEFAULT_COMPANIES];
const servers = consumerServers();
const startConsumer = (database: string, env: Record<string, string> = {}) =>
  servers.startConsumer(database, { ...QUICK_CONSUMER, ...env });

/** `trades` as batch messages of `size` trades (the last one shorter), with the batch content type. */
async function publishBatches(company: string, trades: readonly unknown[], size: number): Promise<number> {
  const bodies: string[] = [];
  for (let start = 0; start < trades.length; start += size) {
    bodies.push(JSON.stringify({ trades: trades.slice(start, start + size) }));
  }
  await publishRaw(servers.rabbitmq, company, bodies, { contentType: TRADE_BATCH_CONTENT_TYPE });
  return bodies.length;
}

/** Every trade in `published` stored once (1 s and 1 m candles equal the truth) and every queue empty. */
async function assertStoredOnce(db: Db, published: readonly PublishedTrade[], timeoutMs = 120_000): Promise<void> {
  // Waits for at least all of them, so that one counted twice fails at once rather than by the deadline.
  const stored = await waitFor(
    `${published.length} trades stored and every queue empty`,
    async () => {
      const count = await storedTradeCount(db);
      return count >= published.length && (await servers.queuesEmpty(COMPANIES)) ? count : undefined;
    },
    { timeoutMs, intervalMs: 300 },
  );
  assert.equal(stored, published.length, 'each trade stored once');
  const differences = candleDifferences(await storedCandles(db), truthCandles(published));
  assert.deepEqual(differences, [], 'every stored 1 s and 1 m candle equals the ground truth');
}

test('a bad trade inside a batch is dead-lettered alone with its reason; the good ones of the message are stored', async () => {
  await drainQueue(servers.rabbitmq, DEAD_LETTER_QUEUE);
  const good = makeTrades(['AAPL'], 100, { prefix: 'bad' }).get('AAPL') ?? [];
  const invalid = { company: 'AAPL', eventType: 'hold', price: 12.5, id: 'bad-hold' };
  const stranger = { ...good[0], company: 'MSFT', id: 'bad-msft' };
  // Two bad trades in the middle of the first and the third message of 20.
  const mixed: unknown[] = [...good];
  mixed.splice(10, 0, invalid);
  mixed.splice(50, 0, stranger);
  const messages = await publishBatches('AAPL', mixed, 20);
  const consumer = await startConsumer('batch-bad');
  try {
    await waitFor('every message acked', async () => (await consumer.metric('consumer_acked_total')) === messages);
    const db = servers.client.db('batch-bad');
    await assertStoredOnce(db, good);
    const parked = await drainQueue(servers.rabbitmq, DEAD_LETTER_QUEUE);
    const reasons = Object.fromEntries(
      parked.map((message) => [
        JSON.parse(message.content.toString()).id,
        String(message.properties.headers?.['x-stockmarket-reason']),
      ]),
    );
    assert.deepEqual(Object.keys(reasons).sort(), ['bad-hold', 'bad-msft'], 'each bad trade parked alone, once');
    assert.match(reasons['bad-hold'] ?? '', /^invalid trade: eventType/);
    assert.match(reasons['bad-msft'] ?? '', /company MSFT does not belong in queue AAPL/);
    for (const message of parked) assert.equal(message.properties.contentType, 'application/json');
    assert.equal(await consumer.metric('consumer_dead_lettered_total'), 2);
  } finally {
    await consumer.stop();
  }
});

test('duplicates across batches, and across the two forms, are stored and counted once', async () => {
  const trades = makeTrades(['MSFT'], 600, { prefix: 'dup' }).get('MSFT') ?? [];
  // Overlapping windows: every trade is in two batch messages, and every tenth also sent alone.
  await publishBatches('MSFT', trades, 50);
  await publishBatches('MSFT', trades.slice(25), 50);
  await publishRaw(
    servers.rabbitmq,
    'MSFT',
    trades.filter((_, index) => index % 10 === 0),
  );
  const consumer = await startConsumer('batch-dup');
  try {
    await assertStoredOnce(servers.client.db('batch-dup'), trades);
    // Every trade is stored once the first copies are; the later copies may still be on their way.
    const duplicates = 575 + 60;
    await waitFor(
      'every duplicate dropped',
      async () => (await consumer.metric('consumer_duplicates_dropped_total')) >= duplicates,
    );
    assert.equal(await consumer.metric('consumer_duplicates_dropped_total'), duplicates);
    await assertStoredOnce(servers.client.db('batch-dup'), trades);
  } finally {
    await consumer.stop();
  }
});

test('batches redelivered after kill -9 mid-run: nothing lost, nothing counted twice', async () => {
  const trades = makeTrades(COMPANIES, 6000, { prefix: 'crash', spacingMs: 5 });
  const published = [...trades.values()].flat();
  for (const [company, list] of trades) await publishBatches(company, list, 50);
  const db = servers.client.db('batch-crash');
  // 480: not a multiple of 50, so messages straddle two batch writes and wait for both.
  const consumer = await startConsumer('batch-crash', { BATCH_SIZE: '480' });
  let midRun = 0;
  try {
    for (const share of [0.15, 0.4, 0.65]) {
      // A kill once a share of the backlog is stored: the batch in flight then is redelivered.
      await waitFor(`${share * 100} % stored`, async () => (await storedTradeCount(db)) >= share * published.length, {
        timeoutMs: 180_000,
        intervalMs: 50,
      });
      const stored = await storedTradeCount(db);
      await consumer.kill();
      if (stored < published.length) midRun++;
      await consumer.restart();
    }
    assert.ok(midRun >= 1, 'at least one kill hit the consumer in the middle of the backlog');
    await assertStoredOnce(db, published);
  } finally {
    await consumer.stop();
  }
});
