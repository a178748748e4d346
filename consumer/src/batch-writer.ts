import { backoffDelay, delay, type Logger } from '@stockmarket/common';
import type { TradeRecord } from './aggregate.js';
import type { DatabaseHealth } from './database-health.js';
import type { ConsumerMetrics } from './metrics.js';
import { Semaphore } from './semaphore.js';
import type { TradeStore, WriteResult } from './store.js';

/**
 * Writes batches, at most `concurrency` at once, retrying a failed write with backoff until the
 * database takes it or the batch is no longer wanted (its channel died: the broker redelivers its
 * messages to the next owner, who writes them).
 */
export class BatchWriter {
  private readonly slots: Semaphore;

  constructor(
    private readonly store: TradeStore,
    concurrency: number,
    private readonly health: DatabaseHealth,
    private readonly metrics: ConsumerMetrics,
    private readonly logger: Logger,
  ) {
    this.slots = new Semaphore(concurrency);
  }

  /**
   * The result once written; undefined when given up because `wanted()` turned false (checked
   * before every attempt, and again once a slot is free, right before the write starts).
   */
  async write(
    company: string,
    records: readonly TradeRecord[],
    wanted: () => boolean,
  ): Promise<WriteResult | undefined> {
    let recovered: (() => void) | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        if (!wanted()) return undefined;
        try {
          const result = await this.slots.run(async () => {
            // The wait for a slot can be long: a batch no longer wanted must not start after it.
            if (!wanted()) return undefined;
            const started = performance.now(); // the write itself, not the wait for a slot
            const written = await this.store.writeBatch(company, records);
            this.metrics.writeSeconds.observe((performance.now() - started) / 1000);
            return written;
          });
          if (!result) return undefined;
          this.metrics.batches.inc({ company });
          this.metrics.duplicates.inc(result.duplicates);
          if (recovered) this.logger.info({ company, attempts: attempt + 1 }, 'batch written after retrying');
          return result;
        } catch (error) {
          recovered ??= this.health.writeFailing();
          const wait = backoffDelay(attempt);
          this.logger.warn({ company, err: (error as Error).message, retryInMs: wait }, 'batch write failed; retrying');
          await delay(wait);
        }
      }
    } finally {
      recovered?.();
    }
  }
}
