import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { createLogger, createMetricsRegistry, DEAD_LETTER_EXCHANGE } from '@stockmarket/common';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { loadConsumerConfig } from './config.js';
import { createConsumerMetrics } from './metrics.js';
import { QueueConsumer } from './queue-consumer.js';
import type { TradeStore, WriteResult } from './store.js';

type Callback = (error: Error | null) => void;

/**
 * Mimics amqplib's channels where the queue consumer relies on them: consumers by queue, acks,
 * confirm callbacks of a confirm channel, 'close' when closed. Topology calls succeed.
 */
class FakeChannel extends EventEmitter {
  readonly acked: ConsumeMessage[] = [];
  readonly published: { exchange: string; routingKey: string; headers: Record<string, unknown> }[] = [];
  private readonly consumers = new Map<string, (message: ConsumeMessage | null) => void>();
  private readonly unconfirmed: Callback[] = [];
  private deliveryTag = 0;
  /** A lease renewal that never comes back: the broker does not answer. */
  renewals: 'answer' | 'hang' = 'answer';

  reads(queue: string): boolean {
    return this.consumers.has(queue);
  }

  deliver(queue: string, body: string): ConsumeMessage {
    const message = {
      content: Buffer.from(body),
      fields: { deliveryTag: ++this.deliveryTag, redelivered: false, exchange: '', routingKey: queue },
      properties: { headers: {}, contentType: 'application/json' },
    } as unknown as ConsumeMessage;
    this.consumers.get(queue)?.(message);
    return message;
  }

  async consume(queue: string, onMessage: (message: ConsumeMessage | null) => void) {
    this.consumers.set(queue, onMessage);
    return { consumerTag: `tag-${queue}` };
  }

  ack(message: ConsumeMessage): void {
    this.acked.push(message);
  }

  publish(exchange: string, routingKey: string, _body: Buffer, options: { headers: object }, callback: Callback) {
    this.published.push({ exchange, routingKey, headers: options.headers as Record<string, unknown> });
    this.unconfirmed.push(callback);
    return true;
  }

  confirmAll(): void {
    for (const callback of this.unconfirmed.splice(0)) callback(null);
  }

  checkQueue() {
    return this.renewals === 'hang' ? new Promise(() => {}) : Promise.resolve({});
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

class FakeConnection {
  readonly channels: FakeChannel[] = [];
  closed = false;
  /** amqplib keeps the negotiated heartbeat (seconds) on its inner connection. */
  readonly connection: { heartbeat: number };

  constructor(heartbeatSeconds = 60) {
    this.connection = { heartbeat: heartbeatSeconds };
  }

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
class FakeStore {
  readonly writes: { company: string; count: number; settle: (error?: Error) => void }[] = [];

  writeBatch(company: string, records: readonly unknown[]): Promise<Omit<WriteResult, 'candles'>> {
    return new Promise((resolve, reject) => {
      this.writes.push({
        company,
        count: records.length,
        settle: (error) => (error ? reject(error) : resolve({ duplicates: 0, beyondDedupWindow: new Set() })),
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

const trade = (id: string) => JSON.stringify({ company: 'AAPL', eventType: 'buy', price: 101.5, id });

async function until(what: string, condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function setup(env: Record<string, string> = {}, connection = new FakeConnection()) {
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

test('a batch is acked only after the store acknowledged its write', async () => {
  const { connection, store, stop } = await setup();
  try {
    const aapl = connection.reader('AAPL');
    const messages = [aapl.deliver('AAPL', trade('t1')), aapl.deliver('AAPL', trade('t2'))];
    await until('the batch write', () => store.writes.length === 1);
    assert.deepEqual(
      store.writes.map(({ company, count }) => ({ company, count })),
      [{ company: 'AAPL', count: 2 }],
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(aapl.acked.length, 0, 'nothing acked while the write is in flight');
    store.writes[0]?.settle();
    await until('the acks', () => aapl.acked.length === 2);
    assert.deepEqual(aapl.acked, messages);
  } finally {
    await stop();
  }
});

test('a malformed message is dead-lettered with its reason, and acked once the broker confirmed it', async () => {
  const { connection, store, stop } = await setup();
  try {
    const aapl = connection.reader('AAPL');
    const bad = aapl.deliver('AAPL', '{"company":"AAPL","eventType":"hold"');
    await until('the dead-letter publish', () => connection.channels.some((channel) => channel.published.length > 0));
    const parked = connection.deadLetters.published[0];
    assert.equal(parked?.exchange, DEAD_LETTER_EXCHANGE);
    assert.equal(parked?.routingKey, 'AAPL');
    assert.match(String(parked?.headers['x-stockmarket-reason']), /^not JSON/);
    assert.equal(aapl.acked.length, 0, 'not acked before the dead-letter publish is confirmed');
    connection.deadLetters.confirmAll();
    await until('the ack', () => aapl.acked.length === 1);
    assert.equal(aapl.acked[0], bad);
    assert.equal(store.writes.length, 0, 'nothing written');
  } finally {
    await stop();
  }
});

test('a failed write is not acked; when its channel closes it is given up, to be redelivered', async () => {
  const { consumer, connection, store } = await setup();
  const aapl = connection.reader('AAPL');
  aapl.deliver('AAPL', trade('t1'));
  aapl.deliver('AAPL', trade('t2'));
  await until('the batch write', () => store.writes.length === 1);
  store.writes[0]?.settle(new Error('not primary'));
  // The writer retries after a backoff; the channel dies meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 20));
  aapl.emit('close');
  assert.equal(connection.closed, true, 'the connection is given up with its channel');
  await consumer.stop();
  assert.equal(store.writes.length, 1, 'not written again on a dead channel');
  assert.equal(aapl.acked.length, 0, 'nothing acked');
});

test('with leases: a holder the broker stops answering is fenced; it neither writes nor acks', async () => {
  // Heartbeat 0.2 s: the term is 200 ms after the last answer (docs/consumer.md, self-fencing).
  const cutOff = new FakeConnection(0.2);
  cutOff.renewals = 'hang';
  const { connection, store, metrics, stop } = await setup({ CONSUMER_LEASES: 'true', QUEUES: 'AAPL' }, cutOff);
  try {
    const aapl = connection.reader('AAPL');
    await until('the fencing', () => connection.closed, 2_000);
    assert.equal((await metrics.fenced.get()).values[0]?.value, 1);
    aapl.deliver('AAPL', trade('t1'));
    aapl.deliver('AAPL', trade('t2'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(store.writes.length, 0, 'no write after the term ran out');
    assert.equal(aapl.acked.length, 0);
  } finally {
    await stop();
  }
});
