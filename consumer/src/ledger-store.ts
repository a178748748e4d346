import { type LedgerDoc, type LedgerMessage, ledgerId } from '@stockmarket/common';
import type { Collection } from 'mongodb';
import { insertNew, isDuplicateKeyError } from './insert-new.js';

/** The publishers' ledger parts (docs/reconciliation.md), one document per company, minute and run. */
export class LedgerStore {
  constructor(private readonly ledger: Collection<LedgerDoc>) {}

  /**
   * A publisher's ledger message, as its run's part of the minute: a document of its own,
   * inserted. A redelivery (or two replicas writing it) finds it there and replaces it with the
   * same figures, so nothing changes; no part is ever read, merged or written by two writers.
   */
  async write(message: LedgerMessage, now = Date.now()): Promise<void> {
    const { company, minute, source, partial, closedAt, trades, quantity, notionalCents, digest } = message;
    const doc: LedgerDoc = {
      _id: ledgerId(company, minute, source),
      company,
      minute,
      source,
      partial,
      closedAt,
      trades,
      quantity,
      notionalCents,
      digest,
      updatedAt: new Date(now),
    };
    if ((await insertNew(this.ledger, [doc])).length === 0) return;
    await this.ledger.replaceOne({ _id: doc._id }, doc, { upsert: true }).catch((error: unknown) => {
      // Two replicas upserting the same new part at once: the other one's copy is the same part.
      if (!isDuplicateKeyError(error)) throw error;
    });
  }
}
