import {
  declareDeadLetterTopology,
  declareQueue,
  delay,
  LEDGER_QUEUE,
  type Logger,
  parseLedgerMessage,
} from '@stockmarket/common';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { TradeRecord } from './aggregate.js';
import { BatchWriter } from './batch-writer.js';
import { Batcher } from './batcher.js';
import type { ConsumerConfig } from './config.js';
import { DatabaseHealth } from './database-health.js';
import { parkMessage, reasonKind } from './dead-letter.js';
import { readDelivery } from './delivery.js';
import { LeaseRenewal, LeaseRounds, LeaseTerm, patienceRounds, tryAcquireLease } from './leases.js';
import type { ConsumerMetrics } from './metrics.js';
import type { TradeStore, WriteResult } from './store.js';

/** The channels of one broker connection, and the leases and consumers begun on them. */
interface Attachment {
  readonly connection: ChannelModel;
  readonly channel: Channel;
  /** The ledger queue's channel (every replica reads it: docs/reconciliation.md). */
  readonly ledger: Channel;
  readonly deadLetters: ConfirmChannel;
  readonly leases: LeaseRounds;
  readonly consumerTags: Map<string, string>;
  /** How long the leases of this connection may be written under (self-fencing). */
  readonly term: LeaseTerm;
  /** Per company taken on this connection: no write before this time (the takeover delay). */
  readonly writableAt: Map<string, number>;
  leaseTimer?: NodeJS.Timeout;
  renewal?: LeaseRenewal;
}

interface Pending {
  readonly record: TradeRecord;
  readonly message: ConsumeMessage;
  readonly attachment: Attachment;
}

/**
 * Reads the company queues (directly, or those whose write lease this replica holds), dead-letters
 * what fails validation, batches the rest per company and acks a batch only after the database
 * acknowledged its write.
 */
