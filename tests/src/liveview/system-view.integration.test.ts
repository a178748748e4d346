import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_COMPANIES } from '@stockmarket/common';
import {
  FerretDbServer,
  freePort,
  launchBrowser,
  NginxServer,
  RabbitMqServer,
  repoRoot,
  ServiceProcess,
  TAKE_EVERY_LEASE,
  waitFor,
} from '@stockmarket/stack';
import type { Browser, Page } from 'playwright-core';

// The System view in headless Chromium through NGINX on the local stack: two liveview replicas,
// two consumers (one holds every lease, one stands by), the publisher, RabbitMQ with
// rabbitmq_prometheus and FerretDB. Each fault must show in the event log with its duration and
// in the topology within 3 s.
const artifacts = join(repoRoot, 'test-artifacts');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SHOWN_WITHIN_MS = 3_000;

let rabbitmq: RabbitMqServer;
let mongo: FerretDbServer;
let nginx: NginxServer;
let browser: Browser;
let page: Page;
const services = new Map<string, ServiceProcess>();
const errors: string[] = [];

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  [rabbitmq, mongo] = await Promise.all([RabbitMqServer.start(), FerretDbServer.start()]);
  // Ports first: every liveview replica is configured with every service's /metrics.
  const names = ['publisher', 'consumer-1', 'consumer-2', 'liveview-1', 'liveview-2'];
  const ports = new Map<string, number>();
  for (const name of names) ports.set(name, await freePort());
  const targets = names.map((name) => `${name}=http://127.0.0.1:${ports.get(name)}`).join(',');
  const consumerEnv = {
    RABBITMQ_URL: rabbitmq.url('consumer'),
    MONGODB_URL: mongo.url,
    MONGODB_WRITE_CONCERN: '1',
    CONSUMER_CANDLE_1S_RETENTION_MINUTES: '60',
    ...TAKE_EVERY_LEASE,
  };
  // consumer-1 first, so it takes every lease and consumer-2 stands by.
  for (const name of ['consumer-1', 'consumer-2']) {
    services.set(name, await ServiceProcess.start('consumer', consumerEnv, { label: name, port: ports.get(name) }));
    const consumer = services.get(name);
    if (name === 'consumer-1' && consumer) {
      await waitFor(
        'consumer-1 to hold every lease',
        async () => (await consumer.metric('consumer_leases_held')) === DEFAULT_COMPANIES.length,
        { timeoutMs: 20_000 },
      );
    }
  }
  for (const name of ['liveview-1', 'liveview-2']) {
    services.set(
      name,
      await ServiceProcess.start(
        'liveview',
        {
          MONGODB_URL: mongo.url,
          LIVEVIEW_REPLICA_NAME: name,
          LIVEVIEW_SYSTEM_TARGETS: targets,
          LIVEVIEW_SYSTEM_RABBITMQ_METRICS_URLS: rabbitmq.metricsUrl,
        },
        { label: name, port: ports.get(name) },
      ),
    );
  }
  nginx = await NginxServer.start([ports.get('liveview-1') as number, ports.get('liveview-2') as number]);
  services.set(
    'publisher',
    await ServiceProcess.start(
      'publisher',
      { RABBITMQ_URL: rabbitmq.url('publisher'), TICKER_INTERVAL: '100' },
      { port: ports.get('publisher') },
    ),
  );
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(nginx.url);
});

after(async () => {
  await browser?.close();
  await Promise.allSettled([...services.values()].map((service) => service.stop(10_000)));
  await Promise.allSettled([nginx?.stop(), rabbitmq?.stop(), mongo?.stop()]);
});

const part = (name: string) => `#system [data-part="${name}"]`;
const node = (partName: string, name: string) => `${part(partName)} li[data-name="${name}"]`;
/** A node's data-up now (no waiting: playwright's own waits would stall the polling). */
const upState = (partName: string, name: string) =>
  page.evaluate((selector) => document.querySelector<HTMLElement>(selector)?.dataset.up ?? null, node(partName, name));
