import assert from 'node:assert/strict';
import { test } from 'node:test';
import { figuresOf } from '@stockmarket/common';
import { LedgerBook } from './ledger-book.js';

const M = 29_000_000 * 60_000; // a whole minute
const trade = (id: string, ts: number, company = 'TSLA') => ({ id, company, price: 417.28, quantity: 3, ts });

test('a minute closes once past its end and every trade of it is confirmed; counted once confirmed', () => {
  const book = new LedgerBook('run1', M - 5_000);
  const a = trade('a', M + 1);
  const b = trade('b', M + 59_999);
  book.sent(a);
  book.sent(b);
  book.confirmed(a);
  assert.deepEqual(book.closeDue(M + 59_999), [], 'not past its end');
  assert.deepEqual(book.closeDue(M + 60_000), [], 'b is not confirmed yet');
  // A republished trade is sent once and confirmed once: the ledger counts it once.
  book.confirmed(b);
  const [ledger, ...rest] = book.closeDue(M + 60_200);
  assert.equal(rest.length, 0);
  assert.deepEqual(ledger, {
    company: 'TSLA',
    minute: M,
    source: 'run1',
    partial: false,
    closedAt: M + 60_200,
    ...figuresOf([a, b]),
  });
  assert.deepEqual(book.closeDue(M + 120_000), [], 'each minute is given once');
  assert.equal(book.openMinutes, 0);
});

test('a run that starts or stops inside a minute marks it partial', () => {
  const book = new LedgerBook('run2', M + 30_000);
  const a = trade('a', M + 30_001);
  const b = trade('b', M + 60_001, 'AAPL');
  const c = trade('c', M + 60_002, 'AAPL');
  for (const item of [a, b, c]) book.sent(item);
  book.confirmed(a);
  book.confirmed(b);
  const [first] = book.closeDue(M + 60_100);
  assert.equal(first?.partial, true, 'started inside the minute');
  const [last, ...rest] = book.closeAll(M + 70_000);
  assert.equal(rest.length, 0);
  assert.equal(last?.partial, true, 'stopped inside the minute, c unconfirmed');
  assert.deepEqual({ trades: last?.trades, digest: last?.digest }, { trades: 1, digest: figuresOf([b]).digest });
});
