import {
  AmqpSession,
  backoffDelay,
  createLogger,
  createMetricsRegistry,
  exitOnStartupError,
  installShutdown,
  redactUrl,
  startOpsServer,
} from '@stockmarket/common';
import { MongoClient } from 'mongodb';
import { loadConsumerConfig } from './config.js';
import { Intake } from './intake.js';
import { createConsumerMetrics } from './metrics.js';
import { TradeStore } from './store.js';

const bootLogger = createLogger('consumer', 'info');

async function main(): Promise<void> {
  const config = loadConsumerConfig();
  const logger = createLogger('consumer', config.LOG_LEVEL);
  const registry = createMetricsRegistry('consumer');
  const metrics = createConsumerMetrics(registry);

  const client = new MongoClient(config.MONGODB_URL, {
    serverSelectionTimeoutMS: 5_000,
    appName: 'stockmarket-consumer',
  });
  const store = new TradeStore(client.db(config.MONGODB_DB), {
    stocksCollection: config.MONGODB_COLLECTION,
    writeConcern: config.MONGODB_WRITE_CONCERN,
    dedupRetentionMs: config.CONSUMER_DEDUP_RETENTION_MINUTES * 60_000,
    candle1sRetentionMs: config.CONSUMER_CANDLE_1S_RETENTION_MINUTES * 60_000,
  });
  let intake: Intake | undefined;
  let session: AmqpSession | undefined;
  // Up before the database: /healthz answers (alive) and /readyz says 503 until intake runs.
  const ops = await startOpsServer(
    config.CONSUMER_OPS_PORT,
    config.OPS_HOST,
    { ready: () => session?.connection !== undefined && intake?.ready === true },
    registry,
  );
  // The database may still be starting: keep trying, with the same backoff as the broker.
  for (let attempt = 0; ; attempt++) {
    try {
      for (const warning of await store.ensureIndexes()) logger.warn(warning);
      break;
    } catch (error) {
      const wait = backoffDelay(attempt);
      logger.warn(
        { err: (error as Error).message, url: redactUrl(config.MONGODB_URL), retryInMs: wait },
        'database unavailable',
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  const started = new Intake(config, store, logger, metrics);
  intake = started;
  session = new AmqpSession(config.RABBITMQ_URL, logger, (connection) => started.attach(connection));
  session.start();
  const running = session;
  logger.info({ queues: config.QUEUES, batchSize: config.BATCH_SIZE, opsPort: ops.port }, 'consumer started');

  const sweeper = setInterval(() => {
    store.sweep().then(
      (removed) => logger.debug(removed, 'retention sweep'),
      (error: Error) => logger.warn({ err: error.message }, 'retention sweep failed'),
    );
  }, 60_000);

  installShutdown(
    logger,
    async () => {
      clearInterval(sweeper);
      await started.stop();
      await running.close();
      await client.close();
      ops.close();
    },
    config.CONSUMER_SHUTDOWN_TIMEOUT_MS,
  );
}

main().catch((error: unknown) => exitOnStartupError(bootLogger, error));
