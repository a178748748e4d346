import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readDelivery, readMessage } from './delivery.js';

const companies = new Set(['AAPL', 'MSFT']);
const body = (value: unknown) => Buffer.from(JSON.stringify(value));

test('a full trade becomes its record, field for field', () => {
  const result = readDelivery(
    'AAPL',
    body({ company: 'AAPL', eventType: 'sell', price: 417.28, id: 't-1', ts: 1_700_000_000_123, quantity: 7 }),
    companies,
    undefined,
  );
  assert.deepEqual(result, {
    ok: true,
    record: { id: 't-1', price: 417.28, quantity: 7, side: 'sell', ts: 1_700_000_000_123 },
  });
});

test("the original publisher's message (no id, ts, quantity) gets defaults: a fresh id, quantity 1, the AMQP timestamp", () => {
  const result = readDelivery('MSFT', body({ company: 'MSFT', eventType: 'buy', price: 10 }), companies, 1_700_000_000);
  assert.ok(result.ok);
  assert.match(result.record.id, /^anon-[0-9a-f-]{36}$/);
  assert.equal(result.record.quantity, 1);
  assert.equal(result.record.ts, 1_700_000_000_000);
  const noTimestamp = readDelivery(
    'MSFT',
    body({ company: 'MSFT', eventType: 'buy', price: 10 }),
    companies,
    undefined,
    42,
  );
  assert.ok(noTimestamp.ok);
  assert.equal(noTimestamp.record.ts, 42, 'receive time without a timestamp');
});

test('bad input gives the reason it will be dead-lettered with', () => {
  const wrongQueue = readDelivery('MSFT', body({ company: 'AAPL', eventType: 'buy', price: 1 }), companies, undefined);
  assert.deepEqual(wrongQueue, { ok: false, reason: 'company AAPL does not belong in queue MSFT' });
  const unknown = readDelivery('AAPL', body({ company: 'TSLA', eventType: 'buy', price: 1 }), companies, undefined);
  assert.deepEqual(unknown, { ok: false, reason: 'unknown company: TSLA' });
  const notJson = readDelivery('AAPL', Buffer.from('{'), companies, undefined);
  assert.ok(!notJson.ok && notJson.reason.startsWith('not JSON'));
});

test('a batch message: each trade its own part, a bad one with its reason and its JSON alone', () => {
  const result = readMessage(
    'AAPL',
    body({
      trades: [
        { company: 'AAPL', eventType: 'buy', price: 1, id: 'a', ts: 5 },
        { company: 'MSFT', eventType: 'buy', price: 2, id: 'b' },
        { company: 'AAPL', eventType: 'sell', price: -3, id: 'c' },
      ],
    }),
    'application/vnd.stockmarket.trades+json',
    companies,
    undefined,
    7,
  );
  assert.ok(result.ok && result.batch);
  assert.deepEqual(result.parts[0], { ok: true, record: { id: 'a', price: 1, quantity: 1, side: 'buy', ts: 5 } });
  const [, wrongQueue, invalid] = result.parts;
  assert.ok(wrongQueue && !wrongQueue.ok && invalid && !invalid.ok);
  assert.equal(wrongQueue.reason, 'company MSFT does not belong in queue AAPL');
  assert.match(invalid.reason, /^invalid trade: price/);
  assert.deepEqual(JSON.parse(invalid.body.toString()), { company: 'AAPL', eventType: 'sell', price: -3, id: 'c' });
  const single = readMessage(
    'AAPL',
    body({ company: 'AAPL', eventType: 'buy', price: 1 }),
    'application/json',
    companies,
    1,
  );
  assert.ok(single.ok && !single.batch && single.parts.length === 1);
});
