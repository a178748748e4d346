import { createServer, type Server as HttpServer, type IncomingMessage, ServerResponse } from 'node:http';
import type { ClientToServerEvents, Logger } from '@stockmarket/common';
import type { Registry } from 'prom-client';
import { Server as SocketServer } from 'socket.io';
import type { LiveviewServerEvents } from '../shared/system-message.js';
import { admission } from './admission.js';
import { type Broadcaster, createBroadcaster, HEARTBEAT_CHECKS_PER_INTERVAL } from './broadcast.js';
import type { LiveviewConfig } from './config.js';
import type { FeedView } from './feed-view.js';
import { startHeartbeats } from './heartbeat.js';
import { createLiveviewMetrics, type LiveviewMetrics } from './metrics.js';
import type { ReconciliationSource } from './reconciliation/reconciler.js';
import { createApp } from './routes.js';
import type { TradeSource } from './trade-tape.js';

export type { FeedView } from './feed-view.js';
export { publicDir } from './routes.js';

export interface LiveviewServer extends Broadcaster {
  http: HttpServer;
  io: SocketServer<ClientToServerEvents, LiveviewServerEvents>;
  metrics: LiveviewMetrics;
  /** Stops the heartbeats and closes every socket, the engine and the HTTP server. */
  close(): Promise<void>;
}

/** express (page, JSON API, health, metrics) and socket.io on one HTTP server, wired in order. */
export function createLiveviewServer(
  config: LiveviewConfig,
  feed: FeedView,
  registry: Registry,
  logger: Logger,
  trades?: TradeSource,
  reconciliation?: ReconciliationSource,
): LiveviewServer {
  const metrics = createLiveviewMetrics(registry, feed);
  const app = createApp(config, feed, registry, logger, trades, reconciliation);
  const http = createServer(app);
  http.headersTimeout = 10_000;
  http.requestTimeout = 15_000;
  const io: SocketServer<ClientToServerEvents, LiveviewServerEvents> = new SocketServer(http, {
    serveClient: false,
    maxHttpBufferSize: 16 * 1024,
    // The heartbeats carry liveness; engine.io's own ping is only the transport's keep-alive.
    pingInterval: 10_000,
    pingTimeout: 5_000,
    allowRequest: admission(config.LIVEVIEW_MAX_CLIENTS, () => io.engine.clientsCount, metrics),
  });
  // socket.io keeps each session's first HTTP request (headers, parser state, streams) for as
  // long as the socket lives; nothing here reads it after admission (no `socket.request`;
  // `socket.handshake.headers` stays empty), so it is dropped, as socket.io's memory-usage guide
  // advises (docs/performance.md).
  io.engine.on('connection', (rawSocket: { request: unknown }) => {
    rawSocket.request = null;
  });
  // engine.io (6.6) also keeps every WebSocket upgrade request through the stand-in response it
  // hands to middlewares (a 'close' listener on the TCP socket holds it), though it needs it only
  // until the upgrade is answered (`writeHead`, just before ws takes over): let go of it then.
  io.engine.use((_request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => {
    const upgrade = response as unknown as { req?: unknown; writeHead?: () => void };
    if (!(response instanceof ServerResponse) && 'req' in upgrade && typeof upgrade.writeHead === 'function') {
      const writeHead = upgrade.writeHead.bind(upgrade);
      upgrade.writeHead = () => {
        writeHead();
        upgrade.req = null;
      };
    }
    next();
  });
  const broadcaster = createBroadcaster(io, config, feed, metrics);
  const heartbeats = startHeartbeats(
    config.LIVEVIEW_HEARTBEAT_INTERVAL_MS / HEARTBEAT_CHECKS_PER_INTERVAL,
    broadcaster.heartbeat,
  );
  return {
    ...broadcaster,
    http,
    io,
    metrics,
    close: () => {
      heartbeats.stop();
      return new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}
