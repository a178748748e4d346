import { createServer, type Server as HttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import {
  type ClientToServerEvents,
  companySchema,
  handleOpsRequest,
  type Logger,
  type Probe,
  type ServerToClientEvents,
} from '@stockmarket/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Server as SocketServer } from 'socket.io';
import { z } from 'zod';
import type { LiveviewConfig } from './config.js';
import type { FeedState } from './feed-state.js';

export const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

export interface LiveviewServer {
  http: HttpServer;
  io: SocketServer<ClientToServerEvents, ServerToClientEvents>;
  metrics: ReturnType<typeof createLiveviewMetrics>;
}

export function createLiveviewMetrics(registry: Registry) {
  const registers = [registry];
  return {
    clients: new Gauge({ name: 'liveview_connected_clients', help: 'Connected socket.io clients', registers }),
    pushed: new Counter({
      name: 'liveview_messages_pushed_total',
      help: 'Messages sent to clients (per client)',
      registers,
    }),
    refused: new Counter({
      name: 'liveview_connections_refused_total',
      help: 'Connections refused',
      labelNames: ['reason'],
      registers,
    }),
    lag: new Gauge({
      name: 'liveview_feed_lag_seconds',
      help: 'Now minus the newest trade time the feed has seen',
      registers,
    }),
  };
}

const candlesQuery = z
  .object({
    company: companySchema,
    interval: z.enum(['1s', '1m']).default('1s'),
    limit: z.coerce.number().int().min(1).max(10_000).default(300),
  })
  .strict();

/** express (page, JSON API, health, metrics) and socket.io on one HTTP server. */
export function createLiveviewServer(
  config: LiveviewConfig,
  state: FeedState,
  probe: Probe & { fresh(): boolean },
  registry: Registry,
  logger: Logger,
): LiveviewServer {
  const metrics = createLiveviewMetrics(registry);
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

  app.get('/api/stocks', (_request, response) => {
    response.json({ replica: config.LIVEVIEW_REPLICA_NAME, fresh: probe.fresh(), stocks: state.allStocks() });
  });

  app.get('/api/candles', (request, response) => {
    const parsed = candlesQuery.safeParse(request.query);
    if (!parsed.success) {
      response.status(400).json({
        error: 'bad query',
        details: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`),
      });
      return;
    }
    const { company, interval, limit } = parsed.data;
    if (!config.COMPANIES.includes(company)) {
      response.status(404).json({ error: `unknown company ${company}`, companies: config.COMPANIES });
      return;
    }
    response.json({ company, interval, candles: state.recentCandles(company, interval, limit) });
  });

  app.get('/api/info', (_request, response) => {
    response.json({ replica: config.LIVEVIEW_REPLICA_NAME, companies: config.COMPANIES });
  });

  app.use(express.static(publicDir, { index: 'index.html', maxAge: '1h', fallthrough: true }));

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
  const io = new SocketServer<ClientToServerEvents, ServerToClientEvents>(http, {
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
      if (io.engine.clientsCount >= config.LIVEVIEW_MAX_CLIENTS) {
        metrics.refused.inc({ reason: 'capacity' });
        callback('server full', false);
        return;
      }
      callback(null, true);
    },
  });
  io.on('connection', (socket) => {
    metrics.clients.inc();
    // Snapshot and subscription in the same event-loop turn: no update can fall in between.
    const snapshot = state.snapshot(config.COMPANIES, config.LIVEVIEW_SNAPSHOT_CANDLES);
    socket.emit('snapshot', { replica: config.LIVEVIEW_REPLICA_NAME, ...snapshot });
    metrics.pushed.inc();
    socket.on('disconnect', () => metrics.clients.dec());
  });
  return { http, io, metrics };
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
