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
  if (!URL.canParse(raw)) return '[unparseable url]';
  const url = new URL(raw);
  if (url.password) url.password = '***';
  return url.toString();
}
