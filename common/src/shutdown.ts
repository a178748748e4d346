import type { Logger } from 'pino';
import { ConfigError } from './config.js';

export interface Shutdown {
  /** Aborted when the stop begins: start-up steps that wait or retry give up at once. */
  readonly signal: AbortSignal;
  /**
   * Adds a step to the stop. Steps run one after the other, the last added first (what opened
   * last closes first); a signal during start-up runs just the steps added so far.
   */
  onStop(step: () => Promise<void> | void): void;
}

/**
 * Installed first in every service's main: the first SIGTERM or SIGINT runs the stop steps once,
 * then exits; a hard timer (kept below the compose stop_grace_period) ends the process if a step
 * hangs. Repeated signals are ignored (the hard timer still bounds the stop).
 */
export function installShutdown(logger: Logger, deadlineMs: number): Shutdown {
  const steps: Array<() => Promise<void> | void> = [];
  const controller = new AbortController();
  const stop = async () => {
    for (const step of steps.reverse()) await step();
  };
  const trigger = (reason: string) => {
    if (controller.signal.aborted) return;
    controller.abort();
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
  process.on('SIGTERM', () => trigger('SIGTERM'));
  process.on('SIGINT', () => trigger('SIGINT'));
  return {
    signal: controller.signal,
    onStop: (step) => {
      steps.push(step);
    },
  };
}

/** Waits for `work`, but no longer than `ms`: a peer that stopped answering must not hold the exit. */
export function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
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
