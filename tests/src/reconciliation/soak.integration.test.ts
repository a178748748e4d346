// The soak (issue 23's first "done when"; `npm run soak`, opt-in: STOCKMARKET_SOAK_TESTS=true):
// the drills' local stack (three broker nodes, three consumers with one lease each, two liveviews
// behind NGINX) under DRILL_RATE trades/s for SOAK_MINUTES, cycling through every local drill
// scenario (broker leader kill, stop, pause and partition, lease holder kill -9, liveview kill,
// database stop, NGINX reload) until the time is over, each at least once. Then every closed
// minute of every company from the publisher's first whole minute on must reconcile as matched
// (no break, none pending, none missing), and a real browser must read the same off the System
// view's reconciliation row.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_COMPANIES } from '@stockmarket/common';
import { type DrillResult, formatDrill, formatVerdict, runDrill, waitForVerdict } from '@stockmarket/drill';
import { LOCAL_SCENARIOS, LocalStack, launchBrowser, repoRoot, stackConfig, waitFor } from '@stockmarket/stack';
import type { Browser } from 'playwright-core';
import { companyMinutes, firstWholeMinute, formatSoak, type SoakSummary, unmatched } from './soak-report.js';

const skip = stackConfig.STOCKMARKET_SOAK_TESTS ? false : 'opt-in: npm run soak (STOCKMARKET_SOAK_TESTS=true)';
const MINUTES = stackConfig.SOAK_MINUTES;
const RATE = stackConfig.DRILL_RATE;
const companies = [...DEFAULT_COMPANIES];
const artifacts = join(repoRoot, 'test-artifacts');
const progress = join(artifacts, 'soak.log');

/** Each line goes to the test's output and to test-artifacts/soak.log, to follow a long run. */
function log(text: string): void {
  console.log(text.replace(/^/gm, '# '));
  appendFileSync(progress, `${text}\n`);
}

let stack: LocalStack;
let publisherStartedAt: number;
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(progress, '');
  log(`starting the local stack (three broker nodes, three consumers, two liveviews, ${RATE} trades/s)…`);
  stack = await LocalStack.start({
    brokers: 3,
    consumers: 3,
    liveviews: 2,
    consumerEnv: { CONSUMER_MAX_LEASES: '1' },
    publisherEnv: { PUBLISHER_RATE: String(RATE) },
    // A replica killed by a drill starts its tally again: its window must still reach back to
    // the soak's first minute for the page's count to cover the whole span (a cycle can run past
    // SOAK_MINUTES by up to one full cycle, about 7 minutes).
    liveviewEnv: { LIVEVIEW_RECONCILE_WINDOW_MINUTES: String(MINUTES + 20) },
  });
  // The publisher started last, just before this: its first minute is partial.
  publisherStartedAt = Date.now();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Every scenario in turn, again and again until SOAK_MINUTES are over, each at least once. */
async function cycleDrills(until: number): Promise<{ drills: DrillResult[]; failures: string[] }> {
  const drills: DrillResult[] = [];
  const failures: string[] = [];
  for (let i = 0; Date.now() < until || i < LOCAL_SCENARIOS.length; i++) {
    const scenario = LOCAL_SCENARIOS[i % LOCAL_SCENARIOS.length];
    if (!scenario) throw new Error('no drill scenarios');
    log(`\n[${new Date().toISOString().slice(11, 19)}] ${scenario.name}: ${scenario.what}`);
    try {
      const result = await runDrill(stack.url, stack, scenario, { companies, log });
      drills.push(result);
      log(formatDrill(result));
    } catch (error) {
      failures.push(`${scenario.name}: ${(error as Error).message}`);
      log(`drill ${scenario.name} FAILED: ${(error as Error).message}`);
    }
  }
  return { drills, failures };
}

/** The System view's reconciliation row, as the browser shows it through NGINX. */
async function readPage(atLeastMatched: number): Promise<NonNullable<SoakSummary['page']>> {
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
  await page.goto(stack.url);
  const row = '#system [data-part="reconciliation"] [data-matched]';
  const read = () =>
    page.evaluate((selector) => {
      const element = document.querySelector<HTMLElement>(selector);
      if (!element) return undefined;
      return {
        replica: document.body.dataset.replica ?? '',
        matched: Number(element.dataset.matched),
        breaks: Number(element.dataset.breaks),
        breaksNow: Number(element.dataset.breaksNow),
      };
    }, row);
  // The row follows the replica's rounds (every 5 s) and its system picture (about every second).
  const shown = await waitFor(
    `the reconciliation row to count at least ${atLeastMatched} matched company-minutes`,
    async () => {
      const found = await read();
      return found && found.matched >= atLeastMatched ? found : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}; the row reads ${JSON.stringify(await read())}`);
  });
  await page.locator('#system').screenshot({ path: join(artifacts, 'soak-system-view.png') });
  return shown;
}

test(`soak: ${MINUTES} min at ${RATE} trades/s with every drill fault, every closed minute matched, on the page too`, {
  skip,
}, async () => {
  const startedAt = Date.now();
  const { drills, failures } = await cycleDrills(startedAt + MINUTES * 60_000);
  const endedAt = Date.now();
  log('\nreconciliation: waiting for every minute of the soak to be final…');
  const from = firstWholeMinute(publisherStartedAt);
  const verdict = await waitForVerdict(stack.url, companies, from, endedAt, 300_000);
  log(formatVerdict(verdict));
  const problems = unmatched(verdict.minutes, companies, verdict.from, verdict.to);
  const expected = companyMinutes(companies, verdict.from, verdict.to);
  // The page is read even when the verdict failed: the summary shows both.
  const page = await readPage(problems.length === 0 ? expected : 0);
  const publisher = stack.publisher;
  assert.ok(publisher);
  const summary: SoakSummary = {
    minutes: MINUTES,
    rate: RATE,
    startedAt,
    endedAt,
    drills,
    failures,
    verdict,
    companies,
    published: await publisher.metric('publisher_published_total'),
    confirmed: await publisher.metric('publisher_confirmed_total'),
    page,
  };
  log(`\n${formatSoak(summary)}`);
  writeFileSync(join(artifacts, 'soak-summary.txt'), `${formatSoak(summary)}\n`);

  assert.deepEqual(failures, [], 'every drill recovered');
  const injected = new Set(drills.map((drill) => drill.scenario));
  assert.deepEqual(
    LOCAL_SCENARIOS.map((scenario) => scenario.name).filter((name) => !injected.has(name)),
    [],
    'every fault injected at least once',
  );
  assert.deepEqual(problems, [], `every closed minute of every company matched\n${formatVerdict(verdict)}`);
  assert.equal(verdict.counts.matched, expected);
  assert.ok(page.matched >= expected, `the page counts ${page.matched} matched, the verdict ${expected}`);
  assert.equal(page.breaks, 0, `the page's replica ${page.replica} found breaks`);
  for (const liveview of stack.liveviews) {
    assert.equal(await liveview.metric('liveview_reconciliation_breaks_total'), 0, liveview.process.options.name);
  }
});
