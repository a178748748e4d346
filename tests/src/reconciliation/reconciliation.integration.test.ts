import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type BookedFigures,
  bucketId,
  bucketTradeKey,
  type CandleDoc,
  candleId,
  collectionNames,
  DEFAULT_COMPANIES,
  decodeBucketTrade,
  digestWith,
  priceCents,
  type SecondEntry,
  type TradeBucket,
} from '@stockmarket/common';
import { LocalStack, launchBrowser, publishRaw, repoRoot, waitFor } from '@stockmarket/stack';
import { type Collection, MongoClient } from 'mongodb';
import type { Browser, Page } from 'playwright-core';
import type { ReconciledMinute } from '../../../liveview/shared/system-message.js';

// Reconciliation end to end on the local stack (docs/reconciliation.md): the publisher's ledger
// through RabbitMQ, the consumer's ledger and booked figures in FerretDB, the liveview's
// reconciler through NGINX (API, metrics, the page's System view). Every closed minute matches;
// then deliberate breaks: one stored trade deleted with its candle contribution ("lost 1"), one
// counted twice ("extra 1"); a publisher killed and restarted inside a minute ("partial", never a
// break), one stopped gracefully and restarted (two partial parts that match); the course's
// original message shape with no ledger ("no ledger").
// Long enough for a consumer that falls 20-30 s behind on a machine shared with other test runs
// (load average 30 on 2 cores was seen).
const GRACE_MS = 45_000;
const ROUND_MS = 1_000;
const MINUTE = 60_000;
const OURS: string[] = [...DEFAULT_COMPANIES];
/** Not published by our publisher: only original-shaped messages, without a ledger. */
const ORIGINAL = 'NVDA';
const artifacts = join(repoRoot, 'test-artifacts');

let stack: LocalStack;
let client: MongoClient;
let candles: Collection<CandleDoc>;
let buckets: Collection<TradeBucket>;
let browser: Browser;
let page: Page;
const timings: Record<string, number> = {};

interface Answer {
  graceMs: number;
  counts: Record<ReconciledMinute['status'], number>;
  minutes: ReconciledMinute[];
}

async function reconciliation(query: Record<string, string | number> = {}): Promise<Answer> {
  const search = new URLSearchParams(Object.entries(query).map(([key, value]) => [key, String(value)]));
  const response = await fetch(`${stack.url}/api/reconciliation?${search}`);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as Answer;
}

async function minuteOf(company: string, minute: number): Promise<ReconciledMinute | undefined> {
  const answer = await reconciliation({ company, from: minute, to: minute });
  return answer.minutes[0];
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  const companies = [...OURS, ORIGINAL].join(',');
  stack = await LocalStack.start({
    liveviews: 1,
    consumers: 1,
    publisherEnv: { PUBLISHER_RATE: '60', COMPANIES: OURS.join(',') },
    consumerEnv: { COMPANIES: companies },
    liveviewEnv: {
      COMPANIES: companies,
      LIVEVIEW_RECONCILE_GRACE_MS: String(GRACE_MS),
      LIVEVIEW_RECONCILE_INTERVAL_MS: String(ROUND_MS),
    },
  });
  client = new MongoClient(stack.mongo.url, { serverSelectionTimeoutMS: 5_000 });
  const db = client.db('stockmarket');
  candles = db.collection<CandleDoc>(collectionNames().candles);
  buckets = db.collection<TradeBucket>(collectionNames().buckets);
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.goto(stack.url);
});

after(async () => {
  if (page) await page.screenshot({ path: join(artifacts, 'reconciliation.png'), fullPage: true }).catch(() => {});
  await browser?.close();
  await client?.close();
  await stack?.stop();
  console.log(`reconciliation timings (ms): ${JSON.stringify(timings)}`);
});

