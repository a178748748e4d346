import { createServer, type Server as HttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import {
  type ClientToServerEvents,
  companySchema,
  handleOpsRequest,
  type Logger,
  type Probe,
  type ServerToClientEvents,
  type UpdateMessage,
} from '@stockmarket/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Server as SocketServer } from 'socket.io';
import { z } from 'zod';
import type { LiveviewConfig } from './config.js';
import type { FeedChange } from './feed.js';
import type { FeedState } from './feed-state.js';

export const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

export interface LiveviewServer {
  http: HttpServer;
  io: SocketServer<ClientToServerEvents, ServerToClientEvents>;
  metrics: ReturnType<typeof createLiveviewMetrics>;
  /** Pushes one tick's changes to every client of this replica, in one emit. */
  publish(change: FeedChange): void;
  /** Tells every client that the data turned stale or fresh again. */
  publishFreshness(fresh: boolean): void;
}

/** What the feed exposes to the server: its state, and how current it is. */
export interface FeedView {
  readonly state: FeedState;
  readonly fresh: boolean;
  /** Epoch ms of the last successful read (0 before the first). */
  readonly lastReadAt: number;
  /** Epoch ms of the newest trade the feed has seen (0 before the first). */
  readonly newestTradeAt: number;
  readonly reads: { readonly ok: number; readonly failed: number };
}

export function createLiveviewMetrics(registry: Registry, io: () => SocketServer | undefined, feed: FeedView) {
  const registers = [registry];
  return {
    clients: new Gauge({
      name: 'liveview_connected_clients',
      help: 'Connected socket.io clients',
      registers,
      collect() {
        this.set(io()?.of('/').sockets.size ?? 0);
      },
    }),
    pushed: new Counter({
      name: 'liveview_messages_pushed_total',
      help: 'Messages sent to clients, counted per client (a broadcast to 100 clients counts 100)',
      labelNames: ['type'],
      registers,
    }),
    broadcasts: new Counter({
      name: 'liveview_broadcasts_total',
      help: 'Coalesced updates emitted (one per feed tick with changes)',
      registers,
    }),
    refused: new Counter({
      name: 'liveview_connections_refused_total',
      help: 'socket.io connections refused',
      labelNames: ['reason'],
      registers,
    }),
    lag: new Gauge({
      name: 'liveview_feed_lag_seconds',
      help: 'Now minus the newest trade time the feed has seen (grows while no trade arrives)',
      registers,
      collect() {
        this.set(feed.newestTradeAt > 0 ? (Date.now() - feed.newestTradeAt) / 1000 : 0);
      },
    }),
    readAge: new Gauge({
      name: 'liveview_feed_last_read_age_seconds',
      help: 'Now minus the last successful read of MongoDB',
      registers,
      collect() {
        this.set(feed.lastReadAt > 0 ? (Date.now() - feed.lastReadAt) / 1000 : -1);
      },
    }),
    fresh: new Gauge({
      name: 'liveview_feed_fresh',
      help: '1 while the data is fresh, 0 while it is stale',
      registers,
      collect() {
        this.set(feed.fresh ? 1 : 0);
      },
    }),
    reads: new Counter({
      name: 'liveview_feed_reads_total',
      help: 'Feed reads of MongoDB by result',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        this.inc({ result: 'ok' }, feed.reads.ok);
        this.inc({ result: 'failed' }, feed.reads.failed);
      },
    }),
  };
}

