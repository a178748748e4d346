/**
 * `npm run drill -- <scenario>... | all`: breaks the system on purpose while a probe watches the
 * page. Starts its own local stack (three broker nodes, three consumers with one lease each, two
 * liveviews behind NGINX, the publisher at DRILL_RATE trades/s), runs each scenario in turn and
 * prints its timeline (fault, detection, recovery), then the reconciliation verdict over the
 * minutes the drills spanned. Exits 1 when a drill did not recover or a minute did not reconcile.
 */
import { DEFAULT_COMPANIES } from '@stockmarket/common';
import {
  describeScenarios,
  formatDrill,
  formatVerdict,
  runDrill,
  type Scenario,
  scenarioNamed,
  waitForVerdict,
} from '@stockmarket/drill';
import { stackConfig } from './config.js';
import { LOCAL_SCENARIOS } from './drill/scenarios.js';
import { LocalStack } from './local-stack.js';
import { setInterruptHandler } from './process.js';

const names = process.argv.slice(2);
if (names.length === 0) {
  console.error(`usage: npm run drill -- <scenario>... | all\n${describeScenarios(LOCAL_SCENARIOS)}`);
  process.exit(2);
}
const scenarios: Scenario<LocalStack>[] = names.includes('all')
  ? [...LOCAL_SCENARIOS]
  : names.map((name) => scenarioNamed(LOCAL_SCENARIOS, name));
const companies = [...DEFAULT_COMPANIES];
const rate = stackConfig.DRILL_RATE;

console.log(`starting the local stack (three broker nodes, three consumers, two liveviews, ${rate} trades/s)…`);
const stack = await LocalStack.start({
  brokers: 3,
  consumers: 3,
  liveviews: 2,
  consumerEnv: { CONSUMER_MAX_LEASES: '1' },
  publisherEnv: { PUBLISHER_RATE: String(rate) },
});
setInterruptHandler(async () => {
  console.log('\nstopping…');
  await stack.stop();
});

let failed = false;
try {
  const startedAt = Date.now();
  for (const scenario of scenarios) {
    console.log(`\n${scenario.name}: ${scenario.what}`);
    try {
      console.log(formatDrill(await runDrill(stack.url, stack, scenario, { companies, log: console.log })));
    } catch (error) {
      failed = true;
      console.log(`drill ${scenario.name} FAILED: ${(error as Error).message}`);
    }
  }
  console.log('\nreconciliation: waiting for the minutes the drills spanned to close…');
  const verdict = await waitForVerdict(stack.url, companies, startedAt, Date.now());
  console.log(formatVerdict(verdict));
  if (!verdict.ok) failed = true;
} finally {
  await stack.stop();
}
process.exit(failed ? 1 : 0);
