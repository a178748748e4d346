import type { Logger } from '@stockmarket/common';
import type { ChannelModel, ConfirmChannel } from 'amqplib';

export interface OutgoingMessage {
  readonly queue: string;
  readonly body: Buffer;
  readonly id: string;
  readonly ts: number;
  /** The trade's figures for the ledger; absent on a ledger message. */
  readonly trade?: { readonly company: string; readonly price: number; readonly quantity: number };
  /** A ledger message (docs/reconciliation.md), not a trade. */
  readonly ledger?: boolean;
}

export interface DeliveryEvents {
  /** A first send (`message` tells which: a trade, or a ledger message). */
  published(count: number, message: OutgoingMessage): void;
  confirmed(message: OutgoingMessage): void;
  nacked(message: OutgoingMessage): void;
  republished(count: number): void;
}

/** What the publisher needs from an amqplib connection (a seam for unit tests). */
export type ConfirmConnection = Pick<ChannelModel, 'createConfirmChannel' | 'on'>;

/**
 * Persistent messages on a confirm channel with a bounded window of unconfirmed ones. A nacked
 * message, or one still unconfirmed when the channel dies, goes back to a retry list and is sent
 * again first once a channel is up (the consumer drops duplicates by id): nothing is lost.
 */
export class ConfirmedPublisher {
  private channel: ConfirmChannel | undefined;
  private generation = 0;
  private readonly inFlight = new Map<OutgoingMessage, number>();
  private readonly retry: OutgoingMessage[] = [];
  private waitingForDrain = false;
  private blocked = false;
  /** The stall clock (`stalledForMs`): the last positive confirm, the last attach, the last 0 → 1 pending. */
  private confirmedAt = 0;
  private attachedAt = 0;
  private pendingSince = 0;
  /** After a nack, resends wait (`nackRetryDelayMs`): the broker could not take them just now. */
  private retriesPausedUntil = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly idleWaiters = new Set<() => void>();
  private readonly wakeWaiters = new Set<() => void>();

  constructor(
    private readonly maxInFlight: number,
    private readonly events: DeliveryEvents,
    private readonly logger: Logger,
    private readonly nackRetryDelayMs = 200,
  ) {}

