import { delay, LEDGER_QUEUE, type Logger, parseLedgerMessage } from '@stockmarket/common';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { ConsumerMetrics } from './metrics.js';
import type { TradeStore } from './store.js';

/** What the intake asks of the queue consumer whose channel it reads. */
export interface LedgerIntakeHooks {
  /** The channel is still the consumer's current one: it may ack. */
  isCurrent(): boolean;
  /** A malformed ledger message: park it with its reason (then it is acked). */
  deadLetter(message: ConsumeMessage, reason: string): void;
  /** The broker cancelled the consumer. */
  cancelled(): void;
}

/**
 * The ledger queue, read by every replica without a lease: a ledger write sets its publisher
 * run's part of the minute (no read-modify-write), so any replica may write it, any number of
 * times, and the ledger keeps flowing while a company's lease moves.
 */
export class LedgerIntake {
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly store: Pick<TradeStore, 'writeLedger'>,
    private readonly metrics: ConsumerMetrics,
    private readonly logger: Logger,
  ) {}

  /** Starts reading the ledger queue on `channel`; resolves with the consumer tag. */
  async consume(channel: Channel, hooks: LedgerIntakeHooks): Promise<string> {
    const { consumerTag } = await channel.consume(LEDGER_QUEUE, (message) => {
      if (!message) {
        hooks.cancelled();
        return;
      }
      const write = this.write(channel, message, hooks).finally(() => this.writes.delete(write));
      this.writes.add(write);
    });
    return consumerTag;
  }

  /** Every write begun has ended (acked, or given up with its channel). */
  async settled(): Promise<void> {
    await Promise.all(this.writes);
  }

  /** Writes one ledger message until the database takes it, then acks it (or dead-letters a bad one). */
  private async write(channel: Channel, message: ConsumeMessage, hooks: LedgerIntakeHooks): Promise<void> {
    const parsed = parseLedgerMessage(message.content);
    if (!parsed.ok) {
      hooks.deadLetter(message, parsed.reason);
      return;
    }
    for (let attempt = 0; hooks.isCurrent(); attempt++) {
      try {
        await this.store.writeLedger(parsed.ledger);
        break;
      } catch (error) {
        if (attempt === 0) this.logger.warn({ err: (error as Error).message }, 'ledger write failed; retrying');
        await delay(Math.min(5_000, 250 * 2 ** attempt));
      }
    }
    if (!hooks.isCurrent()) return;
    channel.ack(message);
    this.metrics.ledgerWritten.inc();
  }
}
