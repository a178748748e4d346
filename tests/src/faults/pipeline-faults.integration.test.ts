// Faults in the pipeline under steady load (publisher -> RabbitMQ -> consumer -> FerretDB), one
// stack for the whole file. Each test is a phase: a tracing publisher runs, one fault is injected,
// the publisher is stopped (it drains its confirms), and the ground truth is checked over every
// trade sent since the stack started: each confirmed trade stored exactly once, every candle
// equal to what its trades give, and the page updating again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LocalStack, queueDepth, rssMb, type ServiceProcess, waitFor } from '@stockmarket/stack';
import { confirmedMore, runFaultPhase } from './fault-phase.js';
import {
  bufferedTrades,
  COMPANIES,
  type Figures,
  GroundTruth,
  metricOf,
  recordScenario,
  secretsInLogs,
} from './ground-truth.js';
import { PageWatch } from './page-watch.js';

const PREFETCH = 400;
// Small prefetch and batches so the back-pressure bound is reached within seconds.
const CONSUMER_ENV = { CONSUMER_PREFETCH: String(PREFETCH), BATCH_SIZE: '200', CONSUMER_FLUSH_INTERVAL_MS: '500' };
let stack: LocalStack;
let truth: GroundTruth;
let page: PageWatch;
const publishers: ServiceProcess[] = [];

before(async () => {
  stack = await LocalStack.start({
    consumers: 1,
    liveviews: 1,
    publisher: false,
    consumerEnv: CONSUMER_ENV,
    liveviewEnv: { LIVEVIEW_STALE_AFTER_MS: '2000' },
  });
  truth = new GroundTruth(stack);
  page = await PageWatch.open(stack.url, 1);
});
after(async () => {
  page?.close();
  await Promise.allSettled(publishers.map((publisher) => publisher.stop(15_000)));
  await stack?.stop();
});

const acked = async () => {
  let total = 0;
  for (const consumer of stack.consumers) total += (await metricOf(consumer, 'consumer_acked_total')) ?? 0;
  return total;
};

/** Milliseconds from `since` until `probe` holds. */
async function timeUntil(what: string, since: number, probe: () => Promise<boolean>, timeoutMs = 60_000) {
  await waitFor(what, async () => (await probe()) || undefined, { timeoutMs, intervalMs: 100 });
  return Date.now() - since;
}

/** Milliseconds from `since` until the consumers ack again (their total grows). */
async function ackingAgain(since: number, timeoutMs = 60_000): Promise<number> {
  const base = await acked();
  return timeUntil('the consumers to ack again', since, async () => (await acked()) > base, timeoutMs);
}

/**
 * One phase: load, the fault, more load, drain, check. The fault returns its own figures
 * (recovery times); the ground-truth figures are added and recorded.
 */
function phase(
  name: string,
  what: string,
  fault: (publisher: ServiceProcess) => Promise<Record<string, number | string>>,
): Promise<Figures> {
  return runFaultPhase({ stack, truth, publishers, name, what, fault });
}

test('kill -9 of the consumer at three random moments under load (restarted each time)', async (t) => {
  const figures = await phase(
    'consumer-kill-9',
    'kill -9 the only consumer 3 times at random moments under 300 trades/s; restart each time',
    async (publisher) => {
      const recoveries: number[] = [];
      const pageRecoveries: number[] = [];
      for (let kill = 0; kill < 3; kill++) {
        // A random moment: after 100..700 more confirmed trades (0.3..2.3 s at 300/s).
        await confirmedMore(publisher, 100 + Math.floor(Math.random() * 600));
        const consumer = stack.consumers[0] as ServiceProcess;
        const killedAt = Date.now();
        await consumer.kill();
        await consumer.restart();
        recoveries.push(await ackingAgain(killedAt));
        await page.allUpdatedAfter(killedAt);
        pageRecoveries.push((page.firstUpdateAfter(killedAt)[0] as number) - killedAt);
      }
      return {
        kills: 3,
        recoveryMs: Math.max(...recoveries),
        pageUpdateAfterKillMs: Math.max(...pageRecoveries),
      };
    },
  );
  t.diagnostic(JSON.stringify(figures));
});

test('two consumer replicas: kill -9 of the lease holder, the standby takes over', async (t) => {
  const standby = await stack.addConsumer(CONSUMER_ENV);
  const holder = stack.consumers[0] as ServiceProcess;
  await waitFor('the first replica to hold all three leases', async () => {
    return (await holder.metric('consumer_leases_held')) === COMPANIES.length;
  });
  assert.equal(await standby.metric('consumer_leases_held'), 0, 'the new replica stands by');
  const figures = await phase(
    'consumer-failover',
    'two consumer replicas under 300 trades/s; kill -9 of the one holding the write leases',
    async (publisher) => {
      await confirmedMore(publisher, 100 + Math.floor(Math.random() * 600));
      const killedAt = Date.now();
      await holder.kill();
      const takeoverMs = await timeUntil(
        'the standby to take every lease',
        killedAt,
        async () => (await standby.metric('consumer_leases_held')) === COMPANIES.length,
      );
      const ackMs = await ackingAgain(killedAt);
      // The killed replica comes back and stands by in its turn.
      await holder.restart();
      return { takeoverMs, recoveryMs: ackMs };
    },
  );
  t.diagnostic(JSON.stringify(figures));
});

