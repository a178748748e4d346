import { randomUUID } from 'node:crypto';
import { parseTrade, parseTradeMessage, type Trade } from '@stockmarket/common';
import type { TradeRecord } from './aggregate.js';

export type DeliveryResult = { ok: true; record: TradeRecord } | { ok: false; reason: string };

/** One trade of a message: its record, or why it is refused and its JSON (parked alone). */
export type DeliveryPart = { ok: true; record: TradeRecord } | { ok: false; reason: string; body: Buffer };

/** A message: refused as a whole, or its trades (one for the contract's form, several for a batch). */
export type MessageResult = { ok: false; reason: string } | { ok: true; batch: boolean; parts: DeliveryPart[] };

/**
 * One message body from a company queue, validated against the contract, as the record the
 * consumer batches; the reason otherwise (the message is then dead-lettered with it).
 */
export function readDelivery(
  queue: string,
  body: Buffer,
  companies: ReadonlySet<string>,
  timestampSeconds: number | undefined,
  now = Date.now(),
): DeliveryResult {
  const parsed = parseTrade(body, companies);
  return parsed.ok ? toRecord(queue, parsed.trade, timestampSeconds, now) : parsed;
}

/**
 * A message of either form (common/src/trade-batch.ts). A single trade that fails refuses the
 * message, as `readDelivery`; in a batch each trade is read on its own, a bad one becomes a part
 * to park alone with its reason, and the message is refused whole only when it is no batch at all.
 */
export function readMessage(
  queue: string,
  body: Buffer,
  contentType: unknown,
  companies: ReadonlySet<string>,
  timestampSeconds: number | undefined,
  now = Date.now(),
): MessageResult {
  const parsed = parseTradeMessage(body, contentType, companies);
  if (!parsed.ok) return parsed;
  if (!parsed.batch) {
    const single = toRecord(queue, parsed.trade, timestampSeconds, now);
    return single.ok ? { ok: true, batch: false, parts: [single] } : single;
  }
  const parts = parsed.items.map((item): DeliveryPart => {
    if (!item.ok) return { ok: false, reason: item.reason, body: Buffer.from(item.raw) };
    const part = toRecord(queue, item.trade, timestampSeconds, now);
    return part.ok ? part : { ...part, body: Buffer.from(JSON.stringify(item.trade)) };
  });
  return { ok: true, batch: true, parts };
}

function toRecord(queue: string, trade: Trade, timestampSeconds: number | undefined, now: number): DeliveryResult {
  if (trade.company !== queue)
    return { ok: false, reason: `company ${trade.company} does not belong in queue ${queue}` };
  return {
    ok: true,
    record: {
      // Without an id a trade cannot be recognised again: at-least-once (docs/consumer.md).
      id: trade.id ?? `anon-${randomUUID()}`,
      price: trade.price,
      quantity: trade.quantity ?? 1,
      side: trade.eventType,
      ts: trade.ts ?? (timestampSeconds ? timestampSeconds * 1000 : now),
    },
  };
}
