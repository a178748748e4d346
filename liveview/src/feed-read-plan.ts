// Which candles a poll reads: planned from the stocks alone, so each read is a primary-key lookup.
import { CANDLE_INTERVAL_MS, candleId } from '@stockmarket/common';

const SECOND = CANDLE_INTERVAL_MS['1s'];
const MINUTE = CANDLE_INTERVAL_MS['1m'];
/** How far back a poll looks for candles that changed (covers a full batch interval and more). */
export const LOOKBACK_MS = 30 * SECOND;

/**
 * The candles that trades up to `newest` can have changed since the stock last showed `previous`:
 * every second from the older of `previous`, the newest 1 s candle held and `newest` itself (a
 * stock can move backwards when a redelivered batch lands late), and the minutes around them;
 * never more than the look-back.
 */
export function candleIdsToRead(
  company: string,
  newest: number,
  previous: number | undefined,
  newestKnown1s: number | undefined,
): string[] {
  const newestSecond = Math.floor(newest / SECOND) * SECOND;
  const oldest = Math.min(previous ?? newest, newestKnown1s ?? newest, newest);
  const from = Math.max(Math.floor(oldest / SECOND) * SECOND, newestSecond - LOOKBACK_MS);
  const ids: string[] = [];
  for (let start = from; start <= newestSecond; start += SECOND) ids.push(candleId(company, '1s', start));
  for (let start = Math.floor(from / MINUTE) * MINUTE; start <= newestSecond; start += MINUTE) {
    ids.push(candleId(company, '1m', start));
  }
  return ids;
}
