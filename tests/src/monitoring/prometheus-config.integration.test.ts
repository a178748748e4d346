import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, LocalStack, ManagedProcess, makeRunDir, repoRoot, waitFor } from '@stockmarket/stack';
import { parse, stringify } from 'yaml';

// monitoring/prometheus.yml (the compose `monitoring` profile) checked by promtool, then its jobs
// exercised by a real Prometheus against the local stack: the same jobs, paths and intervals,
// only each job's compose names swapped for the local stack's addresses.
const configFile = join(repoRoot, 'monitoring', 'prometheus.yml');

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: unknown[];
}

let stack: LocalStack;
let prometheus: ManagedProcess | undefined;

before(async () => {
  stack = await LocalStack.start({ liveviews: 2, consumers: 2 });
});
after(async () => {
  await prometheus?.stop(10_000);
  await stack?.stop();
});

test('promtool accepts monitoring/prometheus.yml', () => {
  const output = execFileSync('promtool', ['check', 'config', configFile], { encoding: 'utf8' });
  assert.match(output, /SUCCESS/);
});

test('a real Prometheus scrapes every job of the file on the local stack, every target up', async () => {
  const config = parse(readFileSync(configFile, 'utf8')) as { global: object; scrape_configs: ScrapeConfig[] };
  const port = await freePort();
  const hostPort = (url: string) => new URL(url).host;
  const local: Record<string, string[]> = {
    publisher: stack.publisher ? [hostPort(stack.publisher.url)] : [],
    consumer: stack.consumers.map((consumer) => hostPort(consumer.url)),
    liveview: stack.liveviews.map((liveview) => hostPort(liveview.url)),
    rabbitmq: [`127.0.0.1:${stack.rabbitmq.prometheusPort}`],
    prometheus: [`127.0.0.1:${port}`],
  };
  const jobs = config.scrape_configs.map((job) => job.job_name);
  assert.deepEqual(jobs.sort(), Object.keys(local).sort(), 'every job of the file has local targets');
  const generated = {
    global: { ...config.global, scrape_interval: '1s', scrape_timeout: '1s' },
    scrape_configs: config.scrape_configs.map(({ dns_sd_configs: _dns, static_configs: _static, ...job }) => ({
      ...job,
      static_configs: [{ targets: local[job.job_name] }],
    })),
  };
  const dir = makeRunDir('prometheus');
  const localConfig = join(dir, 'prometheus.yml');
  writeFileSync(localConfig, stringify(generated));
  execFileSync('promtool', ['check', 'config', localConfig]);
  prometheus = new ManagedProcess({
    name: 'prometheus',
    command: 'prometheus',
    args: [
      `--config.file=${localConfig}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
    ],
    logFile: join(dir, 'prometheus.log'),
    captureOutput: true,
  }).start();
  const running = prometheus;
  let last = '';
  await waitFor(
    'every target up in Prometheus',
    async () => {
      if (!running.running) throw new Error(`prometheus exited:\n${running.output.slice(-2000)}`);
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/targets?state=active`);
      const body = (await response.json()) as {
        data: { activeTargets: { labels: { job: string }; health: string; lastError: string; scrapeUrl: string }[] };
      };
      const targets = body.data.activeTargets;
      last = targets.map((target) => `${target.scrapeUrl} ${target.health} ${target.lastError}`).join('\n');
      const expected = Object.values(local).flat().length;
      return targets.length === expected && targets.every((target) => target.health === 'up');
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}:\n${last}`);
  });
  // The scrape really carried the figures the System view shows.
  const query = async (expression: string) => {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expression)}`);
    return ((await response.json()) as { data: { result: unknown[] } }).data.result.length;
  };
  await waitFor(
    'per-queue and lease figures in Prometheus',
    async () => (await query('rabbitmq_queue_messages')) > 0 && (await query('consumer_lease_held')) > 0,
    { timeoutMs: 15_000, intervalMs: 250 },
  );
});
