import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type CandleView,
  collectionNames,
  type SnapshotMessage,
  type StockView,
  type UpdateMessage,
} from '@stockmarket/common';
import { FerretDbServer, ServiceProcess, waitFor } from '@stockmarket/stack';
import { type Collection, Double, MongoClient } from 'mongodb';
import { io as connect } from 'socket.io-client';

// One liveview process on FerretDB, with documents written straight into the database the way
// the consumer (and other, older consumers) write them.
let mongo: FerretDbServer;
let client: MongoClient;
let liveview: ServiceProcess;
let stocks: Collection;
let candles: Collection<{ _id: string } & Record<string, unknown>>;
const now = Math.floor(Date.now() / 1000) * 1000;

function candleDoc(company: string, interval: '1s' | '1m', start: number, close: number) {
  return {
    _id: `${company}:${interval}:${start}`,
    company,
    interval,
    start,
    open: close - 1,
    high: close + 1,
    low: close - 2,
    close,
    vwap: new Double(close - 0.5),
    volume: 10,
    trades: 2,
    buys: 1,
    sells: 1,
    lastTradeAt: start + 400,
    updatedAt: new Date(),
    ...(interval === '1m' ? { s: { [`x${start}`]: { o: 1 } } } : {}),
  };
}

before(async () => {
  mongo = await FerretDbServer.start();
  client = new MongoClient(mongo.url, { serverSelectionTimeoutMS: 5_000 });
  const db = client.db('stockmarket');
  stocks = db.collection('stocks');
  candles = db.collection(collectionNames().candles);
  await stocks.insertMany([
    { company: 'AAPL', avgPrice: new Double(190), lastPrice: 191, vwap: 190.5, batchSize: 4, lastTradeAt: now - 600 },
    // The original contract: a consumer that writes nothing but company and avgPrice.
    { company: 'ACME', avgPrice: new Double(12.5) },
  ]);
  const minute = Math.floor((now - 5000) / 60_000) * 60_000;
  await candles.insertMany([
    ...[5, 4, 3, 2, 1].map((ago) => candleDoc('AAPL', '1s', now - ago * 1000, 190 + ago)),
    candleDoc('AAPL', '1m', minute, 190),
  ]);
  liveview = await ServiceProcess.start(
    'liveview',
    {
      MONGODB_URL: mongo.url,
      LIVEVIEW_REPLICA_NAME: 'api-1',
      LIVEVIEW_POLL_INTERVAL_MS: '100',
      LIVEVIEW_STALE_AFTER_MS: '1000',
    },
    { label: 'liveview-api' },
  );
});
after(async () => {
  await liveview?.stop();
  await client?.close();
  await mongo?.stop();
});

const getJson = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const response = await fetch(liveview.url + path);
  return { status: response.status, body: (await response.json()) as T };
};

test('GET /api/stocks lists every stock, also the contract-only documents', async () => {
  const { status, body } = await getJson<{ replica: string; fresh: boolean; stocks: StockView[] }>('/api/stocks');
  assert.equal(status, 200);
  assert.equal(body.replica, 'api-1');
  assert.equal(body.fresh, true);
  assert.deepEqual(
    body.stocks.map((stock) => stock.company),
    ['AAPL', 'ACME'],
  );
  assert.deepEqual(body.stocks[1], { company: 'ACME', avgPrice: 12.5 });
  assert.equal(body.stocks[0]?.lastPrice, 191);
});

test('GET /api/candles returns the stored candles oldest first, per interval, without the per-second map', async () => {
  const { status, body } = await getJson<{ candles: (CandleView & { s?: unknown })[] }>(
    '/api/candles?company=AAPL&interval=1s&limit=3',
  );
  assert.equal(status, 200);
  assert.deepEqual(
    body.candles.map((view) => view.start),
    [now - 3000, now - 2000, now - 1000],
  );
  assert.equal(body.candles[0]?.vwap, 192.5);
  const minute = await getJson<{ candles: (CandleView & { s?: unknown })[] }>('/api/candles?company=AAPL&interval=1m');
  assert.equal(minute.body.candles.length, 1);
  assert.equal(minute.body.candles[0]?.s, undefined);
  assert.equal(minute.body.candles[0]?.interval, '1m');
});

