// Candles as the chart library's data points: bars, the VWAP line and volume columns.
import type { CandleInterval, CandleView } from '@stockmarket/common';
import { CANDLE_INTERVAL_MS } from '@stockmarket/common/storage';
import type { CandlestickData, HistogramData, LineData, UTCTimestamp, WhitespaceData } from 'lightweight-charts';
import { withGaps } from '../shared/chart-gaps.js';

const time = (ms: number) => (ms / 1000) as UTCTimestamp;

export function toBar(candle: CandleView): CandlestickData {
  return { time: time(candle.start), open: candle.open, high: candle.high, low: candle.low, close: candle.close };
}

export const toVwap = (candle: CandleView): LineData => ({ time: time(candle.start), value: candle.vwap });

export const toVolume = (candle: CandleView): HistogramData => ({
  time: time(candle.start),
  value: candle.volume,
  color: candle.close >= candle.open ? 'rgba(63,185,80,0.5)' : 'rgba(255,123,114,0.5)',
});

/** Missing seconds (or minutes) become empty slots, so an outage shows as a gap, not a jump. */
export const gapped = <T>(
  series: readonly CandleView[],
  interval: CandleInterval,
  map: (candle: CandleView) => T,
): (T | WhitespaceData)[] =>
  withGaps<CandleView, T | WhitespaceData>(series, CANDLE_INTERVAL_MS[interval], map, (start) => ({
    time: time(start),
  }));
