import { z } from 'zod';

/** Largest message body the consumer accepts; anything bigger is dead-lettered unread. */
export const MAX_TRADE_BYTES = 16 * 1024;

/** Ticker symbols: upper-case letters, digits, dot and dash, as exchanges write them. */
export const companySchema = z
  .string()
  .min(1, 'company is empty')
  .max(12, 'company is longer than 12 characters')
  .regex(/^[A-Z0-9.-]+$/, 'company must be an upper-case ticker');

/** Trade ids become MongoDB field names, so they are restricted to characters safe there. */
const tradeIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[0-9A-Za-z_-]+$/, 'id may hold only letters, digits, "_" and "-"');

/**
 * The wire contract: `company`, `eventType` and `price` are required (the original publisher
 * sends only these); `id`, `ts` and `quantity` are our optional additions.
 */
/** No share trades near this (the dearest around 10^6); above it, sums lose precision. */
export const MAX_PRICE = 1e9;
/** The largest epoch ms a JavaScript Date holds. */
const MAX_TIME = 8.64e15;

export const tradeSchema = z.object({
  company: companySchema,
  eventType: z.enum(['buy', 'sell']),
  price: z.number().positive().finite().max(MAX_PRICE, `above ${MAX_PRICE}`),
  id: tradeIdSchema.optional(),
  ts: z.number().int().positive().max(MAX_TIME, 'not a valid time').optional(),
  quantity: z.number().int().positive().max(1_000_000_000).optional(),
});

export type Trade = z.infer<typeof tradeSchema>;

export type ParseResult = { ok: true; trade: Trade } | { ok: false; reason: string };

/** Parses and validates one message body; never throws. */
export function parseTrade(body: Buffer | string, companies?: ReadonlySet<string>): ParseResult {
  const json = readJson(body, MAX_TRADE_BYTES);
  return json.ok ? validateTrade(json.value, companies) : json;
}

/** A message body's JSON, or why not: bigger than `maxBytes` (left unread), or not JSON. Never throws. */
export function readJson(
  body: Buffer | string,
  maxBytes: number,
): { ok: true; value: unknown; size: number } | { ok: false; reason: string } {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > maxBytes) return { ok: false, reason: `oversized: ${size} bytes > ${maxBytes}` };
  try {
    return { ok: true, value: JSON.parse(typeof body === 'string' ? body : body.toString('utf8')), size };
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
}

/** Validates one parsed trade (a message body, or one element of a batch message). */
export function validateTrade(value: unknown, companies?: ReadonlySet<string>): ParseResult {
  const result = tradeSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    return { ok: false, reason: `invalid trade: ${issues.join('; ')}` };
  }
  if (companies && !companies.has(result.data.company)) {
    return { ok: false, reason: `unknown company: ${result.data.company}` };
  }
  return { ok: true, trade: result.data };
}

/** The AMQP message body of a trade (JSON, as the contract says). */
export function tradeMessageBody(trade: Trade): Buffer {
  return Buffer.from(JSON.stringify(trade));
}
