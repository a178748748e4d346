import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBucket } from './trade-tape.js';

test('a trade bucket decodes to trades, strings and older arrays alike; junk is skipped', () => {
  const trades = decodeBucket({
    _id: 'AAPL:1000',
    t: { ia: '187.5 3 b 1000123', ib: [187.25, 2, -1, 1000456], ic: 'garbage', id: 42 },
  });
  assert.deepEqual(trades, [
    { price: 187.5, quantity: 3, side: 'buy', ts: 1000123 },
    { price: 187.25, quantity: 2, side: 'sell', ts: 1000456 },
  ]);
  assert.deepEqual(decodeBucket({ _id: 'x' }), []);
});
