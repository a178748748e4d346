import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readDelivery } from './delivery.js';

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
