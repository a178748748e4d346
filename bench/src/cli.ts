/**
 * `npm run bench -- <name>... [--short]`: benchmarks on the local stack of real servers, never
 * part of the test command. Each benchmark is a module `bench/src/<name>.ts` exporting
 * `run(options)`; results go to bench/results/<name>.json and .md.
 */
// Only types may be imported from this file by the benchmarks: loading it runs the suite.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { resultsDir } from '@stockmarket/stack';

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

const ALL = ['publisher', 'consumer', 'pipeline', 'fanout'];
const args = process.argv.slice(2);
const short = args.includes('--short');
const requested = args.filter((arg) => !arg.startsWith('--'));
const names = requested.length === 0 || requested.includes('all') ? ALL : requested;
mkdirSync(resultsDir, { recursive: true });
const sections: string[] = [];
const suiteStarted = Date.now();
for (const [index, name] of names.entries()) {
  console.log(`\n=== ${index + 1}/${names.length}: ${name}${short ? ' (short)' : ''} ===`);
  const started = Date.now();
  const log = (line: string) => console.log(`[${name} ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`);
  const module = (await import(`./${name}.js`)) as { run(options: BenchOptions): Promise<BenchResult> };
  const result = await module.run({ short, log });
  writeFileSync(
    join(resultsDir, `${name}.json`),
    `${JSON.stringify({ ...result, short, at: new Date().toISOString() }, null, 2)}\n`,
  );
  writeFileSync(join(resultsDir, `${name}.md`), `${result.markdown}\n`);
  sections.push(result.markdown);
  console.log(result.markdown);
}
if (names.length > 1) {
  const header = [
    `# Benchmark report${short ? ' (short run)' : ''}`,
    '',
    `${new Date().toISOString()} · ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}) · ${Math.round(totalmem() / 2 ** 30)} GiB · Node ${process.version} · ${Math.round((Date.now() - suiteStarted) / 60_000)} min`,
    '',
    `Command: \`npm run bench -- ${args.join(' ') || 'all'}\``,
    '',
  ];
  writeFileSync(join(resultsDir, 'report.md'), `${[...header, ...sections].join('\n\n')}\n`);
  console.log(`\nreport: ${join(resultsDir, 'report.md')}`);
}
process.exit(0);
