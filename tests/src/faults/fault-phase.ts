import assert from 'node:assert/strict';
import { type LocalStack, type ServiceProcess, waitFor } from '@stockmarket/stack';
import {
  type Figures,
  type GroundTruth,
  metricOf,
  recordScenario,
  startTracingPublisher,
  stopPublisher,
} from './ground-truth.js';

/** Waits until the publisher has had `count` more trades confirmed (load-based, not a sleep). */
export async function confirmedMore(publisher: ServiceProcess, count: number, timeoutMs = 60_000): Promise<number> {
  const start = (await metricOf(publisher, 'publisher_confirmed_total')) ?? 0;
  return waitFor(
    `${count} more confirmed trades`,
    async () => {
      const now = (await metricOf(publisher, 'publisher_confirmed_total')) ?? 0;
      return now >= start + count ? now : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

export interface FaultPhase {
  stack: LocalStack;
  truth: GroundTruth;
  /** Every publisher started, so the file's `after` can stop them. */
  publishers: ServiceProcess[];
  /** The publisher's broker settings (default: the stack's one node). */
  publisherEnv?: Record<string, string>;
  name: string;
  what: string;
  fault: (publisher: ServiceProcess) => Promise<Record<string, number | string>>;
}

/**
 * One row of a fault suite: a tracing publisher, trades flowing, the fault, more trades, then the
 * ground truth over every trade sent: nothing lost, nothing counted twice, candles equal to their
 * trades. The row goes into the reliability report whether it passes or not.
 */
export async function runFaultPhase({
  stack,
  truth,
  publishers,
  publisherEnv,
  name,
  what,
  fault,
}: FaultPhase): Promise<Figures> {
  await truth.beginPhase();
  const publisher = await startTracingPublisher(stack, publisherEnv);
  publishers.push(publisher);
  await confirmedMore(publisher, 600);
  const faultFigures = await fault(publisher);
  await confirmedMore(publisher, 600);
  const sent = await stopPublisher(publisher);
  const drainStarted = Date.now();
  const { figures, state } = await truth.check(sent);
  const all: Figures = { ...figures, catchUpMs: Date.now() - drainStarted, ...faultFigures };
  const ok =
    all.lost === 0 && all.countedTwice === 0 && all.unknown === 0 && state.problems.length === 0 && all.confirmed > 0;
  recordScenario(name, {
    kind: 'fault',
    what,
    outcome: ok ? 'nothing lost, nothing counted twice, candles match their trades' : 'FAILED (see figures)',
    figures: all,
  });
  assert.deepEqual(state.problems, [], 'every candle equals what its trades give');
  assert.equal(all.lost, 0, `confirmed trades missing from the database: ${JSON.stringify(all)}`);
  assert.equal(all.countedTwice, 0, `trades counted twice: ${JSON.stringify(all)}`);
  assert.equal(all.unknown, 0, 'no stored trade that no publisher sent');
  assert.equal(state.sum1m, state.sum1s, 'the 1 m candles count the same trades as the 1 s candles');
  assert.equal(state.sum1s, state.idCounts.size, 'the 1 s candles count each stored trade once');
  assert.ok(all.aggregated >= all.confirmed, 'every confirmed trade of the phase aggregated');
  return all;
}
