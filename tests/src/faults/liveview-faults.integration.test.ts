// Faults on the reading side: a browser and 100 socket.io clients through NGINX while a liveview
// replica is killed, and while NGINX is reloaded with a different list of replicas. NGINX
// routes by its browser cookie (nginx/http.conf); the 100 clients send the browser's, so all are
// on one replica: the one to kill.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  LocalStack,
  launchBrowser,
  pageChanges,
  recordPageChanges,
  type ServiceProcess,
  waitFor,
} from '@stockmarket/stack';
import type { Browser, Page } from 'playwright-core';
import { recordScenario } from './ground-truth.js';
import { PageWatch } from './page-watch.js';

const CLIENTS = 100;
let stack: LocalStack;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  stack = await LocalStack.start({
    liveviews: 2,
    consumers: 1,
    publisherEnv: { TICKER_INTERVAL: '50' },
    consumerEnv: { CONSUMER_FLUSH_INTERVAL_MS: '250' },
  });
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.goto(stack.url);
  await waitFor('prices on the page', async () => /\d+\.\d\d/.test((await page.textContent('#tiles')) ?? ''), {
    timeoutMs: 60_000,
  });
  const cookie = (await page.context().cookies(stack.url)).find((entry) => entry.name === 'stockmarket_browser');
  assert.ok(cookie, "NGINX's browser cookie");
  watch = await PageWatch.open(stack.url, CLIENTS, 60_000, `${cookie.name}=${cookie.value}`);
});
after(async () => {
  watch?.close();
  await browser?.close();
  await stack?.stop();
});

test('kill -9 of the replica serving a browser and 100 clients: all updating again within 5 s', async (t) => {
  const serving = watch.replicas[0] ?? '';
  assert.ok(
    watch.replicas.every((replica) => replica === serving),
    'every client from one address is on one replica',
  );
  assert.equal(await page.textContent('#replica'), serving, 'the browser too');
  const victim = stack.liveviews.find((_liveview, index) => `liveview-${index + 1}` === serving) as ServiceProcess;
  assert.ok(victim, `the replica ${serving} is one of the stack's`);
  await recordPageChanges(page);
  const killedAt = Date.now();
  await victim.kill();
  // Per client: the first update after a snapshot from another replica.
  const delays = await waitFor(
    `all ${CLIENTS} clients updating from another replica`,
    () => {
      const all = watch.snapshots.map((snapshots, index) => {
        const moved = snapshots.find((snapshot) => snapshot.at > killedAt && snapshot.replica !== serving);
        const update = moved && watch.updates[index]?.find((at) => at > moved.at);
        return update === undefined ? undefined : update - killedAt;
      });
      return all.every((delay) => delay !== undefined) ? (all as number[]) : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  const browserDelay = await waitFor(
    'the browser updating from another replica',
    async () => {
      const log = await pageChanges(page);
      const moved = log.find((change) => change.what === 'replica' && change.value !== serving);
      const update = moved && log.find((change) => change.what === 'price' && change.at > moved.at);
      return update ? update.at - killedAt : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  const sorted = [...delays].sort((a, b) => a - b);
  const figures = {
    clients: CLIENTS,
    browser: 1,
    clientsUpdatingAgain: delays.length,
    medianMs: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    browserMs: browserDelay,
  };
  recordScenario('liveview-kill-9', {
    kind: 'fault',
    what: `kill -9 of the liveview replica serving a browser and ${CLIENTS} socket.io clients (all from 127.0.0.1) through NGINX`,
    outcome: figures.maxMs <= 5_000 && browserDelay <= 5_000 ? 'all updating again within 5 s' : 'FAILED: over 5 s',
    figures,
  });
  t.diagnostic(JSON.stringify(figures));
  assert.ok(figures.maxMs <= 5_000, `slowest client updating again after ${figures.maxMs} ms`);
  assert.ok(browserDelay <= 5_000, `browser updating again after ${browserDelay} ms`);
  await victim.restart();
});

test('NGINX reloaded with another list of replicas: connected clients keep updating, new ones use the new list', async (t) => {
  const third = await stack.addLiveview();
  const current = watch.replicas[0] ?? '';
  const disconnectsBefore = watch.disconnects.reduce((sum, count) => sum + count, 0);
  // Only the new replica in the list: the current one is no longer in it.
  const reloadedAt = Date.now();
  stack.nginx?.reload([third.port]);
  const newListMs = await waitFor(
    'a new request to be served by liveview-3',
    async () => {
      const response = await fetch(`${stack.url}/api/info`);
      return response.headers.get('x-served-by') === 'liveview-3' ? Date.now() - reloadedAt : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  // The connected clients stay on their replica (the old NGINX worker keeps their connections).
  const updateMs = await watch.allUpdatedAfter(Date.now(), 30_000);
  const disconnects = watch.disconnects.reduce((sum, count) => sum + count, 0) - disconnectsBefore;
  const fresh = await PageWatch.open(stack.url, 5);
  const newReplicas = [...new Set(fresh.replicas)];
  const updateNewMs = await fresh.allUpdatedAfter(Date.now(), 30_000);
  fresh.close();
  const newPage = await browser.newPage();
  try {
    await newPage.goto(stack.url);
    await waitFor(
      'the new page to name its replica',
      async () => (await newPage.textContent('#replica')) === 'liveview-3',
      {
        timeoutMs: 30_000,
      },
    );
  } finally {
    await newPage.close();
  }
  // Back to all three: still serving.
  stack.nginx?.reload(stack.liveviews.map((liveview) => liveview.port));
  await waitFor('NGINX to serve after the second reload', async () => (await fetch(`${stack.url}/api/info`)).ok, {
    timeoutMs: 30_000,
  });
  const figures = {
    clients: CLIENTS,
    oldReplica: current,
    newConnectionsServedBy: newReplicas.join(','),
    newListInEffectMs: newListMs,
    connectedClientsUpdatedWithinMs: updateMs,
    connectedClientsDisconnected: disconnects,
    newClientsUpdatedWithinMs: updateNewMs,
  };
  recordScenario('nginx-reload', {
    kind: 'fault',
    what: `NGINX reloaded (SIGHUP) from [liveview-1, liveview-2] to [liveview-3] with a browser and ${CLIENTS} clients connected`,
    outcome:
      disconnects === 0 && newReplicas.join() === 'liveview-3'
        ? 'connected clients kept updating without a disconnect; new connections and pages went to liveview-3'
        : 'FAILED (see figures)',
    figures,
  });
  t.diagnostic(JSON.stringify(figures));
  assert.equal(disconnects, 0, 'no connected client dropped by the reload');
  assert.deepEqual(newReplicas, ['liveview-3'], 'new connections use the new list');
});
