import { MAX_TRADE_BYTES, readJson, type Trade, validateTrade } from './trade.js';

/**
 * The opt-in batched wire format (`PUBLISHER_TRADES_PER_MESSAGE` > 1): one AMQP message holds
 * several trades of one company as `{"trades":[trade, ...]}`, each element exactly the single-trade
 * message of the contract. The content type tells the two forms apart: it is the AMQP property
 * meant to say how a body is encoded, every client and the management UI show it, and a reader
 * decides before it parses (a trade can never be misread as a batch, nor the reverse). The body is
 * an object rather than a bare array so that a reader of single trades fails on it plainly
 * (`company` missing) and batch-level fields can be added later without a new type.
 */
export const TRADE_BATCH_CONTENT_TYPE = 'application/vnd.stockmarket.trades+json';

/** The content type of a single-trade message (the contract's). */
export const TRADE_CONTENT_TYPE = 'application/json';

/** Most trades one batch message may hold (and most `PUBLISHER_TRADES_PER_MESSAGE` allows). */
export const MAX_TRADES_PER_MESSAGE = 1000;

/** Largest batch message body the consumer reads; anything bigger is dead-lettered unread. */
export const MAX_TRADE_BATCH_BYTES = MAX_TRADES_PER_MESSAGE * 1024;

/** True when a message's content type says it holds a batch of trades. */
export function isTradeBatch(contentType: unknown): boolean {
  return contentType === TRADE_BATCH_CONTENT_TYPE;
}

/** One element of a batch message: the trade, or why it is refused and its JSON (to park it alone). */
export type BatchItem = { ok: true; trade: Trade } | { ok: false; reason: string; raw: string };

export type BatchParseResult = { ok: true; items: BatchItem[] } | { ok: false; reason: string };

/**
 * Parses a batch message body; never throws. The whole message is refused only when it is not a
 * batch at all (too big, not JSON, no `trades` array, empty or too long); otherwise every element
 * is validated on its own, so one bad trade does not take the good ones with it.
 */
export function parseTradeBatch(body: Buffer | string, companies?: ReadonlySet<string>): BatchParseResult {
  const json = readJson(body, MAX_TRADE_BATCH_BYTES);
  return json.ok ? batchItems(json.value, companies) : json;
}

/** A parsed body shaped like a batch: an object with a `trades` array and no `company` (a trade has one). */
function hasBatchShape(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { trades?: unknown }).trades) &&
    !('company' in value)
  );
}

function batchItems(value: unknown, companies?: ReadonlySet<string>): BatchParseResult {
  const trades = (value as { trades?: unknown } | null)?.trades;
  if (typeof value !== 'object' || !Array.isArray(trades)) {
    return { ok: false, reason: 'invalid batch: want {"trades": [...]}' };
  }
  if (trades.length === 0 || trades.length > MAX_TRADES_PER_MESSAGE) {
    return { ok: false, reason: `invalid batch: ${trades.length} trades (1 to ${MAX_TRADES_PER_MESSAGE})` };
  }
  const items = trades.map((element): BatchItem => {
    const raw = JSON.stringify(element) ?? 'null';
    if (Buffer.byteLength(raw) > MAX_TRADE_BYTES) {
      return { ok: false, reason: `oversized: trade > ${MAX_TRADE_BYTES} bytes`, raw: raw.slice(0, MAX_TRADE_BYTES) };
    }
    const parsed = validateTrade(element, companies);
    return parsed.ok ? parsed : { ...parsed, raw };
  });
  return { ok: true, items };
}

/** A message of a company queue, either form: a single trade, or a batch (by content type or shape). */
export type TradeMessageResult =
  | { ok: true; batch: false; trade: Trade }
  | { ok: true; batch: true; items: BatchItem[] }
  | { ok: false; reason: string };

/**
 * Reads a message of a company queue in either form; never throws. The batch content type makes
 * it a batch; without it, a body shaped like a batch (`{"trades": [...]}`, no `company`) is read
 * as one too, so a publisher that cannot set the content type may still send batches. Anything
 * else is a single trade, with the single trade's size limit.
 */
export function parseTradeMessage(
  body: Buffer,
  contentType: unknown,
  companies?: ReadonlySet<string>,
): TradeMessageResult {
  if (isTradeBatch(contentType)) return asBatch(parseTradeBatch(body, companies));
  // Read up to a batch's size: a single trade's own limit applies once the shape says it is one.
  const json = readJson(body, MAX_TRADE_BATCH_BYTES);
  if (!json.ok) return json;
  if (hasBatchShape(json.value)) return asBatch(batchItems(json.value, companies));
  if (json.size > MAX_TRADE_BYTES) return { ok: false, reason: `oversized: ${json.size} bytes > ${MAX_TRADE_BYTES}` };
  const parsed = validateTrade(json.value, companies);
  return parsed.ok ? { ok: true, batch: false, trade: parsed.trade } : parsed;
}

const asBatch = (parsed: BatchParseResult): TradeMessageResult =>
  parsed.ok ? { ok: true, batch: true, items: parsed.items } : parsed;

/** The AMQP message body of a batch of trades (send it with `TRADE_BATCH_CONTENT_TYPE`). */
export function tradeBatchBody(trades: readonly Trade[]): Buffer {
  return Buffer.from(JSON.stringify({ trades }));
}
