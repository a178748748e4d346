// Ground truth for the fault suite: what the publisher says it sent (LOG_LEVEL=trace lists every
// confirmed id; its SIGTERM report lists every unconfirmed one) against what MongoDB holds.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CandleDoc,
  candleId,
  collectionNames,
  DEAD_LETTER_QUEUE,
  DEFAULT_COMPANIES,
  DEFAULT_DATABASE,
  decodeBucketTrade,
  type TradeBucket,
  tradeIdOfKey,
} from '@stockmarket/common';
import { type LocalStack, queueDepth, RABBITMQ_USERS, repoRoot, ServiceProcess, waitFor } from '@stockmarket/stack';
import { MongoClient } from 'mongodb';

export const COMPANIES = DEFAULT_COMPANIES;

/** JSON log lines of a service (non-JSON lines are skipped). */
export function logLines(service: ServiceProcess): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of service.process.output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by a kill -9: not a log entry
    }
  }
  return lines;
}

export interface PublisherTruth {
  /** Trades generated (first sends), from the final report. */
  readonly published: number;
  readonly confirmedIds: ReadonlySet<string>;
  /** Sent but not confirmed by the broker when the publisher stopped: may or may not be stored. */
  readonly unconfirmedIds: ReadonlySet<string>;
}

/** Starts a publisher that logs every confirmed id. */
export function startTracingPublisher(stack: LocalStack, env: Record<string, string> = {}): Promise<ServiceProcess> {
  return ServiceProcess.start(
    'publisher',
    { RABBITMQ_URL: stack.rabbitmq.url('publisher'), LOG_LEVEL: 'trace', PUBLISHER_RATE: '300', ...env },
    { label: `publisher-trace-${Date.now()}` },
  );
}

/** SIGTERM (the publisher drains its confirms), then reads its ids and its final report. */
export async function stopPublisher(publisher: ServiceProcess): Promise<PublisherTruth> {
  const code = await publisher.stop(30_000);
  const lines = logLines(publisher);
  const report = lines.find((line) => 'unconfirmedIds' in line);
  if (!report)
    throw new Error(`publisher gave no final report (exit ${code}):\n${publisher.process.output.slice(-2000)}`);
  const confirmedIds = new Set<string>();
  for (const line of lines) {
    if (line.msg === 'confirmed ids') for (const id of line.ids as string[]) confirmedIds.add(id);
  }
  return {
    published: Number(report.published),
    confirmedIds,
    unconfirmedIds: new Set(report.unconfirmedIds as string[]),
  };
}

/** A consumer's metric, or undefined when it does not answer (killed). */
export async function metricOf(service: ServiceProcess, name: string): Promise<number | undefined> {
  if (!service.process.running) return undefined;
  try {
    return await service.metric(name);
  } catch {
    return undefined;
  }
}

/** Ready messages in the company queues. */
export async function readyDepth(stack: LocalStack): Promise<number> {
  let total = 0;
  for (const queue of COMPANIES) total += await queueDepth(stack.rabbitmq, queue);
  return total;
}

/** consumer_buffered_trades summed over the running consumers. */
export async function bufferedTrades(stack: LocalStack): Promise<number> {
  let total = 0;
  for (const consumer of stack.consumers) total += (await metricOf(consumer, 'consumer_buffered_trades')) ?? 0;
  return total;
}

export interface StoredState {
  /** Trade id -> how many bucket entries hold it (1 when all is well). */
  readonly idCounts: ReadonlyMap<string, number>;
  readonly sum1s: number;
  readonly sum1m: number;
  /** Every mismatch between a candle and the trades it is derived from, described. */
  readonly problems: readonly string[];
}

/**
 * Reads the buckets and candles (whole collections: fine at test scale) and recomputes every 1 s
 * candle from its bucket and every 1 m candle from its 1 s candles.
 */
