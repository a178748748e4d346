import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsumeMessage } from 'amqplib';
import { deadLetterProperties, reasonKind } from './dead-letter.js';

test('a parked message keeps its properties and headers, and says why and where it came from', () => {
  const message = {
    content: Buffer.from('{'),
    fields: {},
    properties: { contentType: 'application/json', messageId: 'm-1', headers: { 'x-trace': 'abc' } },
  } as unknown as ConsumeMessage;
  const at = new Date('2026-01-02T03:04:05.000Z');
  assert.deepEqual(deadLetterProperties('AAPL', message, `not JSON: ${'x'.repeat(2000)}`, at), {
    persistent: true,
    contentType: 'application/json',
    messageId: 'm-1',
    headers: {
      'x-trace': 'abc',
      'x-stockmarket-reason': `not JSON: ${'x'.repeat(990)}`,
      'x-stockmarket-queue': 'AAPL',
      'x-stockmarket-dead-lettered-at': '2026-01-02T03:04:05.000Z',
    },
  });
});

test('the reason kind is its first part, a small set of metric labels', () => {
  assert.equal(reasonKind('invalid trade: price: too small'), 'invalid trade');
  assert.equal(reasonKind('oversized: 20000 bytes > 16384'), 'oversized');
  assert.equal(reasonKind('company AAPL does not belong in queue MSFT'), 'company AAPL does not belong in queue MSFT');
});
