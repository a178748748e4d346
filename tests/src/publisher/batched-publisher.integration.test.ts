import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEFAULT_COMPANIES } from '@stockmarket/common';
import { LocalStack, waitFor } from '@stockmarket/stack';
import { MongoClient } from 'mongodb';
import type { ReconciledMinute } from '../../../liveview/shared/system-message.js';
import { storedTradeCount } from '../consumer/trades.js';

// PUBLISHER_TRADES_PER_MESSAGE=50 end to end on the local stack: the publisher packs 50 trades of
// a company per message, the consumer stores each trade once, and the reconciliation (which
// counts trades, not messages) matches every closed minute.
const COMPANIES = [...DEFAULT_COMPANIES];
const RATE = 3_000;
let stack: LocalStack;
let client: MongoClient;

before(async () => {
  stack = await LocalStack.start({
    liveviews: 1,
    consumers: 1,
    publisherEnv: { PUBLISHER_RATE: String(RATE), PUBLISHER_TRADES_PER_MESSAGE: '50' },
    liveviewEnv: { LIVEVIEW_RECONCILE_GRACE_MS: '15000', LIVEVIEW_RECONCILE_INTERVAL_MS: '1000' },
  });
  client = new MongoClient(stack.mongo.url, { serverSelectionTimeoutMS: 5_000 });
});

after(async () => {
  await client?.close();
  await stack?.stop();
});

test('50 trades per message: every closed minute reconciles as matched, and every confirmed trade is stored once', async () => {
  const matched = await waitFor(
    'a whole minute matched for every company (or a break)',
    async () => {
      const response = await fetch(`${stack.url}/api/reconciliation`);
      const { minutes } = (await response.json()) as { minutes: ReconciledMinute[] };
      const whole = (company: string) =>
        minutes.some((minute) => minute.company === company && minute.status === 'matched' && !minute.ledger?.partial);
      // A break ends the wait at once: the assertion below names it.
      return COMPANIES.every(whole) || minutes.some((minute) => minute.status === 'break') ? minutes : undefined;
    },
    { timeoutMs: 200_000, intervalMs: 1_000 },
  );
  assert.deepEqual(
    matched.filter((minute) => minute.status !== 'matched' && minute.status !== 'pending'),
    [],
    'no minute is anything but matched (or still pending)',
  );
  const full = matched.filter((minute) => minute.status === 'matched' && !minute.ledger?.partial);
  for (const minute of full) {
    assert.equal(minute.booked?.trades, minute.ledger?.trades);
    // A whole minute at RATE / 3 per company: trades, not the ~50 times fewer messages.
    assert.ok((minute.ledger?.trades ?? 0) > (RATE / COMPANIES.length) * 60 * 0.5, `${minute.ledger?.trades} trades`);
  }

  const consumer = stack.consumers[0];
  const publisher = stack.publisher;
  assert.ok(consumer && publisher);
  // The graceful stop confirms every trade it generated; then the consumer must have each once.
  await publisher.stop();
  const report = publisher.process.output
    .split('\n')
    .filter((line) => line.includes('"unconfirmedIds"'))
    .map((line) => JSON.parse(line) as { confirmed: number; unconfirmed: number; published: number })[0];
  assert.ok(report, 'the final report');
  assert.equal(report.unconfirmed, 0);
  assert.equal(report.confirmed, report.published);
  const db = client.db('stockmarket');
  await waitFor('every confirmed trade stored', async () => (await storedTradeCount(db)) >= report.confirmed, {
    timeoutMs: 60_000,
    intervalMs: 500,
  });
  assert.equal(await storedTradeCount(db), report.confirmed, 'each trade stored once');
  const messages = await consumer.metric('consumer_consumed_total');
  assert.ok(messages * 10 < report.confirmed, `${messages} messages for ${report.confirmed} trades: packed`);
  assert.equal(await consumer.metric('consumer_dead_lettered_total'), 0);
});
