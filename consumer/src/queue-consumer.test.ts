import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEAD_LETTER_EXCHANGE } from '@stockmarket/common';
import { FakeConnection, setup, trade, until } from './queue-consumer.fakes.js';

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

test('with leases: a holder whose token stops coming back is fenced; it neither writes nor acks', async () => {
  // A term of 200 ms after the last return that came back (docs/consumer.md, self-fencing).
  const cutOff = new FakeConnection();
  cutOff.renewals = 'hang';
  const { connection, store, metrics, stop } = await setup(
    { CONSUMER_LEASES: 'true', QUEUES: 'AAPL', CONSUMER_LEASE_TERM_MS: '200' },
    cutOff,
  );
  try {
    await until('the lease', () => connection.channels.some((channel) => channel.reads('AAPL')));
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

test('with leases: a holder whose token keeps coming back writes once the takeover wait is over, and acks', async () => {
  const { connection, store, metrics, stop } = await setup({
    CONSUMER_LEASES: 'true',
    QUEUES: 'AAPL',
    CONSUMER_LEASE_TERM_MS: '200',
  });
  try {
    await until('the lease', () => connection.channels.some((channel) => channel.reads('AAPL')));
    const takenAt = performance.now();
    const aapl = connection.reader('AAPL');
    const tokens = connection.reader('stockmarket.lease.AAPL');
    aapl.deliver('AAPL', trade('t1'));
    aapl.deliver('AAPL', trade('t2'));
    await until('the batch write', () => store.writes.length === 1, 2_000);
    // The previous holder may start writes for one more term: the first write waits it out.
    assert.ok((store.writes[0]?.at ?? 0) - takenAt >= 190, 'no write within a term of the takeover');
    store.writes[0]?.settle();
    await until('the acks', () => aapl.acked.length === 2);
    // Renewed four times per term: after a few terms the token went back and forth many times.
    await until('renewals over three terms', () => tokens.nacked.length >= 10, 2_000);
    assert.equal(connection.closed, false, 'never fenced');
    assert.equal((await metrics.fenced.get()).values[0]?.value ?? 0, 0);
  } finally {
    await stop();
  }
});

test('with leases: SIGTERM right after a takeover still flushes the partial batch (renewals go on until the end)', async () => {
  const { consumer, connection, store } = await setup({
    CONSUMER_LEASES: 'true',
    QUEUES: 'AAPL',
    CONSUMER_LEASE_TERM_MS: '200',
  });
  await until('the lease', () => connection.channels.some((channel) => channel.reads('AAPL')));
  const aapl = connection.reader('AAPL');
  const message = aapl.deliver('AAPL', trade('t1'));
  // Stopped at once: the write must wait out the previous holder's term, and still find its own term valid.
  const stopped = consumer.stop();
  await until('the flush on stop', () => store.writes.length === 1, 2_000);
  store.writes[0]?.settle();
  await stopped;
  assert.deepEqual(aapl.acked, [message], 'written and acked before the stop ended');
  assert.equal(connection.closed, false, 'not fenced: the stop closes its channels itself');
});
