import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestWith, figuresOf } from '@stockmarket/common';
import { ReconciliationBook } from './book.js';
import { classifyMinute } from './verdict.js';

const M = 29_000_000 * 60_000;
const GRACE = 30_000;
const SETTLED = M + 60_000 + GRACE;
const trades = Array.from({ length: 10 }, (_, i) => ({ id: `t${i}`, price: 100.25 + i, quantity: 1 + i }));
const full = figuresOf(trades);
const ledger = (figures = full, partial = false) => ({ ...figures, partial, parts: 1, closedAt: M + 60_200 });

test('equal figures match at once; a difference is pending within the grace period, a break after it', () => {
  assert.equal(
    classifyMinute({ company: 'TSLA', minute: M, ledger: ledger(), booked: full }, M + 61_000, GRACE)?.status,
    'matched',
  );
  const short = figuresOf(trades.slice(1));
  assert.equal(
    classifyMinute({ company: 'TSLA', minute: M, ledger: ledger(), booked: short }, SETTLED, GRACE)?.status,
    'pending',
    'grace runs from the ledger closing',
  );
  const lost = classifyMinute({ company: 'TSLA', minute: M, ledger: ledger(), booked: short }, SETTLED + 200, GRACE);
  assert.equal(lost?.status, 'break');
  assert.deepEqual([lost?.lost, lost?.extra], [1, 0]);
  assert.match(lost?.text ?? '', /^lost 1, quantity 55 != 54, notional/);
  const nothing = classifyMinute({ company: 'TSLA', minute: M, ledger: ledger() }, SETTLED + 200, GRACE);
  assert.deepEqual([nothing?.status, nothing?.lost], ['break', 10]);
});

test('one trade stored twice (after the dedup window) is extra 1; other ids with the same count are a break', () => {
  const twice = {
    ...full,
    trades: 11,
    quantity: full.quantity + 1,
    notionalCents: full.notionalCents + 10025,
    digest: digestWith(full.digest, 't0'),
  };
  const extra = classifyMinute({ company: 'AAPL', minute: M, ledger: ledger(), booked: twice }, SETTLED + 200, GRACE);
  assert.deepEqual([extra?.status, extra?.lost, extra?.extra], ['break', 0, 1]);
  const swapped = { ...full, digest: digestWith(digestWith(full.digest, 't0', -1), 'zz') };
  const other = classifyMinute({ company: 'AAPL', minute: M, ledger: ledger(), booked: swapped }, SETTLED + 200, GRACE);
  assert.deepEqual([other?.status, other?.text], ['break', 'other trade ids']);
});

test('a partial ledger is never a break; stored trades without a ledger are "no ledger"; nothing is nothing', () => {
  const partial = classifyMinute(
    { company: 'MSFT', minute: M, ledger: ledger(figuresOf(trades.slice(5)), true), booked: full },
    SETTLED + 200,
    GRACE,
  );
  assert.equal(partial?.status, 'partial');
  assert.equal(
    classifyMinute({ company: 'MSFT', minute: M, ledger: ledger(full, true), booked: full }, SETTLED, GRACE)?.status,
    'matched',
  );
  assert.equal(classifyMinute({ company: 'MSFT', minute: M, booked: full }, M + 61_000, GRACE)?.status, 'pending');
  assert.equal(
    classifyMinute({ company: 'MSFT', minute: M, booked: full }, M + 60_000 + GRACE, GRACE)?.status,
    'no-ledger',
  );
  assert.equal(
    classifyMinute({ company: 'MSFT', minute: M, ledger: ledger(), booked: null }, SETTLED + 200, GRACE)?.status,
    'no-ledger',
  );
  assert.equal(classifyMinute({ company: 'MSFT', minute: M }, SETTLED, GRACE), undefined);
});

test('the book counts minutes by their latest status and logs each break and recovery once', () => {
  const book = new ReconciliationBook();
  const short = figuresOf(trades.slice(1));
  const broken = classifyMinute({ company: 'TSLA', minute: M, ledger: ledger(), booked: short }, SETTLED + 200, GRACE);
  const fine = classifyMinute({ company: 'TSLA', minute: M, ledger: ledger(), booked: full }, SETTLED + 200, GRACE);
  const next = classifyMinute({ company: 'TSLA', minute: M + 60_000, booked: full }, SETTLED + 200, GRACE);
  assert.ok(broken && fine && next);
  const first = book.observe([broken, next], SETTLED + 200);
  assert.deepEqual(
    first.map((event) => event.kind),
    ['reconciliation-break'],
  );
  assert.match(first[0]?.text ?? '', /TSLA \d\d:\d\d break: lost 1/);
  assert.deepEqual(book.observe([broken], SETTLED + 5_000), [], 'the same break is not logged again');
  assert.deepEqual(book.breaks(), { minutes: 1, lost: 1, extra: 0 });
  const view = book.view(['TSLA', 'AAPL'], GRACE);
  assert.deepEqual(view.counts, { matched: 0, pending: 1, break: 1, partial: 0, 'no-ledger': 0 });
  assert.deepEqual(view.lastReconciled, { TSLA: M, AAPL: 0 });
  const recovered = book.observe([fine], SETTLED + 10_000);
  assert.deepEqual(
    recovered.map((event) => event.kind),
    ['reconciliation-recovered'],
  );
  assert.equal(book.view(['TSLA'], GRACE).counts.matched, 1);
  assert.deepEqual([book.view(['TSLA'], GRACE).breaksFound, book.view(['TSLA'], GRACE).breaksNow], [1, 0]);
  assert.equal(book.view(['TSLA'], GRACE).lastBreak?.lost, 1, 'the last break stays shown');
});
