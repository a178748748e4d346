import {
  createLogger,
  createMetricsRegistry,
  exitOnStartupError,
  installShutdown,
  longestServerCheckMs,
  MongoMonitorWatchdog,
} from '@stockmarket/common';
import { MongoClient } from 'mongodb';
import { loadLiveviewConfig } from './config.js';
import { Feed } from './feed.js';
import { Reconciler } from './reconciliation/reconciler.js';
import { createLiveviewServer } from './server.js';
import { broadcastSystem } from './system/broadcast-system.js';
import { startSystemGatherer } from './system/gatherer.js';
import { tradeSource } from './trade-tape.js';
import { followWriteNotices } from './write-notices.js';

const bootLogger = createLogger('liveview', 'info');

async function main(): Promise<void> {
  const config = loadLiveviewConfig();
  const logger = createLogger('liveview', config.LOG_LEVEL).child({ replica: config.LIVEVIEW_REPLICA_NAME });
  // First of all: a signal during start-up stops what has started so far, at once.
  const shutdown = installShutdown(logger, config.LIVEVIEW_SHUTDOWN_TIMEOUT_MS);
  const registry = createMetricsRegistry('liveview');
  const mongoOptions = {
    serverSelectionTimeoutMS: 2_000,
    connectTimeoutMS: 10_000,
    // A server that hangs instead of failing must not stall the feed for ever.
    socketTimeoutMS: 10_000,
    // Reads may come from any member: the page tolerates a little lag, not an outage.
    readPreference: 'primaryPreferred',
    appName: 'stockmarket-liveview',
  } as const;
  const client = new MongoClient(config.MONGODB_URL, mongoOptions);
  // The driver can leave a server check hanging after a server restart: then start it afresh.
  const watchdog = new MongoMonitorWatchdog(client, logger, longestServerCheckMs(mongoOptions));
  const db = client.db(config.MONGODB_DB);

  const feed = new Feed(
    db,
    config.MONGODB_COLLECTION,
    config.COMPANIES,
    {
      pollIntervalMs: config.LIVEVIEW_POLL_INTERVAL_MS,
      historyLimit: config.LIVEVIEW_CANDLE_HISTORY,
      staleAfterMs: config.LIVEVIEW_STALE_AFTER_MS,
    },
    logger,
  );
  // Read-only, in every replica: each compares the ledger with the booked figures itself (docs/reconciliation.md).
  const reconciler = new Reconciler(
    db,
    {
      companies: config.COMPANIES,
      intervalMs: config.LIVEVIEW_RECONCILE_INTERVAL_MS,
      graceMs: config.LIVEVIEW_RECONCILE_GRACE_MS,
      windowMinutes: config.LIVEVIEW_RECONCILE_WINDOW_MINUTES,
    },
    registry,
    logger,
  );
  const server = createLiveviewServer(config, feed, registry, logger, tradeSource(db), reconciler);
  feed.on('change', server.publish);
  feed.on('freshness', server.publishFreshness);
  await feed.start();
  if (config.LIVEVIEW_RABBITMQ_URLS) {
    const notices = followWriteNotices(config.LIVEVIEW_RABBITMQ_URLS, logger, () => feed.nudge());
    shutdown.onStop(() => notices.close());
  }
  // The System view: every replica gathers the whole picture itself, so none depends on another.
  const system = startSystemGatherer(
    {
      replicaName: config.LIVEVIEW_REPLICA_NAME,
      intervalMs: config.LIVEVIEW_SYSTEM_INTERVAL_MS,
      staticTargets: config.LIVEVIEW_SYSTEM_TARGETS,
      dnsServices: config.LIVEVIEW_SYSTEM_DNS,
      brokerMetricsUrls: config.LIVEVIEW_SYSTEM_RABBITMQ_METRICS_URLS ?? [],
      db,
      reconciliation: reconciler,
    },
    registry,
    logger,
    broadcastSystem(server.io),
  );
  reconciler.start();
  const { http } = server;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.PORT, config.HOST, () => resolve());
  });
  const address = http.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : config.PORT }, 'liveview listening');

  shutdown.onStop(async () => {
    // Closes every socket, the engine, the HTTP server and the heartbeats.
    system.stop();
    reconciler.stop();
    await server.close();
    await feed.stop();
    watchdog.stop();
    await client.close();
  });
}

main().catch((error: unknown) => exitOnStartupError(bootLogger, error));