  /** Opens a confirm channel on a new connection and sends the retry list first. */
  async attach(connection: ConfirmConnection): Promise<void> {
    const channel = await connection.createConfirmChannel();
    const generation = ++this.generation;
    channel.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'channel error'));
    // amqplib's own 'close' listener (added when the channel is built) fails every outstanding
    // confirm callback with "channel closed". Running first, `detach` moves those messages to the
    // retry list, so the callbacks that follow are recognised as stale: not counted as nacks and
    // not republished on the dead channel.
    channel.prependListener('close', () => this.detach(generation));
    channel.on('drain', () => {
      if (generation !== this.generation) return;
      this.waitingForDrain = false;
      this.flushRetries();
      this.wake();
    });
    // One set of listeners per connection; a late event from an older connection is ignored.
    connection.on('blocked', () => {
      if (generation === this.generation) this.blocked = true;
    });
    connection.on('unblocked', () => {
      if (generation !== this.generation) return;
      this.blocked = false;
      this.wake();
    });
    this.channel = channel;
    this.blocked = false;
    this.waitingForDrain = false;
    this.attachedAt = performance.now();
    this.retriesPausedUntil = 0; // a new channel, perhaps a new node: resend at once
    this.flushRetries();
    this.wake();
  }

  /** The channel is gone: every unconfirmed message will be republished on the next one. */
  private detach(generation: number): void {
    if (generation !== this.generation) return;
    this.generation++;
    this.channel = undefined;
    const lost = [...this.inFlight.keys()];
    this.inFlight.clear();
    // Oldest first, ahead of anything already waiting, so the resend keeps the original order.
    this.retry.unshift(...lost);
    if (lost.length > 0 && !this.closing) {
      this.logger.warn({ unconfirmed: lost.length }, 'channel closed with unconfirmed messages; will republish');
    }
    this.wake();
  }

  get connected(): boolean {
    return this.channel !== undefined;
  }

  get isBlocked(): boolean {
    return this.blocked;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * How long messages have been in flight with not a single confirm or nack (0 when none is in
   * flight). A connected node that stays silent this long is given up (`PUBLISHER_CONFIRM_TIMEOUT_MS`).
   */
  stalledForMs(now = performance.now()): number {
    if (!this.channel || this.pendingCount === 0) return 0;
    return now - Math.max(this.confirmedAt, this.attachedAt, this.pendingSince);
  }

  /** Sent but unconfirmed, plus waiting to be resent. */
  get pendingCount(): number {
    return this.inFlight.size + this.retry.length;
  }

  /** Ids of every trade not confirmed yet (for the final report on shutdown); ledger messages are not trades. */
  pendingIds(): string[] {
    return [...this.inFlight.keys(), ...this.retry].filter((message) => !message.ledger).map((message) => message.id);
  }

  /** How many new messages may be sent now (0 while disconnected, blocked or waiting for drain). */
  capacity(): number {
    if (!this.channel || this.blocked || this.waitingForDrain) return 0;
    return Math.max(0, this.maxInFlight - this.inFlight.size - this.retry.length);
  }

  send(message: OutgoingMessage): void {
    if (this.pendingCount === 0) this.pendingSince = performance.now();
    this.write(message);
    this.events.published(1, message);
  }

  private flushRetries(): void {
    if (performance.now() < this.retriesPausedUntil) return;
    let count = 0;
    while (
      this.retry.length > 0 &&
      this.channel &&
      !this.blocked &&
      !this.waitingForDrain &&
      this.inFlight.size < this.maxInFlight
    ) {
      this.write(this.retry.shift() as OutgoingMessage);
      count++;
    }
    if (count > 0) this.events.republished(count);
  }

  private write(message: OutgoingMessage): void {
    const channel = this.channel;
    if (!channel) {
      this.retry.push(message);
      return;
    }
    const generation = this.generation;
    this.inFlight.set(message, generation);
    let accepted: boolean;
    try {
      accepted = channel.publish(
        '',
        message.queue,
        message.body,
        {
          persistent: true,
          contentType: 'application/json',
          messageId: message.id,
          timestamp: Math.floor(message.ts / 1000),
        },
        (error) => this.settle(message, generation, error),
      );
    } catch (error) {
      // The channel is closing (amqplib throws before its 'close' event): keep the message and
      // treat the channel as gone; 'close' follows.
      this.logger.warn({ err: (error as Error).message }, 'publish on a closing channel; will republish');
      this.detach(generation);
      return;
    }
    if (!accepted) this.waitingForDrain = true;
  }

  private settle(message: OutgoingMessage, generation: number, error: unknown): void {
    // A late callback from a dead channel: the message is already on the retry list.
    if (this.inFlight.get(message) !== generation) return;
    this.inFlight.delete(message);
    if (error) {
      this.events.nacked(message);
      this.retry.push(message);
      this.pauseRetries();
    } else {
      this.confirmedAt = performance.now();
      this.events.confirmed(message);
    }
    if (this.retry.length > 0) this.flushRetries();
    this.wakeWhenRoom();
    this.notifyIdle();
  }

  /**
   * A nack means the broker could not take the message now (a queue without a leader, say):
   * resending at once would spin between the two, so resends wait a little. Nacks do not stop
   * the stall clock either: only a positive confirm does.
   */
  private pauseRetries(): void {
    this.retriesPausedUntil = performance.now() + this.nackRetryDelayMs;
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.flushRetries();
      this.wake();
    }, this.nackRetryDelayMs);
    this.retryTimer.unref();
  }

  /**
   * The broker confirms in runs (one frame acks many): waking the loop on every single confirm
   * would make it send one message per turn. It is woken once a quarter of the window is free,
   * and sends that much in one turn (docs/performance.md).
   */
  private wakeWhenRoom(): void {
    if (this.wakeWaiters.size === 0) return;
    if (this.inFlight.size + this.retry.length > this.maxInFlight - Math.ceil(this.maxInFlight / 4)) return;
    this.wake();
  }

  /** Resolves when capacity may have changed (confirm, drain, unblock, reconnect) or after `ms`. */
  waitForCapacity(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.wakeWaiters;
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }

  private wake(): void {
    for (const waiter of [...this.wakeWaiters]) waiter();
  }

  private notifyIdle(): void {
    if (this.pendingCount > 0) return;
    for (const waiter of [...this.idleWaiters]) waiter();
  }

  /** Waits until every message sent so far is confirmed, or `timeoutMs` passes. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.pendingCount === 0) return true;
    return new Promise((resolve) => {
      const waiters = this.idleWaiters;
      const timer = setTimeout(() => finish(false), timeoutMs);
      function finish(ok: boolean) {
        clearTimeout(timer);
        waiters.delete(onIdle);
        resolve(ok);
      }
      function onIdle() {
        finish(true);
      }
      waiters.add(onIdle);
    });
  }

  /** Closes the channel; unconfirmed messages stay listed in `pendingIds()`. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    const channel = this.channel;
    if (channel) this.detach(this.generation);
    await channel?.close().catch((error: Error) => this.logger.debug({ err: error.message }, 'channel close'));
  }
}
