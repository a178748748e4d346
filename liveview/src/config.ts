import { hostname } from 'node:os';
import {
  brokerPasswordShape,
  companiesShape,
  databaseShape,
  envInt,
  envUrlList,
  logShape,
  parseEnv,
  setting,
  withSecrets,
} from '@stockmarket/common';
import { z } from 'zod';
import { dnsServicesSchema, staticTargetsSchema } from './system/targets.js';

export const liveviewConfigShape = {
  ...databaseShape,
  PORT: setting(
    envInt(3000, 0, 65_535),
    'Page, JSON API, socket.io, `/healthz`, `/readyz` and `/metrics`, all on one port',
  ),
  HOST: setting(z.string().default('0.0.0.0'), 'Listen address'),
  ...companiesShape,
  ...brokerPasswordShape,
  LIVEVIEW_RABBITMQ_URLS: setting(
    envUrlList(['amqp:', 'amqps:']),
    "Broker node(s) to hear the consumer's write notices from (user `liveview`, read-only), comma-separated, tried in turn: the replica reads at once after each write; unset: it polls only",
  ),
  LIVEVIEW_POLL_INTERVAL_MS: setting(
    envInt(250, 20, 10_000),
    'How often the replica reads MongoDB for changes (the fallback when write notices are on)',
  ),
  LIVEVIEW_REPLICA_NAME: setting(
    z.string().min(1).max(64).default(hostname()),
    'Shown on the page and in `x-served-by`, so load balancing is visible',
    'host name',
  ),
  LIVEVIEW_CANDLE_HISTORY: setting(
    envInt(600, 10, 10_000),
    'Candles per company and interval kept in memory for the chart and the API',
  ),
  LIVEVIEW_SNAPSHOT_CANDLES: setting(
    envInt(60, 0, 10_000),
    'Candles per company and interval in the snapshot a new client gets',
  ),
  LIVEVIEW_STALE_AFTER_MS: setting(
    envInt(3_000, 100, 600_000),
    'The data counts as stale when the last successful read is older than this',
  ),
  LIVEVIEW_HEARTBEAT_INTERVAL_MS: setting(
    envInt(1_000, 100, 60_000),
    "Every replica sends each client a heartbeat this often, changes or not (NGINX's read timeout on `/socket.io/` is a few of these)",
  ),
  LIVEVIEW_TRADE_STALE_AFTER_MS: setting(
    envInt(2_200, 200, 600_000),
    'The page calls the feed stalled when the newest trade is older than this (amber from 70 %)',
  ),
  LIVEVIEW_MAX_CLIENTS: setting(
    envInt(20_000, 1, 1_000_000),
    'socket.io clients one replica accepts; more are refused (NGINX also caps per address)',
  ),
  LIVEVIEW_SYSTEM_INTERVAL_MS: setting(
    envInt(1_000, 250, 60_000),
    'System view: how often this replica gathers the picture of the whole system',
  ),
  LIVEVIEW_SYSTEM_TARGETS: setting(
    staticTargetsSchema,
    'System view: `name=url,...` of `/metrics` pages to scrape (local stack); each name contains `publisher`, `consumer` or `liveview`',
  ),
  LIVEVIEW_SYSTEM_DNS: setting(
    dnsServicesSchema,
    'System view: `host:port,...` of services found by DNS, each name resolving to every replica (e.g. `publisher:8080,consumer:8081,liveview:3000`)',
  ),
  LIVEVIEW_SYSTEM_RABBITMQ_METRICS_URLS: setting(
    envUrlList(['http:', 'https:']),
    "System view: rabbitmq_prometheus' page of every broker node, comma-separated, e.g. `http://rabbitmq1:15692/metrics/per-object` (unset: the broker is not shown)",
  ),
  LIVEVIEW_RECONCILE_INTERVAL_MS: setting(
    envInt(5_000, 250, 600_000),
    'Reconciliation (docs/reconciliation.md): how often this replica compares the ledger with the booked figures',
  ),
  LIVEVIEW_RECONCILE_GRACE_MS: setting(
    envInt(60_000, 1_000, 3_600_000),
    "Reconciliation: a minute may be in flight this long after its end (or its ledger's closing): pending; then a difference is a break",
  ),
  LIVEVIEW_RECONCILE_WINDOW_MINUTES: setting(
    envInt(15, 2, 1_440),
    'Reconciliation: the newest minutes each round compares (older ones keep their last status)',
  ),
  LIVEVIEW_SHUTDOWN_TIMEOUT_MS: setting(
    envInt(10_000, 1000, 600_000),
    'On SIGTERM: time to close sockets and the database client',
  ),
  ...logShape,
};

export function loadLiveviewConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseEnv(liveviewConfigShape, withSecrets(env, liveviewConfigShape));
}

export type LiveviewConfig = ReturnType<typeof loadLiveviewConfig>;
