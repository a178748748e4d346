/** The most empty slots drawn for one gap: a long outage shows as a gap without flooding the chart. */
export const MAX_GAP_SLOTS = 600;

/**
 * Candles in time order with an empty slot (`{gap: start}`) for every missing interval between
 * them, so an outage shows as a gap on the chart instead of neighbouring bars. Pure: shared by
 * the page bundle and the unit tests.
 */
export function withGaps<C extends { start: number }, T>(
  series: readonly C[],
  stepMs: number,
  map: (candle: C) => T,
  gap: (start: number) => T,
): T[] {
  const out: T[] = [];
  let previous: number | undefined;
  for (const candle of series) {
    if (previous !== undefined) {
      const missing = Math.min(Math.round((candle.start - previous) / stepMs) - 1, MAX_GAP_SLOTS);
      for (let i = 1; i <= missing; i++) out.push(gap(previous + i * stepMs));
    }
    out.push(map(candle));
    previous = candle.start;
  }
  return out;
}
