import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createLogger, createMetricsRegistry } from '@stockmarket/common';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import type { TradeRecord } from './aggregate.js';
import { loadConsumerConfig } from './config.js';
import { createConsumerMetrics } from './metrics.js';
import { QueueConsumer } from './queue-consumer.js';
import type { TradeStore, WriteResult } from './store.js';

/* Fakes of the broker and the store for the queue consumer's unit tests (not shipped: tsconfig.build.json). */

type Callback = (error: Error | null) => void;

/**
 * Mimics amqplib's channels where the queue consumer relies on them: consumers by queue, acks,
 * confirm callbacks of a confirm channel, 'close' when closed. Topology calls succeed.
 */
export class FakeChannel extends EventEmitter {
  readonly acked: ConsumeMessage[] = [];
  readonly published: {
    exchange: string;
    routingKey: string;
    body: string;
    contentType: unknown;
    headers: Record<string, unknown>;
  }[] = [];
  private readonly consumers = new Map<string, (message: ConsumeMessage | null) => void>();
  private readonly unconfirmed: Callback[] = [];
  private deliveryTag = 0;
  /**
   * Lease tokens: each lease queue consumer is delivered one at once (the lease is free), and a
   * returned one comes back ('answer'), or never does ('hang': the broker stopped answering).
   */
  renewals: 'answer' | 'hang' = 'answer';
  readonly nacked: ConsumeMessage[] = [];

  reads(queue: string): boolean {
    return this.consumers.has(queue);
  }

  deliver(queue: string, body: string, contentType = 'application/json'): ConsumeMessage {
    const message = {
      content: Buffer.from(body),
      fields: { deliveryTag: ++this.deliveryTag, redelivered: false, exchange: '', routingKey: queue },
      properties: { headers: {}, contentType, messageId: `m${this.deliveryTag}` },
    } as unknown as ConsumeMessage;
    this.consumers.get(queue)?.(message);
    return message;
  }

  async consume(queue: string, onMessage: (message: ConsumeMessage | null) => void) {
    this.consumers.set(queue, onMessage);
    if (isLeaseQueue(queue)) setImmediate(() => this.deliver(queue, 'token'));
    return { consumerTag: `tag-${queue}` };
  }

  nack(message: ConsumeMessage, _allUpTo: boolean, requeue: boolean): void {
    this.nacked.push(message);
    const queue = message.fields.routingKey;
    if (requeue && isLeaseQueue(queue) && this.renewals === 'answer') setImmediate(() => this.deliver(queue, 'token'));
  }

  ack(message: ConsumeMessage): void {
    this.acked.push(message);
  }

  publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    options: { headers: object; contentType?: string },
    callback: Callback,
  ) {
    const headers = options.headers as Record<string, unknown>;
    this.published.push({ exchange, routingKey, body: body.toString(), contentType: options.contentType, headers });
    this.unconfirmed.push(callback);
    return true;
  }

  confirmAll(): void {
    for (const callback of this.unconfirmed.splice(0)) callback(null);
  }

  /** A token is waiting in every lease queue: a claim publishes none. */
  async checkQueue() {
    return { messageCount: 1 };
  }

  async prefetch() {}
  async assertQueue() {}
  async assertExchange() {}
  async bindQueue() {}
  async cancel() {}
  async waitForConfirms() {}
  async close() {
    this.emit('close');
  }
}

export class FakeConnection {
  readonly channels: FakeChannel[] = [];
  closed = false;
  /** amqplib keeps the negotiated heartbeat (seconds) on its inner connection. */
  readonly connection = { heartbeat: 60 };

  async createChannel() {
    const channel = new FakeChannel();
    channel.renewals = this.renewals;
    this.channels.push(channel);
    return channel;
  }

  async createConfirmChannel() {
    return this.createChannel();
  }

  renewals: 'answer' | 'hang' = 'answer';

  /** The channel that reads `queue`. */
  reader(queue: string): FakeChannel {
    const channel = this.channels.find((candidate) => candidate.reads(queue));
    assert.ok(channel, `a consumer on ${queue}`);
    return channel;
  }

  /** The confirm channel the consumer parks bad messages on. */
  get deadLetters(): FakeChannel {
    const channel = this.channels.find((candidate) => candidate.published.length > 0);
    assert.ok(channel, 'a dead-letter publish');
    return channel;
  }

  async close() {
    this.closed = true;
  }
}

/** A store whose batch writes the test settles by hand. */
export class FakeStore {
  readonly writes: {
    company: string;
    count: number;
    ids: string[];
    /** When the write reached the store (performance.now()). */
    at: number;
    settle: (error?: Error, beyondDedupWindow?: ReadonlySet<string>) => void;
  }[] = [];

  writeBatch(company: string, records: readonly TradeRecord[]): Promise<Omit<WriteResult, 'candles'>> {
    return new Promise((resolve, reject) => {
      this.writes.push({
        company,
        count: records.length,
        ids: records.map((record) => record.id),
        at: performance.now(),
        settle: (error, beyondDedupWindow = new Set()) =>
          error ? reject(error) : resolve({ duplicates: 0, beyondDedupWindow }),
      });
    });
  }

  async writeLedger() {}
  async ping() {}

  /** Lets every write end (a failed assertion must not leave the stop waiting for one). */
  settleAll(): void {
    for (const write of this.writes) write.settle();
  }
}

const isLeaseQueue = (queue: string) => queue.startsWith('stockmarket.lease.');

export const trade = (id: string) => JSON.stringify({ company: 'AAPL', eventType: 'buy', price: 101.5, id });

export async function until(what: string, condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function setup(env: Record<string, string> = {}, connection = new FakeConnection()) {
  const config = loadConsumerConfig({
    // The default URLs name the user only; a fake broker takes any password.
    RABBITMQ_PASSWORD: 'fake',
    CONSUMER_LEASES: 'false',
    BATCH_SIZE: '2',
    CONSUMER_FLUSH_INTERVAL_MS: '600000',
    CONSUMER_LEASE_TAKEOVER_DELAY_MS: '0',
    ...env,
  });
  const store = new FakeStore();
  const metrics = createConsumerMetrics(createMetricsRegistry('consumer-test'));
  const consumer = new QueueConsumer(
    config,
    store as unknown as TradeStore,
    createLogger('consumer', 'silent'),
    metrics,
  );
  await consumer.attach(connection as unknown as ChannelModel);
  const stop = async () => {
    store.settleAll();
    await consumer.stop();
  };
  return { consumer, connection, store, metrics, stop };
}
