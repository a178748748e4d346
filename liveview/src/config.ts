import { hostname } from 'node:os';
import {
  companyListSchema,
  DEFAULT_COMPANIES,
  envInt,
  envMongoUrl,
  envUrlList,
  logLevelSchema,
  parseEnv,
  withSecrets,
} from '@stockmarket/common';
import { z } from 'zod';
import { dnsServicesSchema, staticTargetsSchema } from './system/targets.js';

export const liveviewConfigShape = {
  MONGODB_URL: envMongoUrl('mongodb://localhost:27017/?replicaSet=rs0'),
  MONGODB_DB: z
    .string()
    .regex(/^[^/\\. "$]{1,63}$/, 'not a valid database name')
    .default('stockmarket'),
  MONGODB_COLLECTION: z
    .string()
    .regex(/^[^$]{1,120}$/, 'not a valid collection name')
    .default('stocks'),
  /** Page, API, socket.io, health and metrics, all on one port. */
  PORT: envInt(3000, 0, 65_535),
  HOST: z.string().default('0.0.0.0'),
  COMPANIES: companyListSchema.default([...DEFAULT_COMPANIES]),
  /**
   * Broker node(s) to hear the consumer's write notices from (user `liveview`, read-only), comma
   * separated: every node of a cluster, tried in turn. The replica then reads at once after each
   * write. Unset: it learns of writes by polling only.
   */
  LIVEVIEW_RABBITMQ_URLS: envUrlList(['amqp:', 'amqps:']),
  /** How often the replica reads MongoDB for changes (the fallback when write notices are on). */
  LIVEVIEW_POLL_INTERVAL_MS: envInt(250, 20, 10_000),
  /** Shown on the page, so load balancing is visible (default: the host name). */
  LIVEVIEW_REPLICA_NAME: z.string().min(1).max(64).default(hostname()),
  /** Candles per company and interval kept in memory for the chart and the API. */
  LIVEVIEW_CANDLE_HISTORY: envInt(600, 10, 10_000),
  /** Candles per company and interval in the snapshot a new client gets. */
  LIVEVIEW_SNAPSHOT_CANDLES: envInt(60, 0, 10_000),
  /** The data counts as stale when the last successful read is older than this. */
  LIVEVIEW_STALE_AFTER_MS: envInt(3_000, 100, 600_000),
  /** Every replica sends each client a heartbeat this often, changes or not (NGINX's read timeout on /socket.io/ is a few of these). */
  LIVEVIEW_HEARTBEAT_INTERVAL_MS: envInt(1_000, 100, 60_000),
  /** The page calls the feed stalled when the newest trade is older than this (amber from 70 %). */
  LIVEVIEW_TRADE_STALE_AFTER_MS: envInt(2_200, 200, 600_000),
  /** socket.io clients one replica accepts; more are refused (NGINX also caps per address). */
  LIVEVIEW_MAX_CLIENTS: envInt(20_000, 1, 1_000_000),
  /** System view: how often this replica gathers the picture of the whole system. */
  LIVEVIEW_SYSTEM_INTERVAL_MS: envInt(1_000, 250, 60_000),
  /** System view: `name=url,...` of /metrics pages to scrape (local stack; names contain the service). */
  LIVEVIEW_SYSTEM_TARGETS: staticTargetsSchema,
  /** System view: `host:port,...` of compose services; each name resolves to every replica. */
  LIVEVIEW_SYSTEM_DNS: dnsServicesSchema,
  /** System view: rabbitmq_prometheus' page, e.g. http://rabbitmq:15692/metrics/per-object (empty: not shown). */
  LIVEVIEW_SYSTEM_RABBITMQ_METRICS_URLS: envUrlList(['http:', 'https:']),
  /** Reconciliation (docs/reconciliation.md): how often this replica compares ledger and booked figures. */
  LIVEVIEW_RECONCILE_INTERVAL_MS: envInt(5_000, 250, 600_000),
  /** A minute's figures may still be in flight this long after its end (pending); then a difference is a break. */
  LIVEVIEW_RECONCILE_GRACE_MS: envInt(60_000, 1_000, 3_600_000),
  /** The newest minutes each round compares (older ones keep their last status). */
  LIVEVIEW_RECONCILE_WINDOW_MINUTES: envInt(15, 2, 1_440),
  LIVEVIEW_SHUTDOWN_TIMEOUT_MS: envInt(10_000, 1000, 600_000),
  LOG_LEVEL: logLevelSchema,
};

export function loadLiveviewConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseEnv(liveviewConfigShape, withSecrets(env, liveviewConfigShape));
}

export type LiveviewConfig = ReturnType<typeof loadLiveviewConfig>;
