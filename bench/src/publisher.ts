/**
 * Publisher throughput benchmark: the highest sustained confirmed publish rate of our publisher
 * (persistent messages, publisher confirms, one connection and channel, one queue) against
 * RabbitMQ's own PerfTest with the same settings (one producer, no consumer, persistent, the same
 * confirm window, the same message size), run alternately on the same broker so that both see
 * the same machine load. PerfTest (com.rabbitmq:perf-test from Maven Central) is fetched into
 * .cache/perf-test on first use. A third tool in each round is PerfTest sending the AMQP
 * properties our messages carry, so their cost to the broker shows apart from our client's.
 * BENCH_PUBLISHER_QUEUES=classic measures the classic queue only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cacheDir,
  ManagedProcess,
  makeRunDir,
  ProcSampler,
  RabbitMqCluster,
  RabbitMqServer,
  ServiceProcess,
  waitFor,
} from '@stockmarket/stack';
import type { BenchOptions, BenchResult } from './cli.js';
import { benchConfig } from './config.js';

const PERF_TEST_VERSION = '2.22.1';
const QUEUE = 'BENCH';
/** The publisher's default window of unconfirmed messages; PerfTest gets the same (`-c`). */
const CONFIRM_WINDOW = 2_000;
/** Seconds at the start of each run that are not counted (connection, JIT, queue warm-up). */
const WARMUP_S = 3;

type QueueType = 'classic' | 'quorum';

interface Run {
  /** perf-test-props: PerfTest sending the AMQP properties our publisher sets (see OUR_PROPERTIES). */
  readonly tool: 'publisher' | 'perf-test' | 'perf-test-props';
  /** classic: one node; quorum: a three-node cluster, the queue's leader being the node used. */
  readonly queueType: QueueType;
  readonly round: number;
  /** Confirmed messages per second over the measured span. */
  readonly rate: number;
  readonly producerCpuPercent: number;
  /** Our publisher only: mean unconfirmed messages over the measured span (sampled). */
  readonly meanInFlight?: number;
}

/**
 * The properties our publisher puts on every message (publisher/src/confirmed-publisher.ts), for
 * PerfTest's `--message-properties`: the same kinds and sizes (a ULID as message id, a timestamp,
 * the content type; `--flag persistent` sets the delivery mode for both).
 */
const OUR_PROPERTIES =
  'contentType=application/json,messageId=01JDQ4V5X2M7Y8Z9ABCDEFGHJK,timestamp=2026-12-04T12:00:00Z';

/** PerfTest and its dependencies, resolved by Maven into the cache on first use. */
export function perfTestClasspath(log: (line: string) => void): string {
  const dir = join(cacheDir, 'perf-test', PERF_TEST_VERSION);
  const lib = join(dir, 'lib');
  const jar = join(lib, `perf-test-${PERF_TEST_VERSION}.jar`);
  if (!existsSync(jar)) {
    log(`fetching com.rabbitmq:perf-test:${PERF_TEST_VERSION} from Maven Central into ${dir}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'pom.xml'),
      `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.stockmarket</groupId><artifactId>perf-test-fetch</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>com.rabbitmq</groupId><artifactId>perf-test</artifactId><version>${PERF_TEST_VERSION}</version></dependency>
  </dependencies>
</project>
`,
    );
    execFileSync('mvn', ['-q', '-B', 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`], {
      cwd: dir,
      stdio: 'inherit',
      timeout: 600_000,
    });
  }
  return readdirSync(lib)
    .filter((name) => name.endsWith('.jar'))
    .map((name) => join(lib, name))
    .join(':');
}

/** A body of the size our publisher sends: the contract fields plus id, ts and quantity. */
export function sampleBodySize(): number {
  return JSON.stringify({
    company: QUEUE,
    eventType: 'sell',
    price: 228.51,
    quantity: 148,
    id: '01JDQ4V5X2M7Y8Z9ABCDEFGHJK',
    ts: 1_764_190_000_000,
  }).length;
}

async function purge(rabbitmq: RabbitMqServer, queueType: QueueType): Promise<void> {
  await rabbitmq.withChannel(async (channel) => {
    await channel.assertQueue(QUEUE, { durable: true, arguments: { 'x-queue-type': queueType } });
    await channel.purgeQueue(QUEUE);
  });
}

