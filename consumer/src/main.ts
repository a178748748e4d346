import {
  AmqpSession,
  backoffDelay,
  brokerUrls,
  createLogger,
  createMetricsRegistry,
  delay,
  exitOnStartupError,
  installShutdown,
  longestServerCheckMs,
  MongoMonitorWatchdog,
  redactUrl,
  startOpsServer,
} from '@stockmarket/common';
import { MongoClient } from 'mongodb';
import { loadConsumerConfig } from './config.js';
import { createConsumerMetrics } from './metrics.js';
import { QueueConsumer } from './queue-consumer.js';
import { TradeStore } from './store.js';
import { WriteNotices } from './write-notices.js';

const bootLogger = createLogger('consumer', 'info');

async function main(): Promise<void> {
  const config = loadConsumerConfig();
  const logger = createLogger('consumer', config.LOG_LEVEL);
  // First of all: a signal during start-up (the database may be unreachable for long) stops at once.
  const shutdown = installShutdown(logger, config.CONSUMER_SHUTDOWN_TIMEOUT_MS);
  const registry = createMetricsRegistry('consumer');
  const metrics = createConsumerMetrics(registry);

  const mongoOptions = { serverSelectionTimeoutMS: 5_000, connectTimeoutMS: 10_000, appName: 'stockmarket-consumer' };
  const client = new MongoClient(config.MONGODB_URL, mongoOptions);
  // The driver can leave a server check hanging after a server restart: then start it afresh.
  const watchdog = new MongoMonitorWatchdog(client, logger, longestServerCheckMs(mongoOptions));
  shutdown.onStop(async () => {
    watchdog.stop();
    await client.close();
  });
  const store = new TradeStore(client.db(config.MONGODB_DB), {
    stocksCollection: config.MONGODB_COLLECTION,
    writeConcern: config.MONGODB_WRITE_CONCERN,
    dedupRetentionMs: config.CONSUMER_DEDUP_RETENTION_MINUTES * 60_000,
    candle1sRetentionMs: config.CONSUMER_CANDLE_1S_RETENTION_MINUTES * 60_000,
  });
  const notices = new WriteNotices(logger);
  const queues = new QueueConsumer(config, store, logger, metrics, (company) => notices.announce({ company }));
  const session = new AmqpSession(brokerUrls(config), logger, (connection) => queues.attach(connection));
  // Notices publish, so they get a connection of their own: under a memory alarm the broker stops
  // reading from publishing connections, and the leases' renewals must still be answered.
  const noticeSession = new AmqpSession(brokerUrls(config), logger, (connection) => notices.attach(connection));
  // Up before the database: /healthz answers (alive) and /readyz says 503 until intake runs.
  const ops = await startOpsServer(
    config.CONSUMER_OPS_PORT,
    config.OPS_HOST,
    { ready: () => session.connection !== undefined && queues.ready },
    registry,
  );
  shutdown.onStop(() => {
    ops.close();
  });
  // Stop intake, flush and ack on the channel, then close the connection.
  shutdown.onStop(async () => {
    await queues.stop();
    await session.close();
    await noticeSession.close();
  });

  // The database may still be starting: keep trying, with the same backoff as the broker.
  for (let attempt = 0; !shutdown.signal.aborted; attempt++) {
    try {
      for (const warning of await store.ensureIndexes()) logger.warn(warning);
      break;
    } catch (error) {
      const wait = backoffDelay(attempt);
      logger.warn(
        { err: (error as Error).message, url: redactUrl(config.MONGODB_URL), retryInMs: wait },
        'database unavailable',
      );
      await delay(wait, shutdown.signal);
    }
  }
  if (shutdown.signal.aborted) return;
  noticeSession.start();
  session.start();
  logger.info({ queues: config.QUEUES, batchSize: config.BATCH_SIZE, opsPort: ops.port }, 'consumer started');

  const sweeper = setInterval(() => {
    store.sweep().then(
      (removed) => logger.debug(removed, 'retention sweep'),
      (error: Error) => logger.warn({ err: error.message }, 'retention sweep failed'),
    );
  }, 60_000);
  shutdown.onStop(() => clearInterval(sweeper));
}

main().catch((error: unknown) => exitOnStartupError(bootLogger, error));
