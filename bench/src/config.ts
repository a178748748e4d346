import { commaSeparated, envBool, envInt, parseEnv, setting } from '@stockmarket/common';
import { z } from 'zod';

/** The benchmarks' own settings (README's table is generated from these: `npm run settings`). */
export const benchConfigShape = {
  BENCH_POLL_MS: setting(envInt(250, 10, 60_000), "The liveview's poll interval in the pipeline benchmark"),
  BENCH_NOTICES: setting(
    envBool(true),
    "`false`: the pipeline bench's liveview gets no broker URL and learns of writes by polling only (the before of docs/performance.md)",
  ),
  BENCH_WRITE_SLOTS: setting(
    envInt(1, 1, 64),
    "The consumer's `CONSUMER_WRITE_CONCURRENCY` in the pipeline bench (1, its default, for FerretDB)",
  ),
  BENCH_LEDGER: setting(
    envBool(true),
    "`false`: the pipeline bench's publisher sends no ledger (reconciliation's cost, docs/reconciliation.md)",
  ),
  BENCH_FANOUT_CLIENTS: setting(
    commaSeparated
      .pipe(z.array(z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(50_000))).min(1))
      .optional(),
    "Fan-out: only these client counts on one replica (e.g. `10000`), and no two-replica steps; unset: the variant's whole list",
  ),
  BENCH_LIVEVIEW_NODE_OPTIONS: setting(
    z.string().optional(),
    'Fan-out: `NODE_OPTIONS` of the liveview replicas, to try the heap settings Node allows there (`--max-semi-space-size`, `--max-old-space-size`)',
  ),
  BENCH_CPU_PROFILE_DIR: setting(
    z.string().min(1).optional(),
    'Pipeline: a directory; the publisher, consumer and liveview then write V8 CPU profiles there (`--cpu-prof`), summed up by `npm run profile -- <dir>`',
  ),
  BENCH_BATCH_SIZE: setting(envInt(0, 0, 100_000), "Pipeline: the consumer's `BATCH_SIZE` (0: its default)"),
  BENCH_PIPELINE_RATES: setting(
    commaSeparated
      .pipe(z.array(z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(200_000))).min(1))
      .optional(),
    'Pipeline: the target rates (trades/s) of its steps instead of the built-in list',
  ),
  BENCH_PIPELINE_SECONDS: setting(
    envInt(0, 0, 3_600),
    'Pipeline: seconds each step publishes for (0: 60, or 15 with `--short`)',
  ),
  BENCH_TRADES_PER_MESSAGE: setting(
    commaSeparated
      .pipe(z.array(z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(1_000))).min(1))
      .default([1]),
    "Pipeline: the publisher's `PUBLISHER_TRADES_PER_MESSAGE`, each value a step at every rate, side by side in one run (e.g. `1,50`)",
  ),
  BENCH_PUBLISHER_QUEUES: setting(
    commaSeparated.pipe(z.array(z.enum(['classic', 'quorum'])).min(1)).default(['classic', 'quorum']),
    'Publisher bench: the queue types to measure (`classic`, `quorum` or both)',
  ),
};

/** The benchmarks' settings, parsed once (a bad value stops the run, naming the variable). */
export const benchConfig = parseEnv(benchConfigShape, process.env);
