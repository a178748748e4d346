// Candle history from /api/candles, once per series: afterwards the live feed keeps it current
// (no refetch on every click).
import type { CandleInterval, CandleView } from '@stockmarket/common';
import { mergeCandles, seriesKey } from './market-state.js';

/** Series whose history came from the API once. */
const historyLoaded = new Set<string>();

export async function loadCandleHistory(
  company: string,
  candleInterval: CandleInterval,
  onLoaded: (company: string, candleInterval: CandleInterval) => void,
): Promise<void> {
  const key = seriesKey(company, candleInterval);
  if (historyLoaded.has(key)) return;
  historyLoaded.add(key);
  try {
    const response = await fetch(
      `api/candles?company=${encodeURIComponent(company)}&interval=${candleInterval}&limit=600`,
    );
    if (!response.ok) {
      historyLoaded.delete(key);
      return;
    }
    const body = (await response.json()) as { candles: CandleView[] };
    mergeCandles(body.candles);
    onLoaded(company, candleInterval);
  } catch (error) {
    // The live feed still fills the chart; the history is asked for again on the next selection.
    historyLoaded.delete(key);
    console.warn('candle history not loaded', error);
  }
}
