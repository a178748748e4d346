import { z } from 'zod';
import { companyListSchema, DEFAULT_COMPANIES } from './companies.js';
import { envBool, envInt, envMongoUrl, envUrl, envUrlList, logLevelSchema } from './config.js';
import { DEFAULT_DATABASE, DEFAULT_STOCKS_COLLECTION } from './storage.js';

/**
 * What the docs say about one setting. README's tables, `.env.example` and deploy/settings.json
 * are generated from the schemas and this (`npm run settings`), so a default or a description
 * changes in one place.
 */
export interface SettingDoc {
  readonly description: string;
  /** The default as the docs show it, when the schema's own is not it (unset, computed at start). */
  readonly shownDefault?: string;
}

export const settingDocs = z.registry<SettingDoc>();

/** A setting's schema with its description (and shown default) attached; the schema is returned as is. */
export function setting<Schema extends z.ZodType>(schema: Schema, description: string, shownDefault?: string): Schema {
  settingDocs.add(schema, shownDefault === undefined ? { description } : { description, shownDefault });
  return schema;
}

/**
 * A setting's default as an environment value (`AAPL,MSFT,TSLA`, `1000`, `true`), its shown
 * default, or undefined when it has none (unset).
 */
export function settingDefault(schema: z.core.$ZodType): string | undefined {
  const shown = settingDocs.get(schema)?.shownDefault;
  if (shown !== undefined) return shown;
  if (!(schema instanceof z.ZodDefault)) return undefined;
  const value: unknown = schema.def.defaultValue;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.join(',');
  if (typeof value === 'object' && value !== null)
    return Object.keys(value).length === 0 ? undefined : JSON.stringify(value);
  return String(value);
}

// --- Shared shapes: each defined once, spread into the services' config.ts. ---

/**
 * A password (or its file) that `withSecrets` has already put into the connection strings: known
 * to the schema, so the docs and the checks list it, but never kept in the parsed config, which
 * may be logged. Each use is its own schema (the docs registry is keyed by schema).
 */
const consumedSecretSchema = () =>
  z
    .string()
    .optional()
    .transform((): undefined => undefined);

/** The broker of a service that logs in as `user` (its development password is compose's). */
export const brokerShape = (user: 'publisher' | 'consumer') => ({
  RABBITMQ_URL: setting(
    envUrl(['amqp:', 'amqps:'], `amqp://${user}@localhost:5672/stockmarket`),
    'Broker URL (vhost `stockmarket`)',
  ),
  RABBITMQ_URLS: setting(
    envUrlList(['amqp:', 'amqps:']),
    'The nodes of a broker cluster, comma-separated `amqp://` URLs in the order to try them; when set it replaces `RABBITMQ_URL`',
  ),
  ...brokerPasswordShape,
});

/**
 * The broker password, put into the broker URLs that name a user without one (common/src/secrets.ts
 * resolves `*_FILE` before the schema is parsed; here they are documented and known to the checks).
 */
export const brokerPasswordShape = {
  RABBITMQ_PASSWORD_FILE: setting(
    consumedSecretSchema(),
    'A file holding the broker password (compose: generated, README "Passwords"); put into the broker URLs that name a user without one',
  ),
  RABBITMQ_PASSWORD: setting(
    consumedSecretSchema(),
    'The broker password itself, where a platform injects it (a Kubernetes Secret); not together with `RABBITMQ_PASSWORD_FILE`',
    'unset',
  ),
};

/** The database of the data contract (`stockmarket.stocks`) and where it is. */
export const databaseShape = {
  MONGODB_URL: setting(
    envMongoUrl('mongodb://localhost:27017/?replicaSet=rs0'),
    "MongoDB connection string (a replica set's seed list works)",
  ),
  MONGODB_PASSWORD_FILE: setting(
    consumedSecretSchema(),
    'A file holding the database password (compose: generated); put into `MONGODB_URL` when it names a user without one',
  ),
  MONGODB_PASSWORD: setting(
    consumedSecretSchema(),
    'The database password itself (a Kubernetes Secret); not together with `MONGODB_PASSWORD_FILE`',
    'unset',
  ),
  MONGODB_DB: setting(
    z
      .string()
      .regex(/^[^/\\. "$]{1,63}$/, 'not a valid database name')
      .default(DEFAULT_DATABASE),
    'Database (fixed by the data contract)',
  ),
  MONGODB_COLLECTION: setting(
    z
      .string()
      .regex(/^[^$]{1,120}$/, 'not a valid collection name')
      .default(DEFAULT_STOCKS_COLLECTION),
    'Collection of the per-company `{company, avgPrice, ...}` documents',
  ),
};

export const companiesShape = {
  COMPANIES: setting(
    companyListSchema.default([...DEFAULT_COMPANIES]),
    'Tickers of the system, comma-separated, one queue each (the consumer dead-letters trades of others)',
  ),
};

/** Publisher and consumer declare the company queues; the broker's definitions must agree. */
export const companyQueuesShape = {
  COMPANY_QUEUES_DURABLE: setting(
    envBool(true),
    "`false`: declare the company queues non-durable, as the course's original programs do, so they can share the broker (queued trades are lost when it restarts); must match the broker's definitions (`rabbitmq/render-definitions.mjs` reads it too)",
  ),
};

export const logShape = {
  LOG_LEVEL: setting(logLevelSchema, '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`'),
};

/** The health and metrics server of a service without a web server of its own. */
export const opsShape = <const PortVariable extends string>(portVariable: PortVariable, port: number) =>
  ({
    [portVariable]: setting(envInt(port, 0, 65_535), '`/healthz`, `/readyz`, `/metrics`'),
    OPS_HOST: setting(z.string().default('0.0.0.0'), 'Address of the health and metrics server'),
  }) as { [Key in PortVariable]: ReturnType<typeof envInt> } & { OPS_HOST: z.ZodDefault<z.ZodString> };