test('a frozen database (SIGSTOP): back-pressure holds, consumer memory stays bounded, nothing lost', async (t) => {
  const bound = PREFETCH * COMPANIES.length;
  const figures = await phase(
    'database-frozen',
    `FerretDB frozen (SIGSTOP) while 1,500+ trades pile up, then thawed; prefetch ${PREFETCH} per queue`,
    async () => {
      const baselineRss = Math.max(...stack.consumers.map((consumer) => rssMb(consumer.process.pid)));
      const depthBefore = await queueDepthAll();
      let maxBuffered = 0;
      let maxRss = 0;
      const sample = async () => {
        let buffered = 0;
        for (const consumer of stack.consumers) buffered += (await metricOf(consumer, 'consumer_buffered_trades')) ?? 0;
        maxBuffered = Math.max(maxBuffered, buffered);
        for (const consumer of stack.consumers) maxRss = Math.max(maxRss, rssMb(consumer.process.pid));
      };
      const frozenAt = Date.now();
      stack.mongo.freeze();
      try {
        // Frozen until the broker holds 1,500 more ready trades: the consumers stopped taking them.
        await waitFor(
          'trades to pile up in the broker',
          async () => {
            await sample();
            return (await queueDepthAll()) >= depthBefore + 1_500;
          },
          { timeoutMs: 60_000, intervalMs: 200 },
        );
      } finally {
        stack.mongo.thaw();
      }
      const thawedAt = Date.now();
      const recoveryMs = await ackingAgain(thawedAt, 90_000);
      await sample();
      return {
        frozenMs: thawedAt - frozenAt,
        maxBufferedTrades: maxBuffered,
        bufferBound: bound,
        consumerRssBeforeMb: Math.round(baselineRss),
        consumerRssMaxMb: Math.round(maxRss),
        recoveryMs,
      };
    },
  );
  assert.ok(Number(figures.maxBufferedTrades) <= bound, `buffered ${figures.maxBufferedTrades} > ${bound}`);
  assert.ok(
    Number(figures.consumerRssMaxMb) <= Number(figures.consumerRssBeforeMb) + 100,
    `consumer memory bounded: ${figures.consumerRssBeforeMb} -> ${figures.consumerRssMaxMb} MB`,
  );
  t.diagnostic(JSON.stringify(figures));
});

async function queueDepthAll(): Promise<number> {
  let total = 0;
  for (const queue of COMPANIES) total += await queueDepth(stack.rabbitmq, queue);
  return total;
}

test('RabbitMQ stopped and started again under load: publisher and consumers recover by themselves', async (t) => {
  const figures = await phase(
    'rabbitmq-restart',
    'RabbitMQ stopped (graceful, data kept) and started again under 300 trades/s',
    async (publisher) => {
      const stoppedAt = Date.now();
      await stack.rabbitmq.pause();
      // No confirm can come while the broker is down: the next one is the recovery.
      const confirmedAtStop = (await metricOf(publisher, 'publisher_confirmed_total')) ?? 0;
      const downMs = Date.now() - stoppedAt;
      await stack.rabbitmq.resume();
      const resumedAt = Date.now();
      const publisherRecoveryMs = await timeUntil(
        'the publisher to be confirmed again',
        resumedAt,
        async () => ((await metricOf(publisher, 'publisher_confirmed_total')) ?? 0) > confirmedAtStop,
        90_000,
      );
      const recoveryMs = await ackingAgain(resumedAt, 90_000);
      const pageUpdateMs = await page.allUpdatedAfter(resumedAt, 90_000);
      return {
        brokerStopMs: downMs,
        brokerDownMs: resumedAt - stoppedAt,
        publisherRecoveryMs,
        recoveryMs,
        pageUpdateMs,
      };
    },
  );
  t.diagnostic(JSON.stringify(figures));
});

test('FerretDB stopped for about 10 s and started again under load', async (t) => {
  const figures = await phase(
    'database-restart',
    'FerretDB stopped (data kept) while about 3,000 trades arrive (~10 s), then started again',
    async (publisher) => {
      const stoppedAt = Date.now();
      await stack.mongo.pause();
      // The outage lasts while ~10 s of trades arrive (300/s): measured by load, not a sleep.
      await confirmedMore(publisher, 3_000, 60_000);
      const depthWhileDown = await queueDepth(stack.rabbitmq, 'AAPL');
      await stack.mongo.resume();
      const resumedAt = Date.now();
      const recoveryMs = await ackingAgain(resumedAt, 90_000);
      const pageUpdateMs = await page.allUpdatedAfter(resumedAt, 90_000);
      return {
        databaseDownMs: resumedAt - stoppedAt,
        aaplQueueDepthWhileDown: depthWhileDown,
        recoveryMs,
        pageUpdateMs,
      };
    },
  );
  assert.ok(Number(figures.databaseDownMs) >= 8_000, 'the database was down for about 10 s');
  t.diagnostic(JSON.stringify(figures));
});

test('consumer_buffered_trades returns to 0 once everything is stored (after the broker restart)', async () => {
  const gauge = await bufferedTrades(stack);
  recordScenario('buffered-gauge-after-reconnect', {
    kind: 'fault',
    what: 'consumer_buffered_trades after the broker and database restarts, once every trade is stored',
    outcome: gauge === 0 ? 'back to 0' : `BUG: stays at ${gauge} with nothing buffered`,
    figures: { bufferedGauge: gauge, readyInQueues: await queueDepthAll() },
  });
  assert.equal(gauge, 0, 'the gauge counts trades that were dropped with the dead channel');
});

test('no secret in any service log (trace-level publisher logs included)', () => {
  const services = [...publishers, ...stack.consumers, ...stack.liveviews];
  const found = secretsInLogs(stack, services);
  recordScenario('secrets-in-logs-pipeline', {
    kind: 'security',
    what: "grep of every service output of the fault run (publisher at LOG_LEVEL=trace) for this run's broker passwords",
    outcome: found.length === 0 ? 'none found' : `FOUND: ${found.join(', ')}`,
    figures: { services: services.length, bytes: services.reduce((sum, s) => sum + s.process.output.length, 0) },
  });
  assert.deepEqual(found, []);
});
