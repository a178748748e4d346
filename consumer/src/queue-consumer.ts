import { Batcher, delay, LEDGER_QUEUE, type Logger } from '@stockmarket/common';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import type { TradeRecord } from './aggregate.js';
import { BatchWriter } from './batch-writer.js';
import { type Channels, closeChannels, openChannels, shutdownStepFailed, watchChannels } from './channels.js';
import type { ConsumerConfig } from './config.js';
import { DatabaseHealth } from './database-health.js';
import { BEYOND_DEDUP_WINDOW } from './dead-letter.js';
import { readMessage } from './delivery.js';
import { Inbound, type InboundRoute } from './inbound.js';
import { LeaseGate } from './lease-gate.js';
import { LedgerIntake } from './ledger-intake.js';
import type { ConsumerMetrics } from './metrics.js';
import type { TradeStore } from './store.js';

/** The channels of one broker connection, and the leases and consumers begun on them. */
interface Attachment extends Channels {
  readonly gate: LeaseGate;
  readonly consumerTags: Map<string, string>;
  /** The company queues' messages, and the ledger's: acked and parked while this attachment is current. */
  readonly trades: InboundRoute;
  readonly ledgers: InboundRoute;
}

/** One trade waiting for its batch write, and the message it came in. */
interface Pending {
  readonly record: TradeRecord;
  readonly inbound: Inbound;
  readonly attachment: Attachment;
}

/**
 * Reads the company queues (directly, or those whose write lease this replica holds), dead-letters
 * what fails validation (a whole message, or one trade of a batch message alone), batches the
 * trades per company and acks a message once the database acknowledged the write of each of its
 * trades and any bad one is parked (`Inbound`).
 */
export class QueueConsumer {
  private current: Attachment | undefined;
  private readonly batcher: Batcher<Pending>;
  private readonly flushes = new Map<string, Promise<void>>();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly companies: ReadonlySet<string>;
  private readonly health: DatabaseHealth;
  private readonly writer: BatchWriter;
  private readonly ledger: LedgerIntake;
  private stopping = false;

  constructor(
    private readonly config: ConsumerConfig,
    store: TradeStore,
    private readonly logger: Logger,
    private readonly metrics: ConsumerMetrics,
    /** Told of each committed batch write (the liveview's write notices). */
    private readonly onWritten: (company: string) => void = () => {},
  ) {
    this.batcher = new Batcher(config.BATCH_SIZE, config.CONSUMER_FLUSH_INTERVAL_MS);
    this.companies = new Set(config.COMPANIES);
    this.health = new DatabaseHealth(() => store.ping(), logger);
    this.ledger = new LedgerIntake(store, metrics, logger);
    this.writer = new BatchWriter(store, config.CONSUMER_WRITE_CONCURRENCY, this.health, metrics, logger);
    const tick = Math.max(10, Math.min(100, Math.floor(config.CONSUMER_FLUSH_INTERVAL_MS / 4)));
    this.flushTimer = setInterval(() => {
      for (const [company, items] of this.batcher.takeDue(Date.now())) this.scheduleFlush(company, items);
    }, tick);
  }

  /**
   * The one rule for everything begun on a channel (a delivery, a batch, a lease, a consumer): it
   * may act on that channel (ack, dead-letter, consume) only while the channel is still the
   * current one. A closed channel's unacked deliveries go back to the broker, which redelivers
   * them to the next channel or another replica; whatever was begun on it is dropped.
   */
  private isCurrent(attachment: Attachment | undefined): attachment is Attachment {
    return attachment !== undefined && attachment === this.current;
  }

  get ready(): boolean {
    return this.current !== undefined && this.health.healthy && !this.stopping;
  }

  /** Set-up on every (re)connection: topology, channels, then intake (directly or by lease). */
  async attach(connection: ChannelModel): Promise<void> {
    const channels = await openChannels(connection, this.config, this.logger);
    const { deadLetters } = channels;
    const route = {
      deadLetters,
      isCurrent: () => this.isCurrent(attachment),
      metrics: this.metrics,
      logger: this.logger,
    };
    const attachment: Attachment = {
      ...channels,
      consumerTags: new Map(),
      trades: { ...route, channel: channels.channel },
      ledgers: { ...route, channel: channels.ledger },
      gate: new LeaseGate(
        connection,
        this.config,
        {
          isCurrent: () => this.isCurrent(attachment),
          isStopping: () => this.stopping,
          taken: (company) => this.consume(attachment, company),
          lost: () => this.detach(attachment),
          closed: () => this.detach(attachment),
        },
        this.metrics,
        this.logger,
      ),
    };
    watchChannels(attachment, this.logger, () => this.detach(attachment));
    this.current = attachment;
    await this.consumeLedger(attachment);
    if (!this.config.CONSUMER_LEASES) {
      for (const queue of this.config.QUEUES) await this.consume(attachment, queue);
      return;
    }
    await attachment.gate.start();
  }

  private async consume(attachment: Attachment, queue: string): Promise<void> {
    if (!this.isCurrent(attachment) || this.stopping) return;
    const { consumerTag } = await attachment.channel.consume(queue, (message) => {
      if (message) this.onMessage(attachment, queue, message);
      else this.cancelled(attachment, queue);
    });
    attachment.consumerTags.set(queue, consumerTag);
  }

