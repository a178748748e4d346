import { type LedgerDoc, type LedgerMessage, ledgerId, ledgerPartKey } from '@stockmarket/common';
import type { Collection } from 'mongodb';
import { insertNew, isDuplicateKeyError } from './insert-new.js';

/** The publishers' ledger parts (docs/reconciliation.md), one document per company-minute. */
export class LedgerStore {
  constructor(private readonly ledger: Collection<LedgerDoc>) {}

  /**
   * A publisher's ledger message, as its run's part of the minute's ledger document. Idempotent:
   * the part is set, never added, so a redelivery (or two replicas writing it) changes nothing,
   * and no read-modify-write is needed. New documents (nearly all) are inserted; a minute that
   * two publisher runs reported (a restart inside it) gets the second part `$set`.
   */
  async write(message: LedgerMessage, now = Date.now()): Promise<void> {
    const { company, minute, source, partial, closedAt, trades, quantity, notionalCents, digest } = message;
    const part = { partial, closedAt, trades, quantity, notionalCents, digest };
    const _id = ledgerId(company, minute);
    const doc: LedgerDoc = { _id, company, minute, p: { [ledgerPartKey(source)]: part }, updatedAt: new Date(now) };
    if ((await insertNew(this.ledger, [doc])).length === 0) return;
    const update = { $set: { company, minute, [`p.${ledgerPartKey(source)}`]: part, updatedAt: new Date(now) } };
    await this.ledger.updateOne({ _id }, update, { upsert: true }).catch(async (error: unknown) => {
      // Two replicas upserting the same new document at once: the loser's update now finds it.
      if (!isDuplicateKeyError(error)) throw error;
      await this.ledger.updateOne({ _id }, update);
    });
  }
}
