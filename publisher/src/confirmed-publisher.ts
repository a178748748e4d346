import { inOneWrite, type Logger } from '@stockmarket/common';
import type { ConfirmChannel } from 'amqplib';
import type { ConfirmConnection, ConfirmedPublisherOptions, DeliveryEvents, OutgoingMessage } from './outgoing.js';
import { tradeCount, tradeIds } from './outgoing.js';
import { RetryPause } from './retry-pause.js';
import { StallWatchdog } from './stall-watchdog.js';
import { Waiters } from './waiters.js';

export type { ConfirmConnection, ConfirmedPublisherOptions, DeliveryEvents, OutgoingMessage } from './outgoing.js';

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
  private readonly watchdog: StallWatchdog;
  private readonly maxInFlight: number;
  /** After a nack, resends wait (`nackRetryDelayMs`, default 200 ms). */
  private readonly retryPause: RetryPause;
  private closing = false;
  private readonly idleWaiters = new Waiters();
  private readonly wakeWaiters = new Waiters();

  constructor(
    options: ConfirmedPublisherOptions,
    private readonly events: DeliveryEvents,
    private readonly logger: Logger,
  ) {
    this.maxInFlight = options.maxInFlight;
    this.retryPause = new RetryPause(options.nackRetryDelayMs ?? 200, () => {
      this.flushRetries();
      this.wake();
    });
    this.watchdog = new StallWatchdog(options.confirmTimeoutMs, this, (reason) => events.stalled?.(reason));
  }

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
    this.watchdog.attached();
    this.retryPause.end();
    this.flushRetries();
    this.wake();
  }

  /** Sends of one turn leave in one write (`inOneWrite`). */
  inOneWrite(send: () => void): void {
    inOneWrite(this.channel, send);
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
    return this.watchdog.clockMs(now);
  }

  /** Sent but unconfirmed, plus waiting to be resent. */
  get pendingCount(): number {
    return this.inFlight.size + this.retry.length;
  }

  /** Ids of every trade not confirmed yet (for the final report on shutdown); a batch message lists all of its trades; ledger messages are not trades. */
  pendingIds(): string[] {
    return [...this.inFlight.keys(), ...this.retry].flatMap(tradeIds);
  }

  /** How many new messages may be sent now (0 while disconnected, blocked or waiting for drain). */
  capacity(): number {
    if (!this.channel || this.blocked || this.waitingForDrain) return 0;
    return Math.max(0, this.maxInFlight - this.inFlight.size - this.retry.length);
  }

  send(message: OutgoingMessage): void {
    if (this.pendingCount === 0) this.watchdog.firstPending();
    this.write(message);
    this.events.published(tradeCount(message), message);
  }

  private flushRetries(): void {
    if (this.retryPause.active) return;
    let count = 0;
    while (
      this.retry.length > 0 &&
      this.channel &&
      !this.blocked &&
      !this.waitingForDrain &&
      this.inFlight.size < this.maxInFlight
    ) {
      const message = this.retry.shift() as OutgoingMessage;
      this.write(message);
      count += tradeCount(message);
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
          contentType: message.contentType ?? 'application/json',
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
      // Nacks do not stop the stall clock either: only a positive confirm does.
      this.retryPause.start();
    } else {
      this.watchdog.confirmed();
      this.events.confirmed(message);
    }
    if (this.retry.length > 0) this.flushRetries();
    this.wakeWhenRoom();
    this.notifyIdle();
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
  async waitForCapacity(ms: number): Promise<void> {
    await this.wakeWaiters.wait(ms);
  }

  private wake(): void {
    this.wakeWaiters.wake();
  }

  private notifyIdle(): void {
    if (this.pendingCount === 0) this.idleWaiters.wake();
  }

  /** Waits until every message sent so far is confirmed, or `timeoutMs` passes. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.pendingCount === 0) return true;
    return this.idleWaiters.wait(timeoutMs);
  }

  /** Closes the channel; unconfirmed messages stay listed in `pendingIds()`. */
  async close(): Promise<void> {
    this.closing = true;
    this.retryPause.stop();
    this.watchdog.stop();
    const channel = this.channel;
    if (channel) this.detach(this.generation);
    await channel?.close().catch((error: Error) => this.logger.debug({ err: error.message }, 'channel close'));
  }
}
