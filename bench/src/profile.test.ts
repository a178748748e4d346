import assert from 'node:assert/strict';
import { test } from 'node:test';
import { origin, summarize } from './profile.js';

test('a frame is ours, a package, Node itself or one of V8 entries', () => {
  assert.equal(origin('file:///work/main/consumer/dist/store.js', 'writeBatch'), '@stockmarket/consumer');
  assert.equal(origin('file:///work/main/node_modules/bson/lib/bson.cjs', 'serialize'), 'bson');
  assert.equal(origin('file:///app/node_modules/@socket.io/x/index.js', 'f'), '@socket.io/x');
  assert.equal(origin('node:internal/streams/readable', 'read'), 'node:internal');
  assert.equal(origin('', '(garbage collector)'), '(garbage collector)');
  assert.equal(origin('', 'hash'), '(native)');
});

test('self time comes from the samples and their deltas; idle is left out of busy', () => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9 });
  const lines = summarize({
    nodes: [
      { id: 1, callFrame: frame('(root)', '') },
      { id: 2, callFrame: frame('writeBatch', 'file:///w/consumer/dist/store.js') },
      { id: 3, callFrame: frame('serialize', 'file:///w/node_modules/bson/lib/bson.cjs') },
      { id: 4, callFrame: frame('(idle)', '') },
    ],
    startTime: 0,
    endTime: 10_000_000,
    samples: [2, 3, 3, 4, 2],
    timeDeltas: [1_000_000, 500_000, 500_000, 7_000_000, 1_000_000],
  });
  assert.equal(lines[0], 'Busy 3.0 s of 10.0 s sampled (idle left out).');
  assert.ok(lines.includes('| @stockmarket/consumer | 2000 | 66.7 % |'), lines.join('\n'));
  assert.ok(lines.includes('| bson | 1000 | 33.3 % |'), lines.join('\n'));
  assert.ok(lines.includes('| writeBatch consumer/dist/store.js:10 | 2000 | 66.7 % |'), lines.join('\n'));
  assert.ok(!lines.some((line) => line.startsWith('| (idle)')));
});
