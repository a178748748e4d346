import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CandleDoc, collectionNames, DEFAULT_COMPANIES, type HistoryDoc } from '@stockmarket/common';
import { drainQueue, publishRaw, queueDepth, waitFor } from '@stockmarket/stack';
import { consumerServers } from './servers.js';

const servers = consumerServers();
/** A consumer writing into its own database, so that the tests of this file do not mix. */
const startConsumer = servers.startConsumer;

const close = (actual: unknown, expected: number, what: string) =>
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);

test('stores the mean price of a batch as avgPrice, also for messages of the original publisher', async () => {
  const perCompany = 40;
  const expected = new Map<string, number>();
  const bodies = new Map<string, object[]>();
  for (const [index, company] of DEFAULT_COMPANIES.entries()) {
    const trades: object[] = [];
    let sum = 0;
    for (let i = 0; i < perCompany; i++) {
      const price = Math.round((100 + index * 50 + Math.sin(i) * 7 + i / 3) * 100) / 100;
      sum += price;
      const eventType = i % 2 === 0 ? 'buy' : 'sell';
      // Every other trade as the original publisher sends it: only the three contract fields.
      trades.push(
        i % 2 === 0
          ? { company, eventType, price }
          : { company, eventType, price, id: `t-${company}-${i}`, ts: Date.now(), quantity: 10 },
      );
    }
    expected.set(company, sum / perCompany);
    bodies.set(company, trades);
  }
  for (const [company, trades] of bodies) await publishRaw(servers.rabbitmq, company, trades);

  // One batch per company: it closes at BATCH_SIZE, long before the flush interval.
  const consumer = await startConsumer('original', {
    MONGODB_WRITE_CONCERN: '1',
    BATCH_SIZE: String(perCompany),
    CONSUMER_FLUSH_INTERVAL_MS: '60000',
  });
  try {
    const stocks = servers.client.db('original').collection('stocks');
    const docs = await waitFor('three stocks documents', async () => {
      const found = await stocks.find({}).toArray();
      return found.length === 3 ? found : undefined;
    });
    for (const doc of docs) {
      const mean = expected.get(doc.company);
      assert.ok(mean !== undefined, `unexpected company ${doc.company}`);
      assert.ok(Math.abs(doc.avgPrice - mean) < 1e-9, `${doc.company}: avgPrice ${doc.avgPrice} = mean ${mean}`);
      assert.equal(doc.batchSize, perCompany);
    }
    await waitFor(
      'every message acked',
      async () => (await consumer.metric('consumer_acked_total')) === perCompany * 3,
    );
  } finally {
    await consumer.stop();
  }
});

