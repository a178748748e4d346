import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEAD_LETTER_EXCHANGE, TRADE_BATCH_CONTENT_TYPE } from '@stockmarket/common';
import { BEYOND_DEDUP_WINDOW } from './dead-letter.js';
import { setup, until } from './queue-consumer.fakes.js';

const trade = (id: string, extra: Record<string, unknown> = {}) => ({
  company: 'AAPL',
  eventType: 'buy',
  price: 101.5,
  id,
  ts: 1_700_000_000_000,
  ...extra,
});
const batch = (...trades: unknown[]) => JSON.stringify({ trades });
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('a batch message: its trades are batched one by one, and it is acked once all are stored', async () => {
  const { connection, store, stop } = await setup({ BATCH_SIZE: '4' });
  try {
    const aapl = connection.reader('AAPL');
    const first = aapl.deliver('AAPL', batch(trade('a'), trade('b'), trade('c')), TRADE_BATCH_CONTENT_TYPE);
    const second = aapl.deliver('AAPL', batch(trade('d'), trade('e')), TRADE_BATCH_CONTENT_TYPE);
    // The first write closes at four trades: all of the first message, one of the second.
    await until('the first write', () => store.writes.length === 1);
    assert.deepEqual(store.writes[0]?.ids, ['a', 'b', 'c', 'd']);
    await settle();
    assert.equal(aapl.acked.length, 0, 'nothing acked while the write is in flight');
    store.writes[0]?.settle();
    await until('the first message acked', () => aapl.acked.length === 1);
    assert.equal(aapl.acked[0], first);
    await settle();
    assert.equal(aapl.acked.length, 1, 'the second waits for its trade e, not written yet');
    const third = aapl.deliver('AAPL', batch(trade('f'), trade('g'), trade('h')), TRADE_BATCH_CONTENT_TYPE);
    await until('the second write', () => store.writes.length === 2);
    assert.deepEqual(store.writes[1]?.ids, ['e', 'f', 'g', 'h']);
    store.writes[1]?.settle();
    await until('every message acked', () => aapl.acked.length === 3);
    assert.deepEqual(aapl.acked, [first, second, third]);
  } finally {
    await stop();
  }
});

test('a bad trade in a batch is parked alone with its reason; the good ones are kept; acked after both', async () => {
  const { connection, store, metrics, stop } = await setup({ BATCH_SIZE: '2' });
  try {
    const aapl = connection.reader('AAPL');
    const bad = trade('b', { eventType: 'hold' });
    const message = aapl.deliver('AAPL', batch(trade('a'), bad, trade('c')), TRADE_BATCH_CONTENT_TYPE);
    await until('the write of the good ones', () => store.writes.length === 1);
    assert.deepEqual(store.writes[0]?.ids, ['a', 'c']);
    const parked = connection.deadLetters.published;
    assert.equal(parked.length, 1, 'only the bad trade is parked');
    assert.equal(parked[0]?.exchange, DEAD_LETTER_EXCHANGE);
    assert.deepEqual(JSON.parse(parked[0]?.body ?? ''), bad, 'the bad trade alone, as it came');
    assert.equal(parked[0]?.contentType, 'application/json');
    assert.match(String(parked[0]?.headers['x-stockmarket-reason']), /^invalid trade: eventType/);
    assert.equal(parked[0]?.headers['x-stockmarket-from-batch'], message.properties.messageId);
    store.writes[0]?.settle();
    await settle();
    assert.equal(aapl.acked.length, 0, 'not acked before the bad trade is confirmed parked');
    connection.deadLetters.confirmAll();
    await until('the ack', () => aapl.acked.length === 1);
    assert.equal(aapl.acked[0], message);
    assert.equal((await metrics.deadLettered.get()).values[0]?.value, 1);
  } finally {
    await stop();
  }
});

test('a bad trade parked but the write failed: the message is not acked, it will come back', async () => {
  const { consumer, connection, store } = await setup({ BATCH_SIZE: '1' });
  const aapl = connection.reader('AAPL');
  aapl.deliver('AAPL', batch(trade('a'), { company: 'AAPL' }), TRADE_BATCH_CONTENT_TYPE);
  await until('the write', () => store.writes.length === 1);
  connection.deadLetters.confirmAll();
  store.writes[0]?.settle(new Error('not primary'));
  await settle();
  aapl.emit('close');
  await consumer.stop();
  assert.equal(aapl.acked.length, 0, 'nothing acked');
});

test('the batch shape without the content type is a batch too; a trade of another company is parked', async () => {
  const { connection, store, stop } = await setup({ BATCH_SIZE: '1' });
  try {
    const aapl = connection.reader('AAPL');
    aapl.deliver('AAPL', batch(trade('a'), trade('m', { company: 'MSFT' })));
    await until('the write', () => store.writes.length === 1);
    assert.deepEqual(store.writes[0]?.ids, ['a']);
    assert.match(
      String(connection.deadLetters.published[0]?.headers['x-stockmarket-reason']),
      /company MSFT does not belong in queue AAPL/,
    );
  } finally {
    await stop();
  }
});

test('what is no batch at all is parked whole, as a malformed message is', async () => {
  const { connection, store, stop } = await setup();
  try {
    const aapl = connection.reader('AAPL');
    const message = aapl.deliver('AAPL', '{"trades":[]}', TRADE_BATCH_CONTENT_TYPE);
    await until('the dead-letter publish', () => connection.channels.some((channel) => channel.published.length > 0));
    const parked = connection.deadLetters.published[0];
    assert.equal(parked?.body, '{"trades":[]}');
    assert.equal(parked?.contentType, TRADE_BATCH_CONTENT_TYPE);
    assert.match(String(parked?.headers['x-stockmarket-reason']), /^invalid batch/);
    connection.deadLetters.confirmAll();
    await until('the ack', () => aapl.acked.length === 1);
    assert.equal(aapl.acked[0], message);
    assert.equal(store.writes.length, 0);
  } finally {
    await stop();
  }
});

test('a trade of a batch beyond the dedup window is parked alone in the contract form; the message acked after', async () => {
  const { connection, store, stop } = await setup({ BATCH_SIZE: '2' });
  try {
    const aapl = connection.reader('AAPL');
    aapl.deliver('AAPL', batch(trade('old', { quantity: 3 }), trade('new')), TRADE_BATCH_CONTENT_TYPE);
    await until('the write', () => store.writes.length === 1);
    store.writes[0]?.settle(undefined, new Set(['old']));
    await until('the dead-letter publish', () => connection.channels.some((channel) => channel.published.length > 0));
    const parked = connection.deadLetters.published[0];
    assert.equal(parked?.headers['x-stockmarket-reason'], BEYOND_DEDUP_WINDOW);
    assert.deepEqual(JSON.parse(parked?.body ?? ''), trade('old', { quantity: 3 }));
    assert.equal(aapl.acked.length, 0);
    connection.deadLetters.confirmAll();
    await until('the ack', () => aapl.acked.length === 1);
  } finally {
    await stop();
  }
});
