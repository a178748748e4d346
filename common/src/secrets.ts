import { readFileSync } from 'node:fs';
import { ConnectionString } from 'mongodb-connection-string-url';
import type { z } from 'zod';
import { ConfigError, hidePasswords } from './config.js';

/**
 * The passwords a service is given apart from its connection strings, and the connection
 * strings each one goes into. docker compose and the chart give them as files (`<NAME>_FILE`,
 * the official images' convention), so that no password is in a container's environment, the
 * process list or `docker inspect`; the URLs then name the user only
 * (`amqp://publisher@rabbitmq1:5672/stockmarket`).
 */
const PASSWORD_TARGETS = {
  RABBITMQ_PASSWORD: ['RABBITMQ_URL', 'RABBITMQ_URLS', 'LIVEVIEW_RABBITMQ_URLS'],
  MONGODB_PASSWORD: ['MONGODB_URL'],
} as const;

type PasswordVariable = keyof typeof PASSWORD_TARGETS;

/** Every variable that may be read from a file: the passwords and the connection strings. */
export const FILE_VARIABLES: readonly string[] = Object.freeze([
  ...Object.keys(PASSWORD_TARGETS),
  ...new Set(Object.values(PASSWORD_TARGETS).flat()),
]);

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/**
 * A copy of `env` where each `X_FILE` of `names` is replaced by `X`, the file's content without
 * its trailing newline. Both set is an error naming both; an unreadable or empty file is an
 * error naming the variable and the path, never the content.
 */
export function resolveFileVariables(env: NodeJS.ProcessEnv, names: readonly string[]): NodeJS.ProcessEnv {
  const resolved: NodeJS.ProcessEnv = { ...env };
  const problems: string[] = [];
  for (const name of names) {
    const path = env[`${name}_FILE`];
    delete resolved[`${name}_FILE`];
    if (!isSet(path)) continue;
    const shown = `${name}_FILE (${JSON.stringify(path)})`;
    if (isSet(env[name])) {
      problems.push(`${shown}: ${name} and ${name}_FILE are both set: set one of them`);
      continue;
    }
    try {
      const content = readFileSync(path.trim(), 'utf8').replace(/\r?\n$/, '');
      if (content === '') problems.push(`${shown}: the file is empty`);
      else resolved[name] = content;
    } catch (error) {
      problems.push(`${shown}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

/**
 * What every service's config applies to its environment before its schema (`shape`, for the
 * connection strings' defaults): `*_FILE` variables read (see `resolveFileVariables`), then
 * RABBITMQ_PASSWORD and MONGODB_PASSWORD put into the connection strings that name a user without a password. A connection string that names a user
 * and still has no password is an error naming the variables to set (no service has a default
 * password); one that carries a password of its own while the variable is set is an error too.
 */
export function withSecrets(
  env: NodeJS.ProcessEnv,
  shape: Readonly<Record<string, z.ZodType>> = {},
): NodeJS.ProcessEnv {
  const resolved = resolveFileVariables(env, FILE_VARIABLES);
  // A connection string the service defaults (the user, never a password) takes the password too.
  for (const target of Object.values(PASSWORD_TARGETS).flat()) {
    const fallback = isSet(resolved[target]) ? undefined : shape[target]?.safeParse(undefined);
    if (fallback?.success && typeof fallback.data === 'string') resolved[target] = fallback.data;
  }
  const problems: string[] = [];
  for (const [passwordName, targets] of Object.entries(PASSWORD_TARGETS) as [PasswordVariable, readonly string[]][]) {
    const password = resolved[passwordName];
    const given = isSet(password);
    for (const target of targets) {
      const value = resolved[target];
      if (!isSet(value)) continue;
      // `*_URLS` are comma-separated lists; a MongoDB URL's commas separate the hosts of one URL.
      const urls = target.endsWith('_URLS') ? value.split(',').map((url) => url.trim()) : [value.trim()];
      const out: string[] = [];
      // As parseEnv names a variable: its name and its value, passwords hidden.
      const shown = `${target} (${JSON.stringify(hidePasswords(value.trim()))})`;
      for (const raw of urls) {
        const credentials = urlCredentials(raw);
        // Not a URL: left as it is, for the schema to name the problem.
        if (credentials === undefined) {
          out.push(raw);
          continue;
        }
        if (credentials.password) {
          if (given) problems.push(`${shown}: carries a password and ${passwordName} is set: remove one of them`);
          out.push(raw);
        } else if (credentials.user) {
          if (given) out.push(withUrlPassword(raw, password));
          else {
            problems.push(
              `${shown}: user "${credentials.user}" has no password: set ${passwordName}_FILE (the path of a file holding it)`,
            );
            out.push(raw);
          }
        } else {
          if (given) problems.push(`${shown}: names no user, but ${passwordName} is set: add the user to the URL`);
          out.push(raw);
        }
      }
      resolved[target] = out.join(',');
    }
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return resolved;
}

/** The decoded user and password of a URL or MongoDB connection string (undefined: not parseable). */
export function urlCredentials(raw: string): { user: string; password: string } | undefined {
  try {
    const url = raw.startsWith('mongodb') ? new ConnectionString(raw) : new URL(raw);
    return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  } catch {
    return undefined;
  }
}

/** The URL with `password` (percent-encoded) as its password; '' removes it. */
export function withUrlPassword(raw: string, password: string): string {
  const url = raw.startsWith('mongodb') ? new ConnectionString(raw) : new URL(raw);
  url.password = encodeURIComponent(password);
  return url.toString();
}
