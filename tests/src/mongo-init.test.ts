// mongo-init/setup.cjs keeps its own copy of the index list (mongosh cannot import TypeScript):
// it must equal the storage contract's, for the default and for a configured stocks collection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectionNames, indexPlan } from '@stockmarket/common';
import { loadMongoInitSetup } from './mongo-init-setup.js';

const setup = loadMongoInitSetup();

test("mongo-init's index list is the storage contract's", () => {
  for (const stocks of ['stocks', 'quotes']) {
    assert.deepEqual(setup.indexPlan(stocks), indexPlan(collectionNames(stocks)), stocks);
  }
});
