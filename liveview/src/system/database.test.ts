import assert from 'node:assert/strict';
import { test } from 'node:test';
import { membersFromStatus } from './database.js';

test('replSetGetStatus members: states, an unhealthy member down, secondary lag behind the primary', () => {
  assert.deepEqual(
    membersFromStatus([
      { name: 'mongo1:27017', stateStr: 'PRIMARY', health: 1, optimeDate: new Date(10_000) },
      { name: 'mongo2:27017', stateStr: 'SECONDARY', health: 1, optimeDate: new Date(8_500) },
      { name: 'mongo3:27017', stateStr: '(not reachable/healthy)', health: 0 },
    ]),
    [
      { name: 'mongo1:27017', state: 'PRIMARY' },
      { name: 'mongo2:27017', state: 'SECONDARY', lagSeconds: 1.5 },
      { name: 'mongo3:27017', state: 'down' },
    ],
  );
});
