/**
 * Consumer drain benchmark: a backlog of trades is published first (the consumer is not running),
 * then one consumer drains it into FerretDB. Measures trades/s from the consumer's start until the
 * stored 1 m candles account for every trade, checks the stored totals against the published
 * trades, and reports the consumer's peak RSS (VmHWM).
 */

import { type CandleDoc, collectionNames, DEFAULT_COMPANIES, DEFAULT_DATABASE } from '@stockmarket/common';
import {
  FerretDbServer,
  peakRssMb,
  publishRaw,
  RabbitMqServer,
  ServiceProcess,
  waitFor,
  waitForDepth,
} from '@stockmarket/stack';
import { MongoClient } from 'mongodb';
import type { BenchOptions, BenchResult } from './cli.js';

const COMPANIES = DEFAULT_COMPANIES;
/** Event-time spacing of one company's trades: 100 trades/s per company, as a busy publisher. */
const SPACING_MS = 10;

interface Totals {
  trades: number;
  volume: number;
  buys: number;
}

export async function run({ short, log }: BenchOptions): Promise<BenchResult> {
  const total = short ? 15_000 : 100_000;
  const batchSize = 1000;
  const perCompany = Math.ceil(total / COMPANIES.length);
  const [rabbitmq, mongo] = await Promise.all([RabbitMqServer.start(), FerretDbServer.start()]);
  const client = new MongoClient(mongo.url);
  let consumer: ServiceProcess | undefined;
  try {
    const expected = new Map<string, Totals>();
    const base = Date.UTC(2024, 0, 2, 14, 30, 0);
    let published = 0;
    for (const [index, company] of COMPANIES.entries()) {
      const trades: object[] = [];
      const totals: Totals = { trades: 0, volume: 0, buys: 0 };
      let price = 100 + index * 100;
      for (let i = 0; i < perCompany && published < total; i++, published++) {
        price = Math.max(1, Math.round((price + Math.sin(i * 7.3 + index) * 0.5) * 100) / 100);
        const quantity = 1 + (i % 50);
        const eventType = i % 3 === 0 ? 'sell' : 'buy';
        trades.push({ company, eventType, price, id: `b${index}-${i}`, ts: base + i * SPACING_MS, quantity });
        totals.trades++;
        totals.volume += quantity;
        if (eventType === 'buy') totals.buys++;
      }
      expected.set(company, totals);
      await publishRaw(rabbitmq, company, trades);
    }
    await waitForDepth(rabbitmq, [...COMPANIES], total, 120_000);
    log(`backlog of ${total} trades ready; starting the consumer`);

    const started = performance.now();
    consumer = await ServiceProcess.start(
      'consumer',
      {
        RABBITMQ_URL: rabbitmq.url('consumer'),
        MONGODB_URL: mongo.url,
        BATCH_SIZE: String(batchSize),
        LOG_LEVEL: 'warn',
      },
      { label: 'consumer-bench' },
    );
    const ready = performance.now();
    const candles = client.db(DEFAULT_DATABASE).collection<CandleDoc>(collectionNames().candles);
    let stored = 0;
    let lastLog = Date.now();
    await waitFor(
      'every trade in the 1 m candles',
      async () => {
        const acked = await consumer?.metric('consumer_acked_total');
        if (Date.now() - lastLog > 5_000) {
          log(`acked ${acked}/${total}`);
          lastLog = Date.now();
        }
        if (acked !== undefined && acked < total) return false;
        const minutes = await candles.find({ interval: '1m' }, { projection: { trades: 1 } }).toArray();
        stored = minutes.reduce((sum, doc) => sum + (doc.trades as number), 0);
        return stored >= total;
      },
      { timeoutMs: short ? 300_000 : 900_000, intervalMs: 250 },
    );
    const finished = performance.now();
    const seconds = (finished - started) / 1000;
    const drainSeconds = (finished - ready) / 1000;
    const rssMb = peakRssMb(consumer.process.pid);
    const batches = await consumer.metric('consumer_batches_written_total');
    const writeMs = (1000 * (await consumer.metric('consumer_batch_write_seconds_sum'))) / batches;

    // Correctness of what was measured: per company, 1 s and 1 m candles add up to the trades.
    const problems: string[] = [];
    for (const [company, want] of expected) {
      for (const interval of ['1s', '1m'] as const) {
        const docs = await candles.find({ company, interval }).toArray();
        const got: Totals = { trades: 0, volume: 0, buys: 0 };
        for (const doc of docs) {
          got.trades += doc.trades as number;
          got.volume += doc.volume as number;
          got.buys += doc.buys as number;
        }
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          problems.push(`${company} ${interval}: stored ${JSON.stringify(got)} != published ${JSON.stringify(want)}`);
        }
      }
    }
    const stocks = await client.db(DEFAULT_DATABASE).collection(collectionNames().stocks).countDocuments();
    if (stocks !== COMPANIES.length) problems.push(`${stocks} stocks documents`);
    const rate = total / seconds;
    const drainRate = total / drainSeconds;
    log(
      `${total} trades in ${seconds.toFixed(1)} s: ${rate.toFixed(0)} trades/s (${drainRate.toFixed(0)} once ready), ` +
        `${writeMs.toFixed(0)} ms per batch write, peak RSS ${rssMb.toFixed(0)} MB`,
    );
    const data = {
      trades: total,
      batchSize,
      seconds,
      tradesPerSecond: rate,
      drainSeconds,
      tradesPerSecondOnceReady: drainRate,
      msPerBatchWrite: writeMs,
      peakRssMb: rssMb,
      batches,
      correct: problems.length === 0,
      problems,
      database: 'FerretDB v1.24.2 (SQLite backend)',
    };
    const markdown = [
      '## consumer: drain a backlog',
      '',
      `${total} trades (3 companies, ids, 100 trades/s of event time per company) pre-filled in RabbitMQ,`,
      `drained by one consumer (BATCH_SIZE=${batchSize}, default prefetch, write concern majority) into`,
      'FerretDB v1.24.2 with its SQLite backend, on the shared 2-core machine.',
      '',
      '| trades | seconds | trades/s | trades/s once ready | ms per batch write | batches | peak RSS | aggregates |',
      '|---|---|---|---|---|---|---|---|',
      `| ${total} | ${seconds.toFixed(1)} | ${rate.toFixed(0)} | ${drainRate.toFixed(0)} | ${writeMs.toFixed(0)} | ${batches} | ${rssMb.toFixed(0)} MB | ${
        problems.length === 0 ? 'correct' : `WRONG: ${problems.join('; ')}`
      } |`,
      '',
      'Time runs from starting the consumer process (boot, connect, indexes included; "once ready":',
      'from its first 200 on /readyz) until the 1 m candles account for every trade. Goal: >= 10,000 trades/s.',
    ].join('\n');
    if (problems.length > 0) log(`aggregates wrong: ${problems.join('; ')}`);
    return { name: 'consumer', data, markdown };
  } finally {
    await consumer?.stop();
    await client.close();
    await Promise.allSettled([rabbitmq.stop(), mongo.stop()]);
  }
}
