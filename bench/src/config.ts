import { envBool, envInt, parseEnv } from '@stockmarket/common';

/** The benchmarks' own settings, parsed once (a bad value stops the run, naming the variable). */
export const benchConfig = parseEnv(
  {
    /** The liveview's poll interval in the pipeline benchmark (docs/performance.md). */
    BENCH_POLL_MS: envInt(250, 10, 60_000),
    /** false: the liveview gets no broker URL and learns of writes by polling only (the before of docs/performance.md). */
    BENCH_NOTICES: envBool(true),
    /** The consumer's CONSUMER_WRITE_CONCURRENCY in the pipeline benchmark (1, its default, for FerretDB). */
    BENCH_WRITE_SLOTS: envInt(1, 1, 64),
  },
  process.env,
);