  /** The ledger queue (every replica, no lease): bad ledger messages are parked like bad trades. */
  private async consumeLedger(attachment: Attachment): Promise<void> {
    const consumerTag = await this.ledger.consume(attachment.ledger, {
      isCurrent: () => this.isCurrent(attachment),
      deadLetter: (message, reason) => new Inbound(attachment.ledgers, LEDGER_QUEUE, message, false, 1).park(reason),
      cancelled: () => this.cancelled(attachment, LEDGER_QUEUE),
    });
    attachment.consumerTags.set(LEDGER_QUEUE, consumerTag);
  }

  private cancelled(attachment: Attachment, queue: string): void {
    this.logger.warn({ queue }, 'consumer cancelled by the broker; reconnecting');
    this.closeConnection(attachment.connection);
  }

  private detach(attachment: Attachment): void {
    if (!this.isCurrent(attachment)) return;
    this.current = undefined;
    attachment.gate.release();
    const dropped = this.batcher.clear();
    this.metrics.buffered.dec(dropped);
    if (dropped > 0) this.logger.warn({ dropped }, 'channel closed; unacked trades will be redelivered');
    // A channel can die alone (a protocol error); without it the leases would be held idle.
    this.closeConnection(attachment.connection);
  }

  /** A write may start only on the current channel and, with leases, within the company's term. */
  private mayWrite(attachment: Attachment | undefined, company: string): attachment is Attachment {
    return this.isCurrent(attachment) && attachment.gate.mayWrite(company);
  }

  private closeConnection(connection: ChannelModel): void {
    connection.close().catch((error: Error) => this.logger.debug({ err: error.message }, 'connection already closed'));
  }

  private onMessage(attachment: Attachment, queue: string, message: ConsumeMessage): void {
    this.metrics.consumed.inc({ queue });
    const { contentType, timestamp } = message.properties as { contentType?: string; timestamp?: number };
    const read = readMessage(queue, message.content, contentType, this.companies, timestamp);
    if (!read.ok) {
      new Inbound(attachment.trades, queue, message, false, 1).park(read.reason);
      return;
    }
    const inbound = new Inbound(attachment.trades, queue, message, read.batch, read.parts.length);
    const now = Date.now();
    for (const part of read.parts) {
      if (!part.ok) {
        inbound.park(part.reason, part.body);
        continue;
      }
      this.metrics.buffered.inc();
      const full = this.batcher.add(queue, { record: part.record, inbound, attachment }, now);
      if (full) this.scheduleFlush(queue, full);
    }
  }

  private scheduleFlush(company: string, items: Pending[]): void {
    const previous = this.flushes.get(company) ?? Promise.resolve();
    // A failed flush must not stall the company's chain: its messages stay unacked and come back
    // with the next channel, which is closed here so that they do.
    const next = previous
      .then(() => this.flush(company, items))
      .catch((error: Error) => {
        this.logger.error({ company, err: error.message }, 'flush failed; reopening the channel');
        if (this.current) this.closeConnection(this.current.connection);
      });
    this.flushes.set(company, next);
  }

  /**
   * Writes a batch until the database takes it (or its channel died, or its leases' term ran out),
   * then acks it (parks what is past the dedup window). After a takeover, waits the takeover delay.
   */
  private async flush(company: string, items: Pending[]): Promise<void> {
    const attachment = items[0]?.attachment;
    let written: Awaited<ReturnType<BatchWriter['write']>>;
    try {
      const wait = attachment?.gate.writableInMs(company) ?? 0;
      if (wait > 0) await delay(wait);
      written = await this.writer.write(
        company,
        items.map((item) => item.record),
        () => this.mayWrite(attachment, company),
      );
    } finally {
      this.metrics.buffered.dec(items.length);
    }
    if (written) this.metrics.lastWritten.set(Date.now() / 1000);
    if (written) this.onWritten(company);
    if (!written && attachment && this.isCurrent(attachment)) attachment.gate.fence(company);
    if (!written || !this.isCurrent(attachment)) return;
    for (const { record, inbound } of items) {
      if (written.beyondDedupWindow.has(record.id)) inbound.park(BEYOND_DEDUP_WINDOW, inbound.parkedBody(record));
      else inbound.done();
    }
  }

  /** SIGTERM: stop intake, flush every partial batch, wait for the acks. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.flushTimer);
    this.health.stop();
    const attachment = this.current;
    if (attachment) {
      attachment.gate.stop();
      for (const [queue, tag] of attachment.consumerTags) {
        const channel = queue === LEDGER_QUEUE ? attachment.ledger : attachment.channel;
        await channel.cancel(tag).catch(shutdownStepFailed(this.logger, 'cancel'));
      }
    }
    await this.ledger.settled();
    for (const [company, items] of this.batcher.takeAll()) this.scheduleFlush(company, items);
    await Promise.all(this.flushes.values());
    if (!attachment || !this.isCurrent(attachment)) return;
    this.current = undefined;
    attachment.gate.release();
    await closeChannels(attachment, this.logger);
  }
}
