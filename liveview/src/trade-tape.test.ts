import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeBucketTrade } from '@stockmarket/common';
import { decodeBucket } from './trade-tape.js';

test("a trade bucket decodes through the storage contract's encoding; junk is skipped", () => {
  const trades = decodeBucket({
    t: {
      ia: encodeBucketTrade({ id: 'a', price: 187.5, quantity: 3, side: 'buy', ts: 1000123 }),
      ib: encodeBucketTrade({ id: 'b', price: 187.25, quantity: 2, side: 'sell', ts: 1000456 }),
      ic: 'garbage',
      id: 42 as unknown as string,
    },
  });
  assert.deepEqual(trades, [
    { price: 187.5, quantity: 3, side: 'buy', ts: 1000123 },
    { price: 187.25, quantity: 2, side: 'sell', ts: 1000456 },
  ]);
  assert.deepEqual(decodeBucket({ t: {} }), []);
});
