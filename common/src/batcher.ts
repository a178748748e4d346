/**
 * Per-key batches (one per company) that close at `maxSize` items or when their oldest item has
 * waited `maxWaitMs`, whichever comes first. Pure: the caller supplies the clock. The consumer
 * batches deliveries into database writes with it, the publisher packs trades into messages.
 */
export class Batcher<T> {
  private readonly open = new Map<string, { items: T[]; since: number }>();
  private count = 0;

  constructor(
    private readonly maxSize: number,
    private readonly maxWaitMs: number,
  ) {}

  /** Items in open batches: added and not yet taken or dropped. */
  get size(): number {
    return this.count;
  }

  /** Adds an item; returns the closed batch when this item filled it. */
  add(key: string, item: T, now: number): T[] | undefined {
    let batch = this.open.get(key);
    if (!batch) {
      batch = { items: [], since: now };
      this.open.set(key, batch);
    }
    batch.items.push(item);
    this.count++;
    if (batch.items.length < this.maxSize) return undefined;
    this.open.delete(key);
    this.count -= batch.items.length;
    return batch.items;
  }

  /** Batches whose oldest item has waited long enough, closed and removed. */
  takeDue(now: number): Array<[string, T[]]> {
    return this.take((since) => now - since >= this.maxWaitMs);
  }

  /** Every open batch, full or not, closed and removed (on stop). */
  takeAll(): Array<[string, T[]]> {
    return this.take(() => true);
  }

  /** Drops every open batch (e.g. their deliveries died with the channel); returns how many items it dropped. */
  clear(): number {
    const dropped = this.count;
    this.open.clear();
    this.count = 0;
    return dropped;
  }

  /** Milliseconds until the next batch is due (Infinity when nothing is open). */
  msUntilDue(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const { since } of this.open.values()) next = Math.min(next, since + this.maxWaitMs - now);
    return Math.max(0, next);
  }

  private take(due: (since: number) => boolean): Array<[string, T[]]> {
    const taken: Array<[string, T[]]> = [];
    for (const [key, batch] of this.open) {
      if (!due(batch.since)) continue;
      this.open.delete(key);
      this.count -= batch.items.length;
      taken.push([key, batch.items]);
    }
    return taken;
  }
}
