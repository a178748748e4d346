import { randomUUID } from 'node:crypto';
import {
  backoffDelay,
  DEAD_LETTER_EXCHANGE,
  delay,
  ensureDeadLetterTopology,
  ensureQueue,
  type Logger,
  parseTrade,
} from '@stockmarket/common';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { TradeRecord } from './aggregate.js';
import { Batcher, Semaphore } from './batcher.js';
import type { ConsumerConfig } from './config.js';
import { leasesToTry, tryAcquireLease } from './leases.js';
import type { ConsumerMetrics } from './metrics.js';
import type { TradeStore } from './store.js';

interface Pending {
  readonly record: TradeRecord;
  readonly message: ConsumeMessage;
  readonly generation: number;
}

/**
 * Reads the company queues, dead-letters what fails validation, batches the rest per company and
 * acks a batch only after the database acknowledged its write. One generation per channel: when
 * the channel dies its unacked deliveries come back from the broker, so its buffers are dropped.
 */
export class Intake {
  private channel: Channel | undefined;
  private deadLetters: ConfirmChannel | undefined;
  private connection: ChannelModel | undefined;
  private generation = 0;
  private readonly batcher: Batcher<Pending>;
  private readonly flushes = new Map<string, Promise<void>>();
  private readonly writeSlots: Semaphore;
  private readonly held = new Set<string>();
  private readonly freeRounds = new Map<string, number>();
  private readonly consumerTags = new Map<string, string>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly companies: ReadonlySet<string>;
  private stopping = false;
  /** Flushes currently retrying a failed write. */
  private failingFlushes = 0;
  /** Result of the last idle database ping (writes alone say nothing while no trade comes). */
  private databaseReachable = true;
  private pinging = false;
  private readonly pingTimer: NodeJS.Timeout;

  constructor(
    private readonly config: ConsumerConfig,
    private readonly store: TradeStore,
    private readonly logger: Logger,
    private readonly metrics: ConsumerMetrics,
  ) {
    this.batcher = new Batcher(config.BATCH_SIZE, config.CONSUMER_FLUSH_INTERVAL_MS);
    this.writeSlots = new Semaphore(config.CONSUMER_WRITE_CONCURRENCY);
    this.companies = new Set(config.COMPANIES);
    const tick = Math.max(10, Math.min(100, Math.floor(config.CONSUMER_FLUSH_INTERVAL_MS / 4)));
    this.flushTimer = setInterval(() => {
      for (const [company, items] of this.batcher.takeDue(Date.now())) this.scheduleFlush(company, items);
    }, tick);
    this.pingTimer = setInterval(() => this.pingDatabase(), 2_000);
  }

  get ready(): boolean {
    return this.channel !== undefined && this.databaseHealthy && !this.stopping;
  }

  get databaseHealthy(): boolean {
    return this.failingFlushes === 0 && this.databaseReachable;
  }

  private pingDatabase(): void {
    if (this.pinging || this.stopping) return;
    this.pinging = true;
    this.store
      .ping()
      .then(
        () => {
          if (!this.databaseReachable) this.logger.info('database reachable again');
          this.databaseReachable = true;
        },
        (error: Error) => {
          if (this.databaseReachable) this.logger.warn({ err: error.message }, 'database ping failed');
          this.databaseReachable = false;
        },
      )
      .finally(() => {
        this.pinging = false;
      });
  }

  get leases(): ReadonlySet<string> {
    return this.held;
  }