async function runPublisher(
  rabbitmq: RabbitMqServer,
  queueType: QueueType,
  seconds: number,
  round: number,
): Promise<Run> {
  const publisher = await ServiceProcess.start(
    'publisher',
    {
      RABBITMQ_URL: rabbitmq.url('publisher'),
      COMPANIES: QUEUE,
      PUBLISHER_RATE: '1000000', // as fast as the confirms allow
      PUBLISHER_MAX_IN_FLIGHT: String(CONFIRM_WINDOW),
      PUBLISHER_QUEUE_TYPE: queueType,
      LOG_LEVEL: 'warn',
    },
    { label: 'publisher-bench' },
  );
  try {
    await waitFor('the first confirms', async () => (await publisher.metric('publisher_confirmed_total')) > 0, {
      timeoutMs: 30_000,
    });
    await waitUntil(Date.now() + WARMUP_S * 1000);
    const sampler = new ProcSampler(new Map([['producer', publisher.process.pid]])).start();
    const first = await publisher.metric('publisher_confirmed_total');
    const started = performance.now();
    const inFlight: number[] = [];
    for (const deadline = Date.now() + seconds * 1000; Date.now() < deadline; ) {
      inFlight.push(await publisher.metric('publisher_in_flight'));
      await waitUntil(Math.min(deadline, Date.now() + 250));
    }
    const last = await publisher.metric('publisher_confirmed_total');
    const elapsed = (performance.now() - started) / 1000;
    const usage = sampler.stop().producer;
    return {
      tool: 'publisher',
      queueType,
      round,
      rate: (last - first) / elapsed,
      producerCpuPercent: usage?.cpuPercent ?? Number.NaN,
      meanInFlight: inFlight.reduce((sum, value) => sum + value, 0) / Math.max(1, inFlight.length),
    };
  } finally {
    await publisher.stop();
  }
}

/** RabbitMQ PerfTest against the local broker: persistent messages, a report every second. */
export function startPerfTest(rabbitmq: RabbitMqServer, classpath: string, options: readonly string[]): ManagedProcess {
  return new ManagedProcess({
    name: 'perf-test',
    command: 'java',
    args: [
      '-cp',
      classpath,
      'com.rabbitmq.perf.PerfTest',
      '--uri',
      rabbitmq.url('admin'),
      '--flag',
      'persistent',
      '--interval',
      '1',
      ...options,
    ],
    logFile: join(makeRunDir('perf-test'), 'perf-test.log'),
    captureOutput: true,
  }).start();
}

async function runPerfTest(
  rabbitmq: RabbitMqServer,
  queueType: QueueType,
  classpath: string,
  seconds: number,
  size: number,
  round: number,
  withProperties = false,
): Promise<Run> {
  const perfTest = startPerfTest(rabbitmq, classpath, [
    ...(withProperties ? ['--message-properties', OUR_PROPERTIES] : []),
    '--producers',
    '1',
    '--consumers',
    '0',
    '--queue',
    QUEUE,
    '--predeclared',
    '--confirm',
    String(CONFIRM_WINDOW),
    '--size',
    String(size),
    '--time',
    String(WARMUP_S + seconds + 2),
  ]);
  const sampler = new ProcSampler(new Map([['producer', perfTest.pid]]));
  let sampling = false;
  try {
    // Per-second reports: "id: test-..., time 4.000 s, sent: 12345 msg/s, confirmed: 12340 msg/s, ...".
    const confirmedPerSecond = () =>
      [...perfTest.output.matchAll(/time:? ?([\d.]+) ?s, sent: ([\d,]+) msg\/s, confirmed: ([\d,]+) msg\/s/g)].map(
        (match) => ({ time: Number(match[1]), confirmed: Number(match[3]?.replaceAll(',', '')) }),
      );
    await waitFor(
      'PerfTest to finish its warm-up',
      () => {
        if (!perfTest.running) throw new Error(`PerfTest exited:\n${perfTest.output.slice(-2000)}`);
        return confirmedPerSecond().some((sample) => sample.time >= WARMUP_S);
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    // CPU is sampled over the measured span, while PerfTest still runs (it pauses 2 s at the end).
    sampler.start();
    sampling = true;
    await waitUntil(Date.now() + seconds * 1000);
    const usage = sampler.stop().producer;
    sampling = false;
    const code = await Promise.race([
      perfTest.waitForExit(),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), (seconds + 60) * 1000).unref()),
    ]);
    if (code === 'timeout') throw new Error('PerfTest did not stop in time');
    const measured = confirmedPerSecond().filter(
      (sample) => sample.time > WARMUP_S && sample.time <= WARMUP_S + seconds,
    );
    if (measured.length === 0) throw new Error(`no PerfTest samples:\n${perfTest.output.slice(-2000)}`);
    const rate = measured.reduce((sum, sample) => sum + sample.confirmed, 0) / measured.length;
    return {
      tool: withProperties ? 'perf-test-props' : 'perf-test',
      queueType,
      round,
      rate,
      producerCpuPercent: usage?.cpuPercent ?? Number.NaN,
    };
  } finally {
    if (sampling) sampler.stop();
    await perfTest.stop(10_000);
  }
}

