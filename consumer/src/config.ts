import {
  ConfigError,
  companyListSchema,
  DEFAULT_COMPANIES,
  envBool,
  envInt,
  envMongoUrl,
  envUrl,
  envUrlList,
  logLevelSchema,
  parseEnv,
  withSecrets,
} from '@stockmarket/common';
import { z } from 'zod';

const consumerConfigShape = {
  RABBITMQ_URL: envUrl(['amqp:', 'amqps:'], 'amqp://consumer@localhost:5672/stockmarket'),
  /** The nodes of a broker cluster, comma-separated; when set it replaces RABBITMQ_URL. */
  RABBITMQ_URLS: envUrlList(['amqp:', 'amqps:']),
  MONGODB_URL: envMongoUrl('mongodb://localhost:27017/?replicaSet=rs0'),
  MONGODB_DB: z
    .string()
    .regex(/^[^/\\. "$]{1,63}$/, 'not a valid database name')
    .default('stockmarket'),
  MONGODB_COLLECTION: z
    .string()
    .regex(/^[^$]{1,120}$/, 'not a valid collection name')
    .default('stocks'),
  /** "majority" on a replica set (default), or a number of members. */
  MONGODB_WRITE_CONCERN: z.union([z.literal('majority'), z.coerce.number().int().min(0).max(50)]).default('majority'),
  /** Every ticker the system knows; messages for others are dead-lettered. */
  COMPANIES: companyListSchema.default([...DEFAULT_COMPANIES]),
  /**
   * false: declare the company queues non-durable, as the course's original programs do, so they
   * can share the broker (queued trades are lost when the broker restarts). Must match the
   * broker's definitions (rabbitmq/render-definitions.mjs reads the same variable).
   */
  COMPANY_QUEUES_DURABLE: envBool(true),
  /** The queues this replica reads (default: all of COMPANIES); one queue works too. */
  QUEUES: companyListSchema.optional(),
  /** A batch per company closes at this many trades (as in the original consumer)... */
  BATCH_SIZE: envInt(1000, 1, 100_000),
  /** ...or when its oldest trade has waited this long, whichever comes first. */
  CONSUMER_FLUSH_INTERVAL_MS: envInt(1000, 10, 600_000),
  /** Unacked messages per queue; the time flush means no value can deadlock with BATCH_SIZE. */
  CONSUMER_PREFETCH: envInt(2000, 1, 65_535),
  /**
   * Batch writes in flight at once, over all companies (each company's batches are always written
   * one after the other). FerretDB/SQLite serialises writes and slows down under concurrency: 1
   * there; a real MongoDB replica set gains from more.
   */
  CONSUMER_WRITE_CONCURRENCY: envInt(1, 1, 64),
  /**
   * One active writer per company at a time, held as an exclusive queue on the broker
   * (released when the holder's connection dies). See docs/consumer.md.
   */
  CONSUMER_LEASES: envBool(true),
  /** Soft cap of companies one replica takes at once; above it, it only takes orphaned ones. */
  CONSUMER_MAX_LEASES: envInt(1000, 1, 1000),
  CONSUMER_LEASE_RETRY_MS: envInt(1000, 50, 60_000),
  /**
   * After taking a lease, wait this long before the first write of that company, so that a write
   * the previous holder began just before it lost the lease ends first (docs/consumer.md, fencing).
   */
  CONSUMER_LEASE_TAKEOVER_DELAY_MS: envInt(1000, 0, 60_000),
  /** Raw trades kept for duplicate detection (a redelivery older than this counts again). */
  CONSUMER_DEDUP_RETENTION_MINUTES: envInt(15, 1, 7 * 24 * 60),
  CONSUMER_CANDLE_1S_RETENTION_MINUTES: envInt(360, 1, 30 * 24 * 60),
  CONSUMER_OPS_PORT: envInt(8081, 0, 65_535),
  /** On SIGTERM: time allowed for the last flush and acks. */
  CONSUMER_SHUTDOWN_TIMEOUT_MS: envInt(15_000, 1000, 600_000),
  OPS_HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: logLevelSchema,
};

export function loadConsumerConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = parseEnv(consumerConfigShape, withSecrets(env, consumerConfigShape));
  const queues = config.QUEUES ?? config.COMPANIES;
  const strangers = queues.filter((queue) => !config.COMPANIES.includes(queue));
  if (strangers.length > 0) {
    // Every message of such a queue would be dead-lettered as an unknown company.
    throw new ConfigError([`QUEUES (${JSON.stringify(queues.join(','))}): ${strangers.join(', ')} not in COMPANIES`]);
  }
  return Object.freeze({ ...config, QUEUES: queues });
}

export type ConsumerConfig = ReturnType<typeof loadConsumerConfig>;
