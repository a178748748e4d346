import { type CandleDoc, type CandleView, collectionNames } from '@stockmarket/common';
import type { Db } from 'mongodb';
import { toCandleView } from './feed-documents.js';

/**
 * The 1 m candles of a session, read once at start so the session open is the same on every
 * replica however long ago the session began (the feed's history holds only the newest
 * LIVEVIEW_CANDLE_HISTORY minutes). At most 1440 documents per company; later minutes arrive
 * through the feed's changes.
 */
export async function readSessionCandles(
  db: Db,
  companies: readonly string[],
  sessionStart: number,
): Promise<CandleView[]> {
  const reads = companies.map((company) =>
    db
      .collection<CandleDoc>(collectionNames().candles)
      .find({ company, interval: '1m', start: { $gte: sessionStart } }, { projection: { s: 0 } })
      .toArray(),
  );
  return (await Promise.all(reads)).flat().flatMap((doc) => toCandleView(doc) ?? []);
}
