import { ConnectionString } from 'mongodb-connection-string-url';
import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * Parses environment variables with a zod shape whose keys are the variable names, so every
 * problem names the variable it is about. Empty strings count as unset.
 */
export function parseEnv<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: NodeJS.ProcessEnv,
): Readonly<z.output<z.ZodObject<Shape>>> {
  const present: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') present[key] = value.trim();
  }
  const result = z.object(shape).safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '?');
        const shown = present[name] === undefined ? 'unset' : JSON.stringify(hidePasswords(present[name]));
        return `${name} (${shown}): ${issue.message}`;
      }),
    );
  }
  return Object.freeze(result.data);
}

/** A value as an error may show it: the passwords of the URLs in it hidden. */
export function hidePasswords(value: string): string {
  return value.replace(/(\/\/[^/:@,]*):[^/@,]*@/g, '$1:***@');
}

/** Integer env variable within bounds, with a default. */
export const envInt = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const envBool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .transform((value) => value === 'true' || value === '1' || value === 'yes')
    .default(fallback);

export const envUrl = (protocols: readonly string[], fallback?: string) => {
  const url = z
    .string()
    .refine(
      (value) => URL.canParse(value) && protocols.includes(new URL(value).protocol),
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );
  return fallback === undefined ? url : url.default(fallback);
};

/**
 * A MongoDB connection string, checked with the parser the driver itself uses: a replica set's
 * seed list (`mongodb://u:p@mongo1:27017,mongo2:27017/...`) is not a WHATWG URL.
 */
export const envMongoUrl = (fallback?: string) => {
  const url = z
    .string()
    .refine(isMongoConnectionString, 'must be a MongoDB connection string (mongodb:// or mongodb+srv://)');
  return fallback === undefined ? url : url.default(fallback);
};

function isMongoConnectionString(value: string): boolean {
  try {
    new ConnectionString(value);
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === 'MongoParseError') return false;
    throw error;
  }
}

export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** A comma-separated env value as its trimmed, non-empty items (`AAPL, MSFT,` -> `['AAPL', 'MSFT']`). */
export const commaSeparated = z.string().transform((text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

/**
 * A comma-separated list of URLs (the nodes of a cluster), each checked like `envUrl`, at least
 * one, no repeats. Optional: a service falls back to its single-URL variable.
 */
export const envUrlList = (protocols: readonly string[]) =>
  commaSeparated
    .pipe(
      z
        .array(
          z
            .string()
            .refine(
              (value) => URL.canParse(value) && protocols.includes(new URL(value).protocol),
              `every entry must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
            ),
        )
        .min(1, 'needs at least one URL'),
    )
    .refine((list) => new Set(list).size === list.length, 'URLs must be unique')
    .optional();

/** The broker endpoints of a service: `RABBITMQ_URLS` when set (a cluster), else `RABBITMQ_URL`. */
export function brokerUrls(config: { readonly RABBITMQ_URL: string; readonly RABBITMQ_URLS?: readonly string[] }) {
  return Object.freeze([...(config.RABBITMQ_URLS ?? [config.RABBITMQ_URL])]);
}
