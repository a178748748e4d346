/**
 * Packs trades into messages per company (`PUBLISHER_TRADES_PER_MESSAGE`): a company's message
 * leaves once it holds `perMessage` trades, or once its oldest trade has waited `lingerMs`, so a
 * slow rate still sends within the linger. With one trade per message every trade leaves at once.
 */
export class TradePacker<T> {
  private readonly open = new Map<string, { items: T[]; since: number }>();
  private count = 0;

  constructor(
    private readonly perMessage: number,
    private readonly lingerMs: number,
  ) {}

  /** Trades packed and not yet taken. */
  get size(): number {
    return this.count;
  }

  /** Adds a trade; returns its company's message when that is full. */
  add(company: string, item: T, now: number): T[] | undefined {
    let pack = this.open.get(company);
    if (!pack) {
      pack = { items: [], since: now };
      this.open.set(company, pack);
    }
    pack.items.push(item);
    this.count++;
    if (pack.items.length < this.perMessage) return undefined;
    this.open.delete(company);
    this.count -= pack.items.length;
    return pack.items;
  }

  /** The messages whose oldest trade has waited the linger. */
  takeDue(now: number): [string, T[]][] {
    return this.take((since) => now - since >= this.lingerMs);
  }

  /** Every message, full or not (on stop). */
  takeAll(): [string, T[]][] {
    return this.take(() => true);
  }

  /** Milliseconds until the next message is due (Infinity when nothing is packed). */
  msUntilDue(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const { since } of this.open.values()) next = Math.min(next, since + this.lingerMs - now);
    return Math.max(0, next);
  }

  private take(due: (since: number) => boolean): [string, T[]][] {
    const taken: [string, T[]][] = [];
    for (const [company, pack] of this.open) {
      if (!due(pack.since)) continue;
      this.open.delete(company);
      this.count -= pack.items.length;
      taken.push([company, pack.items]);
    }
    return taken;
  }
}
