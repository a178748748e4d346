import type { Logger } from 'pino';
import { ConfigError } from './config.js';

/**
 * Runs `stop` once on the first SIGTERM or SIGINT; a hard timer (kept below the compose
 * stop_grace_period) ends the process if a step hangs. Returns the trigger for other callers.
 */
export function installShutdown(
  logger: Logger,
  stop: () => Promise<void>,
  deadlineMs: number,
): (reason: string) => void {
  let started = false;
  const trigger = (reason: string) => {
    if (started) return;
    started = true;
    logger.info({ reason, deadlineMs }, 'shutting down');
    const hardStop = setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown deadline passed, exiting');
      process.exit(1);
    }, deadlineMs);
    hardStop.unref();
    stop().then(
      () => {
        logger.info('stopped cleanly');
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // `on`: repeated signals are ignored (the hard timer still bounds the stop).
  process.on('SIGTERM', () => trigger('SIGTERM'));
  process.on('SIGINT', () => trigger('SIGINT'));
  return trigger;
}

/** Fails fast with a clear message when configuration or start-up is wrong. */
export function exitOnStartupError(logger: Logger, error: unknown): never {
  if (error instanceof ConfigError) {
    // The operator's mistake, not the program's: the variables and what is wrong, no stack.
    logger.fatal({ problems: error.problems }, error.message);
  } else {
    logger.fatal({ err: error }, error instanceof Error ? error.message : 'start-up failed');
  }
  logger.flush();
  process.exit(2);
}
