import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  bucketId,
  type CandleDoc,
  candleId,
  collectionNames,
  DEAD_LETTER_QUEUE,
  figuresOf,
  LEDGER_COLLECTION,
  LEDGER_QUEUE,
  type LedgerDoc,
  type LedgerMessage,
  ledgerId,
  ledgerIdRange,
  type TradeBucket,
} from '@stockmarket/common';
import { drainQueue, FerretDbServer, publishRaw, RabbitMqServer, ServiceProcess, waitFor } from '@stockmarket/stack';
import { MongoClient } from 'mongodb';

// The consumer's side of the reconciliation (docs/reconciliation.md) against real servers: ledger
// messages written by any replica, idempotently, one part per publisher run; a bad one
// dead-lettered; booked figures that a redelivered batch does not change.
let rabbitmq: RabbitMqServer;
let mongo: FerretDbServer;
let client: MongoClient;
const consumers: ServiceProcess[] = [];
const MINUTE = 60_000;
const minute = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;

before(async () => {
  [rabbitmq, mongo] = await Promise.all([RabbitMqServer.start(), FerretDbServer.start()]);
  client = new MongoClient(mongo.url);
  // Two replicas: one holds every company's lease, both read the ledger queue.
  for (const label of ['consumer-a', 'consumer-b']) {
    consumers.push(
      await ServiceProcess.start(
        'consumer',
        {
          RABBITMQ_URL: rabbitmq.url('consumer'),
          MONGODB_URL: mongo.url,
          MONGODB_WRITE_CONCERN: '1',
          // The window test below: trades minutes old are past it.
          CONSUMER_DEDUP_RETENTION_MINUTES: '1',
        },
        { label },
      ),
    );
  }
});

after(async () => {
  await Promise.allSettled(consumers.map((consumer) => consumer.stop(10_000)));
  await client?.close();
  await Promise.allSettled([rabbitmq?.stop(), mongo?.stop()]);
});

const written = async () =>
  (await Promise.all(consumers.map((consumer) => consumer.metric('consumer_ledger_written_total')))).reduce(
    (a, b) => a + b,
    0,
  );

test('ledger messages: one part per publisher run, redeliveries change nothing, a bad one is dead-lettered', async () => {
  const trades = Array.from({ length: 5 }, (_, i) => ({ id: `L${i}`, price: 417.28 + i, quantity: 1 + i }));
  const first: LedgerMessage = {
    company: 'TSLA',
    minute,
    source: 'RUN1',
    partial: true,
    closedAt: minute + 30_000,
    ...figuresOf(trades.slice(0, 2)),
  };
  const second: LedgerMessage = {
    ...first,
    source: 'RUN2',
    closedAt: minute + 60_100,
    ...figuresOf(trades.slice(2)),
  };
  // The first twice (a republish after a lost confirm), and a message that is no ledger.
  await publishRaw(rabbitmq, LEDGER_QUEUE, [first, second, first, { company: 'TSLA', minute: 'soon' }]);
  await waitFor('three ledger messages written', async () => (await written()) === 3, { timeoutMs: 30_000 });
  const parts = await client
    .db('stockmarket')
    .collection<LedgerDoc>(LEDGER_COLLECTION)
    .find({ _id: ledgerIdRange('TSLA', minute, minute) })
    .sort({ _id: 1 })
    .toArray();
  assert.deepEqual(
    parts.map((doc) => doc._id),
    [ledgerId('TSLA', minute, 'RUN1'), ledgerId('TSLA', minute, 'RUN2')],
  );
  const { updatedAt: _u, _id: _i, ...stored } = parts[0] as LedgerDoc;
  assert.deepEqual(stored, first);
  const parked = await waitFor('the bad one in the dead-letter queue', async () => {
    const messages = await drainQueue(rabbitmq, DEAD_LETTER_QUEUE);
    return messages.length > 0 ? messages : undefined;
  });
  assert.equal(parked.length, 1);
  assert.equal(parked[0]?.properties.headers?.['x-stockmarket-queue'], LEDGER_QUEUE);
  assert.match(String(parked[0]?.properties.headers?.['x-stockmarket-reason']), /^invalid ledger message/);
});

