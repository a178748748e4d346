/**
 * `npm run bench -- <name>... [--short]`: benchmarks on the local stack of real servers, never
 * part of the test command. Each benchmark is a module `stack/src/bench/<name>.ts` exporting
 * `run(options)`; results go to bench/results/<name>.json and .md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';

export interface BenchOptions {
  /** A quick run (seconds) instead of the full one (minutes). */
  readonly short: boolean;
  readonly log: (line: string) => void;
}

export interface BenchResult {
  readonly name: string;
  /** Machine-readable figures. */
  readonly data: unknown;
  /** The report section, Markdown. */
  readonly markdown: string;
}

export const resultsDir = join(repoRoot, 'bench', 'results');

const args = process.argv.slice(2);
const short = args.includes('--short');
const names = args.filter((arg) => !arg.startsWith('--'));
if (names.length === 0) {
  console.error('usage: npm run bench -- <publisher|consumer|fanout|pipeline|...> [--short]');
  process.exit(2);
}
mkdirSync(resultsDir, { recursive: true });
for (const name of names) {
  const started = Date.now();
  const log = (line: string) => console.log(`[${name} ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`);
  const module = (await import(`./${name}.js`)) as { run(options: BenchOptions): Promise<BenchResult> };
  const result = await module.run({ short, log });
  writeFileSync(
    join(resultsDir, `${name}.json`),
    `${JSON.stringify({ ...result, short, at: new Date().toISOString() }, null, 2)}\n`,
  );
  writeFileSync(join(resultsDir, `${name}.md`), `${result.markdown}\n`);
  console.log(result.markdown);
}
process.exit(0);
