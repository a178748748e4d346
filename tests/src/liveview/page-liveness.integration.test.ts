import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_COMPANIES } from '@stockmarket/common';
import {
  LocalStack,
  launchBrowser,
  pageChanges,
  recordPageChanges,
  repoRoot,
  type ServiceProcess,
  waitFor,
} from '@stockmarket/stack';
import type { Browser, Page } from 'playwright-core';

// The page as a trader uses it, in headless Chromium through NGINX with two liveview replicas and
// the real pipeline: what the numbers are, liveness under faults (publisher stopped, serving
// replica hung), accessibility (axe-core) and the layout at three sizes.
const COMPANIES = [...DEFAULT_COMPANIES];
const artifacts = join(repoRoot, 'test-artifacts');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let stack: LocalStack;
let browser: Browser;
let page: Page;
const errors: string[] = [];
/** Replicas stopped with SIGSTOP: continued in cleanup whatever happens. */
const stopped = new Set<ServiceProcess>();

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await LocalStack.start({ liveviews: 2, publisherEnv: { TICKER_INTERVAL: '50' } });
  browser = await launchBrowser();
  // A viewer in New York: the chart's times must be local, not UTC.
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, timezoneId: 'America/New_York' });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(stack.url);
});
after(async () => {
  for (const replica of stopped) replica.process.signal('SIGCONT');
  await browser?.close();
  await stack?.stop();
});

const state = () => page.getAttribute('#connection', 'data-state');
const text = async (target: Page, selector: string) => ((await target.textContent(selector)) ?? '').trim();

