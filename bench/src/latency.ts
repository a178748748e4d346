import * as hdr from 'hdr-histogram-js';

/** Latency percentiles of one benchmark step, ms. */
export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Every latency of the benchmarks goes into an HdrHistogram: whole milliseconds up to ten minutes
 * with three significant digits, mergeable across worker processes (`encode`/`decode`).
 */
export class Latencies {
  private constructor(private readonly histogram: hdr.Histogram) {}

  static create(): Latencies {
    return new Latencies(
      hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 }),
    );
  }

  static decode(encoded: string): Latencies {
    return new Latencies(hdr.decodeFromCompressedBase64(encoded));
  }

  static of(values: readonly number[]): Latencies {
    const latencies = Latencies.create();
    for (const value of values) latencies.record(value);
    return latencies;
  }

  /** A negative delay (clocks a little apart) counts as 0; beyond the range, as the range's end. */
  record(ms: number): void {
    this.histogram.recordValue(Math.min(600_000, Math.max(0, Math.round(ms))));
  }

  add(other: Latencies): void {
    this.histogram.add(other.histogram);
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }

  summary(): LatencySummary {
    const at = (percentile: number) =>
      this.histogram.totalCount === 0 ? Number.NaN : this.histogram.getValueAtPercentile(percentile);
    return {
      n: this.histogram.totalCount,
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      max: this.histogram.totalCount === 0 ? Number.NaN : this.histogram.maxValue,
    };
  }
}
