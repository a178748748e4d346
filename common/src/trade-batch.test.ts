import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isTradeBatch,
  MAX_TRADES_PER_MESSAGE,
  parseTradeBatch,
  parseTradeMessage,
  TRADE_BATCH_CONTENT_TYPE,
  TRADE_CONTENT_TYPE,
  tradeBatchBody,
} from './trade-batch.js';

const companies = new Set(['AAPL', 'MSFT', 'TSLA']);
const trade = (id: string, price = 10) => ({
  company: 'TSLA',
  eventType: 'buy' as const,
  price,
  id,
  ts: 1_700_000_000_000,
});

test('a batch body round-trips: every trade comes back, in order', () => {
  const trades = [trade('a'), trade('b', 11), trade('c', 12)];
  const parsed = parseTradeBatch(tradeBatchBody(trades), companies);
  assert.deepEqual(parsed, { ok: true, items: trades.map((t) => ({ ok: true, trade: t })) });
});

test('a bad trade inside a batch is refused alone, with its reason and raw JSON', () => {
  const body = JSON.stringify({
    trades: [trade('a'), { company: 'TSLA', eventType: 'hold', price: -1, id: 'b' }, trade('c')],
  });
  const parsed = parseTradeBatch(body, companies);
  assert.ok(parsed.ok);
  assert.equal(parsed.items.length, 3);
  assert.deepEqual(parsed.items[0], { ok: true, trade: trade('a') });
  assert.deepEqual(parsed.items[2], { ok: true, trade: trade('c') });
  const bad = parsed.items[1];
  assert.ok(bad && !bad.ok);
  assert.match(bad.reason, /^invalid trade: eventType: .*; price: /);
  assert.deepEqual(JSON.parse(bad.raw), { company: 'TSLA', eventType: 'hold', price: -1, id: 'b' });
});

test('unknown companies and non-objects inside a batch are refused per trade', () => {
  const parsed = parseTradeBatch(JSON.stringify({ trades: [{ ...trade('a'), company: 'NOPE' }, 7, null] }), companies);
  assert.ok(parsed.ok);
  assert.deepEqual(
    parsed.items.map((item) => (item.ok ? 'ok' : `${item.reason.split(':')[0]} ${item.raw}`)),
    [
      'unknown company {"company":"NOPE","eventType":"buy","price":10,"id":"a","ts":1700000000000}',
      'invalid trade 7',
      'invalid trade null',
    ],
  );
});

test('what is not a batch at all is refused as a whole', () => {
  const reasons = ['not json', '[1,2]', '{"trades":{}}', 'null', '{"trades":[]}', JSON.stringify(trade('a'))].map(
    (body) => {
      const parsed = parseTradeBatch(body, companies);
      return parsed.ok ? 'ok' : parsed.reason.split(':')[0];
    },
  );
  assert.deepEqual(reasons, [
    'not JSON',
    'invalid batch',
    'invalid batch',
    'invalid batch',
    'invalid batch',
    'invalid batch',
  ]);
  const tooMany = parseTradeBatch(
    tradeBatchBody(Array.from({ length: MAX_TRADES_PER_MESSAGE + 1 }, (_, i) => trade(`t${i}`))),
  );
  assert.ok(!tooMany.ok);
  assert.match(tooMany.reason, /1001 trades/);
  const huge = parseTradeBatch(Buffer.alloc(2 * 1024 * 1024, 0x20));
  assert.ok(!huge.ok);
  assert.match(huge.reason, /^oversized/);
});

test('only the batch content type marks a batch', () => {
  assert.equal(isTradeBatch(TRADE_BATCH_CONTENT_TYPE), true);
  assert.equal(isTradeBatch('application/json'), false);
  assert.equal(isTradeBatch(undefined), false);
});

test('a message of either form: by content type, or by shape without it; a trade is never read as a batch', () => {
  const batch = tradeBatchBody([trade('a'), trade('b')]);
  const kinds = [
    parseTradeMessage(batch, TRADE_BATCH_CONTENT_TYPE, companies),
    parseTradeMessage(batch, 'application/json', companies),
    parseTradeMessage(batch, undefined, companies),
    parseTradeMessage(Buffer.from(JSON.stringify(trade('c'))), TRADE_CONTENT_TYPE, companies),
    parseTradeMessage(Buffer.from(JSON.stringify({ ...trade('d'), trades: [] })), undefined, companies),
    parseTradeMessage(Buffer.from(JSON.stringify(trade('e'))), TRADE_BATCH_CONTENT_TYPE, companies),
  ].map((parsed) => (parsed.ok ? (parsed.batch ? `batch ${parsed.items.length}` : 'trade') : parsed.reason));
  assert.deepEqual(kinds, ['batch 2', 'batch 2', 'batch 2', 'trade', 'trade', 'invalid batch: want {"trades": [...]}']);
  const big = parseTradeMessage(Buffer.from(JSON.stringify({ ...trade('f'), pad: 'x'.repeat(20_000) })), undefined);
  assert.ok(!big.ok && big.reason.startsWith('oversized'), 'a single trade keeps its size limit');
});
