/**
 * Per-company batches that close at `maxSize` items or when their oldest item has waited
 * `maxWaitMs`, whichever comes first. Pure: the caller supplies the clock.
 */
export class Batcher<T> {
  private readonly open = new Map<string, { items: T[]; since: number }>();

  constructor(
    private readonly maxSize: number,
    private readonly maxWaitMs: number,
  ) {}

  /** Adds an item; returns the closed batch when this item filled it. */
  add(key: string, item: T, now: number): T[] | undefined {
    let batch = this.open.get(key);
    if (!batch) {
      batch = { items: [], since: now };
      this.open.set(key, batch);
    }
    batch.items.push(item);
    if (batch.items.length >= this.maxSize) {
      this.open.delete(key);
      return batch.items;
    }
    return undefined;
  }

  /** Batches whose oldest item has waited long enough, closed and removed. */
  takeDue(now: number): Array<[string, T[]]> {
    const due: Array<[string, T[]]> = [];
    for (const [key, batch] of this.open) {
      if (now - batch.since >= this.maxWaitMs) {
        due.push([key, batch.items]);
        this.open.delete(key);
      }
    }
    return due;
  }

  /** Every open batch, closed and removed (shutdown). */
  takeAll(): Array<[string, T[]]> {
    const all = [...this.open].map(([key, batch]): [string, T[]] => [key, batch.items]);
    this.open.clear();
    return all;
  }

  /** Drops every open batch (their deliveries died with the channel). */
  clear(): number {
    let dropped = 0;
    for (const batch of this.open.values()) dropped += batch.items.length;
    this.open.clear();
    return dropped;
  }

  get size(): number {
    let total = 0;
    for (const batch of this.open.values()) total += batch.items.length;
    return total;
  }
}

/** At most `permits` tasks at once; the others wait in arrival order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly permits: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.permits) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // Hand the permit straight to the next waiter, or give it back.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  get pending(): number {
    return this.waiting.length;
  }
}