test('every closed minute of every company reconciles as matched; original-shaped messages are "no ledger"', async () => {
  // The course's original publisher's shape: company, eventType, price; no id, no ledger.
  await publishRaw(
    stack.rabbitmq,
    ORIGINAL,
    [1, 2, 3].map((i) => ({ company: ORIGINAL, eventType: i % 2 ? 'buy' : 'sell', price: 140 + i })),
  );
  const originalMinute = Math.floor(Date.now() / MINUTE) * MINUTE;
  // The run's first minute is partial (it started inside it) and still matches: every trade of
  // this run is booked. Then at least one whole minute per company.
  const answer = await waitFor(
    'a whole minute matched for every company',
    async () => {
      const current = await reconciliation();
      const whole = OURS.every((company) =>
        current.minutes.some(
          (minute) => minute.company === company && minute.status === 'matched' && minute.ledger?.partial === false,
        ),
      );
      return whole ? current : undefined;
    },
    { timeoutMs: 200_000, intervalMs: 1_000 },
  );
  const ours = answer.minutes.filter((minute) => OURS.includes(minute.company));
  assert.deepEqual(
    ours.filter((minute) => minute.status !== 'matched' && minute.status !== 'pending'),
    [],
    'no minute of ours is anything but matched (or still pending)',
  );
  for (const minute of ours.filter((item) => item.status === 'matched')) {
    assert.ok((minute.ledger?.trades ?? 0) > 0);
    assert.deepEqual(
      { ...minute.booked },
      {
        trades: minute.ledger?.trades,
        quantity: minute.ledger?.quantity,
        notionalCents: minute.ledger?.notionalCents,
        digest: minute.ledger?.digest,
      },
    );
  }
  const original = await waitFor(
    'the original-shaped minute past its grace period',
    async () => {
      const minute = await minuteOf(ORIGINAL, originalMinute);
      return minute && minute.status !== 'pending' ? minute : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1_000 },
  );
  assert.equal(original.status, 'no-ledger');
  assert.equal(original.booked?.trades, 3);
  assert.equal(original.ledger, undefined);
  const liveview = stack.liveviews[0];
  assert.ok(liveview);
  assert.equal(await liveview.metric('liveview_reconciliation_breaks'), 0);
  await page.waitForSelector('[data-part="reconciliation"] [data-breaks="0"]:not([data-matched="0"])', {
    timeout: 10_000,
  });
});

/** The newest whole minute of `company` that matched, with one of its stored trades. */
async function matchedMinute(company: string) {
  const answer = await reconciliation({ company });
  const minute = answer.minutes.filter((item) => item.status === 'matched' && item.ledger?.partial === false).at(-1);
  assert.ok(minute, `a matched whole minute of ${company}`);
  const candle = await candles.findOne({ _id: candleId(company, '1m', minute.minute) });
  assert.ok(candle?.s && candle.rc);
  const [key, entry] = Object.entries(candle.s)[0] as [string, SecondEntry];
  const second = Number(key.slice(1));
  const bucket = await buckets.findOne({ _id: bucketId(company, second) });
  const [tradeKey, value] = Object.entries(bucket?.t ?? {})[0] as [string, string];
  const trade = decodeBucketTrade(tradeKey.slice(1), value);
  return { minute, candle, key, entry, second, trade, encoded: value, rc: candle.rc };
}

/** A trade's contribution to the booked figures, taken away (-1) or counted once more (1). */
function shifted(figures: BookedFigures, trade: { id: string; price: number; quantity: number }, sign: 1 | -1) {
  return {
    trades: figures.trades + sign,
    quantity: figures.quantity + sign * trade.quantity,
    notionalCents: figures.notionalCents + sign * priceCents(trade.price) * trade.quantity,
    digest: digestWith(figures.digest, trade.id, sign),
  };
}

function shiftedEntry(entry: SecondEntry, trade: { id: string; price: number; quantity: number }, sign: 1 | -1) {
  const figures = shifted(
    { trades: entry.n, quantity: entry.v, notionalCents: entry.nc ?? 0, digest: entry.d ?? '' },
    trade,
    sign,
  );
  return {
    ...entry,
    n: figures.trades,
    v: figures.quantity,
    pv: entry.pv + sign * trade.price * trade.quantity,
    nc: figures.notionalCents,
    d: figures.digest,
  };
}

