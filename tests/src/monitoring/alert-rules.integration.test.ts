import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '@stockmarket/stack';

// The monitoring profile's alert rules (reconciliation: a break, a stall), checked and unit-tested
// by Prometheus' own promtool: each alert fires when it should, with its labels and annotations.
const monitoring = join(repoRoot, 'monitoring');

test('promtool accepts the alert rules', () => {
  const output = execFileSync('promtool', ['check', 'rules', 'reconciliation.rules.yml'], {
    cwd: monitoring,
    encoding: 'utf8',
  });
  assert.match(output, /SUCCESS: 2 rules found/);
});

test('promtool test rules: a break fires at once, a stall after 5 + 2 minutes while trades flow, and only then', () => {
  const output = execFileSync('promtool', ['test', 'rules', 'reconciliation.rules.test.yml'], {
    cwd: monitoring,
    encoding: 'utf8',
  });
  assert.match(output, /SUCCESS/);
});

test('prometheus.yml loads the rules', () => {
  const output = execFileSync('promtool', ['check', 'config', 'prometheus.yml'], { cwd: monitoring, encoding: 'utf8' });
  assert.match(output, /1 rule files found/);
});
