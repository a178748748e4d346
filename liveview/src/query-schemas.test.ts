import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconciliationQuery } from './query-schemas.js';

const NOW = 29_000_000 * 60_000 + 12_345;

test('/api/reconciliation: defaults to the last 15 minutes, floors to minutes, refuses bad ranges', () => {
  const minute = NOW - 12_345;
  assert.deepEqual(reconciliationQuery(NOW).parse({}), { company: undefined, from: minute - 14 * 60_000, to: minute });
  assert.deepEqual(
    reconciliationQuery(NOW).parse({ company: 'TSLA', from: String(minute - 1), to: String(minute + 59_999) }),
    {
      company: 'TSLA',
      from: minute - 60_000,
      to: minute,
    },
  );
  for (const bad of [
    { company: 'tsla' },
    { from: 'yesterday' },
    { from: String(minute), to: String(minute - 60_000) },
    { from: '0', to: String(minute) },
    { other: '1' },
  ]) {
    assert.equal(reconciliationQuery(NOW).safeParse(bad).success, false, JSON.stringify(bad));
  }
});