/** Waits for the break to show in the API, the metrics and the page; returns the ms each took. */
async function expectBreak(company: string, minute: number, lost: number, extra: number, since: number) {
  const liveview = stack.liveviews[0];
  assert.ok(liveview);
  const verdict = await waitFor(
    `${company} break in the API`,
    async () => {
      const found = await minuteOf(company, minute);
      return found?.status === 'break' ? found : undefined;
    },
    { timeoutMs: GRACE_MS + 10_000 },
  );
  const api = Date.now() - since;
  assert.deepEqual([verdict.lost, verdict.extra], [lost, extra]);
  await waitFor(
    'the break in the metrics',
    async () => (await liveview.metric('liveview_reconciliation_breaks')) === 1,
    {
      timeoutMs: GRACE_MS + 10_000,
    },
  );
  assert.equal(await liveview.metric('liveview_reconciliation_lost_trades'), lost);
  assert.equal(await liveview.metric('liveview_reconciliation_extra_trades'), extra);
  const metrics = Date.now() - since;
  await page.waitForSelector(
    `[data-part="reconciliation"] [data-breaks-now="1"] [data-last-break][data-lost="${lost}"][data-extra="${extra}"]`,
    { timeout: GRACE_MS + 10_000 },
  );
  const events = await page.locator('[data-part="events"] li[data-kind="reconciliation-break"]').allTextContents();
  assert.ok(
    events.some((text) => text.includes(company) && text.includes(lost > 0 ? `lost ${lost}` : `extra ${extra}`)),
    events.join('\n'),
  );
  return { api, metrics, page: Date.now() - since, text: verdict.text };
}

async function expectRecovery(company: string, minute: number) {
  const liveview = stack.liveviews[0];
  assert.ok(liveview);
  await waitFor('matched again', async () => (await minuteOf(company, minute))?.status === 'matched');
  await waitFor(
    'no break in the metrics',
    async () => (await liveview.metric('liveview_reconciliation_breaks')) === 0,
    {
      timeoutMs: 10_000,
    },
  );
  await page.waitForSelector('[data-part="events"] li[data-kind="reconciliation-recovered"]', { timeout: 10_000 });
}

test('one stored trade deleted with its candle contribution: a break "lost 1" within one grace period, in the API, the metrics and the page', async () => {
  const { minute, candle, key, entry, second, trade, encoded, rc } = await matchedMinute('TSLA');
  const since = Date.now();
  await buckets.updateOne({ _id: bucketId('TSLA', second) }, { $unset: { [`t.${bucketTradeKey(trade.id)}`]: '' } });
  await candles.updateOne(
    { _id: candle._id },
    { $set: { [`s.${key}`]: shiftedEntry(entry, trade, -1), rc: shifted(rc, trade, -1) } },
  );
  const shown = await expectBreak('TSLA', minute.minute, 1, 0, since);
  timings.lostInApi = shown.api;
  timings.lostInMetrics = shown.metrics;
  timings.lostOnPage = shown.page;
  // A minute that matched early is still within its grace period: the break shows when it ends.
  assert.ok(shown.page <= GRACE_MS + 15_000, `shown on the page after ${shown.page} ms`);
  assert.match(shown.text, /^lost 1, quantity/);
  // Put it back: the minute recovers, and the log says so.
  await buckets.updateOne({ _id: bucketId('TSLA', second) }, { $set: { [`t.${bucketTradeKey(trade.id)}`]: encoded } });
  await candles.updateOne({ _id: candle._id }, { $set: { [`s.${key}`]: entry, rc } });
  await expectRecovery('TSLA', minute.minute);
});

test('one trade counted twice: a break "extra 1"', async () => {
  const { minute, candle, key, entry, trade, rc } = await matchedMinute('AAPL');
  const since = Date.now();
  await candles.updateOne(
    { _id: candle._id },
    { $set: { [`s.${key}`]: shiftedEntry(entry, trade, 1), rc: shifted(rc, trade, 1) } },
  );
  const shown = await expectBreak('AAPL', minute.minute, 0, 1, since);
  timings.extraInApi = shown.api;
  timings.extraOnPage = shown.page;
  await candles.updateOne({ _id: candle._id }, { $set: { [`s.${key}`]: entry, rc } });
  await expectRecovery('AAPL', minute.minute);
});