function waitUntil(deadline: number): Promise<void> {
  return waitFor('the measuring span', () => Date.now() >= deadline, {
    timeoutMs: deadline - Date.now() + 5_000,
    intervalMs: 100,
  }).then(() => undefined);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Alternating rounds of both tools against one node (and its queue type). */
async function rounds(
  rabbitmq: RabbitMqServer,
  queueType: QueueType,
  classpath: string,
  options: { seconds: number; rounds: number; size: number; log: (line: string) => void },
): Promise<Run[]> {
  const runs: Run[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    // Alternate the order so that neither tool always runs on a fuller queue or a warmer broker.
    const tools = ['perf-test', 'perf-test-props', 'publisher'] as const;
    const order = round % 2 === 1 ? tools : ([...tools].reverse() as Run['tool'][]);
    for (const tool of order) {
      await purge(rabbitmq, queueType);
      const result =
        tool === 'publisher'
          ? await runPublisher(rabbitmq, queueType, options.seconds, round)
          : await runPerfTest(
              rabbitmq,
              queueType,
              classpath,
              options.seconds,
              options.size,
              round,
              tool === 'perf-test-props',
            );
      options.log(
        `round ${round} ${queueType} ${tool}: ${Math.round(result.rate)} confirmed msg/s (producer CPU ${Math.round(result.producerCpuPercent)} %${result.meanInFlight === undefined ? '' : `, mean in flight ${Math.round(result.meanInFlight)}`})`,
      );
      runs.push(result);
    }
  }
  return runs;
}

export async function run({ short, log }: BenchOptions): Promise<BenchResult> {
  const seconds = short ? 10 : 30;
  const roundCount = short ? 1 : 3;
  const size = sampleBodySize();
  const classpath = perfTestClasspath(log);
  const queueTypes = benchConfig.BENCH_PUBLISHER_QUEUES;
  const runs: Run[] = [];
  if (queueTypes.includes('classic')) {
    const rabbitmq = await RabbitMqServer.start();
    try {
      runs.push(...(await rounds(rabbitmq, 'classic', classpath, { seconds, rounds: roundCount, size, log })));
    } finally {
      await rabbitmq.stop();
    }
  }
  if (queueTypes.includes('quorum')) {
    // Quorum queues: a three-node cluster; the queue is declared through the first node, which
    // leads it, and every tool publishes to that node (confirms wait for a majority of the three).
    const cluster = await RabbitMqCluster.start(3);
    try {
      const leader = cluster.nodes[0] as RabbitMqServer;
      runs.push(...(await rounds(leader, 'quorum', classpath, { seconds, rounds: roundCount, size, log })));
    } finally {
      await cluster.stop();
    }
  }
  const rateOf = (tool: Run['tool'], queueType: QueueType) =>
    median(runs.filter((run) => run.tool === tool && run.queueType === queueType).map((run) => run.rate));
  const figures = Object.fromEntries(
    queueTypes.map((queueType) => {
      const ours = rateOf('publisher', queueType);
      const perfTest = rateOf('perf-test', queueType);
      const perfTestProps = rateOf('perf-test-props', queueType);
      return [
        queueType,
        { ours, perfTest, perfTestProps, ratio: ours / perfTest, ratioToSameProperties: ours / perfTestProps },
      ];
    }),
  ) as Partial<
    Record<
      QueueType,
      { ours: number; perfTest: number; perfTestProps: number; ratio: number; ratioToSameProperties: number }
    >
  >;
  const settings = `persistent messages, publisher confirms (window ${CONFIRM_WINDOW}), one producer (one connection, one channel), one queue without consumers, ${size}-byte bodies, ${roundCount} round(s) of ${seconds} s each after ${WARMUP_S} s warm-up per tool and queue type, run alternately; classic: one local RabbitMQ node; quorum: a three-node local cluster (one machine), publishing to the queue's leader; PerfTest with properties: \`--message-properties ${OUR_PROPERTIES}\``;
  const rows = runs
    .map(
      (run) =>
        `| ${run.round} | ${run.queueType} | ${run.tool} | ${Math.round(run.rate).toLocaleString('en-US')} | ${Math.round(run.producerCpuPercent)} | ${run.meanInFlight === undefined ? '' : Math.round(run.meanInFlight)} |`,
    )
    .join('\n');
  const columns = queueTypes.map((queueType) =>
    queueType === 'classic' ? 'classic queue, one node' : 'quorum queue, three nodes',
  );
  const cell = (pick: (f: NonNullable<(typeof figures)[QueueType]>) => string) =>
    queueTypes.map((queueType) => pick(figures[queueType] as NonNullable<(typeof figures)[QueueType]>)).join(' | ');
  const rate = (value: number) => Math.round(value).toLocaleString('en-US');
  const markdown = `## Publisher: sustained confirmed publish rate vs RabbitMQ PerfTest ${PERF_TEST_VERSION}

Settings: ${settings}.

| confirmed msg/s (median) | ${columns.join(' | ')} |
|---|${columns.map(() => '---:').join('|')}|
| our publisher | ${cell((f) => rate(f.ours))} |
| PerfTest | ${cell((f) => rate(f.perfTest))} |
| PerfTest with our message properties | ${cell((f) => rate(f.perfTestProps))} |
| **ratio** to PerfTest (goal: at least 85 %) | ${cell((f) => `**${(f.ratio * 100).toFixed(0)} %**`)} |
| ratio to PerfTest with our properties | ${cell((f) => `${(f.ratioToSameProperties * 100).toFixed(0)} %`)} |

| round | queue | tool | confirmed msg/s | producer CPU % of one core | mean unconfirmed (ours) |
|---:|---|---|---:|---:|---:|
${rows}
`;
  return {
    name: 'publisher',
    data: { settings, perfTestVersion: PERF_TEST_VERSION, messageBytes: size, figures, runs },
    markdown,
  };
}
