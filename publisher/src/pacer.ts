/**
 * How many trades are due, from the elapsed time and the target rate: one timer tick releases a
 * whole slice, so pacing holds from 1 to tens of thousands of trades per second without a timer
 * per message. The pacer re-bases after a pause so that it never bursts to catch up.
 */
export class Pacer {
  private origin: number;
  private released = 0;

  constructor(
    private readonly ratePerSecond: number,
    now: number,
    /** Largest slice released at once (keeps event-loop turns short). */
    private readonly maxSlice = 1_000,
    /** Most time owed when generation falls behind (window full): beyond it the debt is dropped. */
    private readonly maxBacklogMs = 1_000,
  ) {
    this.origin = now;
  }

  /** Trades to release now. */
  due(now: number): number {
    let owed = Math.floor(((now - this.origin) * this.ratePerSecond) / 1000) - this.released;
    const backlog = Math.max(1, Math.floor((this.maxBacklogMs * this.ratePerSecond) / 1000));
    if (owed > backlog) {
      // A slow broker must not turn into an endless catch-up burst: forget the older debt.
      this.origin += ((owed - backlog) * 1000) / this.ratePerSecond;
      owed = backlog;
    }
    return Math.max(0, Math.min(owed, this.maxSlice));
  }

  /** Records that `count` trades went out. */
  take(count: number): void {
    this.released += count;
  }

  /** After a pause (broker down, blocked, window full), start counting afresh from `now`. */
  rebase(now: number): void {
    this.origin = now;
    this.released = 0;
  }

  /** Milliseconds until the next trade is due (0 when one is due now). */
  msUntilNext(now: number): number {
    const nextAt = this.origin + ((this.released + 1) * 1000) / this.ratePerSecond;
    return Math.max(0, nextAt - now);
  }
}

/** Achieved rate over a sliding window of one-second slots. */
export class RateMeter {
  private readonly slots: number[];
  private slotStart: number;
  private index = 0;

  constructor(
    now: number,
    private readonly windowSeconds = 5,
  ) {
    this.slots = new Array<number>(windowSeconds).fill(0);
    this.slotStart = Math.floor(now / 1000) * 1000;
  }

  add(count: number, now: number): void {
    this.advance(now);
    this.slots[this.index] = (this.slots[this.index] ?? 0) + count;
  }

  /** Events per second over the last full window. */
  rate(now: number): number {
    this.advance(now);
    const total = this.slots.reduce((sum, value) => sum + value, 0);
    const current = this.slots[this.index] ?? 0;
    return (total - current) / (this.windowSeconds - 1);
  }

  private advance(now: number): void {
    const slot = Math.floor(now / 1000) * 1000;
    let steps = Math.min(this.windowSeconds, Math.max(0, (slot - this.slotStart) / 1000));
    while (steps-- > 0) {
      this.index = (this.index + 1) % this.windowSeconds;
      this.slots[this.index] = 0;
    }
    if (slot > this.slotStart) this.slotStart = slot;
  }
}