export class QueueConsumer {
  private current: Attachment | undefined;
  private readonly batcher: Batcher<Pending>;
  private readonly flushes = new Map<string, Promise<void>>();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly companies: ReadonlySet<string>;
  private readonly health: DatabaseHealth;
  private readonly writer: BatchWriter;
  private readonly ledgerWrites = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    private readonly config: ConsumerConfig,
    private readonly store: TradeStore,
    private readonly logger: Logger,
    private readonly metrics: ConsumerMetrics,
    /** Told of each committed batch write (the liveview's write notices). */
    private readonly onWritten: (company: string) => void = () => {},
  ) {
    this.batcher = new Batcher(config.BATCH_SIZE, config.CONSUMER_FLUSH_INTERVAL_MS);
    this.companies = new Set(config.COMPANIES);
    this.health = new DatabaseHealth(() => store.ping(), logger);
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
    await declareDeadLetterTopology(connection, this.logger);
    for (const queue of this.config.QUEUES)
      await declareQueue(connection, queue, { durable: this.config.COMPANY_QUEUES_DURABLE }, this.logger);
    const deadLetters = await connection.createConfirmChannel();
    await declareQueue(connection, LEDGER_QUEUE, { durable: this.config.COMPANY_QUEUES_DURABLE }, this.logger);
    const channel = await connection.createChannel();
    await channel.prefetch(this.config.CONSUMER_PREFETCH);
    const ledger = await connection.createChannel();
    await ledger.prefetch(LEDGER_PREFETCH);
    const attachment: Attachment = {
      connection,
      channel,
      ledger,
      deadLetters,
      leases: new LeaseRounds(
        this.config.QUEUES,
        this.config.CONSUMER_MAX_LEASES,
        patienceRounds(this.config.CONSUMER_LEASE_RETRY_MS),
      ),
      consumerTags: new Map(),
      term: new LeaseTerm(negotiatedHeartbeat(connection)),
      writableAt: new Map(),
    };
    const onClose = () => this.detach(attachment);
    channel.on('close', onClose);
    ledger.on('close', onClose);
    deadLetters.on('close', onClose);
    ledger.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'ledger channel error'));
    channel.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'channel error'));
    deadLetters.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'dead-letter channel error'));
    this.current = attachment;
    await this.consumeLedger(attachment);
    if (!this.config.CONSUMER_LEASES) {
      for (const queue of this.config.QUEUES) await this.consume(attachment, queue);
      return;
    }
    const renewals = await connection.createChannel();
    renewals.on('close', onClose);
    renewals.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'lease lost'));
    attachment.renewal = new LeaseRenewal(
      renewals,
      attachment.term,
      () => attachment.leases.companiesHeld,
      () => {
        if (attachment.leases.count > 0 && !attachment.term.valid()) this.fence(attachment);
      },
    );
    if (!Number.isFinite(attachment.term.validForMs)) {
      this.logger.warn('AMQP heartbeat disabled: a holder cut off from the broker is not fenced (docs/consumer.md)');
    }
    await this.claimLeases(attachment);
    attachment.leaseTimer = setInterval(() => {
      this.claimLeases(attachment).catch((error: Error) =>
        this.logger.warn({ err: error.message }, 'lease round failed'),
      );
    }, this.config.CONSUMER_LEASE_RETRY_MS);
  }

  private async claimLeases(attachment: Attachment): Promise<void> {
    if (!this.isCurrent(attachment) || this.stopping) return;
    const sentAt = performance.now();
    await attachment.leases.claim(
      (company) => tryAcquireLease(attachment.connection, company),
      () => this.isCurrent(attachment),
      async (company) => {
        // The broker granted the lease to a request sent at `sentAt` or later: a renewal too.
        attachment.term.renewed(sentAt);
        attachment.writableAt.set(company, performance.now() + this.config.CONSUMER_LEASE_TAKEOVER_DELAY_MS);
        this.metrics.leases.set(attachment.leases.count);
        this.metrics.lease.set({ company }, 1);
        this.metrics.leaseTaken.set({ company }, Date.now() / 1000);
        this.logger.info({ company }, 'took the write lease; consuming');
        await this.consume(attachment, company);
      },
    );
  }

  private async consume(attachment: Attachment, queue: string): Promise<void> {
    if (!this.isCurrent(attachment) || this.stopping) return;
    const { consumerTag } = await attachment.channel.consume(queue, (message) => {
      if (message) {
        this.onMessage(attachment, queue, message);
        return;
      }
      this.logger.warn({ queue }, 'consumer cancelled by the broker; reconnecting');
      this.closeConnection(attachment.connection);
    });
    attachment.consumerTags.set(queue, consumerTag);
  }

  /**
   * The ledger queue, read by every replica without a lease: a ledger write sets its publisher
   * run's part of the minute (no read-modify-write), so any replica may write it, any number of
   * times, and the ledger keeps flowing while a company's lease moves.
   */
  private async consumeLedger(attachment: Attachment): Promise<void> {
    const { consumerTag } = await attachment.ledger.consume(LEDGER_QUEUE, (message) => {
      if (!message) {
        this.logger.warn({ queue: LEDGER_QUEUE }, 'consumer cancelled by the broker; reconnecting');
        this.closeConnection(attachment.connection);
        return;
      }
      const write = this.writeLedger(attachment, message).finally(() => this.ledgerWrites.delete(write));
      this.ledgerWrites.add(write);
    });
    attachment.consumerTags.set(LEDGER_QUEUE, consumerTag);
  }

  /** Writes one ledger message until the database takes it, then acks it (or dead-letters a bad one). */
  private async writeLedger(attachment: Attachment, message: ConsumeMessage): Promise<void> {
    const parsed = parseLedgerMessage(message.content);
    if (!parsed.ok) {
      this.deadLetter(attachment, LEDGER_QUEUE, message, parsed.reason, attachment.ledger);
      return;
    }
    for (let attempt = 0; this.isCurrent(attachment); attempt++) {
      try {
        await this.store.writeLedger(parsed.ledger);
        break;
      } catch (error) {
        if (attempt === 0) this.logger.warn({ err: (error as Error).message }, 'ledger write failed; retrying');
        await delay(Math.min(5_000, 250 * 2 ** attempt));
      }
    }
    if (!this.isCurrent(attachment)) return;
    attachment.ledger.ack(message);
    this.metrics.ledgerWritten.inc();
  }

  private detach(attachment: Attachment): void {
    if (!this.isCurrent(attachment)) return;
    this.current = undefined;
    clearInterval(attachment.leaseTimer);
    attachment.renewal?.stop();
    this.metrics.leases.set(0);
    this.metrics.lease.reset();
    this.metrics.leaseTaken.reset();
    const dropped = this.batcher.clear();
    this.metrics.buffered.dec(dropped);
    if (dropped > 0) this.logger.warn({ dropped }, 'channel closed; unacked trades will be redelivered');
    // A channel can die alone (a protocol error); without it the leases would be held idle.
    this.closeConnection(attachment.connection);
  }

  /**
   * A write may start only on the current channel and, with leases, within the term the broker
   * last renewed (`LeaseTerm`): a holder cut off from the broker stops writing before the broker
   * can give its leases to a standby.
   */
  private mayWrite(attachment: Attachment | undefined): attachment is Attachment {
    return this.isCurrent(attachment) && (!this.config.CONSUMER_LEASES || attachment.term.valid());
  }

  /** The leases' term ran out: stop writing and give them up (the trades are redelivered). */
  private fence(attachment: Attachment): void {
    if (!this.isCurrent(attachment)) return;
    this.metrics.fenced.inc();
    this.logger.warn(
      { sinceRenewalMs: Math.round(attachment.term.sinceRenewalMs()), termMs: attachment.term.validForMs },
      'the broker did not renew the leases in time: no more writes, closing the connection',
    );
    this.detach(attachment);
  }

  private closeConnection(connection: ChannelModel): void {
    connection.close().catch((error: Error) => this.logger.debug({ err: error.message }, 'connection already closed'));
  }

  private onMessage(attachment: Attachment, queue: string, message: ConsumeMessage): void {
    this.metrics.consumed.inc({ queue });
    const timestamp = message.properties.timestamp as number | undefined;
    const delivery = readDelivery(queue, message.content, this.companies, timestamp);
    if (!delivery.ok) {
      this.deadLetter(attachment, queue, message, delivery.reason);
      return;
    }
    this.metrics.buffered.inc();
    const full = this.batcher.add(queue, { record: delivery.record, message, attachment }, Date.now());
    if (full) this.scheduleFlush(queue, full);
  }

  /** Parks a bad message with its reason in the dead-letter queue, then acks the original. */
  private deadLetter(
    attachment: Attachment,
    queue: string,
    message: ConsumeMessage,
    reason: string,
    channel: Channel = attachment.channel,
  ): void {
    if (!this.isCurrent(attachment)) return;
    this.logger.warn({ queue, reason: reason.slice(0, 300), bytes: message.content.length }, 'dead-lettering message');
    parkMessage(attachment.deadLetters, queue, message, reason).then(
      () => {
        if (!this.isCurrent(attachment)) return;
        channel.ack(message);
        this.metrics.deadLettered.inc({ queue, reason: reasonKind(reason) });
        this.metrics.acked.inc({ queue });
      },
      (error: Error) => {
        // Not parked: left unacked, it comes back after a reconnect and is tried again.
        if (this.isCurrent(attachment)) this.logger.error({ queue, err: error.message }, 'dead-letter publish failed');
      },
    );
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
   * Writes a batch until the database takes it (or its channel died, or its leases' term ran
   * out), then acks it. A company's first batch after a takeover waits for the takeover delay.
   */
  private async flush(company: string, items: Pending[]): Promise<void> {
    const attachment = items[0]?.attachment;
    let written: WriteResult | undefined;
    try {
      const wait = (attachment?.writableAt.get(company) ?? 0) - performance.now();
      if (wait > 0) await delay(wait);
      written = await this.writer.write(
        company,
        items.map((item) => item.record),
        () => this.mayWrite(attachment),
      );
    } finally {
      this.metrics.buffered.dec(items.length);
    }
    if (written) {
      this.metrics.lastWritten.set(Date.now() / 1000);
      this.onWritten(company);
    }
    if (!written && attachment && this.isCurrent(attachment)) this.fence(attachment);
    if (!written || !this.isCurrent(attachment)) return;
    const { beyondDedupWindow } = written;
    let acked = 0;
    for (const item of items) {
      if (!beyondDedupWindow.has(item.record.id)) {
        attachment.channel.ack(item.message);
        acked++;
      } else this.deadLetter(attachment, company, item.message, BEYOND_DEDUP_WINDOW);
    }
    this.metrics.acked.inc({ queue: company }, acked);
  }

  /** SIGTERM: stop intake, flush every partial batch, wait for the acks. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.flushTimer);
    this.health.stop();
    const attachment = this.current;
    if (attachment) {
      clearInterval(attachment.leaseTimer);
      attachment.renewal?.stop();
      for (const [queue, tag] of attachment.consumerTags) {
        const channel = queue === LEDGER_QUEUE ? attachment.ledger : attachment.channel;
        await channel.cancel(tag).catch((error: Error) => this.ended('cancel', error));
      }
    }
    await Promise.all(this.ledgerWrites);
    for (const [company, items] of this.batcher.takeAll()) this.scheduleFlush(company, items);
    await Promise.all(this.flushes.values());
    if (!attachment || !this.isCurrent(attachment)) return;
    this.current = undefined;
    await attachment.deadLetters.waitForConfirms().catch((error: Error) => this.ended('dead-letter confirms', error));
    await attachment.channel.close().catch((error: Error) => this.ended('channel close', error));
    await attachment.ledger.close().catch((error: Error) => this.ended('ledger channel close', error));
    await attachment.deadLetters.close().catch((error: Error) => this.ended('dead-letter channel close', error));
  }

  /** A step of the stop met a channel the broker or the network closed first: nothing left to do there. */
  private ended(step: string, error: Error): void {
    this.logger.warn({ step, err: error.message }, 'channel gone during shutdown');
  }
}

/** Why a trade whose second's duplicate filter was swept is parked (docs/reconciliation.md). */
const BEYOND_DEDUP_WINDOW =
  'beyond the dedup window: its second was booked and its trade ids swept (CONSUMER_DEDUP_RETENTION_MINUTES), so a redelivery cannot be told from a new trade';

/** Ledger messages in flight per replica: a few per minute arrive, so a small window is plenty. */
const LEDGER_PREFETCH = 50;

/** The heartbeat the connection negotiated, in seconds (0: none); amqplib keeps it on its connection. */
function negotiatedHeartbeat(connection: ChannelModel): number {
  const heartbeat = (connection.connection as { heartbeat?: unknown }).heartbeat;
  return typeof heartbeat === 'number' ? heartbeat : 0;
}
