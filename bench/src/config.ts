import { commaSeparated, envBool, envInt, parseEnv } from '@stockmarket/common';
import { z } from 'zod';

/** The benchmarks' own settings, parsed once (a bad value stops the run, naming the variable). */
export const benchConfig = parseEnv(
  {
    /** The liveview's poll interval in the pipeline benchmark (docs/performance.md). */
    BENCH_POLL_MS: envInt(250, 10, 60_000),
    /** false: the liveview gets no broker URL and learns of writes by polling only (the before of docs/performance.md). */
    BENCH_NOTICES: envBool(true),
    /** The consumer's CONSUMER_WRITE_CONCURRENCY in the pipeline benchmark (1, its default, for FerretDB). */
    BENCH_WRITE_SLOTS: envInt(1, 1, 64),
    /**
     * Fan-out: only these client counts on one replica (e.g. `10000`), and no two-replica steps;
     * unset, the variant's whole list runs.
     */
    BENCH_FANOUT_CLIENTS: commaSeparated
      .pipe(z.array(z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(50_000))).min(1))
      .optional(),
    /**
     * Fan-out: NODE_OPTIONS of the liveview replicas, to try the heap settings Node allows there
     * (`--max-semi-space-size`, `--max-old-space-size`); unset: none.
     */
    BENCH_LIVEVIEW_NODE_OPTIONS: z.string().optional(),
    /** Pipeline: the consumer's BATCH_SIZE (0: its default). */
    BENCH_BATCH_SIZE: envInt(0, 0, 100_000),
    /** Pipeline: the target rates (trades/s) of its steps instead of the built-in list. */
    BENCH_PIPELINE_RATES: commaSeparated
      .pipe(z.array(z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(200_000))).min(1))
      .optional(),
    /** Pipeline: seconds each step publishes for (default 60, 15 with --short). */
    BENCH_PIPELINE_SECONDS: envInt(0, 0, 3_600),
    /**
     * Pipeline: PUBLISHER_TRADES_PER_MESSAGE of the publisher, each value a step at every rate, side
     * by side in one run (e.g. `1,50`: the contract's form and the batched one).
     */
    BENCH_TRADES_PER_MESSAGE: commaSeparated
      .pipe(z.array(z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(1_000))).min(1))
      .default([1]),
    /** Publisher: the queue types to measure (`classic`, `quorum` or both). */
    BENCH_PUBLISHER_QUEUES: commaSeparated
      .pipe(z.array(z.enum(['classic', 'quorum'])).min(1))
      .default(['classic', 'quorum']),
  },
  process.env,
);
