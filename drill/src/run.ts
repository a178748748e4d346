import { waitFor } from '@stockmarket/common';
import { PageProbe, staleness, type Timeline, timelineOf } from './probe.js';
import type { Scenario } from './scenario.js';

export interface DrillEvent {
  /** Milliseconds since the fault (negative: before it). */
  readonly atMs: number;
  readonly event: string;
}

export interface DrillResult {
  readonly scenario: string;
  readonly what: string;
  readonly target: string;
  readonly faultAt: number;
  readonly endedAt: number;
  readonly events: readonly DrillEvent[];
  readonly timeline: Timeline;
}

export interface DrillOptions {
  readonly companies: readonly string[];
  /** The page counts as behind when a company's newest trade is older than this (default 2 s). */
  readonly staleAfterMs?: number;
  /** How long the page may take to be fresh again after the heal (default 90 s). */
  readonly recoveryTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * One drill: the page fresh first, the fault, the hold, the heal, then the page fresh again with
 * every company's newest trade younger than the heal; the timeline is read off the probe's samples.
 */
export async function runDrill<T>(
  baseUrl: string,
  system: T,
  scenario: Scenario<T>,
  options: DrillOptions,
): Promise<DrillResult> {
  const staleAfterMs = options.staleAfterMs ?? 2_000;
  const log = options.log ?? (() => {});
  const probe = new PageProbe(baseUrl).start();
  const events: { at: number; event: string }[] = [];
  const mark = (event: string) => {
    events.push({ at: Date.now(), event });
    log(`  ${event}`);
  };
  try {
    await waitFor(
      'the page to be fresh before the fault',
      () => {
        const sample = probe.latest;
        return sample !== undefined && staleness(sample, options.companies) <= staleAfterMs;
      },
      { timeoutMs: 60_000 },
    );
    const fault = await scenario.choose({ system, probe, mark });
    const faultAt = Date.now();
    mark(`fault on ${fault.target}: ${scenario.what}`);
    await fault.inject();
    mark('fault injected');
    if (fault.holdMs > 0) {
      // The fault's duration, not a synchronisation: the system must cope while it lasts.
      await waitFor('the hold', () => Date.now() - faultAt >= fault.holdMs, {
        timeoutMs: fault.holdMs + 5_000,
        intervalMs: 100,
      });
    }
    await fault.heal();
    const healedAt = Date.now();
    mark(`healed ${fault.target}`);
    await waitFor(
      'the page to be fresh again, with trades newer than the heal for every company',
      () => {
        const sample = probe.latest;
        return (
          sample !== undefined &&
          staleness(sample, options.companies) <= staleAfterMs &&
          options.companies.every((company) => (sample.lastTradeAt[company] ?? 0) > healedAt)
        );
      },
      { timeoutMs: options.recoveryTimeoutMs ?? 90_000 },
    );
    mark('the page is fresh again, with trades newer than the heal for every company');
    const endedAt = Date.now();
    const timeline = timelineOf(probe.samples, faultAt, options.companies, staleAfterMs);
    return {
      scenario: scenario.name,
      what: scenario.what,
      target: fault.target,
      faultAt,
      endedAt,
      events: events.map(({ at, event }) => ({ atMs: at - faultAt, event })),
      timeline,
    };
  } finally {
    probe.stop();
  }
}

/** The timeline as lines for a terminal. */
export function formatDrill(result: DrillResult): string {
  const { timeline } = result;
  const ms = (value: number | undefined) => (value === undefined ? 'not seen' : `${value} ms`);
  return [
    `drill ${result.scenario} (${result.target})`,
    ...result.events.map(({ atMs, event }) => `  ${String(atMs).padStart(7)} ms  ${event}`),
    `  page: detected ${ms(timeline.detectedMs)}, recovered ${ms(timeline.recoveredMs)}, longest without a fresh price ${timeline.worstStalenessMs} ms, ${timeline.failedRequests} failed requests, replica ${timeline.replicaBefore ?? '?'} -> ${timeline.replicaAfter ?? '?'}`,
  ].join('\n');
}
