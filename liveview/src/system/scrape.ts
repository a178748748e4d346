import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** One sample of a counter or gauge: its labels and value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** A scrape's counters and gauges by metric name (histograms and summaries are not needed here). */
export type Samples = ReadonlyMap<string, readonly Sample[]>;

/** Parses the Prometheus text format with the library; keeps counters, gauges and untyped. */
export function parseMetrics(text: string): Samples {
  const samples = new Map<string, Sample[]>();
  for (const family of parsePrometheusTextFormat(text)) {
    if (family.type !== 'COUNTER' && family.type !== 'GAUGE' && family.type !== 'UNTYPED') continue;
    samples.set(
      family.name,
      family.metrics.map((metric) => ({ labels: metric.labels ?? {}, value: Number(metric.value) })),
    );
  }
  return samples;
}

/** Several pages as one: each metric's samples of every page (undefined when there is no page). */
export function mergeSamples(pages: readonly Samples[]): Samples | undefined {
  if (pages.length === 0) return undefined;
  const merged = new Map<string, Sample[]>();
  for (const page of pages) {
    for (const [name, samples] of page) merged.set(name, [...(merged.get(name) ?? []), ...samples]);
  }
  return merged;
}

/** The sum of a metric over its label sets (0 when absent). */
export function total(samples: Samples, name: string, where?: (labels: Record<string, string>) => boolean): number {
  let sum = 0;
  for (const sample of samples.get(name) ?? []) {
    if (Number.isFinite(sample.value) && (!where || where(sample.labels))) sum += sample.value;
  }
  return sum;
}

/** GETs a `/metrics` page within `timeoutMs`; rejects on a non-200 answer. */
export async function scrape(url: string, timeoutMs: number): Promise<Samples> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return parseMetrics(await response.text());
}
