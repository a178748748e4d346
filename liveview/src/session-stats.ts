import type { CandleView, SessionStats } from '@stockmarket/common';

const DAY = 24 * 60 * 60 * 1000;

/** The session a moment belongs to: its UTC calendar day. */
export const sessionStartOf = (at: number): number => Math.floor(at / DAY) * DAY;

/**
 * The session of each company, derived from its 1 m candles only (what MongoDB holds, so every
 * replica agrees): open of the first candle, high/low over all, close of the newest, VWAP weighted
 * by each minute's volume. Candles of an older session are dropped when a newer one starts.
 */
export class SessionBook {
  private readonly minutes = new Map<string, Map<number, CandleView>>();
  private changes = 0;

  /** Grows with every change applied: equal versions, equal figures (for the encoded snapshot). */
  get version(): number {
    return this.changes;
  }

  /** Takes 1 m candles (others are ignored); returns the companies whose session changed. */
  apply(candles: readonly CandleView[]): string[] {
    const changed = new Set<string>();
    for (const candle of candles) {
      if (candle.interval !== '1m') continue;
      let series = this.minutes.get(candle.company);
      const session = sessionStartOf(candle.start);
      const current = series && series.size > 0 ? sessionStartOf(Math.max(...series.keys())) : undefined;
      if (current !== undefined && session < current) continue;
      if (!series || (current !== undefined && session > current)) {
        series = new Map();
        this.minutes.set(candle.company, series);
      }
      series.set(candle.start, candle);
      changed.add(candle.company);
    }
    if (changed.size > 0) this.changes++;
    return [...changed];
  }

  stats(company: string): SessionStats | undefined {
    const series = this.minutes.get(company);
    if (!series || series.size === 0) return undefined;
    return summarise(
      company,
      [...series.values()].sort((a, b) => a.start - b.start),
    );
  }

  all(companies: readonly string[]): SessionStats[] {
    return companies.flatMap((company) => this.stats(company) ?? []);
  }
}

export function summarise(company: string, candles: readonly CandleView[]): SessionStats | undefined {
  const first = candles[0];
  const last = candles.at(-1);
  if (!first || !last) return undefined;
  let high = -Infinity;
  let low = Infinity;
  let volume = 0;
  let trades = 0;
  let buys = 0;
  let sells = 0;
  let weighted = 0;
  let weights = 0;
  for (const candle of candles) {
    high = Math.max(high, candle.high);
    low = Math.min(low, candle.low);
    volume += candle.volume;
    trades += candle.trades;
    buys += candle.buys;
    sells += candle.sells;
    // Minutes without a volume (trades without quantity) weigh by their trade count.
    const weight = candle.volume > 0 ? candle.volume : candle.trades;
    weighted += candle.vwap * weight;
    weights += weight;
  }
  return {
    company,
    start: sessionStartOf(first.start),
    open: first.open,
    high,
    low,
    close: last.close,
    vwap: weights > 0 ? weighted / weights : last.close,
    volume,
    trades,
    buys,
    sells,
    minutes: candles.length,
  };
}
