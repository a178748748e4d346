// The drills of `npm run drill` on a local stack (one broker node, to keep it short; the broker
// scenarios need the cluster and run with `npm run drill -- all`): a lease holder killed and the
// page's liveview killed, each with its timeline, then the reconciliation verdict over the minutes
// they spanned, which must show no break.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEFAULT_COMPANIES } from '@stockmarket/common';
import { formatDrill, formatVerdict, runDrill, scenarioNamed, waitForVerdict } from '@stockmarket/drill';
import { LOCAL_SCENARIOS, LocalStack } from '@stockmarket/stack';

const companies = [...DEFAULT_COMPANIES];
let stack: LocalStack;
let stackStartedAt: number;

before(async () => {
  stackStartedAt = Date.now();
  stack = await LocalStack.start({
    consumers: 2,
    liveviews: 2,
    consumerEnv: { CONSUMER_MAX_LEASES: '2' },
    publisherEnv: { PUBLISHER_RATE: '150' },
  });
});
after(async () => {
  await stack?.stop();
});

test('a killed lease holder and a killed liveview: the page recovers and the minutes reconcile without a break', async () => {
  const startedAt = Date.now();
  for (const name of ['consumer-kill', 'liveview-kill']) {
    const result = await runDrill(stack.url, stack, scenarioNamed(LOCAL_SCENARIOS, name), { companies });
    console.log(formatDrill(result).replace(/^/gm, '# '));
    assert.ok(
      result.timeline.worstStalenessMs < 60_000,
      `${name}: the page went ${result.timeline.worstStalenessMs} ms without a fresh price`,
    );
  }
  // Up to the minute after the publisher's first, which it published whole: at least one minute
  // per company must match, not only be partial.
  const firstWholeMinute = (Math.floor(stackStartedAt / 60_000) + 1) * 60_000;
  const verdict = await waitForVerdict(stack.url, companies, startedAt, Math.max(Date.now(), firstWholeMinute));
  console.log(formatVerdict(verdict).replace(/^/gm, '# '));
  assert.ok(verdict.ok, formatVerdict(verdict));
  assert.ok((verdict.counts.matched ?? 0) >= companies.length, 'at least one matched minute per company');
});