export async function readStoredState(mongoUrl: string): Promise<StoredState> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  try {
    const db = client.db(DEFAULT_DATABASE);
    const names = collectionNames();
    const buckets = await db.collection<TradeBucket>(names.buckets).find({}).toArray();
    const candles = await db.collection<CandleDoc>(names.candles).find({}).toArray();
    const problems: string[] = [];
    const idCounts = new Map<string, number>();
    const seconds = new Map<string, CandleDoc>();
    const minutes = new Map<string, CandleDoc>();
    for (const candle of candles) (candle.interval === '1s' ? seconds : minutes).set(candle._id, candle);
    const note = (problem: string) => {
      if (problems.length < 50) problems.push(problem);
    };
    for (const bucket of buckets) {
      const trades = Object.entries(bucket.t ?? {}).map(([key, value]) => decodeBucketTrade(tradeIdOfKey(key), value));
      for (const trade of trades) idCounts.set(trade.id, (idCounts.get(trade.id) ?? 0) + 1);
      const candle = seconds.get(candleId(bucket.company, '1s', bucket.start));
      if (!candle) {
        note(`bucket ${bucket._id}: no 1s candle`);
        continue;
      }
      const ordered = [...trades].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const expected = {
        trades: trades.length,
        volume: trades.reduce((sum, trade) => sum + trade.quantity, 0),
        buys: trades.filter((trade) => trade.side === 'buy').length,
        sells: trades.filter((trade) => trade.side === 'sell').length,
        open: ordered[0]?.price,
        close: ordered[ordered.length - 1]?.price,
        high: Math.max(...trades.map((trade) => trade.price)),
        low: Math.min(...trades.map((trade) => trade.price)),
      };
      for (const [field, value] of Object.entries(expected)) {
        const stored = candle[field as keyof CandleDoc];
        if (stored !== value) note(`${candle._id}.${field}: stored ${String(stored)}, from the bucket ${value}`);
      }
    }
    const bucketIds = new Set(buckets.map((bucket) => candleId(bucket.company, '1s', bucket.start)));
    let sum1s = 0;
    const perMinute = new Map<string, number>();
    for (const candle of seconds.values()) {
      sum1s += candle.trades;
      if (!bucketIds.has(candle._id)) note(`${candle._id}: a 1s candle without its bucket`);
      const minuteId = candleId(candle.company, '1m', Math.floor(candle.start / 60_000) * 60_000);
      perMinute.set(minuteId, (perMinute.get(minuteId) ?? 0) + candle.trades);
    }
    let sum1m = 0;
    for (const candle of minutes.values()) {
      sum1m += candle.trades;
      const fromSeconds = perMinute.get(candle._id) ?? 0;
      if (candle.trades !== fromSeconds) note(`${candle._id}.trades: stored ${candle.trades}, from 1s ${fromSeconds}`);
    }
    for (const minuteId of perMinute.keys()) if (!minutes.has(minuteId)) note(`${minuteId}: missing 1m candle`);
    return { idCounts, sum1s, sum1m, problems };
  } finally {
    await client.close();
  }
}

export interface Figures {
  published: number;
  confirmed: number;
  /** Distinct trade ids stored in this phase (new since the previous check). */
  aggregated: number;
  deadLettered: number;
  lost: number;
  countedTwice: number;
  /** Stored ids the publisher never reported sending. */
  unknown: number;
  /** Unconfirmed at the publisher's stop and yet stored (allowed: at-least-once). */
  unconfirmedStored: number;
  [extra: string]: number | string | undefined;
}

/**
 * Checks everything sent so far against the database, cumulatively over a stack's life, and
 * returns the figures of the latest phase. Exactly once: every confirmed id stored, in exactly
 * one bucket; the 1 s candles sum to the distinct ids, the 1 m candles to the 1 s ones; no id
 * stored that no publisher sent.
 */
export class GroundTruth {
  private readonly confirmed = new Set<string>();
  private readonly sent = new Set<string>();
  private storedBefore = 0;
  private deadLettersBefore = 0;

  constructor(private readonly stack: LocalStack) {}

