// `npm run settings`: writes README's variable tables, .env.example and deploy/settings.json
// from the services' schemas (settings-docs.ts), then lets biome align README's tables.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@stockmarket/stack';
import { composePassedNames, dotenvProblems, generatedFiles, parseDotenv } from './settings-docs.js';

const problems = dotenvProblems(
  parseDotenv(readFileSync(join(repoRoot, '.env'), 'utf8')),
  composePassedNames(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')),
);
for (const problem of problems) console.error(`settings: ${problem}`);

for (const file of generatedFiles(repoRoot)) {
  const path = join(repoRoot, file.path);
  const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (file.compare(before) === file.compare(file.expected)) continue;
  writeFileSync(path, file.expected);
  console.log(`settings: wrote ${file.path}`);
}
const biome = spawnSync('npx', ['biome', 'format', '--write', 'README.md'], { cwd: repoRoot, stdio: 'inherit' });
process.exit(problems.length > 0 ? 1 : (biome.status ?? 1));
