import {
  Batcher,
  TRADE_BATCH_CONTENT_TYPE,
  TRADE_CONTENT_TYPE,
  type Trade,
  tradeBatchBody,
  tradeMessageBody,
  tradeSchema,
} from '@stockmarket/common';
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
  /** Trades of one company per message (default 1: the original contract). */
  readonly tradesPerMessage?: number;
  /** How long a partly filled message waits for more trades (default 10 ms). */
  readonly lingerMs?: number;
  readonly now?: () => number;
}

/**
 * The paced publishing loop: each turn generates and releases the trades that are due and fit in the confirm window,
 * then sleeps until the next one is due (one timer per turn, never one per message). While the
 * publisher is disconnected or blocked it waits, and the pacer re-bases afterwards so that the
 * outage does not turn into a burst. Trades go out one per message, or packed per company.
 */
export class PublishingLoop {
  private stopping = false;
  private count = 0;
  private running: Promise<void> | undefined;
  private readonly perMessage: number;
  /**
   * Trades packed per company: a company's message leaves once it holds `perMessage` trades, or once
   * its oldest trade has waited `lingerMs`, so a slow rate still sends within the linger. With one
   * trade per message every trade leaves at once.
   */
  private readonly packer: Batcher<Trade>;

  constructor(private readonly options: PublishingLoopOptions) {
    this.perMessage = options.tradesPerMessage ?? 1;
    this.packer = new Batcher(this.perMessage, options.lingerMs ?? 10);
  }

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
      // The window counts messages; trades already packed will need room too.
      let count = Math.max(0, Math.min(pacer.due(now), capacity * this.perMessage - this.packer.size));
      if (maxTrades > 0) count = Math.min(count, maxTrades - this.count);
      publisher.inOneWrite(() => {
        for (let i = 0; i < count; i++) {
          const trade = tradeSchema.parse({ ...simulator.next(), id: nextId(now), ts: now }); // the shared contract
          const full = this.packer.add(trade.company, trade, now);
          if (full) this.send(trade.company, full);
        }
        for (const [company, trades] of this.packer.takeDue(now)) this.send(company, trades);
      });
      pacer.take(count);
      this.count += count;
      const wait = Math.min(pacer.msUntilNext(clock()), this.packer.msUntilDue(clock()));
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 50)));
      else await new Promise((resolve) => setImmediate(resolve));
    }
    // Every trade generated is sent: confirmed, or listed as unconfirmed in the final report.
    for (const [company, trades] of this.packer.takeAll()) this.send(company, trades);
  }

  /** One message: a single trade in the contract's form, several as a batch message (confirmed as a whole). */
  private send(company: string, trades: readonly Trade[]): void {
    const [first] = trades;
    if (!first) return;
    const single = trades.length === 1;
    this.options.publisher.send({
      queue: company,
      body: single ? tradeMessageBody(first) : tradeBatchBody(trades),
      contentType: single ? TRADE_CONTENT_TYPE : TRADE_BATCH_CONTENT_TYPE,
      id: first.id as string,
      ts: first.ts as number,
      trades: trades.map((trade) => ({
        id: trade.id as string,
        company,
        price: trade.price,
        quantity: trade.quantity ?? 1,
        ts: trade.ts as number,
      })),
    });
  }
}
