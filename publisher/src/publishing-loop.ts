import { type Trade, tradeMessageBody, tradeSchema } from '@stockmarket/common';
import type { ConfirmedPublisher } from './confirmed-publisher.js';
import type { Pacer } from './pacer.js';
import type { TradeSimulator } from './simulator.js';

export interface PublishingLoopOptions {
  readonly simulator: TradeSimulator;
  readonly publisher: ConfirmedPublisher;
  readonly pacer: Pacer;
  readonly nextId: (now: number) => string;
  /** Stop after this many trades (0 = until stopped). */
  readonly maxTrades: number;
  readonly now?: () => number;
}

/**
 * The paced publishing loop: each turn generates and releases the trades that are due and fit in the confirm window,
 * then sleeps until the next one is due (one timer per turn, never one per message). While the
 * publisher is disconnected or blocked it waits, and the pacer re-bases afterwards so that the
 * outage does not turn into a burst.
 */
export class PublishingLoop {
  private stopping = false;
  private count = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly options: PublishingLoopOptions) {}

  get generated(): number {
    return this.count;
  }

  start(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops generating; resolves once the current turn has ended (a failure is start()'s to report). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.running) await Promise.allSettled([this.running]);
  }

  private async loop(): Promise<void> {
    const { simulator, publisher, pacer, nextId, maxTrades } = this.options;
    const clock = this.options.now ?? Date.now;
    let paused = true;
    while (!this.stopping) {
      if (maxTrades > 0 && this.count >= maxTrades) break;
      const capacity = publisher.capacity();
      if (capacity === 0) {
        paused = paused || !publisher.connected || publisher.isBlocked;
        await publisher.waitForCapacity(100);
        continue;
      }
      const now = clock();
      if (paused) {
        pacer.rebase(now);
        paused = false;
      }
      let count = Math.min(pacer.due(now), capacity);
      if (maxTrades > 0) count = Math.min(count, maxTrades - this.count);
      for (let i = 0; i < count; i++) {
        const trade: Trade = { ...simulator.next(), id: nextId(now), ts: now };
        const message = tradeSchema.parse(trade); // the shared contract, checked before sending
        publisher.send({
          queue: message.company,
          body: tradeMessageBody(message),
          id: trade.id as string,
          ts: now,
          trade: { company: message.company, price: message.price, quantity: message.quantity ?? 1 },
        });
      }
      pacer.take(count);
      this.count += count;
      const wait = pacer.msUntilNext(clock());
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 50)));
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
