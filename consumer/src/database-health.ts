import type { Logger } from '@stockmarket/common';

/**
 * Whether the database takes writes: no batch write is retrying, and the last idle ping answered
 * (writes alone say nothing while no trade comes). Feeds /readyz.
 */
export class DatabaseHealth {
  private failingWrites = 0;
  private reachable = true;
  private pinging = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly ping: () => Promise<void>,
    private readonly logger: Logger,
    intervalMs = 2_000,
  ) {
    this.timer = setInterval(() => this.pingOnce(), intervalMs);
  }

  get healthy(): boolean {
    return this.failingWrites === 0 && this.reachable;
  }

  /** A write started failing; the returned function says it ended (written or abandoned). */
  writeFailing(): () => void {
    this.failingWrites++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.failingWrites--;
    };
  }

  private pingOnce(): void {
    if (this.pinging) return;
    this.pinging = true;
    this.ping()
      .then(
        () => {
          if (!this.reachable) this.logger.info('database reachable again');
          this.reachable = true;
        },
        (error: Error) => {
          if (this.reachable) this.logger.warn({ err: error.message }, 'database ping failed');
          this.reachable = false;
        },
      )
      .finally(() => {
        this.pinging = false;
      });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
