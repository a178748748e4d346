import type { HeartbeatMessage } from '@stockmarket/common';
import type { LiveviewConfig } from './config.js';
import type { FeedView } from './feed-view.js';

/** What a replica tells every client each heartbeat: who it is and how current its feed is. */
export function heartbeatMessage(config: LiveviewConfig, feed: FeedView, now = Date.now()): HeartbeatMessage {
  return {
    replica: config.LIVEVIEW_REPLICA_NAME,
    sentAt: now,
    fresh: feed.fresh,
    lastReadAt: feed.lastReadAt,
    newestTradeAt: feed.newestTradeAt,
    intervalMs: config.LIVEVIEW_HEARTBEAT_INTERVAL_MS,
    tradeStaleAfterMs: config.LIVEVIEW_TRADE_STALE_AFTER_MS,
  };
}

/** Calls `beat` every `intervalMs` until stopped; never keeps the process alive on its own. */
export function startHeartbeats(intervalMs: number, beat: () => void): { stop(): void } {
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