test('a known set of trades gives exactly the expected stocks, history and 1 s / 1 m candles', async () => {
  const T = Date.UTC(2024, 0, 2, 14, 30, 59, 500); // 14:30:59.500, half a second before a new minute
  const trade = (id: string, dt: number, price: number, quantity: number, eventType: 'buy' | 'sell') => ({
    company: 'AAPL',
    eventType,
    price,
    id,
    ts: T + dt,
    quantity,
  });
  // Two batches of four; the second 14:31:00 is split between them.
  await publishRaw(servers.rabbitmq, 'AAPL', [
    trade('a1', 0, 10, 2, 'buy'),
    trade('a2', 499, 12, 1, 'sell'), // last millisecond of 14:30:59
    trade('a3', 500, 11, 3, 'buy'), // first millisecond of 14:31:00
    trade('a4', 700, 9, 1, 'buy'),
    trade('a5', 800, 13, 1, 'sell'),
    trade('a6', 900, 8, 2, 'buy'),
    trade('a7', 1500, 10, 1, 'buy'),
    trade('a8', 1600, 10.25, 4, 'sell'),
  ]);
  const consumer = await startConsumer('known', { BATCH_SIZE: '4', CONSUMER_FLUSH_INTERVAL_MS: '60000' });
  try {
    const db = servers.client.db('known');
    await waitFor('two batches written', async () => (await consumer.metric('consumer_batches_written_total')) === 2);

    const stocks = await db.collection('stocks').find({}).toArray();
    assert.equal(stocks.length, 1);
    const stock: Record<string, unknown> = stocks[0] ?? {};
    assert.equal(stock.company, 'AAPL');
    close(stock.avgPrice, (13 + 8 + 10 + 10.25) / 4, 'avgPrice of the latest batch');
    close(stock.vwap, (13 + 16 + 10 + 41) / 8, 'vwap');
    assert.deepEqual([stock.lastPrice, stock.batchSize, stock.volume, stock.lastTradeAt], [10.25, 4, 8, T + 1600]);
    assert.equal(await db.collection('stocks').countDocuments({ avgPrice: { $type: 'double' } }), 1, 'a double');

    const history = await db.collection<HistoryDoc>(collectionNames().history).find({}).sort({ to: 1 }).toArray();
    assert.deepEqual(
      history.map((entry) => [entry.company, entry.count, entry.avgPrice, entry.from, entry.to]),
      [
        ['AAPL', 4, 10.5, T, T + 700],
        ['AAPL', 4, 10.3125, T + 800, T + 1600],
      ],
    );

    const candles = new Map(
      (await db.collection<CandleDoc>(collectionNames().candles).find({}).toArray()).map((doc) => [doc._id, doc]),
    );
    const second59 = T - 500;
    const minute30 = T - 59_500;
    const expected = {
      [`AAPL:1s:${second59}`]: {
        open: 10,
        high: 12,
        low: 10,
        close: 12,
        volume: 3,
        trades: 2,
        buys: 1,
        sells: 1,
        vwap: 32 / 3,
      },
      [`AAPL:1s:${second59 + 1000}`]: {
        open: 11,
        high: 13,
        low: 8,
        close: 8,
        volume: 7,
        trades: 4,
        buys: 3,
        sells: 1,
        vwap: 71 / 7,
      },
      [`AAPL:1s:${second59 + 2000}`]: {
        open: 10,
        high: 10.25,
        low: 10,
        close: 10.25,
        volume: 5,
        trades: 2,
        buys: 1,
        sells: 1,
        vwap: 51 / 5,
      },
      [`AAPL:1m:${minute30}`]: {
        open: 10,
        high: 12,
        low: 10,
        close: 12,
        volume: 3,
        trades: 2,
        buys: 1,
        sells: 1,
        vwap: 32 / 3,
      },
      [`AAPL:1m:${minute30 + 60_000}`]: {
        open: 11,
        high: 13,
        low: 8,
        close: 10.25,
        volume: 12,
        trades: 6,
        buys: 4,
        sells: 2,
        vwap: 122 / 12,
      },
    };
    assert.deepEqual([...candles.keys()].sort(), Object.keys(expected).sort());
    for (const [id, want] of Object.entries(expected)) {
      const doc: Record<string, unknown> = candles.get(id) ?? {};
      const { vwap, ...exact } = want;
      for (const [field, value] of Object.entries(exact)) assert.equal(doc[field], value, `${id} ${field}`);
      close(doc.vwap, vwap, `${id} vwap`);
      assert.equal(doc.company, 'AAPL');
    }
    assert.equal(await queueDepth(servers.rabbitmq, 'AAPL'), 0);
  } finally {
    await consumer.stop();
  }
});

