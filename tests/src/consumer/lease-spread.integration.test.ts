// Competing consumers with one lease each (CONSUMER_MAX_LEASES' default of 1, as docker compose runs them):
// the replicas spread the companies between them at start, after the broker restarts, and hand a
// dead holder's company to a replica that has none, not to a busy one. Real broker and FerretDB;
// the cap and the lease round (CONSUMER_LEASE_RETRY_MS 1000) are the service's defaults.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEFAULT_COMPANIES } from '@stockmarket/common';
import { FerretDbServer, RabbitMqServer, ServiceProcess, waitFor } from '@stockmarket/stack';

const COMPANIES = [...DEFAULT_COMPANIES];
let rabbitmq: RabbitMqServer;
let mongo: FerretDbServer;
const replicas: ServiceProcess[] = [];

before(async () => {
  [rabbitmq, mongo] = await Promise.all([RabbitMqServer.start(), FerretDbServer.start()]);
});
after(async () => {
  await Promise.allSettled(replicas.map((replica) => replica.stop()));
  await Promise.allSettled([rabbitmq?.stop(), mongo?.stop()]);
});

function startReplica(label: string): Promise<ServiceProcess> {
  return ServiceProcess.start(
    'consumer',
    {
      RABBITMQ_URL: rabbitmq.url('consumer'),
      MONGODB_URL: mongo.url,
      MONGODB_DB: 'leases',
      COMPANIES: COMPANIES.join(','),
    },
    { label },
  );
}

/** Leases held by each living replica, in start order. */
async function spread(of: readonly ServiceProcess[]): Promise<number[]> {
  return Promise.all(of.map((replica) => replica.metric('consumer_leases_held')));
}

async function waitForSpread(what: string, of: readonly ServiceProcess[], expected: number[]): Promise<number> {
  const since = Date.now();
  let last: number[] = [];
  try {
    await waitFor(
      `${what}: leases ${JSON.stringify(expected)}`,
      async () => {
        last = await spread(of);
        return JSON.stringify(last) === JSON.stringify(expected);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message} (held at the deadline: ${JSON.stringify(last)})`);
  }
  const tookMs = Date.now() - since;
  console.log(`# ${what}: ${JSON.stringify(expected)} after ${tookMs} ms`);
  return tookMs;
}

test('three replicas with one lease each write one company each; a dead holder’s company goes to the idle replica', async () => {
  const holders = await Promise.all(['a', 'b', 'c'].map((name) => startReplica(`consumer-spread-${name}`)));
  replicas.push(...holders);
  await waitForSpread('three replicas started together', holders, [1, 1, 1]);

  const standby = await startReplica('consumer-spread-standby');
  replicas.push(standby);
  await waitForSpread('a fourth replica stands by', [...holders, standby], [1, 1, 1, 0]);

  // kill -9 of a holder: the broker frees its lease queue at once; the standby (below its cap)
  // takes it before either busy replica's patience runs out.
  const [dead, ...alive] = holders as [ServiceProcess, ServiceProcess, ServiceProcess];
  await dead.kill();
  await waitForSpread('the holder killed', [...alive, standby], [1, 1, 1]);

  // The broker restarts: every connection and lease is gone, and the replicas come back spread.
  await rabbitmq.pause();
  await rabbitmq.resume();
  await waitForSpread('the broker restarted', [...alive, standby], [1, 1, 1]);
  assert.ok(
    [...alive, standby].every((replica) => replica.process.running),
    'no replica exited',
  );
});
