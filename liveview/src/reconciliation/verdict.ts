import { type BookedFigures, LEDGER_MINUTE_MS, sameFigures, type TradeFigures } from '@stockmarket/common';
import type { ReconciledMinute, ReconciliationStatus } from '../../shared/system-message.js';

/** What the database holds of one company-minute. */
export interface MinuteSides {
  readonly company: string;
  readonly minute: number;
  /** The sum of the publisher runs' parts (absent: no ledger document). */
  readonly ledger?: TradeFigures & { readonly partial: boolean; readonly parts: number; readonly closedAt: number };
  /**
   * The 1 m candle's booked figures; `null` when the candle exists without them (written before
   * reconciliation existed), absent when nothing of the minute is stored.
   */
  readonly booked?: BookedFigures | null;
}

const cents = (value: number) => (value / 100).toFixed(2);

/**
 * Classifies one company-minute at `now` (docs/reconciliation.md):
 * - matched: ledger and booked figures are equal (count, quantity, notional, id digest);
 * - pending: not equal yet, and the minute's end (or the ledger's closing, if later) is less than
 *   `graceMs` ago: still in flight;
 * - break: past the grace period, a full ledger and different figures (lost N, extra N, or the
 *   same count with other figures: a trade stored with other values, or other ids);
 * - partial: past the grace period, different, and the ledger says a publisher run saw only part
 *   of the minute (a restart inside it): not a break;
 * - no-ledger: trades stored and no ledger (a publisher without one, such as the course's
 *   original): never a break.
 * Undefined when there is nothing to compare (no ledger, nothing stored).
 */
export function classifyMinute(sides: MinuteSides, now: number, graceMs: number): ReconciledMinute | undefined {
  const { company, minute, ledger } = sides;
  const booked = sides.booked ?? undefined;
  if (!ledger && sides.booked === undefined) return undefined;
  // The grace runs from the minute's end, or from when the publisher closed it if that came later
  // (its trades were confirmed late, after a broker outage: they reach the database late too).
  const settled = now >= Math.max(minute + LEDGER_MINUTE_MS, ledger?.closedAt ?? 0) + graceMs;
  const base = {
    company,
    minute,
    ...(ledger ? { ledger: { ...ledger } } : {}),
    ...(booked ? { booked: { ...booked } } : {}),
  };
  const verdict = (status: ReconciliationStatus, text: string, lost = 0, extra = 0): ReconciledMinute => ({
    ...base,
    status,
    lost,
    extra,
    text,
  });
  if (!ledger) return verdict(settled ? 'no-ledger' : 'pending', settled ? 'no ledger' : 'waiting for the ledger');
  if (sides.booked === null) {
    // Stored by a consumer without booked figures: nothing exact to compare with.
    return verdict(settled ? 'no-ledger' : 'pending', 'stored without booked figures');
  }
  const stored = booked ?? { trades: 0, quantity: 0, notionalCents: 0, digest: '0'.repeat(16) };
  if (sameFigures(ledger, stored)) return verdict('matched', `${ledger.trades} trades`);
  if (!settled) return verdict('pending', `ledger ${ledger.trades}, booked ${stored.trades} so far`);
  const lost = Math.max(0, ledger.trades - stored.trades);
  const extra = Math.max(0, stored.trades - ledger.trades);
  const differences: string[] = [];
  if (lost > 0) differences.push(`lost ${lost}`);
  if (extra > 0) differences.push(`extra ${extra}`);
  if (ledger.quantity !== stored.quantity) differences.push(`quantity ${ledger.quantity} != ${stored.quantity}`);
  if (ledger.notionalCents !== stored.notionalCents) {
    differences.push(`notional ${cents(ledger.notionalCents)} != ${cents(stored.notionalCents)}`);
  }
  // The same count with other ids (one trade lost and another counted twice, or a foreign id).
  if (lost === 0 && extra === 0 && ledger.digest !== stored.digest) differences.push('other trade ids');
  const text = differences.join(', ');
  if (ledger.partial) return verdict('partial', `partial ledger (${ledger.parts} runs): ${text}`);
  return verdict('break', text, lost, extra);
}

/** A minute's status is final once matched, or once past the grace period. */
export const isFinal = (minute: ReconciledMinute): boolean => minute.status !== 'pending';
