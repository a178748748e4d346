import type { Logger } from '@stockmarket/common';
import type { PublisherMetrics } from './metrics.js';
import { RateMeter } from './pacer.js';

/**
 * The broker's confirms, counted: for the metrics, the progress log and the final report. With
 * LOG_LEVEL=trace every confirmed id is also logged (in batches), a debugging and testing aid.
 */
export class Confirmations {
  private total = 0;
  private ids: string[] = [];
  private readonly meter = new RateMeter(Date.now());
  private readonly traceIds: boolean;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: PublisherMetrics,
  ) {
    this.traceIds = logger.isLevelEnabled('trace');
  }

  get count(): number {
    return this.total;
  }

  /** Confirmed trades per second over the last seconds. */
  rate(now = Date.now()): number {
    return this.meter.rate(now);
  }

  add(id: string): void {
    this.total++;
    this.metrics.confirmed.inc();
    this.meter.add(1, Date.now());
    if (this.traceIds) this.ids.push(id);
  }

  /** Logs the ids confirmed since the last call (trace level only). */
  flushIds(): void {
    if (this.ids.length === 0) return;
    this.logger.trace({ ids: this.ids }, 'confirmed ids');
    this.ids = [];
  }
}