test('bad parameters answer 400 naming the parameter; unknown companies 404', async () => {
  for (const [path, pattern] of [
    ['/api/candles', /company/],
    ['/api/candles?company=AAPL&interval=1h', /interval must be 1s or 1m/],
    ['/api/candles?company=AAPL&limit=-3', /limit must be at least 1/],
    ['/api/candles?company=AAPL&limit=ten', /limit must be a number/],
    ['/api/candles?company=AAPL;drop&limit=1', /upper-case ticker/],
    ['/api/candles?company=AAPL&sort=desc', /sort/],
  ] as const) {
    const { status, body } = await getJson<{ error: string; details: string[] }>(path);
    assert.equal(status, 400, path);
    assert.match(body.details.join(' '), pattern, path);
  }
  assert.equal((await getJson('/api/candles?company=ACME')).status, 404);
});

test('follows new data: a new candle and price reach the API and socket clients', async () => {
  const socket = connect(liveview.url, { transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    const snapshot = await new Promise<SnapshotMessage>((resolve) => socket.once('snapshot', resolve));
    assert.equal(snapshot.fresh, true);
    assert.ok(snapshot.stocks.some((stock) => stock.company === 'ACME'));
    const updates: UpdateMessage[] = [];
    socket.on('update', (message: UpdateMessage) => updates.push(message));
    await candles.insertOne(candleDoc('AAPL', '1s', now, 200));
    await stocks.updateOne({ company: 'AAPL' }, { $set: { lastPrice: 200, lastTradeAt: now + 400 } });
    await stocks.updateOne({ company: 'ACME' }, { $set: { avgPrice: new Double(13) } });
    await waitFor(
      'the update on the socket',
      () =>
        updates.some((update) => update.candles.some((view) => view.start === now && view.close === 200)) &&
        updates.some((update) => update.stocks.some((stock) => stock.company === 'ACME' && stock.avgPrice === 13)),
      { timeoutMs: 20_000 },
    );
    const { body } = await getJson<{ candles: CandleView[] }>('/api/candles?company=AAPL&limit=1');
    assert.equal(body.candles[0]?.close, 200);
    assert.ok(updates.every((update) => typeof update.sentAt === 'number'));
  } finally {
    socket.close();
  }
});

test('a MongoDB outage turns the data stale (API, readiness, sockets), and it recovers by itself', async () => {
  const socket = connect(liveview.url, { transports: ['websocket'], reconnection: false, forceNew: true });
  const freshness: boolean[] = [];
  socket.on('update', (message: UpdateMessage) => {
    if (freshness.at(-1) !== message.fresh) freshness.push(message.fresh);
  });
  try {
    await new Promise((resolve) => socket.once('snapshot', resolve));
    await mongo.pause();
    try {
      await waitFor('stale on the socket', () => freshness.includes(false), { timeoutMs: 30_000 });
      const stale = await getJson<{ fresh: boolean; stocks: StockView[] }>('/api/stocks');
      assert.equal(stale.body.fresh, false);
      assert.equal(stale.body.stocks.length, 2, 'the last known data is still served');
      assert.equal((await fetch(`${liveview.url}/readyz`)).status, 503);
      assert.equal(await liveview.metric('liveview_feed_fresh'), 0);
    } finally {
      await mongo.resume();
    }
    await candles.insertOne(candleDoc('AAPL', '1s', now + 1000, 210));
    await stocks.updateOne({ company: 'AAPL' }, { $set: { lastPrice: 210, lastTradeAt: now + 1400 } });
    await waitFor('fresh again on the socket', () => freshness.at(-1) === true, { timeoutMs: 60_000 });
    await waitFor(
      'the data written after the outage',
      async () =>
        (await getJson<{ candles: CandleView[] }>('/api/candles?company=AAPL&limit=1')).body.candles[0]?.close === 210,
      { timeoutMs: 30_000 },
    );
    assert.equal((await fetch(`${liveview.url}/readyz`)).status, 200);
    assert.ok((await liveview.metric('liveview_feed_reads_total')) > 0);
  } finally {
    socket.close();
  }
});
