import {
  brokerShape,
  ConfigError,
  companiesShape,
  companyQueuesShape,
  envBool,
  envInt,
  logShape,
  MAX_TRADES_PER_MESSAGE,
  opsShape,
  parseEnv,
  setting,
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

export const publisherConfigShape = {
  ...brokerShape('publisher'),
  ...companiesShape,
  TICKER_INTERVAL: setting(
    envInt(100, 0, 3_600_000),
    "Milliseconds between two trades of one company (the original's name; its default is 1, about 3,000 trades/s for three companies)",
  ),
  PUBLISHER_RATE: setting(
    z.coerce.number().positive().max(1_000_000).optional(),
    'Total trades per second over all companies; overrides `TICKER_INTERVAL` when set',
  ),
  PUBLISHER_SYMBOLS: setting(
    symbolParamsSchema,
    'Per-symbol overrides `SYMBOL:start:volatility:drift,...` (e.g. `TSLA:250:0.001`)',
  ),
  PUBLISHER_VOLATILITY: setting(
    z.coerce.number().min(0).max(0.5).default(0.0005),
    "Standard deviation of one trade's log return (0.0005 = 0.05 %)",
  ),
  PUBLISHER_DRIFT: setting(z.coerce.number().min(-0.1).max(0.1).default(0), "Mean of one trade's log return"),
  SEED: setting(
    z.coerce
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional(),
    'Seed of the random generator: the same seed gives the same trade stream',
    'random',
  ),
  PUBLISHER_MAX_TRADES: setting(
    envInt(0, 0, Number.MAX_SAFE_INTEGER),
    'Stop after this many trades (0: run until stopped)',
  ),
  PUBLISHER_MAX_IN_FLIGHT: setting(
    envInt(2_000, 1, 1_000_000),
    'Window of unconfirmed messages on the confirm channel (a batch message counts as one)',
  ),
  PUBLISHER_TRADES_PER_MESSAGE: setting(
    envInt(1, 1, MAX_TRADES_PER_MESSAGE),
    'Trades of one company per AMQP message; above 1, the batched wire format (`{"trades": [...]}`, content type `application/vnd.stockmarket.trades+json`, docs/consumer.md) that only our consumer reads. 1: one trade per message, the original contract',
  ),
  PUBLISHER_MESSAGE_LINGER_MS: setting(
    envInt(10, 0, 10_000),
    'With `PUBLISHER_TRADES_PER_MESSAGE` above 1: how long a partly filled message may wait for more trades of its company before it is sent',
  ),
  PUBLISHER_CONFIRM_TIMEOUT_MS: setting(
    envInt(5_000, 1_000, 600_000),
    'Messages in flight and not one confirm for this long: the node is given up, the next one tried, the unconfirmed republished (the consumer drops duplicates)',
  ),
  PUBLISHER_QUEUE_TYPE: setting(
    z.enum(['classic', 'quorum']).default('classic'),
    'Type used when the publisher has to declare a queue (`classic` or `quorum`)',
  ),
  ...companyQueuesShape,
  PUBLISHER_LEDGER: setting(
    envBool(true),
    'Send a ledger message per company and closed minute to `stockmarket.ledger` (reconciliation, docs/reconciliation.md); `false`: no ledger, as the original',
  ),
  PUBLISHER_DRAIN_TIMEOUT_MS: setting(
    envInt(10_000, 0, 600_000),
    'On SIGTERM: how long to wait for outstanding confirms',
  ),
  ...opsShape('PUBLISHER_OPS_PORT', 8080),
  ...logShape,
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