/** axe-core in the page (evaluated through the DevTools protocol, so the CSP need not allow it). */
async function axeViolations(target: Page): Promise<string[]> {
  await target.evaluate(axeSource);
  const found = await target.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> };
      }
    ).axe;
    const result = await axe.run();
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      nodes: violation.nodes.length,
    }));
  });
  return found
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}, ${violation.nodes} nodes)`);
}

test('watchlist rows carry the session figures, the tape fills, times are local', async () => {
  await waitFor(
    'session figures on every tile',
    async () => {
      for (const company of COMPANIES) {
        const change = await text(page, `li[data-company="${company}"] [data-field="change"]`);
        if (!/^[▲▼■] [+−±]\d+\.\d\d \([+−±]\d+\.\d\d%\)$/.test(change)) return false;
      }
      return true;
    },
    { timeoutMs: 60_000 },
  );
  const tile = 'li[data-company="AAPL"]';
  assert.match(await text(page, `${tile} [data-field="price"]`), /^\d+\.\d\d$/);
  assert.match(await text(page, `${tile} [data-field="range"]`), /^\d+\.\d\d–\d+\.\d\d$/);
  assert.match(await text(page, `${tile} [data-field="volume"]`), /^\d+(\.\d+)?[kM]?$/);
  assert.match(await text(page, `${tile} [data-field="split"]`), /^Buy \d+% · sell \d+%$/);
  assert.match(await text(page, `${tile} [data-field="time"]`), /^\d\d:\d\d:\d\d$/);
  assert.match(await text(page, `${tile} [data-field="avgPrice"]`), /^\d+\.\d\d$/);
  await waitFor(
    'a sparkline of several seconds',
    async () => ((await page.getAttribute(`${tile} polyline`, 'points')) ?? '').split(' ').length >= 3,
  );
  assert.match((await page.getAttribute(`${tile} polyline`, 'class')) ?? '', /^spark-(up|down)$/);

  // The session open is the same on both replicas: it comes from MongoDB, not from this tab.
  const opens = await Promise.all(
    stack.liveviews.map(async (liveview) => {
      const body = (await (await fetch(`${liveview.url}/api/stocks`)).json()) as {
        sessions: { company: string; open: number }[];
      };
      return body.sessions.find((session) => session.company === 'AAPL')?.open;
    }),
  );
  assert.ok(opens[0] !== undefined && opens[0] > 0);
  assert.equal(opens[0], opens[1], 'both replicas report the same session open');
  assert.equal(await page.getAttribute(`${tile} [data-field="change"]`, 'data-open'), String(opens[0]));

  // The tape: trades of the selected company, and it moves.
  const firstTape = await waitFor('trades on the tape', async () => {
    const rows = await page.$$eval('#tape tr', (rows) => rows.map((row) => row.textContent ?? ''));
    return rows.length >= 5 ? rows : undefined;
  });
  assert.match(firstTape[0] ?? '', /^\d\d:\d\d:\d\d(buy|sell)\d+\d+\.\d\d$/);
  await waitFor('the tape to move', async () => (await page.textContent('#tape tr')) !== firstTape[0]);

  // Local time: the readout of the newest candle in New York time, and the legend says so.
  assert.match(await text(page, '#zone'), /^local time \(UTC−0[45]:00\)$/);
  const readout = await waitFor('a readout of the newest candle', async () => {
    const last = Number(await page.getAttribute('#chart', 'data-last'));
    const shown = await text(page, '#readout');
    return last > 0 && shown.startsWith('latest') ? { last, shown } : undefined;
  });
  const newYork = new Date(readout.last).toLocaleTimeString('en-GB', { timeZone: 'America/New_York', hour12: false });
  assert.ok(readout.shown.startsWith(`latest ${newYork}`), `${readout.shown} starts with New York time ${newYork}`);
  assert.match(readout.shown, /O \d+\.\d\d {2}H \d+\.\d\d {2}L \d+\.\d\d {2}C \d+\.\d\d {2}Vol \S+ {2}VWAP \d+\.\d\d$/);
});

test('the page bundle is sent compressed', async () => {
  for (const asset of ['build/app.js', 'styles.css', '']) {
    const response = await fetch(`${stack.url}/${asset}`, { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-encoding') ?? '', /^(gzip|br)$/, `${asset || 'index.html'} compressed`);
    await response.arrayBuffer();
  }
});

test('switching companies back and forth fetches each history once', async () => {
  const fetched: string[] = [];
  const onRequest = (request: { url(): string }) => {
    if (request.url().includes('/api/candles')) fetched.push(new URL(request.url()).search);
  };
  page.on('request', onRequest);
  try {
    for (const company of ['MSFT', 'TSLA', 'MSFT', 'TSLA', 'AAPL', 'MSFT']) {
      await page.click(`li[data-company="${company}"] button`);
      await waitFor(`${company} charted`, async () => (await page.getAttribute('#chart', 'data-company')) === company);
    }
  } finally {
    page.off('request', onRequest);
  }
  assert.equal(new Set(fetched).size, fetched.length, `no history fetched twice: ${fetched.join(' ')}`);
});

test('keyboard: arrow keys move between tiles, the chart is reachable and zooms', async () => {
  await page.focus('#tiles .tile[tabindex="0"]');
  const first = await page.evaluate(() => document.activeElement?.closest('li')?.dataset.company);
  await page.keyboard.press('ArrowDown');
  const second = await page.evaluate(() => document.activeElement?.closest('li')?.dataset.company);
  assert.ok(first && second && first !== second, `focus moved from ${first} to ${second}`);
  await page.keyboard.press('Enter');
  await waitFor('the chart to switch', async () => (await page.getAttribute('#chart', 'data-company')) === second);
  let focused = '';
  for (let i = 0; i < 10 && focused !== 'chart'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement?.id ?? '');
  }
  assert.equal(focused, 'chart', 'the chart is reachable with Tab');
  await page.keyboard.press('+');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('End');
});

test('axe-core: no serious or critical violations at desktop, tablet and phone sizes; screenshots', async () => {
  assert.deepEqual(await axeViolations(page), [], 'desktop 1440x900');
  await page.screenshot({ path: join(artifacts, 'page-1440x900.png') });
  for (const [width, height, mobile] of [
    [768, 1024, false],
    [390, 844, true],
  ] as const) {
    const other = await browser.newPage({ viewport: { width, height }, isMobile: mobile, timezoneId: 'Europe/Berlin' });
    try {
      await other.goto(stack.url);
      await waitFor('bars on the chart', async () => Number(await other.getAttribute('#chart', 'data-bars')) >= 2, {
        timeoutMs: 30_000,
      });
      const overflow = await other.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling at ${width}x${height} (${overflow} px)`);
      assert.deepEqual(await axeViolations(other), [], `${width}x${height}`);
      await other.screenshot({ path: join(artifacts, `page-${width}x${height}.png`), fullPage: mobile });
    } finally {
      await other.close();
    }
  }
});

test('publisher stopped: the page shows stale data, naming the publisher, within 3 s', async (t) => {
  await waitFor('live', async () => (await state()) === 'connected', { timeoutMs: 30_000 });
  await recordPageChanges(page);
  const publisher = stack.publisher;
  assert.ok(publisher);
  const stoppedAt = Date.now();
  await publisher.stop();
  const stale = await waitFor(
    'stale on the page',
    async () => (await pageChanges(page)).find((change) => change.what === 'state' && change.value === 'stale'),
    { timeoutMs: 15_000 },
  );
  t.diagnostic(`publisher stopped: stale shown after ${stale.at - stoppedAt} ms`);
  assert.ok(stale.at - stoppedAt <= 3_000, `stale shown ${stale.at - stoppedAt} ms after the publisher stopped`);
  // The cause follows once a heartbeat shows the replica read the database and found nothing new.
  await waitFor(
    'the banner naming the publisher',
    async () => (await page.getAttribute('#feed-banner', 'data-cause')) === 'publisher',
    { timeoutMs: 5_000 },
  );
  t.diagnostic(`publisher named after ${Date.now() - stoppedAt} ms (at most)`);
  assert.match(await text(page, '#feed-banner'), /publisher/);
  assert.equal(await page.isVisible('#feed-banner'), true);
  assert.equal(await text(page, '#connection'), 'stale data');
  await page.screenshot({ path: join(artifacts, 'page-publisher-stopped.png') });
  // The trade age keeps counting with no message arriving.
  const age = Number(await page.getAttribute('#last-trade', 'data-ms'));
  await waitFor(
    'the trade age to grow',
    async () => Number(await page.getAttribute('#last-trade', 'data-ms')) > age + 500,
  );

  await publisher.restart(false);
  await waitFor('live again', async () => (await state()) === 'connected', { timeoutMs: 60_000 });
  assert.equal(await page.isVisible('#feed-banner'), false);
});

