import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DrillResult, ReconciledMinute, Verdict } from '@stockmarket/drill';
import {
  companyMinutes,
  faultsByScenario,
  firstWholeMinute,
  formatSoak,
  spanTrades,
  unmatched,
} from './soak-report.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 7, 12, 0);

const minute = (company: string, at: number, status = 'matched', trades = 10): ReconciledMinute => ({
  company,
  minute: at,
  status,
  text: status === 'matched' ? `${trades} trades` : 'lost 1',
  ledger: { trades },
  booked: { trades: status === 'matched' ? trades : trades - 1 },
});

test('the first whole minute is the one after the publisher started, even on a minute boundary', () => {
  assert.equal(firstWholeMinute(T0 + 59_999), T0 + MINUTE);
  assert.equal(firstWholeMinute(T0), T0 + MINUTE);
});

test('every company-minute of the span must be there and matched', () => {
  const from = T0;
  const to = T0 + 2 * MINUTE;
  assert.equal(companyMinutes(['AAPL', 'TSLA'], from, to), 6);
  const all = ['AAPL', 'TSLA'].flatMap((company) => [0, 1, 2].map((i) => minute(company, T0 + i * MINUTE)));
  assert.deepEqual(unmatched(all, ['AAPL', 'TSLA'], from, to), []);
  const broken = all.filter((item) => !(item.company === 'AAPL' && item.minute === T0 + MINUTE));
  broken.push(minute('AAPL', T0 + MINUTE, 'break'));
  const missing = broken.filter((item) => !(item.company === 'TSLA' && item.minute === to));
  assert.deepEqual(unmatched(missing, ['AAPL', 'TSLA'], from, to), [
    'AAPL 12:01: break (lost 1)',
    'TSLA 12:02: missing',
  ]);
});

const drill = (scenario: string, worstStalenessMs: number): DrillResult => ({
  scenario,
  what: scenario,
  target: `${scenario}-target`,
  faultAt: T0,
  endedAt: T0 + 10_000,
  events: [],
  timeline: { worstStalenessMs, failedRequests: 0, detectedMs: 100, recoveredMs: 900 },
});

test('the summary counts faults per scenario with their longest stale period, and the trades of the span', () => {
  const drills = [drill('consumer-kill', 4_700), drill('nginx-reload', 1_300), drill('consumer-kill', 6_100)];
  assert.deepEqual(faultsByScenario(drills), [
    { scenario: 'consumer-kill', count: 2, worstMs: 6_100 },
    { scenario: 'nginx-reload', count: 1, worstMs: 1_300 },
  ]);
  const minutes = [minute('AAPL', T0), minute('AAPL', T0 + MINUTE, 'break')];
  const verdict: Verdict = {
    ok: false,
    from: T0,
    to: T0 + MINUTE,
    counts: { matched: 1, break: 1 },
    minutes,
    notMatched: [minutes[1] as ReconciledMinute],
  };
  assert.deepEqual(spanTrades(verdict), { ledger: 20, booked: 19 });
  const text = formatSoak({
    minutes: 2,
    rate: 300,
    startedAt: T0,
    endedAt: T0 + 2 * MINUTE,
    drills,
    failures: [],
    verdict,
    companies: ['AAPL'],
    published: 36_000,
    confirmed: 35_990,
    page: { replica: 'liveview-1', matched: 1, breaks: 1, breaksNow: 1 },
  });
  assert.match(text, /consumer-kill +×2 {2}longest 6\.1 s/);
  assert.match(text, /2 company-minutes expected \(1 companies\), 1 matched, 1 break/);
  assert.match(text, /36,000 published, 35,990 confirmed .* 20 in the ledger, 19 stored/);
  assert.match(text, /page \(liveview-1\): System view reconciliation row matched 1, breaks 1 \(1 now\)/);
});
