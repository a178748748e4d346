import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { createLogger } from '@stockmarket/common';
import type { ConfirmChannel } from 'amqplib';
import { type ConfirmConnection, ConfirmedPublisher, type OutgoingMessage } from './confirmed-publisher.js';

type Callback = (error: Error | null) => void;

/**
 * Mimics amqplib's ConfirmChannel where it matters: confirm callbacks in publish order, and its
 * own 'close' listener, registered at construction, failing every outstanding callback with
 * "channel closed"; publishing on a closed channel throws.
 */
class FakeChannel extends EventEmitter {
  readonly sent: string[] = [];
  private readonly unconfirmed: Callback[] = [];
  accept = true;
  closed = false;

  constructor() {
    super();
    this.on('close', () => {
      for (let callback = this.unconfirmed.shift(); callback; callback = this.unconfirmed.shift()) {
        callback(new Error('channel closed'));
      }
    });
  }

  publish(_exchange: string, _queue: string, body: Buffer, _options: unknown, callback: Callback): boolean {
    this.unconfirmed.push(callback);
    if (this.closed) throw new Error('Channel closed');
    this.sent.push(body.toString());
    return this.accept;
  }

  ack(count = this.unconfirmed.length): void {
    for (const callback of this.unconfirmed.splice(0, count)) callback(null);
  }

  nack(count = 1): void {
    for (const callback of this.unconfirmed.splice(0, count)) callback(new Error('message nacked'));
  }

  die(): void {
    this.closed = true;
    this.emit('close');
  }

  async close(): Promise<void> {
    this.die();
  }
}

class FakeConnection extends EventEmitter {
  readonly channel = new FakeChannel();
  async createConfirmChannel(): Promise<ConfirmChannel> {
    return this.channel as unknown as ConfirmChannel;
  }
}

function setup(maxInFlight = 10) {
  const counts = { published: 0, confirmed: [] as string[], nacked: [] as string[], republished: 0 };
  const publisher = new ConfirmedPublisher(
    { maxInFlight },
    {
      published: (count) => {
        counts.published += count;
      },
      confirmed: (message) => counts.confirmed.push(message.id),
      nacked: (message) => counts.nacked.push(message.id),
      republished: (count) => {
        counts.republished += count;
      },
    },
    createLogger('test', 'silent'),
  );
  return { publisher, counts };
}

async function connect(publisher: ConfirmedPublisher): Promise<FakeConnection> {
  const connection = new FakeConnection();
  await publisher.attach(connection as unknown as ConfirmConnection);
  return connection;
}

const message = (n: number): OutgoingMessage => ({ queue: 'AAPL', body: Buffer.from(`m${n}`), id: `m${n}`, ts: n });

test('confirms settle messages; the window bounds what may be sent', async () => {
  const { publisher, counts } = setup(10);
  assert.equal(publisher.capacity(), 0, 'nothing may be sent before a channel is up');
  const { channel } = await connect(publisher);
  assert.equal(publisher.capacity(), 10);
  for (let n = 0; n < 4; n++) publisher.send(message(n));
  assert.equal(publisher.capacity(), 6);
  assert.equal(publisher.inFlightCount, 4);
  channel.ack(3);
  assert.deepEqual(counts.confirmed, ['m0', 'm1', 'm2']);
  assert.deepEqual(publisher.pendingIds(), ['m3']);
  assert.equal(await publisher.drain(10), false, 'one still unconfirmed');
  const drained = publisher.drain(5_000);
  channel.ack();
  assert.equal(await drained, true);
  assert.equal(counts.published, 4);
});

test('a channel lost with unconfirmed messages: not nacks, resent in order on the next channel', async () => {
  const { publisher, counts } = setup(10);
  const first = await connect(publisher);
  for (let n = 0; n < 5; n++) publisher.send(message(n));
  first.channel.ack(2);
  first.channel.die();
  assert.deepEqual(counts.nacked, [], 'amqplib\'s "channel closed" callbacks are not counted as nacks');
  assert.equal(publisher.connected, false);
  assert.equal(publisher.capacity(), 0);
  assert.deepEqual(publisher.pendingIds(), ['m2', 'm3', 'm4'], 'kept for resending');
  assert.deepEqual(first.channel.sent, ['m0', 'm1', 'm2', 'm3', 'm4'], 'nothing sent on the dead channel');

  const second = await connect(publisher);
  assert.deepEqual(second.channel.sent, ['m2', 'm3', 'm4'], 'resent first, oldest first');
  assert.equal(counts.republished, 3);
  second.channel.ack();
  assert.deepEqual(counts.confirmed, ['m0', 'm1', 'm2', 'm3', 'm4']);
  assert.equal(counts.published, 5, 'resends are not counted as new publishes');
  assert.equal(publisher.pendingCount, 0);
});

test('a nacked message is counted and sent again, after a pause (no spinning against the broker)', async () => {
  const { publisher, counts } = setup(10);
  const { channel } = await connect(publisher);
  publisher.send(message(1));
  publisher.send(message(2));
  channel.nack(1);
  assert.deepEqual(counts.nacked, ['m1']);
  assert.deepEqual(channel.sent, ['m1', 'm2'], 'not resent at once');
  assert.equal(publisher.capacity(), 8, 'the waiting resend keeps its place in the window');
  const deadline = Date.now() + 5_000;
  while (channel.sent.length < 3 && Date.now() < deadline) await publisher.waitForCapacity(1_000);
  assert.deepEqual(channel.sent, ['m1', 'm2', 'm1']);
  channel.ack();
  assert.deepEqual(counts.confirmed.sort(), ['m1', 'm2']);
  assert.equal(counts.republished, 1);
});