test('each kind of bad message is dead-lettered with its reason while good ones still flow', async () => {
  await drainQueue(servers.rabbitmq, 'stockmarket.dead-letters');
  const good = (i: number) => ({ company: 'AAPL', eventType: 'buy', price: 100 + i, id: `good-${i}`, ts: Date.now() });
  const bad: Array<[string, RegExp]> = [
    ['not json at all', /^not JSON/],
    ['[1,2,3]', /^invalid trade/],
    ['{"company":"AAPL","eventType":"buy"}', /^invalid trade: price/],
    ['{"company":"AAPL","eventType":"buy","price":"12.5"}', /^invalid trade: price/],
    ['{"company":"AAPL","eventType":7,"price":12.5}', /^invalid trade: eventType/],
    ['{"company":"AAPL","eventType":"buy","price":0}', /^invalid trade: price/],
    ['{"company":"AAPL","eventType":"buy","price":-5}', /^invalid trade: price/],
    ['{"company":"AAPL","eventType":"buy","price":1e999}', /^invalid trade: price/],
    ['{"company":"AAPL","eventType":"buy","price":1e300}', /^invalid trade: price: above/],
    ['{"company":"AAPL","eventType":"hold","price":12.5}', /^invalid trade: eventType/],
    ['{"company":"","eventType":"buy","price":12.5}', /^invalid trade: company/],
    [`{"company":"${'A'.repeat(300)}","eventType":"buy","price":12.5}`, /^invalid trade: company/],
    ['{"company":"NOPE","eventType":"buy","price":12.5}', /^unknown company: NOPE/],
    [JSON.stringify({ ...good(99), pad: 'x'.repeat(17 * 1024) }), /^oversized/],
    ['{"company":"MSFT","eventType":"sell","price":12.5}', /does not belong in queue AAPL/],
  ];
  // Bad and good interleaved: the good ones must not wait for, or be blocked by, the bad ones.
  const bodies: string[] = [];
  for (const [index, [body]] of bad.entries()) bodies.push(body, JSON.stringify(good(index)));
  await publishRaw(servers.rabbitmq, 'AAPL', bodies);
  const consumer = await startConsumer('bad', { BATCH_SIZE: String(bad.length), CONSUMER_FLUSH_INTERVAL_MS: '60000' });
  try {
    await waitFor('every message acked', async () => (await consumer.metric('consumer_acked_total')) === bodies.length);
    assert.equal(await consumer.metric('consumer_dead_lettered_total'), bad.length);
    const parked = await drainQueue(servers.rabbitmq, 'stockmarket.dead-letters');
    assert.equal(parked.length, bad.length);
    const expected = new Map(bad);
    for (const message of parked) {
      const body = message.content.toString();
      const reason = expected.get(body);
      assert.ok(reason, `unexpected dead letter ${body.slice(0, 80)}`);
      const headers = message.properties.headers ?? {};
      assert.match(String(headers['x-stockmarket-reason']), reason, body.slice(0, 80));
      assert.equal(headers['x-stockmarket-queue'], 'AAPL');
      expected.delete(body);
    }
    assert.equal(expected.size, 0);
    const stock = await servers.client.db('bad').collection('stocks').findOne({ company: 'AAPL' });
    assert.equal(stock?.batchSize, bad.length, 'one batch of every good trade');
    assert.ok(consumer.process.running, 'the consumer survived');
    assert.equal(await queueDepth(servers.rabbitmq, 'AAPL'), 0);
  } finally {
    await consumer.stop();
  }
});

test('SIGTERM flushes the partial batch, acks it and exits cleanly', async () => {
  const trades = [1, 2, 3, 4, 5, 6, 7].map((i) => ({
    company: 'TSLA',
    eventType: 'sell',
    price: 200 + i,
    id: `term-${i}`,
    ts: Date.now(),
  }));
  const consumer = await startConsumer('sigterm', { BATCH_SIZE: '1000', CONSUMER_FLUSH_INTERVAL_MS: '600000' });
  try {
    await publishRaw(servers.rabbitmq, 'TSLA', trades);
    await waitFor('trades received', async () => (await consumer.metric('consumer_consumed_total')) === trades.length);
    const stocks = servers.client.db('sigterm').collection('stocks');
    assert.equal(await stocks.countDocuments(), 0, 'nothing written before the batch closes');
    assert.equal(await consumer.stop(), 0, 'clean exit');
    const stock = await stocks.findOne({ company: 'TSLA' });
    assert.equal(stock?.batchSize, trades.length);
    close(stock?.avgPrice, 204, 'avgPrice');
    // Acked, not merely written: nothing comes back to the queue when the connection closes.
    assert.equal(await queueDepth(servers.rabbitmq, 'TSLA'), 0);
    assert.match(consumer.process.output, /stopped cleanly/);
  } finally {
    await consumer.stop();
  }
});
