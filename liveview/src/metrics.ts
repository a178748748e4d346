import { Counter, Gauge, type Registry } from 'prom-client';
import type { FeedView } from './feed-view.js';

export type LiveviewMetrics = ReturnType<typeof createLiveviewMetrics>;

export function createLiveviewMetrics(registry: Registry, feed: FeedView) {
  const registers = [registry];
  return {
    // Counted up and down by the broadcaster as sockets come and go.
    clients: new Gauge({
      name: 'liveview_connected_clients',
      help: 'Connected socket.io clients',
      registers,
    }),
    pushed: new Counter({
      name: 'liveview_messages_pushed_total',
      help: 'Messages sent to clients, counted per client (a broadcast to 100 clients counts 100)',
      labelNames: ['type'],
      registers,
    }),
    broadcasts: new Counter({
      name: 'liveview_broadcasts_total',
      help: 'Coalesced updates emitted (one per feed tick with changes)',
      registers,
    }),
    heartbeats: new Counter({
      name: 'liveview_heartbeats_total',
      help: 'Heartbeats broadcast (one per LIVEVIEW_HEARTBEAT_INTERVAL_MS while clients are connected)',
      registers,
    }),
    refused: new Counter({
      name: 'liveview_connections_refused_total',
      help: 'socket.io connections refused',
      labelNames: ['reason'],
      registers,
    }),
    lag: new Gauge({
      name: 'liveview_feed_lag_seconds',
      help: 'Now minus the newest trade time the feed has seen (grows while no trade arrives)',
      registers,
      collect() {
        this.set(feed.newestTradeAt > 0 ? (Date.now() - feed.newestTradeAt) / 1000 : 0);
      },
    }),
    readAge: new Gauge({
      name: 'liveview_feed_last_read_age_seconds',
      help: 'Now minus the last successful read of MongoDB',
      registers,
      collect() {
        this.set(feed.lastReadAt > 0 ? (Date.now() - feed.lastReadAt) / 1000 : -1);
      },
    }),
    fresh: new Gauge({
      name: 'liveview_feed_fresh',
      help: '1 while the data is fresh, 0 while it is stale',
      registers,
      collect() {
        this.set(feed.fresh ? 1 : 0);
      },
    }),
    reads: new Counter({
      name: 'liveview_feed_reads_total',
      help: 'Feed reads of MongoDB by result',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        this.inc({ result: 'ok' }, feed.reads.ok);
        this.inc({ result: 'failed' }, feed.reads.failed);
      },
    }),
  };
}
