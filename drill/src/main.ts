/**
 * The compose drill, a one-shot: `docker compose --profile drill run --rm drill <scenario>... | all`.
 * Breaks this compose project on purpose through the Docker Engine API (the mounted socket),
 * while a probe reads the page through NGINX as a browser would; prints each drill's timeline
 * (fault, detection, recovery), then the reconciliation verdict over the minutes the drills
 * spanned. Exits 1 when a drill did not recover or a minute did not reconcile, 2 on bad usage.
 */
import { ConfigError } from '@stockmarket/common';
import { ComposeProject } from './compose/project.js';
import { COMPOSE_SCENARIOS, type ComposeSystem } from './compose/scenarios.js';
import { loadDrillConfig } from './config.js';
import { formatDrill, runDrill } from './run.js';
import { describeScenarios, type Scenario, scenarioNamed } from './scenario.js';
import { formatVerdict, waitForVerdict } from './verdict.js';

const names = process.argv.slice(2);
const usage = `usage: docker compose --profile drill run --rm drill <scenario>... | all\n${describeScenarios(COMPOSE_SCENARIOS)}`;
if (names.length === 0 || names.includes('--help') || names.includes('list')) {
  console.log(usage);
  process.exit(names.length === 0 ? 2 : 0);
}

let scenarios: Scenario<ComposeSystem>[];
let config: ReturnType<typeof loadDrillConfig>;
try {
  config = loadDrillConfig();
  scenarios = names.includes('all')
    ? [...COMPOSE_SCENARIOS]
    : names.map((name) => scenarioNamed(COMPOSE_SCENARIOS, name));
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `${(error as Error).message}\n${usage}`);
  process.exit(2);
}

const project = await ComposeProject.connect(config.DRILL_COMPOSE_PROJECT);
const system: ComposeSystem = { project, holdMs: config.DRILL_HOLD_MS };
const companies = config.COMPANIES;
console.log(`compose project ${project.name}; the page at ${config.DRILL_URL}; companies ${companies.join(', ')}`);

let failed = false;
const startedAt = Date.now();
for (const scenario of scenarios) {
  console.log(`\n${scenario.name}: ${scenario.what}`);
  try {
    const result = await runDrill(config.DRILL_URL, system, scenario, {
      companies,
      recoveryTimeoutMs: config.DRILL_RECOVERY_TIMEOUT_MS,
      log: console.log,
    });
    console.log(formatDrill(result));
  } catch (error) {
    failed = true;
    console.log(`drill ${scenario.name} FAILED: ${(error as Error).message}`);
  }
}
console.log('\nreconciliation: waiting for the minutes the drills spanned to close (grace period included)…');
try {
  const verdict = await waitForVerdict(
    config.DRILL_URL,
    companies,
    startedAt,
    Date.now(),
    config.DRILL_VERDICT_TIMEOUT_MS,
  );
  console.log(formatVerdict(verdict));
  if (!verdict.ok) failed = true;
} catch (error) {
  failed = true;
  console.log(`reconciliation verdict FAILED: ${(error as Error).message}`);
}
process.exit(failed ? 1 : 0);
