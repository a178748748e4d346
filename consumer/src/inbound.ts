import { LEDGER_QUEUE, type Logger } from '@stockmarket/common';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { TradeRecord } from './aggregate.js';
import { parkMessage, reasonKind } from './dead-letter.js';
import type { ConsumerMetrics } from './metrics.js';

/** Where messages came from (acked there) and where their bad parts go; valid while `isCurrent()`. */
export interface InboundRoute {
  readonly channel: Channel;
  readonly deadLetters: ConfirmChannel;
  readonly isCurrent: () => boolean;
  readonly metrics: ConsumerMetrics;
  readonly logger: Logger;
}

/**
 * A message on its way through the consumer, in parts: the one trade of a contract message, or
 * each trade of a batch message. It is acked once every part is done (stored by a majority write,
 * or parked in the dead-letter queue, confirmed); a part that fails leaves it unacked, and it
 * comes back with the next channel, where duplicates by trade id are dropped.
 */
export class Inbound {
  private open: number;
  private readonly parts: number;

  constructor(
    private readonly route: InboundRoute,
    readonly queue: string,
    readonly message: ConsumeMessage,
    /** A batch message: its trades are parked one by one, never the whole message. */
    readonly batch: boolean,
    parts: number,
  ) {
    this.open = parts;
    this.parts = parts;
  }

  /** One part is done; the last one acks the message (on a channel that is still current). */
  done(): void {
    this.open--;
    if (this.open > 0 || !this.route.isCurrent()) return;
    this.route.channel.ack(this.message);
    this.route.metrics.acked.inc({ queue: this.queue });
    // A parked ledger message is no trade.
    if (this.queue !== LEDGER_QUEUE) this.route.metrics.ackedTrades.inc({ queue: this.queue }, this.parts);
  }

  /**
   * Parks one part with its reason: the whole message, or `trade`, one trade of a batch on its
   * own; once the broker confirmed it, the part is done.
   */
  park(reason: string, trade?: Buffer): void {
    const { isCurrent, deadLetters, logger, metrics } = this.route;
    if (!isCurrent()) return;
    const { queue, message } = this;
    const bytes = (trade ?? message.content).length;
    logger.warn({ queue, reason: reason.slice(0, 300), bytes, fromBatch: this.batch }, 'dead-lettering');
    parkMessage(deadLetters, queue, message, reason, trade).then(
      () => {
        if (!isCurrent()) return;
        metrics.deadLettered.inc({ queue, reason: reasonKind(reason) });
        this.done();
      },
      (error: Error) => {
        // Not parked: left unacked, it comes back after a reconnect and is tried again.
        if (isCurrent()) logger.error({ queue, err: error.message }, 'dead-letter publish failed');
      },
    );
  }

  /** What to park for a stored part: nothing but the message, or out of a batch the trade alone, in the contract's form. */
  parkedBody(record: TradeRecord): Buffer | undefined {
    if (!this.batch) return undefined;
    const { id, price, quantity, side, ts } = record;
    return Buffer.from(JSON.stringify({ company: this.queue, eventType: side, price, id, ts, quantity }));
  }
}
