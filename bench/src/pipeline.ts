/**
 * Pipeline benchmark: the publisher at a stepped rate for a fixed time through RabbitMQ, the
 * consumer into FerretDB, one liveview behind NGINX, and a socket.io client measuring end-to-end
 * delay. Per step: achieved rate, whether the consumer kept up, stored = published (nothing
 * lost), per-process CPU and peak RSS, and the delay split into batching+write and feed+push.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type CandleDoc,
  collectionNames,
  DEFAULT_COMPANIES,
  DEFAULT_DATABASE,
  type UpdateMessage,
} from '@stockmarket/common';
import {
  LocalStack,
  ProcSampler,
  queueDepth,
  type RabbitMqServer,
  resultsDir,
  ServiceProcess,
  waitFor,
} from '@stockmarket/stack';
import { MongoClient } from 'mongodb';
import { io, type Socket } from 'socket.io-client';
import type { BenchOptions, BenchResult } from './cli.js';
import { benchConfig } from './config.js';
import { Latencies, type LatencySummary } from './latency.js';
import { linePlot } from './plot.js';
import { perfTestClasspath, sampleBodySize, startPerfTest } from './publisher.js';

const COMPANIES = [...DEFAULT_COMPANIES];

interface DelaySample {
  /** Newest trade of the batch -> arrival at the socket.io client. */
  endToEnd: number;
  /** Newest trade -> the consumer's write (batching wait, broker, consumer, database). */
  toWrite: number;
  /** The write -> arrival (write notice or liveview poll, read, push, NGINX). */
  toClient: number;
  /** The newest trade's time. */
  tradeAt: number;
}

/**
 * The consumer's flush interval in the pipeline (its default). When the publisher stops, the last
 * batch of each company waits this long for trades that never come, so its newest trade carries
 * the batching interval too: trades of the step's last interval are left out of the delays.
 */
const FLUSH_INTERVAL_MS = 1000;

export interface StepResult {
  rate: number;
  /** PUBLISHER_TRADES_PER_MESSAGE of the step (1: the contract's form; absent in older results). */
  tradesPerMessage?: number;
  durationSeconds: number;
  published: number;
  achievedRate: number;
  backlogAtEnd: number;
  drainSeconds: number;
  stored: number;
  lost: number;
  sustained: boolean;
  delay: Record<Exclude<keyof DelaySample, 'tradeAt'>, LatencySummary>;
  usage: Record<string, { cpuPercent: number; peakRssMb: number }>;
  /** CPU time of each process per trade of the step (publish and drain), µs. */
  cpuMicrosPerTrade: Record<string, number>;
}

export interface BrokerLimit {
  /** The message size PerfTest sent (bytes): a trade's, or a batch message's of N trades. */
  bytes?: number;
  /** PerfTest, one producer and one consumer, persistent, confirms, the same message size. */
  publishRate: number;
  consumeRate: number;
}

/**
 * The broker's own limit on this machine, in the same run and on the same broker as the
 * pipeline: RabbitMQ PerfTest with one producer and one consumer on one queue, persistent
 * messages, publisher confirms (window 2,000), consumer acks with prefetch 2,000.
 */
async function brokerLimit(
  rabbitmq: RabbitMqServer,
  seconds: number,
  log: (line: string) => void,
  bytes = sampleBodySize(),
): Promise<BrokerLimit> {
  const classpath = perfTestClasspath(log);
  const perfTest = startPerfTest(rabbitmq, classpath, [
    '--producers',
    '1',
    '--consumers',
    '1',
    '--queue',
    'BENCH-PIPELINE',
    '--auto-delete',
    'true',
    '--confirm',
    '2000',
    '--qos',
    '2000',
    '--size',
    String(bytes),
    '--time',
    String(seconds + 3),
  ]);
  const code = await perfTest.waitForExit();
  const samples = [
    ...perfTest.output.matchAll(/time:? ?([\d.]+) ?s, sent: ([\d,]+) msg\/s, .*?received: ([\d,]+) msg\/s/g),
  ]
    .map((match) => ({
      time: Number(match[1]),
      sent: Number(match[2]?.replaceAll(',', '')),
      received: Number(match[3]?.replaceAll(',', '')),
    }))
    .filter((sample) => sample.time > 3);
  if (samples.length === 0)
    throw new Error(`PerfTest gave no samples (exit ${code}):\n${perfTest.output.slice(-2000)}`);
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  return { bytes, publishRate: mean(samples.map((s) => s.sent)), consumeRate: mean(samples.map((s) => s.received)) };
}

