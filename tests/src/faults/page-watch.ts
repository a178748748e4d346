import type { ServerToClientEvents } from '@stockmarket/common';
import { waitFor } from '@stockmarket/stack';
import { io, type Socket } from 'socket.io-client';

/**
 * socket.io clients through NGINX that remember when each received its snapshot (and from which
 * replica) and each update carrying prices, so a test can say when the page was updating again.
 */
export class PageWatch {
  readonly sockets: Socket<ServerToClientEvents>[] = [];
  /** Per client: times of updates with at least one stock. */
  readonly updates: number[][] = [];
  /** Per client: the replica of its latest snapshot. */
  readonly replicas: string[] = [];
  readonly snapshots: { at: number; replica: string }[][] = [];
  readonly disconnects: number[] = [];

  private constructor(
    private readonly url: string,
    private readonly cookie?: string,
  ) {}

  /**
   * Opens `count` clients (WebSocket transport, reconnecting as the page does) and waits for their
   * snapshots. With `cookie` (a browser's `stockmarket_browser=...`), NGINX routes them all as
   * that browser.
   */
  static async open(url: string, count: number, timeoutMs = 60_000, cookie?: string): Promise<PageWatch> {
    const watch = new PageWatch(url, cookie);
    for (let first = 0; first < count; first += 25) {
      const wave = Array.from({ length: Math.min(25, count - first) }, () => watch.connectOne());
      await Promise.all(wave);
    }
    await waitFor('every client to get its snapshot', () => watch.replicas.every((replica) => replica !== ''), {
      timeoutMs,
      intervalMs: 100,
    });
    return watch;
  }

  private connectOne(): Promise<void> {
    const index = this.sockets.length;
    this.updates.push([]);
    this.replicas.push('');
    this.snapshots.push([]);
    this.disconnects.push(0);
    const socket: Socket<ServerToClientEvents> = io(this.url, {
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 2_000,
      timeout: 10_000,
      ...(this.cookie ? { extraHeaders: { cookie: this.cookie } } : {}),
    });
    socket.on('snapshot', (message) => {
      this.replicas[index] = message.replica;
      this.snapshots[index]?.push({ at: Date.now(), replica: message.replica });
    });
    socket.on('update', (message) => {
      if (message.stocks.length > 0) this.updates[index]?.push(Date.now());
    });
    socket.on('disconnect', () => {
      this.disconnects[index] = (this.disconnects[index] ?? 0) + 1;
    });
    this.sockets.push(socket);
    return new Promise((resolve) => {
      socket.once('snapshot', () => resolve());
      socket.once('connect_error', () => resolve());
    });
  }

  /** Per client, the first update with prices after `since` (undefined: none yet). */
  firstUpdateAfter(since: number): (number | undefined)[] {
    return this.updates.map((times) => times.find((at) => at > since));
  }

  /** Waits until every client got an update after `since`; returns the slowest delay in ms. */
  async allUpdatedAfter(since: number, timeoutMs = 60_000): Promise<number> {
    const firsts = await waitFor(
      `all ${this.sockets.length} clients to receive an update`,
      () => {
        const all = this.firstUpdateAfter(since);
        return all.every((at) => at !== undefined) ? (all as number[]) : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
    return Math.max(...firsts) - since;
  }

  close(): void {
    for (const socket of this.sockets) socket.close();
  }

  get target(): string {
    return this.url;
  }
}
