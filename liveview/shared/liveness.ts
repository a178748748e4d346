import type { HeartbeatMessage } from '@stockmarket/common';

/**
 * What the page says about the feed, from what it last heard and its own clock. Pure, so the
 * browser bundle and the unit tests share it.
 */
export type LiveState = 'connecting' | 'reconnecting' | 'connected' | 'delayed' | 'stale';
/** Why the data is stale, as far as the page can tell. */
export type StaleCause = 'replica' | 'database' | 'publisher' | 'unknown';

/** Heartbeats missed before the page gives up on a replica and reconnects. */
export const MISSED_HEARTBEATS = 2.5;
/** A heartbeat this many intervals overdue makes the replica the suspect of a stall. */
export const LATE_HEARTBEAT = 1.5;
/** The trade age, as a share of the stale limit, from which the page turns amber. */
export const DELAYED_SHARE = 0.7;
/**
 * After the database was the cause, how long the page does not blame the publisher: the replica
 * reads again before the consumer has written its backlog, and finds nothing new meanwhile.
 */
export const DATABASE_CATCH_UP_MS = 15_000;

export interface LivenessInput {
  connected: boolean;
  /** Connected, but the new replica's snapshot has not arrived yet: what the page shows is old. */
  awaitingSnapshot?: boolean;
  everConnected: boolean;
  /** The page's clock, ms. */
  now: number;
  /** Page clock when the connection opened. */
  connectedAt: number;
  /** Page clock when the last heartbeat arrived (0: none on this connection). */
  heartbeatAt: number;
  heartbeat: HeartbeatMessage | undefined;
  /** Page-clock time of the newest trade (0: unknown). */
  lastTradeAt: number;
  /** Page clock when the page last named the database as the cause (0 or absent: never). */
  databaseSuspectedAt?: number;
}

export interface Liveness {
  state: LiveState;
  cause?: StaleCause;
  /** Now minus the newest trade, on the page's clock (undefined: no trade time known). */
  tradeAgeMs?: number;
  /** The replica missed its heartbeats: drop the connection and reconnect. */
  drop: boolean;
}

/** A trade time on the replica's clock, moved to the page's clock via a message's send time. */
export const toPageClock = (replicaTime: number, sentAt: number, receivedAt: number): number =>
  replicaTime > 0 ? receivedAt - (sentAt - replicaTime) : 0;

export function liveness(input: LivenessInput): Liveness {
  const tradeAgeMs = input.lastTradeAt > 0 ? Math.max(0, input.now - input.lastTradeAt) : undefined;
  if (!input.connected) return { state: input.everConnected ? 'reconnecting' : 'connecting', tradeAgeMs, drop: false };
  const beat = input.heartbeat;
  const interval = beat?.intervalMs ?? 1_000;
  const silentMs = input.now - (input.heartbeatAt || input.connectedAt);
  if (silentMs > MISSED_HEARTBEATS * interval) return { state: 'stale', cause: 'replica', tradeAgeMs, drop: true };
  if (input.awaitingSnapshot)
    return { state: input.everConnected ? 'reconnecting' : 'connecting', tradeAgeMs, drop: false };
  if (beat && !beat.fresh) return { state: 'stale', cause: 'database', tradeAgeMs, drop: false };
  const limit = beat?.tradeStaleAfterMs ?? 2_200;
  if (tradeAgeMs !== undefined && tradeAgeMs > limit) {
    let cause = staleCause(beat, silentMs / interval, limit);
    // Nothing new right after a database outage is the consumer catching up, not the publisher.
    const databaseSuspectedAt = input.databaseSuspectedAt ?? 0;
    if (cause === 'publisher' && databaseSuspectedAt > 0 && input.now - databaseSuspectedAt < DATABASE_CATCH_UP_MS)
      cause = 'unknown';
    return { state: 'stale', cause, tradeAgeMs, drop: false };
  }
  if (tradeAgeMs !== undefined && tradeAgeMs > DELAYED_SHARE * limit)
    return { state: 'delayed', tradeAgeMs, drop: false };
  return { state: 'connected', tradeAgeMs, drop: false };
}

/**
 * Why no trade arrives, from evidence only: heartbeats overdue -> the replica; the replica's own
 * reads lagging when it last reported -> the database (the replica calls itself stale only after
 * LIVEVIEW_STALE_AFTER_MS); the replica read the database well after the newest trade and found
 * nothing newer -> the publisher (or the consumer). Until one of these shows: unknown.
 */
function staleCause(beat: HeartbeatMessage | undefined, missedIntervals: number, limit: number): StaleCause {
  if (missedIntervals > LATE_HEARTBEAT) return 'replica';
  if (!beat || beat.lastReadAt <= 0) return 'unknown';
  if (beat.sentAt - beat.lastReadAt > limit / 2) return 'database';
  if (beat.newestTradeAt > 0 && beat.lastReadAt - beat.newestTradeAt > limit) return 'publisher';
  return 'unknown';
}

/** "0.4 s ago", "12 s ago", "3 min ago". */
export function formatAge(ms: number | undefined): string {
  if (ms === undefined) return 'no trade time';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s ago`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s ago`;
  return `${Math.round(ms / 60_000)} min ago`;
}