/** express (page, JSON API, health, metrics) and socket.io on one HTTP server. */
export function createLiveviewServer(
  config: LiveviewConfig,
  feed: FeedView,
  registry: Registry,
  logger: Logger,
): LiveviewServer {
  let io: SocketServer<ClientToServerEvents, ServerToClientEvents> | undefined;
  const metrics = createLiveviewMetrics(registry, () => io as SocketServer | undefined, feed);
  const probe: Probe = { ready: () => feed.fresh };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback, uniquelocal');
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          frameAncestors: ["'none'"],
          formAction: ["'none'"],
        },
      },
      // The page is served over plain HTTP in compose; HSTS belongs to a TLS terminator.
      strictTransportSecurity: false,
    }),
  );
  app.use((request, response, next) => {
    response.setHeader('x-served-by', config.LIVEVIEW_REPLICA_NAME);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      response.status(405).json({ error: 'method not allowed' });
      return;
    }
    next();
  });

  for (const path of ['/healthz', '/readyz', '/metrics']) {
    app.get(path, (_request, response, next) => {
      handleOpsRequest(path, probe, registry).then((answer) => {
        if (!answer) return next();
        response.status(answer.status).type(answer.type).send(answer.body);
      }, next);
    });
  }

  app.get('/api/stocks', (request, response) => {
    const parsed = stocksQuery.safeParse(request.query);
    if (!parsed.success) {
      badRequest(response, parsed.error);
      return;
    }
    response.setHeader('cache-control', 'no-store');
    response.json({
      replica: config.LIVEVIEW_REPLICA_NAME,
      fresh: feed.fresh,
      lastReadAt: feed.lastReadAt || null,
      stocks: feed.state.allStocks(),
    });
  });

  app.get('/api/candles', (request, response) => {
    const parsed = candlesQuery.safeParse(request.query);
    if (!parsed.success) {
      badRequest(response, parsed.error);
      return;
    }
    const { company, interval, limit } = parsed.data;
    if (!config.COMPANIES.includes(company)) {
      response.status(404).json({ error: `no candles for company ${company}`, companies: config.COMPANIES });
      return;
    }
    response.setHeader('cache-control', 'no-store');
    response.json({
      company,
      interval,
      fresh: feed.fresh,
      candles: feed.state.recentCandles(company, interval, limit),
    });
  });

  app.get('/api/info', (_request, response) => {
    response.json({ replica: config.LIVEVIEW_REPLICA_NAME, companies: config.COMPANIES });
  });

  // The page and its bundle; the bundle name is fixed, so revalidate rather than cache blindly.
  app.use(express.static(publicDir, { index: 'index.html', maxAge: 0, etag: true, fallthrough: true }));

  app.use((_request, response) => {
    response.status(404).json({ error: 'not found' });
  });
  // Errors answer with a status and a short message, never a stack trace.
  app.use((error: Error & { status?: number }, _request: Request, response: Response, _next: NextFunction) => {
    const status = error.status && error.status >= 400 && error.status < 600 ? error.status : 500;
    if (status >= 500) logger.error({ err: error }, 'request failed');
    response.status(status).json({ error: status >= 500 ? 'internal error' : error.message });
  });

  const http = createServer(app);
  http.headersTimeout = 10_000;
  http.requestTimeout = 15_000;
  const server = new SocketServer<ClientToServerEvents, ServerToClientEvents>(http, {
    serveClient: false,
    maxHttpBufferSize: 16 * 1024,
    pingInterval: 10_000,
    pingTimeout: 5_000,
    // Same origin only: a browser page from elsewhere cannot open a socket here.
    allowRequest: (request, callback) => {
      const origin = request.headers.origin;
      if (origin && !sameOrigin(origin, request.headers.host)) {
        metrics.refused.inc({ reason: 'origin' });
        callback('cross-origin request refused', false);
        return;
      }
      if (server.engine.clientsCount >= config.LIVEVIEW_MAX_CLIENTS) {
        metrics.refused.inc({ reason: 'capacity' });
        callback('server full', false);
        return;
      }
      callback(null, true);
    },
  });
  io = server;
  server.on('connection', (socket) => {
    // Snapshot here, broadcasts from `publish` later: both run on the one event loop and the
    // socket already belongs to the broadcast set, so every change after this snapshot reaches
    // it exactly once and none before it is sent again.
    const snapshot = feed.state.snapshot(config.COMPANIES, config.LIVEVIEW_SNAPSHOT_CANDLES);
    socket.emit('snapshot', { replica: config.LIVEVIEW_REPLICA_NAME, fresh: feed.fresh, ...snapshot });
    metrics.pushed.inc({ type: 'snapshot' });
  });

  const broadcast = (message: UpdateMessage) => {
    const clients = server.of('/').sockets.size;
    if (clients === 0) return;
    server.emit('update', message);
    metrics.broadcasts.inc();
    metrics.pushed.inc({ type: 'update' }, clients);
  };
  return {
    http,
    io: server,
    metrics,
    publish: (change) => broadcast({ ...change, fresh: feed.fresh, sentAt: Date.now() }),
    publishFreshness: (fresh) => broadcast({ stocks: [], candles: [], fresh, sentAt: Date.now() }),
  };
}

const stocksQuery = z.object({}).strict();

const candlesQuery = z
  .object({
    company: companySchema,
    interval: z.enum(['1s', '1m'], { message: 'interval must be 1s or 1m' }).default('1s'),
    limit: z.coerce
      .number({ message: 'limit must be a number' })
      .int('limit must be a whole number')
      .min(1, 'limit must be at least 1')
      .max(10_000, 'limit must be at most 10000')
      .default(300),
  })
  .strict();

function badRequest(response: Response, error: z.ZodError): void {
  response.status(400).json({
    error: 'bad query',
    details: error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`),
  });
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