const isUp = async (partName: string, name: string) => (await upState(partName, name)) === 'true';
const isDown = async (partName: string, name: string) => (await upState(partName, name)) === 'false';
const attribute = (selector: string, name: string) =>
  page.evaluate(
    ([sel, attr]) => document.querySelector(sel as string)?.getAttribute(attr as string) ?? null,
    [selector, name],
  );
const textOf = (selector: string) => page.evaluate((sel) => document.querySelector(sel)?.textContent ?? '', selector);
const serving = () => page.evaluate(() => document.body.dataset.replica ?? '');

interface LoggedEvent {
  kind: string;
  text: string;
  durationMs?: number;
}
const events = () =>
  page.$$eval(`${part('events')} li[data-kind]`, (items) =>
    items.map((item) => ({
      kind: (item as HTMLElement).dataset.kind ?? '',
      text: item.textContent ?? '',
      durationMs: (item as HTMLElement).dataset.durationMs
        ? Number((item as HTMLElement).dataset.durationMs)
        : undefined,
    })),
  );
async function waitForEvent(what: string, match: (event: LoggedEvent) => boolean, timeoutMs = 10_000) {
  let found: LoggedEvent | undefined;
  await waitFor(
    what,
    async () => {
      found = (await events()).find(match);
      return found !== undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
  return found as LoggedEvent;
}
/** Waits for the condition and returns how long it took from `since`. */
async function shownAfter(what: string, since: number, condition: () => Promise<boolean>): Promise<number> {
  await waitFor(what, condition, { timeoutMs: 15_000, intervalMs: 50 });
  return Date.now() - since;
}

async function axeViolations(target: Page): Promise<string[]> {
  await target.evaluate(axeSource);
  const found = await target.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(context: string): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }>;
        };
      }
    ).axe;
    const result = await axe.run('#system');
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      n: violation.nodes.length,
    }));
  });
  return found
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}, ${violation.n} nodes)`);
}

test('the System view draws every part of the system', async () => {
  const everyPart = waitFor(
    'every service up in the System view',
    async () =>
      (await isUp('publishers', 'publisher')) &&
      (await isUp('broker', 'rabbitmq')) &&
      (await isUp('consumers', 'consumer-1')) &&
      (await isUp('consumers', 'consumer-2')) &&
      (await isUp('liveviews', 'liveview-1')) &&
      (await isUp('liveviews', 'liveview-2')) &&
      (await attribute(`${part('database')} [data-state]`, 'data-state')) === 'PRIMARY',
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  await everyPart.catch(async (error: Error) => {
    await page.screenshot({ path: join(artifacts, 'system-view-failed.png') });
    throw new Error(
      `${error.message}; the view: ${await page.evaluate(() => document.querySelector('#system')?.outerHTML)}`,
    );
  });
  assert.match(await textOf(part('database')), /FerretDB \(stand-in\)/);
  const leases = await attribute(`${node('consumers', 'consumer-1')} .leases`, 'data-leases');
  assert.ok(leases && leases.split(',').length >= 1, `consumer-1 holds the leases (${leases})`);
  assert.equal(await attribute(`${node('consumers', 'consumer-2')} .leases`, 'data-leases'), '');
  // The serving replica is marked; trades flow through the broker.
  const servedBy = await serving();
  assert.ok(await page.isVisible(`${node('liveviews', servedBy)} .serving`));
  await waitFor(
    'publish and deliver rates above 0',
    async () => {
      const text = (await textOf(part('broker'))) ?? '';
      return /publish\/s\s*[1-9]/.test(text) && /deliver\/s\s*[1-9]/.test(text);
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  assert.match((await textOf(part('broker'))) ?? '', /trades\.AAPL|AAPL/);
  await page.locator('#system').screenshot({ path: join(artifacts, 'system-view.png') });
  assert.deepEqual(await axeViolations(page), []);
});

test('kill -9 of the serving liveview: the page moves, the log says how long it took', async (t) => {
  const before = await serving();
  const other = before === 'liveview-1' ? 'liveview-2' : 'liveview-1';
  const killedAt = Date.now();
  await services.get(before)?.kill();
  const took = await shownAfter(
    'the topology to show the new serving replica',
    killedAt,
    async () =>
      (await serving()) === other &&
      (await isDown('liveviews', before)) &&
      (await page.isVisible(`${node('liveviews', other)} .serving`)),
  );
  t.diagnostic(`new serving replica shown ${took} ms after kill -9`);
  assert.ok(took <= SHOWN_WITHIN_MS, `new serving replica shown after ${took} ms`);
  const moved = await waitForEvent('the failover in the log', (event) =>
    event.text.includes(`${before} lost -> ${other} in`),
  );
  assert.ok((moved.durationMs ?? -1) >= 0 && (moved.durationMs ?? 0) < SHOWN_WITHIN_MS, moved.text);
  await waitForEvent('the lost replica in the gathered log', (event) => event.text.trim().endsWith(`${before} lost`));
  // Back again: the log says how long it was away.
  await services.get(before)?.restart();
  const back = await waitForEvent('the replica back', (event) => event.text.includes(`${before} back after`));
  assert.ok((back.durationMs ?? 0) > 0, back.text);
});

test('kill -9 of the consumer holding the leases: the standby takes them', async (t) => {
  const killedAt = Date.now();
  await services.get('consumer-1')?.kill();
  const took = await shownAfter('consumer-2 to show the leases', killedAt, async () => {
    const leases = await attribute(`${node('consumers', 'consumer-2')} .leases`, 'data-leases');
    return Boolean(leases) && (await isDown('consumers', 'consumer-1'));
  });
  t.diagnostic(`new lease owner shown ${took} ms after kill -9`);
  assert.ok(took <= SHOWN_WITHIN_MS, `new lease owner shown after ${took} ms`);
  const moved = await waitForEvent('the lease move in the log', (event) =>
    / lease consumer-1 -> consumer-2 in /.test(event.text),
  );
  assert.equal(moved.kind, 'lease-moved');
  assert.ok((moved.durationMs ?? -1) >= 0, moved.text);
});

test('the broker stopped and restarted: unreachable, then how long', async (t) => {
  const stoppedAt = Date.now();
  const paused = rabbitmq.pause();
  const took = await shownAfter('the broker down in the topology', stoppedAt, () => isDown('broker', 'rabbitmq'));
  await waitForEvent('broker unreachable in the log', (event) => event.kind === 'broker-down');
  await paused;
  assert.ok(took <= SHOWN_WITHIN_MS + 30_000, `broker down shown after ${took} ms`);
  const restartedAt = Date.now();
  await rabbitmq.resume();
  const back = await waitForEvent('the outage with its duration', (event) => event.kind === 'broker-back', 15_000);
  t.diagnostic(`logged: ${back.text.trim()}`);
  assert.match(back.text, /broker unreachable \d+\.\d s/);
  assert.ok((back.durationMs ?? 0) > 0, back.text);
  const shown = await shownAfter('the broker up again', restartedAt, () => isUp('broker', 'rabbitmq'));
  assert.ok(shown <= 15_000);
  await waitFor(
    'consumer-2 writing again after the restart',
    async () => Boolean(await attribute(`${node('consumers', 'consumer-2')} .leases`, 'data-leases')),
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  // The view after all three faults, for docs/liveview.md.
  await page.locator('#system').screenshot({ path: join(artifacts, 'system-view-after-faults.png') });
});

test('phone width and keyboard: no sideways scroll, the skip link reaches the System view', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow} px wider than the phone`);
  await page.locator('#system').screenshot({ path: join(artifacts, 'system-view-phone.png') });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('href')), '#system');
  await page.keyboard.press('Enter');
  await waitFor('the System view in view', () => page.locator('#system-title').isVisible(), { timeoutMs: 2_000 });
  const top = await page.evaluate(() => document.querySelector('#system')?.getBoundingClientRect().top ?? -1);
  assert.ok(top >= -1 && top < 100, `System view top at ${top}`);
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(errors, []);
});
