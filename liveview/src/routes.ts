import { fileURLToPath } from 'node:url';
import { handleOpsRequest, type Logger, type Probe } from '@stockmarket/common';
import compression from 'compression';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import type { LiveviewConfig } from './config.js';
import type { FeedView } from './feed-view.js';
import { badRequest, candlesQuery, reconciliationQuery, stocksQuery, tradesQuery } from './query-schemas.js';
import type { ReconciliationSource } from './reconciliation/reconciler.js';
import { securityHeaders } from './security-headers.js';
import type { TradeSource } from './trade-tape.js';

export const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

/** The page, its assets, the JSON API, health and metrics. */
export function createApp(
  config: LiveviewConfig,
  feed: FeedView,
  registry: Registry,
  logger: Logger,
  trades: TradeSource | undefined,
  reconciliation?: ReconciliationSource,
): express.Express {
  const probe: Probe = { ready: () => feed.fresh };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback, uniquelocal');
  app.use(securityHeaders());
  app.use((request, response, next) => {
    response.setHeader('x-served-by', config.LIVEVIEW_REPLICA_NAME);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      response.status(405).json({ error: 'method not allowed' });
      return;
    }
    next();
  });
  // The bundle is ~220 KB of JavaScript, ~70 KB compressed; JSON answers shrink as well.
  app.use(compression());

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
      sessions: feed.sessions.all(config.COMPANIES),
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

  app.get('/api/trades', (request, response, next) => {
    const parsed = tradesQuery.safeParse(request.query);
    if (!parsed.success) {
      badRequest(response, parsed.error);
      return;
    }
    const { company, limit } = parsed.data;
    if (!trades || !config.COMPANIES.includes(company)) {
      response.status(404).json({ error: `no trades for company ${company}`, companies: config.COMPANIES });
      return;
    }
    trades(company, feed.state.stock(company)?.lastTradeAt ?? 0, limit).then((list) => {
      response.setHeader('cache-control', 'no-store');
      response.json({ company, trades: list });
    }, next);
  });

  app.get('/api/reconciliation', (request, response, next) => {
    const parsed = reconciliationQuery(Date.now()).safeParse(request.query);
    if (!parsed.success) {
      badRequest(response, parsed.error);
      return;
    }
    const { company, from, to } = parsed.data;
    if (!reconciliation || (company && !config.COMPANIES.includes(company))) {
      response.status(404).json({ error: `no reconciliation for company ${company}`, companies: config.COMPANIES });
      return;
    }
    const companies = company ? [company] : config.COMPANIES;
    Promise.all(companies.map((name) => reconciliation.compare(name, from, to))).then((lists) => {
      const minutes = lists.flat().sort((a, b) => a.minute - b.minute || a.company.localeCompare(b.company));
      const counts = { matched: 0, pending: 0, break: 0, partial: 0, 'no-ledger': 0 };
      for (const minute of minutes) counts[minute.status]++;
      response.setHeader('cache-control', 'no-store');
      response.json({
        replica: config.LIVEVIEW_REPLICA_NAME,
        from,
        to,
        graceMs: reconciliation.graceMs,
        counts,
        minutes,
        sinceStart: reconciliation.view() ?? null,
      });
    }, next);
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
  return app;
}
