import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  type CandleView,
  createLogger,
  type HeartbeatMessage,
  type SnapshotMessage,
  type StockView,
  type UpdateMessage,
} from '@stockmarket/common';
import { Registry } from 'prom-client';
import { io as connect, type Socket } from 'socket.io-client';
import { loadLiveviewConfig } from './config.js';
import { FeedState } from './feed-state.js';
import { createLiveviewServer, type FeedView, type LiveviewServer } from './server.js';
import { SessionBook } from './session-stats.js';

// The server in this process with an in-memory feed: the socket.io hand-over and the API's
// parameter checks, without any database.
const config = loadLiveviewConfig({
  PORT: '0',
  HOST: '127.0.0.1',
  LIVEVIEW_REPLICA_NAME: 'unit-1',
  LOG_LEVEL: 'silent',
});
const feed: FeedView & { fresh: boolean; sessions: SessionBook } = {
  state: new FeedState(50),
  sessions: new SessionBook(),
  fresh: true as boolean,
  lastReadAt: Date.now(),
  newestTradeAt: 0,
  reads: { ok: 1, failed: 0 },
};
let server: LiveviewServer;
let base: string;

before(async () => {
  server = createLiveviewServer(config, feed, new Registry(), createLogger('liveview', 'silent'));
  await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.http.address() as AddressInfo).port}`;
});
after(async () => {
  await server.close();
});

const candle = (company: string, start: number, trades: number): CandleView => ({
  company,
  interval: '1s',
  start,
  open: 1,
  high: 2,
  low: 1,
  close: 2,
  vwap: 1.5,
  volume: trades,
  trades,
  buys: trades,
  sells: 0,
  lastTradeAt: start + 500,
});

test('clients joining while updates stream get snapshot + every later change once, and end equal to the state', async () => {
  const clients: { socket: Socket; stocks: Map<string, number>; seen: Set<string>; duplicates: number }[] = [];
  let tick = 0;
  const publishTick = () => {
    tick++;
    const stocks: StockView[] = ['AAPL', 'MSFT', 'TSLA'].map((company) => ({
      company,
      avgPrice: tick,
      lastTradeAt: 1_700_000_000_000 + tick,
    }));
    const change = {
      candles: feed.state.applyCandles([candle('AAPL', 1_700_000_000_000 + tick * 1000, tick)]),
      stocks: feed.state.applyStocks(stocks),
    };
    server.publish(change);
  };
  try {
    const publisher = setInterval(publishTick, 2);
    for (let i = 0; i < 12; i++) {
      const socket = connect(base, { transports: ['websocket'], reconnection: false, forceNew: true });
      const client = { socket, stocks: new Map<string, number>(), seen: new Set<string>(), duplicates: 0 };
      const take = (message: SnapshotMessage | UpdateMessage) => {
        for (const stock of message.stocks) {
          if (client.seen.has(`${stock.company}:${stock.avgPrice}`)) client.duplicates++;
          client.seen.add(`${stock.company}:${stock.avgPrice}`);
          // Updates arrive in order: a value never goes back.
          assert.ok((client.stocks.get(stock.company) ?? 0) < stock.avgPrice, 'in order');
          client.stocks.set(stock.company, stock.avgPrice);
        }
      };
      socket.on('snapshot', take);
      socket.on('update', take);
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        socket.once('snapshot', () => resolve());
        socket.once('connect_error', reject);
      });
    }
    clearInterval(publisher);
    publishTick();
    const final = tick;
    const deadline = Date.now() + 15_000;
    while (clients.some((client) => client.stocks.get('TSLA') !== final) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const client of clients) {
      assert.equal(client.duplicates, 0, 'no change twice');
      for (const company of ['AAPL', 'MSFT', 'TSLA']) assert.equal(client.stocks.get(company), final, company);
    }
    assert.ok(tick > 12, 'updates were streaming while clients joined');
  } finally {
    for (const client of clients) client.socket.close();
  }
});

test('a client on a stale replica learns it in the snapshot and when it turns fresh again', async () => {
  const socket = connect(base, { transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    feed.fresh = false;
    const snapshot = await new Promise<SnapshotMessage>((resolve) => socket.once('snapshot', resolve));
    assert.equal(snapshot.fresh, false);
    assert.equal(snapshot.replica, 'unit-1');
    feed.fresh = true;
    const update = new Promise<UpdateMessage>((resolve) => socket.once('update', resolve));
    server.publishFreshness(true);
    const message = await update;
    assert.equal(message.fresh, true);
    assert.ok(typeof message.sentAt === 'number' && Math.abs(message.sentAt - Date.now()) < 5_000);
  } finally {
    feed.fresh = true;
    socket.close();
  }
});

test('a connected socket keeps no HTTP request, over WebSocket and after an upgrade from polling', async () => {
  for (const transports of [['websocket'], ['polling', 'websocket']]) {
    const arrived = new Promise<{ conn: { request: unknown }; handshake: { headers: object } }>((resolve) =>
      server.io.once('connection', resolve),
    );
    const socket = connect(base, { transports, reconnection: false, forceNew: true });
    const snapshot = new Promise<void>((resolve) => socket.once('snapshot', () => resolve()));
    try {
      const serverSide = await arrived;
      assert.equal(serverSide.conn.request, null, `${transports.join('+')}: the first request is dropped`);
      assert.deepEqual(serverSide.handshake.headers, {});
      // Still a working socket: the snapshot arrives.
      await snapshot;
    } finally {
      socket.close();
    }
  }
});

test('heartbeats: one right after the snapshot, then every interval while nothing changes', async () => {
  const socket = connect(base, { transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    const beats: HeartbeatMessage[] = [];
    const arrived = new Promise<void>((resolve) =>
      socket.on('heartbeat', (beat) => {
        beats.push(beat);
        if (beats.length === 2) resolve();
      }),
    );
    await arrived;
    const [first, second] = beats as [HeartbeatMessage, HeartbeatMessage];
    assert.equal(first.replica, 'unit-1');
    assert.equal(first.fresh, true);
    assert.equal(first.intervalMs, config.LIVEVIEW_HEARTBEAT_INTERVAL_MS);
    assert.equal(first.tradeStaleAfterMs, config.LIVEVIEW_TRADE_STALE_AFTER_MS);
    const gap = second.sentAt - first.sentAt;
    assert.ok(gap > 0 && gap <= config.LIVEVIEW_HEARTBEAT_INTERVAL_MS + 500, `heartbeats ${gap} ms apart`);
  } finally {
    socket.close();
  }
});

test('while updates flow they carry the heartbeat and no separate one is sent; it resumes when they stop', async () => {
  const interval = config.LIVEVIEW_HEARTBEAT_INTERVAL_MS;
  const socket = connect(base, { transports: ['websocket'], reconnection: false, forceNew: true });
  let publisher: NodeJS.Timeout | undefined;
  try {
    const beats: HeartbeatMessage[] = [];
    const updates: UpdateMessage[] = [];
    socket.on('update', (update) => updates.push(update));
    // The connect heartbeat (right after the snapshot), then updates every third of an interval
    // for three intervals.
    await new Promise<void>((resolve) =>
      socket.on('heartbeat', (beat) => {
        beats.push(beat);
        resolve();
      }),
    );
    const beatsBefore = beats.length;
    let tick = 0;
    publisher = setInterval(() => {
      tick++;
      server.publish({
        candles: [],
        stocks: feed.state.applyStocks([{ company: 'MSFT', avgPrice: tick, lastTradeAt: 1_800_000_000_000 + tick }]),
      });
    }, interval / 3);
    const flowing = Date.now();
    await new Promise((resolve) => setTimeout(resolve, interval * 3));
    clearInterval(publisher);
    publisher = undefined;
    const stopped = Date.now();
    assert.ok(updates.length >= 6, `${updates.length} updates in three intervals`);
    for (const update of updates) {
      assert.equal(update.heartbeat?.replica, 'unit-1');
      assert.equal(update.heartbeat?.intervalMs, interval);
    }
    // At most one separate heartbeat may have been due before the first update went out.
    const separate = beats.slice(beatsBefore).filter((beat) => beat.sentAt > flowing + interval / 2);
    assert.deepEqual(separate, [], 'no separate heartbeat while updates carry it');
    // Updates stop: a separate heartbeat again within one interval of the last carried one.
    const resumed = await new Promise<HeartbeatMessage>((resolve) => socket.once('heartbeat', resolve));
    const lastCarried = updates.at(-1)?.heartbeat?.sentAt ?? stopped;
    assert.ok(
      resumed.sentAt - lastCarried <= interval + 100,
      `heartbeat ${resumed.sentAt - lastCarried} ms after the last update`,
    );
  } finally {
    if (publisher) clearInterval(publisher);
    socket.close();
  }
});

test('a changed 1 m candle carries its session figures in the update and in the next snapshot', async () => {
  const socket = connect(base, { transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    await new Promise<SnapshotMessage>((resolve) => socket.once('snapshot', resolve));
    const update = new Promise<UpdateMessage>((resolve) => socket.once('update', resolve));
    const minute: CandleView = { ...candle('TSLA', 1_700_000_040_000, 7), interval: '1m', open: 5 };
    // As the feed does it: a changed 1 m candle applied to the sessions, their figures sent with it.
    const candles = feed.state.applyCandles([minute]);
    server.publish({ candles, stocks: [], sessions: feed.sessions.all(feed.sessions.apply(candles)) });
    const message = await update;
    assert.deepEqual(
      message.sessions?.map((session) => [session.company, session.open, session.volume]),
      [['TSLA', 5, 7]],
    );
    const later = connect(base, { transports: ['websocket'], reconnection: false, forceNew: true });
    try {
      const snapshot = await new Promise<SnapshotMessage>((resolve) => later.once('snapshot', resolve));
      assert.equal(snapshot.sessions?.find((session) => session.company === 'TSLA')?.open, 5);
    } finally {
      later.close();
    }
  } finally {
    socket.close();
  }
});

test('a socket from another origin is refused', async () => {
  const socket = connect(base, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: { origin: 'http://evil.example' },
  });
  try {
    const error = await new Promise<Error>((resolve, reject) => {
      socket.once('connect_error', resolve);
      socket.once('connect', () => reject(new Error('connected from another origin')));
    });
    assert.ok(error);
  } finally {
    socket.close();
  }
});

test('API: bad parameters answer 400 with a message naming the parameter', async () => {
  const cases: [string, RegExp][] = [
    ['/api/candles', /company/],
    ['/api/candles?company=aapl', /company: company must be an upper-case ticker/],
    ['/api/candles?company=AAPL&interval=5m', /interval: interval must be 1s or 1m/],
    ['/api/candles?company=AAPL&limit=abc', /limit: limit must be a number/],
    ['/api/candles?company=AAPL&limit=0', /limit: limit must be at least 1/],
    ['/api/candles?company=AAPL&limit=1.5', /limit: limit must be a whole number/],
    ['/api/candles?company=AAPL&limit=10001', /limit: limit must be at most 10000/],
    ['/api/candles?company=AAPL&company=MSFT', /company/],
    ['/api/candles?company=AAPL&colour=red', /colour/],
    ['/api/stocks?x=1', /x/],
  ];
  for (const [path, detail] of cases) {
    const response = await fetch(base + path);
    assert.equal(response.status, 400, path);
    const body = (await response.json()) as { error: string; details: string[] };
    assert.equal(body.error, 'bad query', path);
    assert.match(body.details.join('; '), detail, path);
  }
  const unknown = await fetch(`${base}/api/candles?company=ZZZ`);
  assert.equal(unknown.status, 404);
  const post = await fetch(`${base}/api/stocks`, { method: 'POST' });
  assert.equal(post.status, 405);
});

test('API and page: good requests, security headers, metrics', async () => {
  const candles = await fetch(`${base}/api/candles?company=AAPL&interval=1s&limit=3`);
  assert.equal(candles.status, 200);
  const body = (await candles.json()) as { candles: CandleView[] };
  assert.equal(body.candles.length, 3);
  assert.ok(body.candles.every((view, i, all) => i === 0 || view.start > (all[i - 1] as CandleView).start));
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.equal(page.headers.get('x-served-by'), 'unit-1');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  for (const name of [
    'liveview_connected_clients',
    'liveview_messages_pushed_total',
    'liveview_feed_lag_seconds',
    'liveview_feed_fresh',
  ]) {
    assert.match(metrics, new RegExp(`^${name}`, 'm'), name);
  }
  assert.match(metrics, /^liveview_messages_pushed_total\{type="update"\} [1-9]/m);
});
