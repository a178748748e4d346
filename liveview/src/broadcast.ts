import type { ClientToServerEvents, HeartbeatMessage, SnapshotMessage, UpdateMessage } from '@stockmarket/common';
import type { Server as SocketServer } from 'socket.io';
import type { LiveviewServerEvents } from '../shared/system-message.js';
import type { LiveviewConfig } from './config.js';
import { type EncodedEvent, encodeEvent, writeEncoded } from './encoded-event.js';
import type { FeedChange } from './feed.js';
import type { FeedView } from './feed-view.js';
import { heartbeatMessage } from './heartbeat.js';
import type { LiveviewMetrics } from './metrics.js';

/**
 * The heartbeat timer ticks this many times per interval; a separate heartbeat goes out once all
 * but one tick have passed since the last beat, so two beats are never more than an interval apart.
 */
export const HEARTBEAT_CHECKS_PER_INTERVAL = 4;

export interface Broadcaster {
  /** Pushes one tick's changes to every client of this replica, in one emit. */
  publish(change: FeedChange): void;
  /** Tells every client that the data turned stale or fresh again. */
  publishFreshness(fresh: boolean): void;
  /**
   * Called HEARTBEAT_CHECKS_PER_INTERVAL times per interval: one heartbeat to every client, unless
   * a beat (an update's) went out within the last interval less one check.
   */
  heartbeat(): void;
}

/**
 * The snapshot on connect, then every change, freshness flip and heartbeat to all clients. Each
 * update carries a heartbeat, so a client gets one at least every interval either way, and a busy
 * feed costs each client one socket write per change instead of one more per second.
 */
export function createBroadcaster(
  io: SocketServer<ClientToServerEvents, LiveviewServerEvents>,
  config: LiveviewConfig,
  feed: FeedView,
  metrics: LiveviewMetrics,
): Broadcaster {
  // The snapshot is the same for every socket that connects before the next change, so it is
  // serialised and framed once per change rather than once per socket (10,000 clients connecting
  // would otherwise each cost a full JSON encoding and a buffer of their own).
  let snapshot: { key: string; event: EncodedEvent } | undefined;
  const encodedSnapshot = (): EncodedEvent => {
    const fresh = feed.fresh;
    const key = `${feed.state.version}:${feed.sessions.version}:${fresh}`;
    if (snapshot?.key !== key) {
      const message: SnapshotMessage = {
        replica: config.LIVEVIEW_REPLICA_NAME,
        fresh,
        ...feed.state.snapshot(config.COMPANIES, config.LIVEVIEW_SNAPSHOT_CANDLES),
        sessions: feed.sessions.all(config.COMPANIES),
      };
      snapshot = { key, event: encodeEvent('snapshot', message) };
    }
    return snapshot.event;
  };

  io.on('connection', (socket) => {
    metrics.clients.inc();
    socket.once('disconnect', () => metrics.clients.dec());
    // Snapshot here, broadcasts from `publish` later: both run on the one event loop and the
    // socket already belongs to the broadcast set, so every change after this snapshot reaches
    // it exactly once and none before it is sent again.
    writeEncoded(socket.conn, encodedSnapshot());
    // The first heartbeat at once: the page knows the trade age before the first interval.
    socket.emit('heartbeat', heartbeatMessage(config, feed));
    metrics.pushed.inc({ type: 'snapshot' });
  });

  let lastBeatAt = 0;
  const beat = (): HeartbeatMessage => {
    const message = heartbeatMessage(config, feed);
    lastBeatAt = message.sentAt;
    return message;
  };
  const clients = () => io.of('/').sockets.size;
  const broadcast = (message: UpdateMessage) => {
    const count = clients();
    if (count === 0) return;
    message.heartbeat = beat();
    io.emit('update', message);
    metrics.broadcasts.inc();
    metrics.pushed.inc({ type: 'update' }, count);
  };
  return {
    publish: (change) => broadcast({ ...change, fresh: feed.fresh, sentAt: Date.now() }),
    publishFreshness: (fresh) => broadcast({ stocks: [], candles: [], fresh, sentAt: Date.now() }),
    heartbeat: () => {
      const count = clients();
      if (count === 0) return;
      const interval = config.LIVEVIEW_HEARTBEAT_INTERVAL_MS;
      if (Date.now() - lastBeatAt < interval - interval / HEARTBEAT_CHECKS_PER_INTERVAL) return;
      io.emit('heartbeat', beat());
      metrics.heartbeats.inc();
      metrics.pushed.inc({ type: 'heartbeat' }, count);
    },
  };
}