test('publish() returning false stops sending until drain', async () => {
  const { publisher } = setup(10);
  const { channel } = await connect(publisher);
  channel.accept = false;
  publisher.send(message(1));
  assert.equal(publisher.capacity(), 0, 'waits for drain');
  const woken = publisher.waitForCapacity(5_000);
  channel.accept = true;
  channel.emit('drain');
  await woken;
  assert.equal(publisher.capacity(), 9);
});

test('blocked pauses sending; events from an older connection are ignored', async () => {
  const { publisher } = setup(10);
  const old = await connect(publisher);
  old.emit('blocked', 'low on memory');
  assert.equal(publisher.isBlocked, true);
  assert.equal(publisher.capacity(), 0);
  old.emit('unblocked');
  assert.equal(publisher.capacity(), 10);
  old.channel.die();
  const current = await connect(publisher);
  old.emit('blocked', 'late event of a dead connection');
  assert.equal(publisher.isBlocked, false);
  current.emit('blocked', 'disk alarm');
  assert.equal(publisher.isBlocked, true);
  assert.equal(old.listenerCount('blocked'), 1, 'one listener per connection, not one per attach');
});

test('publishing on a channel that is closing keeps the message for the next channel', async () => {
  const { publisher, counts } = setup(10);
  const first = await connect(publisher);
  first.channel.closed = true; // amqplib throws from publish() before it emits 'close'
  publisher.send(message(1));
  assert.equal(publisher.connected, false);
  assert.deepEqual(publisher.pendingIds(), ['m1']);
  first.channel.emit('close');
  assert.deepEqual(counts.nacked, []);
  const second = await connect(publisher);
  assert.deepEqual(second.channel.sent, ['m1']);
});

test('the stall clock runs only while messages wait with no confirm at all', async () => {
  const { publisher } = setup(10);
  const { channel } = await connect(publisher);
  assert.equal(publisher.stalledForMs(), 0, 'nothing in flight: no stall');
  const sentAt = performance.now();
  publisher.send(message(1));
  publisher.send(message(2));
  assert.ok(publisher.stalledForMs(sentAt + 5_000) >= 4_990, 'two waiting since the first send');
  const ackedAt = performance.now();
  channel.ack(1);
  assert.ok(publisher.stalledForMs(ackedAt + 1_000) <= 1_000, 'a confirm restarts the clock');
  channel.nack(1);
  assert.ok(publisher.stalledForMs(ackedAt + 20_000) >= 19_000, 'a nack does not restart the clock');
  channel.die();
  assert.equal(publisher.stalledForMs(ackedAt + 60_000), 0, 'no channel: nothing to give up');
  const attachedAt = performance.now();
  await connect(publisher);
  assert.ok(publisher.stalledForMs(attachedAt + 1_000) <= 1_000, 'a new channel restarts the clock');
});

test('the watchdog gives a silent channel up once, not while the broker blocks, and again on the next channel', async () => {
  const stalls: string[] = [];
  const publisher = new ConfirmedPublisher(
    { maxInFlight: 10, confirmTimeoutMs: 50 },
    {
      published: () => {},
      confirmed: () => {},
      nacked: () => {},
      republished: () => {},
      stalled: (why) => stalls.push(why),
    },
    createLogger('test', 'silent'),
  );
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  try {
    const first = await connect(publisher);
    first.emit('blocked', 'disk alarm');
    publisher.send(message(1));
    await sleep(500);
    assert.deepEqual(stalls, [], 'not while blocked');
    first.emit('unblocked');
    await sleep(500);
    assert.equal(stalls.length, 1, 'once per channel');
    assert.match(stalls[0] ?? '', /^no confirm for \d+ ms with 1 unconfirmed, 1 of them sent on this channel/);
    first.channel.die();
    await connect(publisher);
    await sleep(500);
    assert.equal(stalls.length, 2, 'the next channel is watched afresh');
  } finally {
    await publisher.close();
  }
});

test('a batch message is confirmed, nacked and resent as a whole, with the same trades, counted in trades', async () => {
  const { publisher, counts } = setup(10);
  const { channel } = await connect(publisher);
  const trades = ['t1', 't2', 't3'].map((id, n) => ({ id, company: 'AAPL', price: 10 + n, quantity: 1, ts: 1 }));
  const batch: OutgoingMessage = { queue: 'AAPL', body: Buffer.from('batch-1'), id: 't1', ts: 1, trades };
  publisher.send(batch);
  assert.equal(counts.published, 3, 'published counts trades');
  assert.equal(publisher.capacity(), 9, 'the window counts messages');
  assert.deepEqual(publisher.pendingIds(), ['t1', 't2', 't3']);
  channel.nack(1);
  assert.deepEqual(counts.nacked, ['t1']);
  const deadline = Date.now() + 5_000;
  while (channel.sent.length < 2 && Date.now() < deadline) await publisher.waitForCapacity(1_000);
  assert.deepEqual(channel.sent, ['batch-1', 'batch-1'], 'the same body: the same trade ids');
  assert.equal(counts.republished, 3, 'republished counts trades');
  channel.ack();
  assert.deepEqual(counts.confirmed, ['t1']);
  assert.deepEqual(publisher.pendingIds(), []);
});