test('a publisher killed and restarted inside a minute: that minute is partial, never a break', async () => {
  const publisher = stack.publisher;
  assert.ok(publisher);
  // Well inside a minute, so the minute before is ledgered already.
  await waitFor(
    'a time 10-40 s into a minute',
    () => {
      const second = (Date.now() % MINUTE) / 1000;
      return second >= 10 && second <= 40;
    },
    { timeoutMs: MINUTE },
  );
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
  await publisher.kill();
  await publisher.restart();
  const verdicts = await waitFor(
    'the restart minute past its grace period',
    async () => {
      const answer = await reconciliation({ from: minute, to: minute });
      const ours = answer.minutes.filter((item) => OURS.includes(item.company));
      // Past the grace period, and everything the consumer will book of it booked: the killed
      // run's trades are stored, only the new run's are in the ledger.
      const settled = ours.every(
        (item) => item.status !== 'pending' && (item.booked?.trades ?? 0) > (item.ledger?.trades ?? 0),
      );
      return ours.length === OURS.length && settled ? ours : undefined;
    },
    { timeoutMs: 3 * MINUTE, intervalMs: 1_000 },
  );
  for (const verdict of verdicts) {
    assert.equal(verdict.status, 'partial', JSON.stringify(verdict));
    assert.equal(verdict.ledger?.partial, true);
  }
  const liveview = stack.liveviews[0];
  assert.ok(liveview);
  assert.equal(await liveview.metric('liveview_reconciliation_breaks'), 0);
  // The minute after is the new run's alone, whole: matched again.
  await waitFor(
    'the next minute matched',
    async () => {
      const answer = await reconciliation({ from: minute + MINUTE, to: minute + MINUTE });
      const ours = answer.minutes.filter((item) => OURS.includes(item.company));
      return ours.length === OURS.length && ours.every((item) => item.status === 'matched');
    },
    { timeoutMs: 3 * MINUTE, intervalMs: 1_000 },
  );
});

test('a publisher stopped gracefully and restarted inside a minute: its two partial parts add up, the minute matches', async () => {
  const publisher = stack.publisher;
  assert.ok(publisher);
  await waitFor(
    'a time 10-40 s into a minute',
    () => {
      const second = (Date.now() % MINUTE) / 1000;
      return second >= 10 && second <= 40;
    },
    { timeoutMs: MINUTE },
  );
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
  await publisher.stop(15_000);
  await publisher.restart();
  // Partial until the consumer, lagging on a loaded machine, has booked it all; then matched.
  let last: ReconciledMinute[] = [];
  const verdicts = await waitFor(
    'the restart minute matched',
    async () => {
      const answer = await reconciliation({ from: minute, to: minute });
      last = answer.minutes.filter((item) => OURS.includes(item.company));
      // Both runs' parts: the first part alone already matches what was booked of it (the
      // minute is still open when the first run stops), so wait for the second run's too.
      const done = last.every((item) => item.status === 'matched' && item.ledger?.parts === 2);
      return last.length === OURS.length && done ? last : undefined;
    },
    { timeoutMs: 4 * MINUTE, intervalMs: 1_000 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last: ${JSON.stringify(last)}`);
  });
  for (const verdict of verdicts) {
    assert.equal(verdict.status, 'matched', JSON.stringify(verdict));
    assert.deepEqual([verdict.ledger?.partial, verdict.ledger?.parts], [true, 2], JSON.stringify(verdict));
  }
});

test('the API validates its query like the others', async () => {
  for (const query of ['company=tsla', 'from=soon', 'from=120000&to=60000', 'from=0', 'other=1']) {
    const response = await fetch(`${stack.url}/api/reconciliation?${query}`);
    assert.equal(response.status, 400, query);
  }
  const unknown = await fetch(`${stack.url}/api/reconciliation?company=ZZZZ`);
  assert.equal(unknown.status, 404);
});
