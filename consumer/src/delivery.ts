import { randomUUID } from 'node:crypto';
import { parseTrade } from '@stockmarket/common';
import type { TradeRecord } from './aggregate.js';

export type DeliveryResult = { ok: true; record: TradeRecord } | { ok: false; reason: string };

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
  if (!parsed.ok) return parsed;
  const { trade } = parsed;
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
