import { createLogger, createMetricsRegistry, exitOnStartupError, installShutdown } from '@stockmarket/common';
import { MongoClient } from 'mongodb';
import { loadLiveviewConfig } from './config.js';
import { Feed } from './feed.js';
import { createLiveviewServer, type LiveviewServer } from './server.js';

const bootLogger = createLogger('liveview', 'info');

async function main(): Promise<void> {
  const config = loadLiveviewConfig();
  const logger = createLogger('liveview', config.LOG_LEVEL).child({ replica: config.LIVEVIEW_REPLICA_NAME });
  // First of all: a signal during start-up stops what has started so far, at once.
  const shutdown = installShutdown(logger, config.LIVEVIEW_SHUTDOWN_TIMEOUT_MS);
  const registry = createMetricsRegistry('liveview');
  const client = new MongoClient(config.MONGODB_URL, {
    serverSelectionTimeoutMS: 2_000,
    // A server that hangs instead of failing must not stall the feed for ever.
    socketTimeoutMS: 10_000,
    // Reads may come from any member: the page tolerates a little lag, not an outage.
    readPreference: 'primaryPreferred',
    appName: 'stockmarket-liveview',
  });

  let server: LiveviewServer | undefined;
  const feed = new Feed(
    client.db(config.MONGODB_DB),
    config.MONGODB_COLLECTION,
    config.COMPANIES,
    {
      pollIntervalMs: config.LIVEVIEW_POLL_INTERVAL_MS,
      historyLimit: config.LIVEVIEW_CANDLE_HISTORY,
      staleAfterMs: config.LIVEVIEW_STALE_AFTER_MS,
    },
    logger,
    {
      onChange: (change) => server?.publish(change),
      onFreshness: (fresh) => server?.publishFreshness(fresh),
    },
  );
  server = createLiveviewServer(config, feed, registry, logger);
  await feed.start();
  const { http } = server;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.PORT, config.HOST, () => resolve());
  });
  const address = http.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : config.PORT }, 'liveview listening');

  shutdown.onStop(async () => {
    const io = server?.io;
    // Closes every socket, the engine and the HTTP server.
    await new Promise<void>((resolve) => (io ? io.close(() => resolve()) : resolve()));
    await feed.stop();
    await client.close();
  });
}

main().catch((error: unknown) => exitOnStartupError(bootLogger, error));
