import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addFigures,
  digestWith,
  EMPTY_FIGURES,
  figuresOf,
  ledgerFigures,
  ledgerMessageBody,
  parseLedgerMessage,
  sameFigures,
} from './ledger.js';

const trades = [
  { id: '01JA', price: 417.28, quantity: 12 },
  { id: '01JB', price: 0.01, quantity: 1 },
  { id: '01JC', price: 228.5, quantity: 1000 },
];

test('figures are exact and order-independent; notional in integer cents', () => {
  const figures = figuresOf(trades);
  assert.equal(figures.trades, 3);
  assert.equal(figures.quantity, 1013);
  assert.equal(figures.notionalCents, 41728 * 12 + 1 + 22850 * 1000);
  assert.match(figures.digest, /^[0-9a-f]{16}$/);
  assert.deepEqual(figuresOf([...trades].reverse()), figures);
  assert.deepEqual(addFigures([figuresOf(trades.slice(0, 1)), figuresOf(trades.slice(1))]), figures);
  assert.deepEqual(figuresOf([]), EMPTY_FIGURES);
});

test('the digest tells a different set of ids with the same count apart, and can be updated by one id', () => {
  const other = figuresOf([...trades.slice(0, 2), { ...trades[2], id: '01JD' }] as typeof trades);
  assert.notEqual(other.digest, figuresOf(trades).digest);
  assert.equal(digestWith(figuresOf(trades.slice(0, 2)).digest, '01JC'), figuresOf(trades).digest);
  assert.equal(digestWith(figuresOf(trades).digest, '01JC', -1), figuresOf(trades.slice(0, 2)).digest);
  assert.ok(sameFigures(figuresOf(trades), figuresOf([...trades].reverse())));
});

test('ledger messages round-trip and are validated; a ledger sums its parts', () => {
  const message = {
    company: 'TSLA',
    minute: 60_000 * 29_000_000,
    source: '01JRUN',
    partial: false,
    closedAt: 1,
    ...figuresOf(trades),
  };
  assert.deepEqual(parseLedgerMessage(ledgerMessageBody(message)), { ok: true, ledger: message });
  const bad = parseLedgerMessage(Buffer.from(JSON.stringify({ ...message, minute: 61_000 })));
  assert.equal(bad.ok, false);
  assert.equal(parseLedgerMessage(Buffer.from('{')).ok, false);
  const a = { ...figuresOf(trades.slice(0, 1)), partial: true, closedAt: 1 };
  const b = { ...figuresOf(trades.slice(1)), partial: false, closedAt: 2 };
  assert.deepEqual(ledgerFigures([a, b]), {
    ...figuresOf(trades),
    partial: true,
    parts: 2,
    closedAt: 2,
  });
});
