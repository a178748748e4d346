import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTrade, parseTradeBatch, TRADE_BATCH_CONTENT_TYPE } from '@stockmarket/common';
import type { ConfirmedPublisher, OutgoingMessage } from './confirmed-publisher.js';
import { Pacer } from './pacer.js';
import { PublishingLoop } from './publishing-loop.js';
import { seededRandom } from './random.js';
import { symbolParamsFor, TradeSimulator } from './simulator.js';

/** A publisher with room for everything, which keeps what it is given. */
function run(tradesPerMessage: number, maxTrades: number) {
  const sent: OutgoingMessage[] = [];
  const publisher = {
    connected: true,
    isBlocked: false,
    capacity: () => 1_000,
    waitForCapacity: async () => {},
    send: (message: OutgoingMessage) => sent.push(message),
    inOneWrite: (send: () => void) => send(),
  } as unknown as ConfirmedPublisher;
  const companies = ['AAPL', 'MSFT', 'TSLA'];
  let id = 0;
  const loop = new PublishingLoop({
    simulator: new TradeSimulator(companies, symbolParamsFor({}, 0.0005, 0), seededRandom(7)),
    publisher,
    pacer: new Pacer(1_000_000, Date.now()),
    nextId: () => `id${String(++id).padStart(5, '0')}`,
    maxTrades,
    tradesPerMessage,
    lingerMs: 5,
  });
  return { loop, sent };
}

test('one trade per message (the default): the contract form, one message per trade', async () => {
  const { loop, sent } = run(1, 30);
  await loop.start();
  assert.equal(sent.length, 30);
  for (const message of sent) {
    assert.equal(message.contentType, 'application/json');
    const parsed = parseTrade(message.body);
    assert.ok(parsed.ok);
    assert.deepEqual(
      message.trades?.map((trade) => trade.id),
      [parsed.trade.id],
    );
  }
});

test('50 trades per message: batch messages of one company, every trade sent once, ids as carried', async () => {
  const { loop, sent } = run(50, 1_000);
  await loop.start();
  const ids: string[] = [];
  for (const message of sent) {
    const trades = message.trades ?? [];
    assert.ok(trades.length >= 1 && trades.length <= 50);
    if (trades.length === 1) continue;
    assert.equal(message.contentType, TRADE_BATCH_CONTENT_TYPE);
    const parsed = parseTradeBatch(message.body);
    assert.ok(parsed.ok);
    const bodyIds = parsed.items.map((item) => (item.ok ? item.trade.id : 'bad'));
    assert.deepEqual(
      bodyIds,
      trades.map((trade) => trade.id),
      'the body holds exactly the trades the ledger counts',
    );
    assert.ok(parsed.items.every((item) => item.ok && item.trade.company === message.queue));
    assert.equal(message.id, trades[0]?.id);
  }
  for (const message of sent) ids.push(...(message.trades ?? []).map((trade) => trade.id));
  assert.equal(ids.length, 1_000);
  assert.equal(new Set(ids).size, 1_000);
  assert.ok(sent.length < 100, `packed: ${sent.length} messages for 1,000 trades`);
});