  /** Call before a phase starts, so the dead-letter count is the phase's own. */
  async beginPhase(): Promise<void> {
    this.deadLettersBefore = await queueDepth(this.stack.rabbitmq, DEAD_LETTER_QUEUE);
  }

  /** Waits until the consumers have caught up with every confirmed trade, then checks. */
  async check(truth: PublisherTruth, timeoutMs = 120_000): Promise<{ figures: Figures; state: StoredState }> {
    for (const id of truth.confirmedIds) {
      this.confirmed.add(id);
      this.sent.add(id);
    }
    for (const id of truth.unconfirmedIds) this.sent.add(id);
    // Caught up: no ready message, every confirmed id stored, and the stored set unchanged for a
    // poll (so what was in flight between queue and database has landed). The consumers'
    // consumer_buffered_trades gauge is not used here: it can stay above 0 after a reconnect.
    let previous = -1;
    const caughtUpAt = await waitFor(
      'the consumers to store every confirmed trade',
      async () => {
        if ((await readyDepth(this.stack)) > 0) return undefined;
        const state = await readStoredState(this.stack.mongo.url);
        const missing = [...this.confirmed].filter((id) => !state.idCounts.has(id)).length;
        const stable = state.idCounts.size === previous;
        previous = state.idCounts.size;
        return missing === 0 && stable ? Date.now() : undefined;
      },
      { timeoutMs, intervalMs: 1_000 },
    ).catch(() => undefined);
    const state = await readStoredState(this.stack.mongo.url);
    let countedTwice = 0;
    let unknown = 0;
    for (const [id, count] of state.idCounts) {
      if (count > 1) countedTwice += count - 1;
      if (!this.sent.has(id)) unknown++;
    }
    countedTwice += Math.max(0, state.sum1s - state.idCounts.size);
    const lost = [...this.confirmed].filter((id) => !state.idCounts.has(id)).length;
    const unconfirmedStored = [...truth.unconfirmedIds].filter((id) => state.idCounts.has(id)).length;
    const figures: Figures = {
      published: truth.published,
      confirmed: truth.confirmedIds.size,
      aggregated: state.idCounts.size - this.storedBefore,
      deadLettered: (await queueDepth(this.stack.rabbitmq, DEAD_LETTER_QUEUE)) - this.deadLettersBefore,
      lost,
      countedTwice,
      unknown,
      unconfirmedStored,
      caughtUp: caughtUpAt === undefined ? 'no' : 'yes',
      bufferedGaugeAfter: await bufferedTrades(this.stack),
    };
    this.storedBefore = state.idCounts.size;
    return { figures, state };
  }
}

const reportFile = join(repoRoot, 'test-artifacts', 'reliability.json');

export interface ScenarioRecord {
  readonly kind: 'fault' | 'bad input' | 'security';
  readonly what: string;
  readonly outcome: string;
  readonly figures?: Record<string, number | string | undefined>;
}

/** Adds (or replaces) a scenario in test-artifacts/reliability.json, which docs/reliability.md is built from. */
export function recordScenario(name: string, record: ScenarioRecord): void {
  mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(readFileSync(reportFile, 'utf8')) as Record<string, unknown>;
  } catch {
    // first scenario of the run
  }
  all[name] = { ...record, at: new Date().toISOString() };
  writeFileSync(reportFile, `${JSON.stringify(all, null, 2)}\n`);
}

/** This run's passwords of the broker users (random per stack): none may reach a log. */
export function stackPasswords(stack: LocalStack): string[] {
  return RABBITMQ_USERS.map((user) => stack.rabbitmq.password(user));
}

/** Services whose output contains one of the stack's passwords, with the user's name (none expected). */
export function secretsInLogs(stack: LocalStack, services: readonly (ServiceProcess | undefined)[]): string[] {
  const found: string[] = [];
  for (const service of services) {
    if (!service) continue;
    for (const user of RABBITMQ_USERS) {
      if (service.process.output.includes(stack.rabbitmq.password(user))) {
        found.push(`${service.process.options.name}: the password of ${user}`);
      }
    }
  }
  return found;
}
