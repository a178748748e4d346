import type { FeedState } from './feed-state.js';
import type { SessionBook } from './session-stats.js';

/** What the feed exposes to the server: its state, and how current it is. */
export interface FeedView {
  readonly state: FeedState;
  /** The trading sessions, kept by the feed. */
  readonly sessions: Pick<SessionBook, 'version' | 'all'>;
  readonly fresh: boolean;
  /** Epoch ms of the last successful read (0 before the first). */
  readonly lastReadAt: number;
  /** Epoch ms of the newest trade the feed has seen (0 before the first). */
  readonly newestTradeAt: number;
  readonly reads: { readonly ok: number; readonly failed: number };
}