test('database stopped: the page shows stale data naming the database (never the publisher), then recovers', async () => {
  await waitFor('live', async () => (await state()) === 'connected', { timeoutMs: 30_000 });
  await page.evaluate(() => {
    const pill = document.querySelector('#connection') as HTMLElement;
    const log: string[] = [];
    (window as unknown as { causes: string[] }).causes = log;
    new MutationObserver(() => log.push(`${pill.dataset.state}:${pill.dataset.cause}`)).observe(pill, {
      attributes: true,
      attributeFilter: ['data-state', 'data-cause'],
    });
  });
  const causes = () => page.evaluate(() => (window as unknown as { causes: string[] }).causes);
  await stack.mongo.pause();
  try {
    await waitFor('stale naming the database', async () => (await causes()).includes('stale:database'), {
      timeoutMs: 15_000,
    });
    assert.match(await text(page, '#feed-banner'), /cannot read the database/);
  } finally {
    await stack.mongo.resume();
  }
  await waitFor('live again', async () => (await state()) === 'connected', { timeoutMs: 60_000 });
  const seen = await causes();
  assert.ok(!seen.includes('stale:publisher'), `the publisher was never blamed: ${seen.join(', ')}`);
});

test('serving replica hung (SIGSTOP): the page names another replica and updates again within 5 s', async (t) => {
  await waitFor('live', async () => (await state()) === 'connected', { timeoutMs: 30_000 });
  const serving = await text(page, '#replica');
  const victim = stack.liveviews.find((_liveview, index) => `liveview-${index + 1}` === serving);
  assert.ok(victim, `the page names a replica of the stack (${serving})`);
  await recordPageChanges(page);
  // Prices as shown, recorded in the page with their time: "updating again" means prices other
  // than the frozen ones, shown by the other replica (its snapshot or a later update).
  await page.evaluate(() => {
    const shown = () =>
      [...document.querySelectorAll('#tiles [data-field="price"]')].map((e) => e.textContent).join(' ');
    const log: { at: number; prices: string; replica: string }[] = [];
    (window as unknown as { prices: typeof log }).prices = log;
    const record = () =>
      log.push({ at: Date.now(), prices: shown(), replica: document.querySelector('#replica')?.textContent ?? '' });
    new MutationObserver(record).observe(document.querySelector('#tiles') as Element, {
      childList: true,
      characterData: true,
      subtree: true,
    });
    record();
  });
  stopped.add(victim);
  const hungAt = Date.now();
  victim.process.signal('SIGSTOP');
  try {
    const switched = await waitFor(
      'new prices from another replica',
      async () => {
        const log = await pageChanges(page);
        const replica = log.find((change) => change.what === 'replica' && change.value !== serving);
        const prices = await page.evaluate(
          () => (window as unknown as { prices: { at: number; prices: string; replica: string }[] }).prices,
        );
        const frozen = prices.filter((entry) => entry.at <= hungAt).at(-1)?.prices;
        const update =
          replica &&
          prices.find((entry) => entry.replica !== serving && entry.at >= replica.at && entry.prices !== frozen);
        return update ? { log, replica, update } : undefined;
      },
      { timeoutMs: 30_000 },
    );
    t.diagnostic(
      `hung replica: other replica named after ${switched.replica.at - hungAt} ms, update after ${switched.update.at - hungAt} ms; states ${JSON.stringify(switched.log.filter((c) => c.what === 'state').map((c) => [c.value, c.at - hungAt]))}`,
    );
    assert.match(switched.replica.value, /^liveview-\d$/);
    assert.ok(switched.update.at - hungAt <= 5_000, `updates resumed after ${switched.update.at - hungAt} ms`);
    await waitFor('live on the other replica', async () => (await state()) === 'connected', { timeoutMs: 10_000 });
  } finally {
    victim.process.signal('SIGCONT');
    stopped.delete(victim);
  }
  assert.deepEqual(
    errors.filter((error) => !/WebSocket|ERR_CONNECTION|502|504|socket\.io/i.test(error)),
    [],
    'no errors in the page beyond the dropped connection',
  );
});
