// Renders test-artifacts/reliability.json (written by the fault suite) as the Markdown tables of
// docs/reliability.md: `node tests/dist/faults/report.js`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '@stockmarket/stack';
import type { ScenarioRecord } from './ground-truth.js';

const faultColumns = ['published', 'confirmed', 'aggregated', 'deadLettered', 'lost', 'countedTwice'] as const;

// Control characters (a binary body's dead-letter reason quotes it) would make the file binary;
// `__` would turn into bold text.
const cell = (text: unknown) =>
  String(text ?? '')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/g, '?')
    .replace(/\|/g, '\\|')
    .replace(/__/g, '\\_\\_')
    .replace(/\s+/g, ' ');

export function renderReport(records: Record<string, ScenarioRecord>): string {
  const entries = Object.entries(records);
  const faults = entries.filter(([, record]) => record.kind === 'fault');
  const bad = entries.filter(([, record]) => record.kind === 'bad input');
  const security = entries.filter(([, record]) => record.kind === 'security');
  const lines: string[] = [];
  lines.push(
    '| Fault | What happened | Published | Confirmed | Aggregated | Dead-lettered | Lost | Counted twice | Recovery and other figures |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, record] of faults) {
    const figures = record.figures ?? {};
    const rest = Object.entries(figures)
      .filter(([key]) => !(faultColumns as readonly string[]).includes(key))
      .map(([key, value]) => `${key} ${value}`)
      .join(', ');
    lines.push(
      `| **${cell(name)}**: ${cell(record.what)} | ${cell(record.outcome)} | ${faultColumns
        .map((column) => cell(figures[column] ?? '–'))
        .join(' | ')} | ${cell(rest)} |`,
    );
  }
  lines.push('', '| Bad input | Sent | What happened | Figures |', '| --- | --- | --- | --- |');
  for (const [name, record] of bad) {
    const figures = record.figures
      ? Object.entries(record.figures)
          .map(([key, value]) => `${key} ${value}`)
          .join(', ')
      : '';
    lines.push(`| ${cell(name)} | ${cell(record.what)} | ${cell(record.outcome)} | ${cell(figures)} |`);
  }
  lines.push('', '| Security default | Checked | Result |', '| --- | --- | --- |');
  for (const [name, record] of security)
    lines.push(`| ${cell(name)} | ${cell(record.what)} | ${cell(record.outcome)} |`);
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2] ?? join(repoRoot, 'test-artifacts', 'reliability.json');
  process.stdout.write(renderReport(JSON.parse(readFileSync(file, 'utf8')) as Record<string, ScenarioRecord>));
}