test('booked figures count each stored trade once: a redelivered batch changes nothing', async () => {
  const start = minute + 5 * MINUTE;
  const trades = Array.from({ length: 30 }, (_, i) => ({
    company: 'AAPL',
    eventType: i % 2 ? 'buy' : 'sell',
    price: Math.round((228.5 + Math.sin(i)) * 100) / 100,
    id: `B${String(i).padStart(3, '0')}`,
    ts: start + i * 1_500,
    quantity: 1 + (i % 9),
  }));
  const expected = figuresOf(trades);
  const candles = client.db('stockmarket').collection<CandleDoc>(collectionNames().candles);
  const booked = async () => (await candles.findOne({ _id: candleId('AAPL', '1m', start) }))?.rc;
  await publishRaw(rabbitmq, 'AAPL', trades);
  await waitFor('all booked', async () => (await booked())?.trades === trades.length, { timeoutMs: 30_000 });
  assert.deepEqual(await booked(), expected);
  // The same trades again, and half of them once more: a redelivery after a crash between write and ack.
  const acked = async () =>
    (await Promise.all(consumers.map((consumer) => consumer.metric('consumer_acked_total')))).reduce(
      (a, b) => a + b,
      0,
    );
  const before = await acked();
  await publishRaw(rabbitmq, 'AAPL', [...trades, ...trades.slice(0, 15)]);
  await waitFor('the redelivery acked', async () => (await acked()) >= before + 45, { timeoutMs: 30_000 });
  assert.deepEqual(await booked(), expected);
});

test('a redelivery after the dedup window is dead-lettered, not booked again; an old second never booked is stored', async () => {
  // Consumers here keep trade ids for 1 minute (CONSUMER_DEDUP_RETENTION_MINUTES=1), so trades
  // three minutes old are past the window; deleting a bucket is what the retention sweep does.
  const start = minute + 7 * MINUTE;
  const trade = (i: number, second: number) => ({
    company: 'MSFT',
    eventType: 'buy',
    price: 415.5 + i,
    id: `W${String(i).padStart(3, '0')}`,
    ts: start + second * 1_000 + i,
    quantity: 1 + i,
  });
  const redelivered = trade(1, 0);
  const trades = [trade(0, 0), redelivered, trade(2, 0), trade(3, 1)];
  const db = client.db('stockmarket');
  const candles = db.collection<CandleDoc>(collectionNames().candles);
  const booked = async () => (await candles.findOne({ _id: candleId('MSFT', '1m', start) }))?.rc;
  await publishRaw(rabbitmq, 'MSFT', trades);
  await waitFor('all booked', async () => (await booked())?.trades === trades.length, { timeoutMs: 30_000 });
  const deleted = await db
    .collection<TradeBucket>(collectionNames().buckets)
    .deleteOne({ _id: bucketId('MSFT', start) });
  assert.equal(deleted.deletedCount, 1);
  // trade 1 again (its second's ids are gone), and a trade of a second of this minute never booked.
  const late = trade(4, 30);
  await publishRaw(rabbitmq, 'MSFT', [redelivered, late]);
  const parked = await waitFor('the redelivery in the dead-letter queue', async () => {
    const messages = await drainQueue(rabbitmq, DEAD_LETTER_QUEUE);
    return messages.length > 0 ? messages : undefined;
  });
  assert.equal(parked.length, 1);
  assert.equal(JSON.parse(parked[0]?.content.toString() ?? '{}').id, redelivered.id);
  assert.match(String(parked[0]?.properties.headers?.['x-stockmarket-reason']), /^beyond the dedup window/);
  await waitFor('the never-booked second stored', async () => (await booked())?.trades === trades.length + 1, {
    timeoutMs: 30_000,
  });
  assert.deepEqual(await booked(), figuresOf([...trades, late]));
});
