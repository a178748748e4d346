import {
  ConfigError,
  companyListSchema,
  DEFAULT_COMPANIES,
  envBool,
  envInt,
  envUrl,
  envUrlList,
  logLevelSchema,
  parseEnv,
  withSecrets,
} from '@stockmarket/common';
import { z } from 'zod';

/** Per-symbol overrides: `TSLA:250:0.0008:0.00001,AAPL:190` = start price, volatility, drift. */
const symbolParamsSchema = z
  .string()
  .transform((text, context) => {
    const table: Record<string, { start?: number; volatility?: number; drift?: number }> = {};
    for (const item of text
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const [symbol, start, volatility, drift] = item.split(':');
      const numbers = [start, volatility, drift].map((value) =>
        value === undefined || value === '' ? undefined : Number(value),
      );
      if (!symbol || numbers.some((value) => value !== undefined && !Number.isFinite(value))) {
        context.addIssue({ code: 'custom', message: `bad entry "${item}" (want SYMBOL:start:volatility:drift)` });
        return z.NEVER;
      }
      const [startPrice, vol, mu] = numbers;
      if ((startPrice !== undefined && startPrice <= 0) || (vol !== undefined && vol < 0)) {
        context.addIssue({ code: 'custom', message: `bad entry "${item}": start must be > 0, volatility >= 0` });
        return z.NEVER;
      }
      table[symbol] = { start: startPrice, volatility: vol, drift: mu };
    }
    return table;
  })
  .default({});

const publisherConfigShape = {
  RABBITMQ_URL: envUrl(['amqp:', 'amqps:'], 'amqp://publisher@localhost:5672/stockmarket'),
  /** The nodes of a broker cluster, comma-separated; when set it replaces RABBITMQ_URL. */
  RABBITMQ_URLS: envUrlList(['amqp:', 'amqps:']),
  COMPANIES: companyListSchema.default([...DEFAULT_COMPANIES]),
  /** Milliseconds between two trades of one company, as in the original publisher. */
  TICKER_INTERVAL: envInt(100, 0, 3_600_000),
  /** Total trades per second over all companies; overrides TICKER_INTERVAL when set. */
  PUBLISHER_RATE: z.coerce.number().positive().max(1_000_000).optional(),
  PUBLISHER_SYMBOLS: symbolParamsSchema,
  /** Default standard deviation of one trade's log return (0.0005 = 0.05 %). */
  PUBLISHER_VOLATILITY: z.coerce.number().min(0).max(0.5).default(0.0005),
  PUBLISHER_DRIFT: z.coerce.number().min(-0.1).max(0.1).default(0),
  /** Seed of the random generator: the same seed gives the same trade stream. */
  SEED: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  /** Stop after this many trades (0 = run until stopped). */
  PUBLISHER_MAX_TRADES: envInt(0, 0, Number.MAX_SAFE_INTEGER),
  /** Bounded window of unconfirmed messages on the confirm channel. */
  PUBLISHER_MAX_IN_FLIGHT: envInt(2_000, 1, 1_000_000),
  /**
   * Messages in flight and not one confirm for this long: the node is given up and the publisher
   * moves to the next one, republishing what was unconfirmed (the consumer drops duplicates).
   */
  PUBLISHER_CONFIRM_TIMEOUT_MS: envInt(5_000, 1_000, 600_000),
  PUBLISHER_QUEUE_TYPE: z.enum(['classic', 'quorum']).default('classic'),
  /**
   * false: declare the company queues non-durable, as the course's original programs do, so they
   * can share the broker (queued trades are lost when the broker restarts). Must match the
   * broker's definitions (rabbitmq/render-definitions.mjs reads the same variable).
   */
  COMPANY_QUEUES_DURABLE: envBool(true),
  /**
   * Send a ledger message per company and closed minute to the stockmarket.ledger queue, for the
   * reconciliation (docs/reconciliation.md). false: a publisher without a ledger, as the original.
   */
  PUBLISHER_LEDGER: envBool(true),
  /** On SIGTERM: how long to wait for outstanding confirms. */
  PUBLISHER_DRAIN_TIMEOUT_MS: envInt(10_000, 0, 600_000),
  PUBLISHER_OPS_PORT: envInt(8080, 0, 65_535),
  OPS_HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: logLevelSchema,
};

export type PublisherConfig = ReturnType<typeof loadPublisherConfig>;

export function loadPublisherConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = parseEnv(publisherConfigShape, withSecrets(env, publisherConfigShape));
  if (!config.COMPANY_QUEUES_DURABLE && config.PUBLISHER_QUEUE_TYPE === 'quorum') {
    // RabbitMQ has no non-durable quorum queue.
    throw new ConfigError([
      'COMPANY_QUEUES_DURABLE ("false"): quorum queues are always durable (PUBLISHER_QUEUE_TYPE)',
    ]);
  }
  return config;
}

/** Trades per second over all companies. */
export function totalRate(config: PublisherConfig): number {
  if (config.PUBLISHER_RATE !== undefined) return config.PUBLISHER_RATE;
  if (config.TICKER_INTERVAL === 0) return 1_000_000;
  return (config.COMPANIES.length * 1000) / config.TICKER_INTERVAL;
}
