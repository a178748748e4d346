import { ConnectionString } from 'mongodb-connection-string-url';
import { type Logger, pino } from 'pino';

export type { Logger };

/** JSON logs on stdout, one line per event, with the service name on every line. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Connection strings may carry passwords: never log them whole.
    redact: { paths: ['url', '*.url', 'password', '*.password'], censor: '[redacted]' },
  });
}

/** Hides the password of a URL for logs. */
export function redactUrl(raw: string): string {
  if (raw.startsWith('mongodb')) return redactMongoUrl(raw);
  if (!URL.canParse(raw)) return '[unparseable url]';
  const url = new URL(raw);
  if (url.password) url.password = '***';
  return url.toString();
}

/** A MongoDB seed list (several hosts) is no WHATWG URL: the driver's own parser reads it. */
function redactMongoUrl(raw: string): string {
  try {
    const url = new ConnectionString(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch (error) {
    if (error instanceof Error && error.name === 'MongoParseError') return '[unparseable url]';
    throw error;
  }
}
