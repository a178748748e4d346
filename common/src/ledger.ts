/**
 * The reconciliation contract (docs/reconciliation.md): the publisher's ledger message per
 * company and minute of event time, the `ledger` collection the consumer writes it into, the
 * "booked" figures the consumer keeps per minute for what it stored, and the exact arithmetic both
 * sides share, so that the comparison is exact, not statistical.
 */
import { hash } from 'node:crypto';
import { z } from 'zod';
import { companySchema } from './trade.js';

/** The queue of ledger messages (declared like the company queues: COMPANY_QUEUES_DURABLE, quorum in a cluster). */
export const LEDGER_QUEUE = 'stockmarket.ledger';
/** The collection of ledger documents (one per company, minute and publisher run, addressed by `ledgerId`). */
export const LEDGER_COLLECTION = 'ledger';
export const LEDGER_MINUTE_MS = 60_000;

const MASK64 = (1n << 64n) - 1n;

/** The figures of a set of trades: what the publisher had confirmed, or what the consumer stored. */
export interface TradeFigures {
  /** Number of distinct trades. */
  readonly trades: number;
  /** Sum of quantities. */
  readonly quantity: number;
  /** Sum of price x quantity in integer cents (price rounded to the cent first; ours are cents). */
  readonly notionalCents: number;
  /**
   * Sum mod 2^64 of the first 8 bytes (big-endian) of SHA-256 of each trade id, as 16 hex digits:
   * order-independent, so both sides get the same value whatever order they saw the trades in.
   */
  readonly digest: string;
}

export const EMPTY_FIGURES: TradeFigures = Object.freeze({
  trades: 0,
  quantity: 0,
  notionalCents: 0,
  digest: '0'.repeat(16),
});

/**
 * The 64-bit hash of one trade id: the first 8 bytes of its SHA-256. The one-shot `crypto.hash`
 * (Node >= 20.12) costs less than half of `createHash(...).update().digest()` per id.
 */
export function idHash(id: string): bigint {
  return hash('sha256', id, 'buffer').readBigUInt64BE(0);
}

export function digestHex(value: bigint): string {
  return (value & MASK64).toString(16).padStart(16, '0');
}

/** The digest of a set that gained (sign 1) or lost (sign -1) the trade `id`. */
export function digestWith(digest: string, id: string, sign: 1 | -1 = 1): string {
  return digestHex(BigInt(`0x${digest}`) + BigInt(sign) * idHash(id));
}

export function priceCents(price: number): number {
  return Math.round(price * 100);
}

/** Figures of a list of trades (the caller makes sure each trade is there once). */
export function figuresOf(
  trades: Iterable<{ readonly id: string; readonly price: number; readonly quantity: number }>,
): TradeFigures {
  let count = 0;
  let quantity = 0;
  let notionalCents = 0;
  let digest = 0n;
  for (const trade of trades) {
    count++;
    quantity += trade.quantity;
    notionalCents += priceCents(trade.price) * trade.quantity;
    digest += idHash(trade.id);
  }
  return { trades: count, quantity, notionalCents, digest: digestHex(digest) };
}

/** The sum of figures of disjoint sets (seconds of a minute, parts of a ledger). */
export function addFigures(parts: Iterable<TradeFigures>): TradeFigures {
  let trades = 0;
  let quantity = 0;
  let notionalCents = 0;
  let digest = 0n;
  for (const part of parts) {
    trades += part.trades;
    quantity += part.quantity;
    notionalCents += part.notionalCents;
    digest += BigInt(`0x${part.digest}`);
  }
  return { trades, quantity, notionalCents, digest: digestHex(digest) };
}

export function sameFigures(a: TradeFigures, b: TradeFigures): boolean {
  return (
    a.trades === b.trades && a.quantity === b.quantity && a.notionalCents === b.notionalCents && a.digest === b.digest
  );
}

const figuresShape = {
  trades: z.number().int().min(0),
  quantity: z.number().int().min(0),
  notionalCents: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  digest: z.string().regex(/^[0-9a-f]{16}$/, 'digest must be 16 hex digits'),
};

/**
 * The ledger message: one per company, minute and publisher run (`source`), sent once every trade
 * of the minute that this run published is confirmed. `partial`: the run did not see the whole
 * minute (it started or stopped inside it, or stopped with trades of it unconfirmed).
 */
export const ledgerMessageSchema = z
  .object({
    company: companySchema,
    /** Minute start, epoch ms. */
    minute: z
      .number()
      .int()
      .min(0)
      .refine((value) => value % LEDGER_MINUTE_MS === 0, 'minute must be a whole minute'),
    /** The publisher run: a new id at every start. */
    source: z.string().regex(/^[0-9A-Za-z_-]{1,64}$/, 'source may hold only letters, digits, "_" and "-"'),
    partial: z.boolean(),
    /** When the run closed the minute, epoch ms. */
    closedAt: z.number().int().min(0),
    ...figuresShape,
  })
  .strict();

export type LedgerMessage = z.infer<typeof ledgerMessageSchema>;

export type LedgerParseResult = { ok: true; ledger: LedgerMessage } | { ok: false; reason: string };

export function parseLedgerMessage(body: Buffer): LedgerParseResult {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const result = ledgerMessageSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || 'message'}: ${issue.message}`);
    return { ok: false, reason: `invalid ledger message: ${issues.join('; ')}` };
  }
  return { ok: true, ledger: result.data };
}

export function ledgerMessageBody(ledger: LedgerMessage): Buffer {
  return Buffer.from(JSON.stringify(ledger));
}

/** One publisher run's part of a minute, as stored in the ledger document. */
export type LedgerPart = TradeFigures & { partial: boolean; closedAt: number };

/**
 * A `ledger` document: one publisher run's part of a company's minute, addressed by `ledgerId`.
 * Insert-only, one document per part: two consumer replicas writing parts of the same minute at
 * once never touch the same document (a `$set` of one part into a shared document is atomic on
 * MongoDB, but FerretDB applies it as a read-modify-write and can lose the other part).
 */
export type LedgerDoc = LedgerPart & {
  _id: string;
  company: string;
  minute: number;
  source: string;
  updatedAt: Date;
};

/** Minutes are 13-digit epoch milliseconds (2001 to 2286), so ids sort by company, then minute. */
export const ledgerId = (company: string, minute: number, source: string): string => `${company}:${minute}:${source}`;

/** An `_id` range holding every part of the company's minutes from `from` to `to` (inclusive). */
export const ledgerIdRange = (company: string, from: number, to: number): { $gte: string; $lte: string } => ({
  $gte: `${company}:${from}:`,
  // "~" sorts after every character a source may hold.
  $lte: `${company}:${to}:~`,
});

/** The ledger of a minute: the sum of its parts, partial if any part is, closed when its last part was. */
export function ledgerFigures(
  parts: readonly LedgerPart[],
): TradeFigures & { partial: boolean; parts: number; closedAt: number } {
  return {
    ...addFigures(parts),
    partial: parts.some((part) => part.partial),
    parts: parts.length,
    closedAt: Math.max(0, ...parts.map((part) => part.closedAt)),
  };
}

/**
 * The booked figures a 1 m candle carries (`CandleDoc.rc`), over the trades the consumer stored
 * in that minute, each once (derived from the buckets, so a redelivery changes nothing).
 */
export type BookedFigures = TradeFigures;
