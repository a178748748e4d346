import {
  brokerShape,
  ConfigError,
  companiesShape,
  companyListSchema,
  companyQueuesShape,
  databaseShape,
  envBool,
  envInt,
  logShape,
  opsShape,
  parseEnv,
  setting,
  withSecrets,
} from '@stockmarket/common';
import { z } from 'zod';

export const consumerConfigShape = {
  ...brokerShape('consumer'),
  ...databaseShape,
  MONGODB_WRITE_CONCERN: setting(
    z.union([z.literal('majority'), z.coerce.number().int().min(0).max(50)]).default('majority'),
    '`majority` (no acknowledged trade is lost when a member fails) or a number of members',
  ),
  ...companiesShape,
  ...companyQueuesShape,
  QUEUES: setting(
    companyListSchema.optional(),
    'The queues this replica reads, comma-separated (one queue works too); each must be in `COMPANIES`',
    '`COMPANIES`',
  ),
  BATCH_SIZE: setting(
    envInt(1000, 1, 100_000),
    "A company's batch closes at this many trades (as in the original consumer)…",
  ),
  CONSUMER_FLUSH_INTERVAL_MS: setting(envInt(1000, 10, 600_000), '…or when its oldest trade has waited this long'),
  CONSUMER_PREFETCH: setting(
    envInt(2000, 1, 65_535),
    'Unacked messages per queue (the time flush rules out a deadlock with `BATCH_SIZE`)',
  ),
  CONSUMER_WRITE_CONCURRENCY: setting(
    envInt(1, 1, 64),
    "Batch writes in flight at once over all companies (each company's are written one after the other); FerretDB serialises writes: 1 there, a MongoDB replica set gains from more",
  ),
  CONSUMER_LEASES: setting(
    envBool(true),
    'One active writer per company at a time: the single active consumer of a quorum lease queue on the broker (docs/consumer.md); `false`: plain competing consumers',
  ),
  /*
   * 1: replicas spread the companies, one each, and the rest stand by (compose's three, the
   * chart's, the drills'); a lone replica still takes every company, one patience (12 s) apart.
   */
  CONSUMER_MAX_LEASES: setting(
    envInt(1, 1, 1000),
    'Soft cap of companies one replica writes: below it a replica takes any free company, at it only orphans no other replica took (after a patience, docs/consumer.md)',
  ),
  CONSUMER_LEASE_RETRY_MS: setting(envInt(1000, 50, 60_000), 'How often a replica tries to take free leases'),
  CONSUMER_LEASE_TERM_MS: setting(
    envInt(2000, 200, 60_000),
    'A holder starts writes of a company only within this long of the last return of its lease token that came back (renewed four times per term, at most every second); a replica taking a lease waits this long plus the takeover delay before its first write (docs/consumer.md, fencing)',
  ),
  CONSUMER_LEASE_TAKEOVER_DELAY_MS: setting(
    envInt(1000, 0, 60_000),
    "After taking a lease and waiting out the previous holder's term, wait this long more before the first write of that company, so that a write the previous holder began in its term ends first (docs/consumer.md, fencing)",
  ),
  CONSUMER_DEDUP_RETENTION_MINUTES: setting(
    envInt(15, 1, 7 * 24 * 60),
    'Raw trades kept to recognise redeliveries (a redelivery older than this counts again)',
  ),
  CONSUMER_CANDLE_1S_RETENTION_MINUTES: setting(
    envInt(360, 1, 30 * 24 * 60),
    '1 s candles kept (1 m candles are kept)',
  ),
  ...opsShape('CONSUMER_OPS_PORT', 8081),
  CONSUMER_SHUTDOWN_TIMEOUT_MS: setting(
    envInt(15_000, 1000, 600_000),
    'On SIGTERM: time allowed for the last flush and acks',
  ),
  ...logShape,
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
