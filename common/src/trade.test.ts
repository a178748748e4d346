import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TRADE_BYTES, parseTrade } from './trade.js';

const companies = new Set(['AAPL', 'MSFT', 'TSLA']);

test('accepts the original three-field message and our richer one', () => {
  const original = parseTrade('{"company":"TSLA","eventType":"sell","price":417.28}', companies);
  assert.deepEqual(original, { ok: true, trade: { company: 'TSLA', eventType: 'sell', price: 417.28 } });
  const rich = parseTrade(
    JSON.stringify({
      company: 'AAPL',
      eventType: 'buy',
      price: 1.5,
      id: '01J0ABC',
      ts: 1_700_000_000_000,
      quantity: 3,
    }),
    companies,
  );
  assert.ok(rich.ok);
});

test('rejects each kind of bad input with a reason', () => {
  const cases: Array<[string | Buffer, RegExp]> = [
    ['not json', /not JSON/],
    ['[1,2]', /invalid trade/],
    ['{"company":"TSLA","eventType":"sell"}', /price/],
    ['{"company":"TSLA","eventType":"sell","price":"1"}', /price/],
    ['{"company":"TSLA","eventType":"sell","price":0}', /price/],
    ['{"company":"TSLA","eventType":"sell","price":-3}', /price/],
    ['{"company":"TSLA","eventType":"sell","price":1e999}', /price/],
    ['{"company":"TSLA","eventType":"sell","price":1e300}', /price/],
    ['{"company":"TSLA","eventType":"sell","price":1,"ts":1e300}', /ts/],
    ['{"company":"TSLA","eventType":"hold","price":1}', /eventType/],
    ['{"company":"","eventType":"buy","price":1}', /company/],
    [`{"company":"${'X'.repeat(200)}","eventType":"buy","price":1}`, /company/],
    ['{"company":"NOPE","eventType":"buy","price":1}', /unknown company/],
    ['{"company":"TSLA","eventType":"buy","price":1,"id":"a.b"}', /id/],
    [Buffer.alloc(MAX_TRADE_BYTES + 1, 32), /oversized/],
  ];
  for (const [body, reason] of cases) {
    const result = parseTrade(body, companies);
    assert.equal(result.ok, false, `rejected: ${String(body).slice(0, 60)}`);
    if (!result.ok) assert.match(result.reason, reason);
  }
});