  /** Set-up on every (re)connection: topology, channels, then intake (directly or by lease). */
  async attach(connection: ChannelModel): Promise<void> {
    await ensureDeadLetterTopology(connection, this.logger);
    for (const queue of this.config.QUEUES) {
      await ensureQueue(connection, queue, 'classic', this.logger, { durable: this.config.COMPANY_QUEUES_DURABLE });
    }
    const deadLetters = await connection.createConfirmChannel();
    const channel = await connection.createChannel();
    await channel.prefetch(this.config.CONSUMER_PREFETCH);
    const generation = ++this.generation;
    const onClose = () => this.detach(generation, connection);
    channel.on('close', onClose);
    deadLetters.on('close', onClose);
    channel.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'channel error'));
    deadLetters.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'dead-letter channel error'));
    this.connection = connection;
    this.channel = channel;
    this.deadLetters = deadLetters;
    this.held.clear();
    this.freeRounds.clear();
    if (this.config.CONSUMER_LEASES) {
      await this.claimLeases(generation);
      this.leaseTimer = setInterval(() => {
        this.claimLeases(generation).catch((error: Error) =>
          this.logger.warn({ err: error.message }, 'lease round failed'),
        );
      }, this.config.CONSUMER_LEASE_RETRY_MS);
    } else {
      for (const queue of this.config.QUEUES) await this.consume(queue, generation);
    }
  }

  private async claimLeases(generation: number): Promise<void> {
    const connection = this.connection;
    if (!connection || generation !== this.generation || this.stopping) return;
    const candidates = leasesToTry(this.config.QUEUES, this.held, this.freeRounds, this.config.CONSUMER_MAX_LEASES);
    for (const company of this.config.QUEUES) {
      if (this.held.has(company)) continue;
      if (!candidates.includes(company)) {
        // Below the cap we would take it at once; count rounds it stays free (an orphan).
        this.freeRounds.set(company, (this.freeRounds.get(company) ?? 0) + 1);
        continue;
      }
      if (await tryAcquireLease(connection, company)) {
        if (generation !== this.generation) return;
        this.held.add(company);
        this.freeRounds.delete(company);
        this.metrics.leases.set(this.held.size);
        this.logger.info({ company }, 'took the write lease; consuming');
        await this.consume(company, generation);
      } else {
        this.freeRounds.set(company, 0);
      }
    }
  }

  private async consume(queue: string, generation: number): Promise<void> {
    const channel = this.channel;
    if (!channel || generation !== this.generation || this.stopping) return;
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (message) this.onMessage(queue, message, generation);
      else {
        this.logger.warn({ queue }, 'consumer cancelled by the broker; reconnecting');
        this.connection?.close().catch(() => {});
      }
    });
    this.consumerTags.set(queue, consumerTag);
  }

  private detach(generation: number, connection: ChannelModel): void {
    if (generation !== this.generation) return;
    this.generation++;
    clearInterval(this.leaseTimer);
    this.channel = undefined;
    this.deadLetters = undefined;
    this.consumerTags.clear();
    this.held.clear();
    this.metrics.leases.set(0);
    const dropped = this.batcher.clear();
    this.metrics.buffered.dec(dropped);
    if (dropped > 0) this.logger.warn({ dropped }, 'channel closed; unacked trades will be redelivered');
    // A channel can die alone (a protocol error); without it the leases would be held idle.
    connection.close().catch(() => {});
  }

  private onMessage(queue: string, message: ConsumeMessage, generation: number): void {
    this.metrics.consumed.inc({ queue });
    const parsed = parseTrade(message.content, this.companies);
    if (!parsed.ok) {
      this.deadLetter(queue, message, parsed.reason, generation);
      return;
    }
    const { trade } = parsed;
    if (trade.company !== queue) {
      this.deadLetter(queue, message, `company ${trade.company} does not belong in queue ${queue}`, generation);
      return;
    }
    const timestamp = message.properties.timestamp as number | undefined;
    const record: TradeRecord = {
      // Without an id a trade cannot be recognised again: at-least-once (docs/consumer.md).
      id: trade.id ?? `anon-${randomUUID()}`,
      price: trade.price,
      quantity: trade.quantity ?? 1,
      side: trade.eventType,
      ts: trade.ts ?? (timestamp ? timestamp * 1000 : Date.now()),
    };
    this.metrics.buffered.inc();
    const full = this.batcher.add(queue, { record, message, generation }, Date.now());
    if (full) this.scheduleFlush(queue, full);
  }

  /** Parks a bad message with its reason in the dead-letter queue, then acks the original. */
  private deadLetter(queue: string, message: ConsumeMessage, reason: string, generation: number): void {
    const deadLetters = this.deadLetters;
    if (!deadLetters || generation !== this.generation) return;
    const kind = reason.split(':')[0] ?? 'invalid';
    this.logger.warn({ queue, reason: reason.slice(0, 300), bytes: message.content.length }, 'dead-lettering message');
    deadLetters.publish(
      DEAD_LETTER_EXCHANGE,
      queue,
      message.content,
      {
        persistent: true,
        contentType: message.properties.contentType,
        messageId: message.properties.messageId,
        headers: {
          ...message.properties.headers,
          'x-stockmarket-reason': reason.slice(0, 1000),
          'x-stockmarket-queue': queue,
          'x-stockmarket-dead-lettered-at': new Date().toISOString(),
        },
      },
      (error) => {
        if (generation !== this.generation) return;
        if (error) {
          // Not parked: leave it unacked; it comes back after a reconnect and is tried again.
          this.logger.error({ queue, err: String(error) }, 'dead-letter publish nacked');
          return;
        }
        this.channel?.ack(message);
        this.metrics.deadLettered.inc({ queue, reason: kind });
        this.metrics.acked.inc({ queue });
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
        this.connection?.close().catch(() => {});
      });
    this.flushes.set(company, next);
  }

  /** Writes a batch until the database takes it (or its channel died), then acks it. */
  private async flush(company: string, items: Pending[]): Promise<void> {
    const generation = items[0]?.generation;
    const records = items.map((item) => item.record);
    let failing = false;
    try {
      for (let attempt = 0; ; attempt++) {
        if (generation !== this.generation) return; // the broker redelivers these; the next owner writes them
        try {
          const result = await this.writeSlots.run(async () => {
            const started = performance.now(); // the write itself, not the wait for a slot
            const written = await this.store.writeBatch(company, records);
            this.metrics.writeSeconds.observe((performance.now() - started) / 1000);
            return written;
          });
          this.metrics.batches.inc({ company });
          this.metrics.duplicates.inc(result.duplicates);
          if (failing) this.logger.info({ company, attempts: attempt + 1 }, 'batch written after retrying');
          break;
        } catch (error) {
          if (!failing) this.failingFlushes++;
          failing = true;
          const wait = backoffDelay(attempt);
          this.logger.warn({ company, err: (error as Error).message, retryInMs: wait }, 'batch write failed; retrying');
          await delay(wait);
        }
      }
    } finally {
      if (failing) this.failingFlushes--;
      this.metrics.buffered.dec(items.length);
    }
    if (generation !== this.generation || !this.channel) return;
    for (const item of items) this.channel.ack(item.message);
    this.metrics.acked.inc({ queue: company }, items.length);
  }

  /** SIGTERM: stop intake, flush every partial batch, wait for the acks. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.leaseTimer);
    clearInterval(this.flushTimer);
    clearInterval(this.pingTimer);
    const channel = this.channel;
    if (channel) {
      for (const tag of this.consumerTags.values()) await channel.cancel(tag).catch(() => {});
    }
    for (const [company, items] of this.batcher.takeAll()) this.scheduleFlush(company, items);
    await Promise.all(this.flushes.values());
    await this.deadLetters?.waitForConfirms().catch(() => {});
    this.generation++;
    await channel?.close().catch(() => {});
    await this.deadLetters?.close().catch(() => {});
  }
}