/**
 * `BENCH_CPU_PROFILE_DIR`: the process writes a V8 CPU profile when it exits (`--cpu-prof`; the
 * services exit on SIGTERM after their graceful stop) into a directory named after it there.
 */
function profiled(name: string): Record<string, string> {
  const dir = benchConfig.BENCH_CPU_PROFILE_DIR;
  if (!dir) return {};
  return { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${resolve(dir, name)}` };
}

export async function runPipelineSteps(
  rates: readonly number[],
  durationSeconds: number,
  log: (line: string) => void,
  onStack: (stack: LocalStack) => Promise<void> = async () => {},
  tradesPerMessage: readonly number[] = [1],
): Promise<StepResult[]> {
  const stack = await LocalStack.start({
    liveviews: 1,
    consumers: 1,
    publisher: false,
    consumerEnv: {
      ...profiled('consumer'),
      CONSUMER_WRITE_CONCURRENCY: String(benchConfig.BENCH_WRITE_SLOTS),
      ...(benchConfig.BENCH_BATCH_SIZE ? { BATCH_SIZE: String(benchConfig.BENCH_BATCH_SIZE) } : {}),
    },
    liveviewEnv: {
      ...profiled('liveview'),
      LOG_LEVEL: 'warn',
      LIVEVIEW_POLL_INTERVAL_MS: String(benchConfig.BENCH_POLL_MS),
      // Empty means unset: the liveview then polls only.
      ...(benchConfig.BENCH_NOTICES ? {} : { LIVEVIEW_RABBITMQ_URLS: '' }),
    },
  });
  const mongo = new MongoClient(stack.mongo.url);
  let socket: Socket | undefined;
  const results: StepResult[] = [];
  try {
    const samples: DelaySample[] = [];
    socket = io(stack.url, { transports: ['websocket'] });
    socket.on('update', (message: UpdateMessage) => {
      const now = Date.now();
      for (const stock of message.stocks) {
        if (stock.lastTradeAt === undefined || stock.updatedAt === undefined) continue;
        samples.push({
          endToEnd: now - stock.lastTradeAt,
          toWrite: stock.updatedAt - stock.lastTradeAt,
          toClient: now - stock.updatedAt,
          tradeAt: stock.lastTradeAt,
        });
        // The tail's causes: when slow batches of all companies coincide, the database stalled.
        if (stock.updatedAt - stock.lastTradeAt > 500) {
          log(
            `  slow: ${stock.company} batch of ${stock.batchSize} written ${new Date(stock.updatedAt).toISOString()}, ${stock.updatedAt - stock.lastTradeAt} ms after its newest trade`,
          );
        }
      }
    });
    const candles = mongo.db(DEFAULT_DATABASE).collection<CandleDoc>(collectionNames().candles);
    const storedTrades = async () => {
      const docs = await candles.find({ interval: '1m' }, { projection: { trades: 1 } }).toArray();
      return docs.reduce((sum, doc) => sum + (Number(doc.trades) || 0), 0);
    };
    const consumer = stack.consumers[0] as ServiceProcess;
    const steps = rates.flatMap((rate) => tradesPerMessage.map((perMessage) => ({ rate, perMessage })));
    for (const { rate, perMessage } of steps) {
      const total = Math.round(rate * durationSeconds);
      // Trades, not messages: a batch message counts each of its trades.
      const ackedBefore = await consumer.metric('consumer_acked_trades_total');
      const storedBefore = await storedTrades();
      samples.length = 0;
      log(`step ${rate} trades/s, ${perMessage} per message, for ${durationSeconds} s (${total} trades)`);
      const publisher = await ServiceProcess.start('publisher', {
        RABBITMQ_URL: stack.rabbitmq.url('publisher'),
        PUBLISHER_RATE: String(rate),
        PUBLISHER_MAX_TRADES: String(total),
        PUBLISHER_LEDGER: String(benchConfig.BENCH_LEDGER),
        PUBLISHER_TRADES_PER_MESSAGE: String(perMessage),
        LOG_LEVEL: 'warn',
        ...profiled(`publisher-${rate}-${perMessage}`),
      });
      const sampler = new ProcSampler(
        new Map([
          ['publisher', publisher.process.pid],
          ['consumer', consumer.process.pid],
          ['liveview', stack.liveviews[0]?.process.pid],
          ['rabbitmq', stack.rabbitmq.pid],
          ['ferretdb', stack.mongo.pid],
        ]),
      ).start();
      const started = performance.now();
      // Bounded: a step far past what the pipeline takes is measured as far as it got, not waited out.
      const confirmed = await waitFor(
        'the publisher to have every trade confirmed',
        async () => {
          const count = await publisher.metric('publisher_confirmed_total');
          return count >= total ? count : undefined;
        },
        { timeoutMs: durationSeconds * 3_000, intervalMs: 250 },
      ).catch(() => publisher.metric('publisher_confirmed_total'));
      const publishSeconds = (performance.now() - started) / 1000;
      const publishEndedAt = Date.now();
      let backlogAtEnd = 0;
      for (const queue of COMPANIES) backlogAtEnd += await queueDepth(stack.rabbitmq, queue);
      const drained = await waitFor(
        'the consumer to ack every trade',
        async () => (await consumer.metric('consumer_acked_trades_total')) - ackedBefore >= confirmed,
        { timeoutMs: 120_000, intervalMs: 250 },
      ).then(
        () => true,
        () => false,
      );
      const drainSeconds = (performance.now() - started) / 1000 - publishSeconds;
      const usage = sampler.stop();
      await publisher.stop();
      // What the publisher sent after the bounded wait (its graceful stop confirms the rest) counts too.
      const sent = Math.max(confirmed, await publisher.metric('publisher_confirmed_total').catch(() => confirmed));
      if (!drained) {
        log('  not drained in 120 s: the backlog is purged so that the next step starts clean');
        for (const queue of COMPANIES) await stack.rabbitmq.withChannel((channel) => channel.purgeQueue(queue));
        await waitFor('the consumer idle', async () => (await consumer.metric('consumer_buffered_trades')) === 0, {
          timeoutMs: 120_000,
          intervalMs: 250,
        });
      }
      const stored = await waitFor(
        'the candles to account for every trade',
        async () => {
          const count = (await storedTrades()) - storedBefore;
          return count >= sent ? count : undefined;
        },
        { timeoutMs: drained ? 30_000 : 5_000, intervalMs: 500 },
      ).catch(async () => (await storedTrades()) - storedBefore);
      const achievedRate = confirmed / publishSeconds;
      const steady = samples.filter((sample) => sample.tradeAt < publishEndedAt - FLUSH_INTERVAL_MS);
      const lost = drained ? sent - stored : Number.NaN;
      const step: StepResult = {
        rate,
        tradesPerMessage: perMessage,
        durationSeconds,
        published: sent,
        achievedRate,
        backlogAtEnd,
        drainSeconds: drained ? drainSeconds : Number.POSITIVE_INFINITY,
        stored,
        lost,
        sustained: drained && achievedRate >= rate * 0.95 && drainSeconds < 5 && lost === 0,
        delay: {
          endToEnd: Latencies.of(steady.map((s) => s.endToEnd)).summary(),
          toWrite: Latencies.of(steady.map((s) => s.toWrite)).summary(),
          toClient: Latencies.of(steady.map((s) => s.toClient)).summary(),
        },
        usage,
        cpuMicrosPerTrade: Object.fromEntries(
          Object.entries(usage).map(([name, u]) => [
            name,
            ((u.cpuPercent / 100) * (publishSeconds + drainSeconds) * 1e6) / Math.max(1, stored),
          ]),
        ),
      };
      results.push(step);
      log(
        `  ${perMessage}/message: achieved ${achievedRate.toFixed(0)}/s, samples ${step.delay.endToEnd.n}, e2e p50 ${step.delay.endToEnd.p50} ms, backlog ${backlogAtEnd}, drain ${drainSeconds.toFixed(1)} s, lost ${lost}, e2e p99 ${step.delay.endToEnd.p99} ms`,
      );
    }
    await onStack(stack);
    return results;
  } finally {
    socket?.close();
    await mongo.close();
    await stack.stop();
  }
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

export function pipelineMarkdown(steps: readonly StepResult[]): string {
  const lines = [
    '## Pipeline throughput (publisher → RabbitMQ → consumer → FerretDB → liveview → NGINX → socket.io client)',
    '',
    `Liveview: write notices ${benchConfig.BENCH_NOTICES ? 'on' : 'off (polling only)'}, poll interval ${benchConfig.BENCH_POLL_MS} ms; consumer write concurrency ${benchConfig.BENCH_WRITE_SLOTS}, batch size ${benchConfig.BENCH_BATCH_SIZE || 'default (1000)'}; publisher ledger ${benchConfig.BENCH_LEDGER ? 'on' : 'off'}.`,
    '',
    '| target/s | trades/msg | achieved/s | backlog at end | drain s | stored | lost | sustained | publisher CPU % / MB | consumer CPU % / MB | liveview CPU % / MB | RabbitMQ CPU % / MB | FerretDB CPU % / MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...steps.map((s) => {
      const u = (name: string) =>
        `${fmt(s.usage[name]?.cpuPercent ?? Number.NaN)} / ${fmt(s.usage[name]?.peakRssMb ?? Number.NaN)}`;
      return `| ${s.rate} | ${s.tradesPerMessage ?? 1} | ${fmt(s.achievedRate)} | ${s.backlogAtEnd} | ${fmt(s.drainSeconds, 1)} | ${s.stored} | ${s.lost} | ${s.sustained ? 'yes' : 'no'} | ${u('publisher')} | ${u('consumer')} | ${u('liveview')} | ${u('rabbitmq')} | ${u('ferretdb')} |`;
    }),
    '',
    '## CPU time per trade (µs of each process, over publish and drain)',
    '',
    'Shows a change that saves CPU even when two shared cores hide it in throughput.',
    '',
    '| target/s | trades/msg | publisher | consumer | liveview | RabbitMQ | FerretDB | all |',
    '|---|---|---|---|---|---|---|---|',
    ...steps.map((s) => {
      const per = s.cpuMicrosPerTrade ?? {};
      const names = ['publisher', 'consumer', 'liveview', 'rabbitmq', 'ferretdb'];
      const all = names.reduce((sum, name) => sum + (per[name] ?? 0), 0);
      return `| ${s.rate} | ${s.tradesPerMessage ?? 1} | ${names.map((name) => fmt(per[name] ?? Number.NaN, 1)).join(' | ')} | ${fmt(all, 1)} |`;
    }),
    '',
    '## End-to-end delay of the newest trade of each batch (ms)',
    '',
    'e2e = arrival at the socket.io client − trade time; split into trade → database write (batching wait, broker, consumer) and write → client (write notice or liveview poll, read, push, NGINX). The oldest trade of a batch waits up to `CONSUMER_FLUSH_INTERVAL_MS` (1000 ms) more: that is the batching interval, excluded here. Trades of the last second of each step are left out too: when the publisher stops, the last batch of each company waits the whole interval for trades that never come.',
    '',
    '| target/s | trades/msg | samples | e2e p50 | e2e p95 | e2e p99 | e2e max | to write p50 / p99 | write → client p50 / p99 |',
    '|---|---|---|---|---|---|---|---|---|',
    ...steps.map(
      (s) =>
        `| ${s.rate} | ${s.tradesPerMessage ?? 1} | ${s.delay.endToEnd.n} | ${fmt(s.delay.endToEnd.p50)} | ${fmt(s.delay.endToEnd.p95)} | ${fmt(s.delay.endToEnd.p99)} | ${fmt(s.delay.endToEnd.max)} | ${fmt(s.delay.toWrite.p50)} / ${fmt(s.delay.toWrite.p99)} | ${fmt(s.delay.toClient.p50)} / ${fmt(s.delay.toClient.p99)} |`,
    ),
  ];
  return lines.join('\n');
}

export async function run({ short, log }: BenchOptions): Promise<BenchResult> {
  const rates =
    benchConfig.BENCH_PIPELINE_RATES ??
    (short ? [100, 1_000, 2_000, 4_000] : [100, 1_000, 2_000, 4_000, 8_000, 16_000]);
  const seconds = benchConfig.BENCH_PIPELINE_SECONDS || (short ? 15 : 60);
  const perMessage = benchConfig.BENCH_TRADES_PER_MESSAGE;
  const limits: BrokerLimit[] = [];
  const onStack = async (stack: LocalStack) => {
    for (const n of perMessage) {
      // The same message size as the step's: one trade, or a batch of n (`{"trades":[...]}`).
      const bytes = n === 1 ? sampleBodySize() : 12 + n * (sampleBodySize() + 1);
      log(`broker limit: RabbitMQ PerfTest, 1 producer + 1 consumer, ${bytes}-byte messages, on the same broker`);
      const limit = await brokerLimit(stack.rabbitmq, short ? 10 : 30, log, bytes);
      limits.push(limit);
      log(`  PerfTest: publish ${limit.publishRate.toFixed(0)}/s, consume ${limit.consumeRate.toFixed(0)}/s`);
    }
  };
  const steps = await runPipelineSteps(rates, seconds, log, onStack, perMessage);
  const limit = limits[0];
  writeFileSync(
    join(resultsDir, 'pipeline-throughput.svg'),
    await linePlot(
      'Pipeline: achieved vs target rate',
      'target trades/s',
      'trades/s',
      [
        { label: 'achieved (published)', points: steps.map((s) => [s.rate, s.achievedRate] as const) },
        {
          label: 'drained by consumer',
          points: steps.map((s) => [s.rate, s.published / (s.published / s.achievedRate + s.drainSeconds)] as const),
        },
      ],
      true,
    ),
  );
  writeFileSync(
    join(resultsDir, 'pipeline-latency.svg'),
    await linePlot(
      'End-to-end delay of the newest trade',
      'trades/s',
      'ms',
      [
        { label: 'p50', points: steps.map((s) => [s.rate, s.delay.endToEnd.p50] as const) },
        { label: 'p99', points: steps.map((s) => [s.rate, s.delay.endToEnd.p99] as const) },
      ],
      true,
    ),
  );
  const best = Math.max(0, ...steps.filter((s) => s.sustained).map((s) => s.rate));
  const limitSection = limit
    ? [
        '',
        '## Against the broker limit (same run, same broker)',
        '',
        `RabbitMQ PerfTest, 1 producer + 1 consumer, persistent, confirms, prefetch 2,000, ${limit.bytes ?? sampleBodySize()}-byte messages: publish ${limit.publishRate.toFixed(0)}/s, consume ${limit.consumeRate.toFixed(0)}/s.`,
        `Highest sustained pipeline step: ${best}/s = ${((best / limit.consumeRate) * 100).toFixed(0)} % of PerfTest's consume rate (goal: at least 50 %; our consumer also writes every trade to the database before acking).`,
      ].join('\n')
    : '';
  const batchedLimits = limits
    .slice(1)
    .map(
      (other, index) =>
        `PerfTest at ${other.bytes} bytes (${perMessage[index + 1]} trades per message): publish ${other.publishRate.toFixed(0)} msg/s, consume ${other.consumeRate.toFixed(0)} msg/s = ${((other.consumeRate * (perMessage[index + 1] ?? 1)) / 1000).toFixed(0)}k trades/s.`,
    );
  return {
    name: 'pipeline',
    data: { steps, brokerLimit: limit, brokerLimits: limits },
    markdown: [pipelineMarkdown(steps) + limitSection, ...batchedLimits].join('\n\n'),
  };
}
