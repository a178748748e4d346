// The page's own view of its feed: the connection pill, the trade age, the stale-data banner and
// the end-to-end delay, all on this page's clock (replica times are converted on arrival).
import type { HeartbeatMessage } from '@stockmarket/common';
import { formatAge, type Liveness, liveness, toPageClock } from '../shared/liveness.js';
import { $ } from './dom.js';

const CAUSE_TEXT = {
  replica: (name: string) => `Replica ${name || '?'} stopped sending heartbeats: reconnecting to a living replica.`,
  database: (name: string, readAge?: number) =>
    `Replica ${name} cannot read the database (last read ${formatAge(readAge)}): prices are frozen.`,
  unknown: (_name: string, _readAge?: number, tradeAge?: number) =>
    `No new trades for ${formatAge(tradeAge).replace(' ago', '')}: checking whether the publisher, the database or this replica stopped…`,
  publisher: (_name: string, _readAge?: number, tradeAge?: number) =>
    `No new trades for ${formatAge(tradeAge).replace(' ago', '')}: the database answers, so the publisher (or the consumer) has stopped.`,
};

export interface ConnectionStatus {
  connected(): void;
  disconnected(): void;
  heartbeat(message: HeartbeatMessage): void;
  /** A snapshot arrived: it names the serving replica and replaces the old replica's view. */
  snapshot(replica: string): void;
  /** A trade at `replicaTime` on the replica's clock, sent at `sentAt` and received at `received`. */
  noteTrade(replicaTime: number, sentAt: number, received: number): void;
  /** Draws the pill, the trade age and the banner (each message, and ticked by the page's clock). */
  render(): void;
}

/** `dropConnection` leaves a replica whose heartbeats stopped (socket.io then reconnects). */
export function createConnectionStatus(dropConnection: () => void): ConnectionStatus {
  let connected = false;
  let awaitingSnapshot = false;
  let everConnected = false;
  let connectedAt = 0;
  let heartbeatAt = 0;
  let heartbeat: HeartbeatMessage | undefined;
  let lastTradeAt = 0;
  let replica = '';
  let shown: Liveness | undefined;
  let databaseSuspectedAt = 0;

  function render(): void {
    const now = Date.now();
    const state = liveness({
      connected,
      awaitingSnapshot,
      everConnected,
      now,
      connectedAt,
      heartbeatAt,
      heartbeat,
      lastTradeAt,
      databaseSuspectedAt,
    });
    if (state.state === 'stale' && state.cause === 'database') databaseSuspectedAt = now;
    if (state.drop) {
      // A replica that stopped its heartbeats is hung: leave it; socket.io reconnects (NGINX
      // skips the hung replica once its read timeout fires).
      heartbeatAt = 0;
      connectedAt = now;
      connected = false;
      dropConnection();
    }
    const lastTrade = $('#last-trade');
    lastTrade.textContent = formatAge(state.tradeAgeMs);
    lastTrade.dataset.ms = state.tradeAgeMs === undefined ? '' : String(Math.round(state.tradeAgeMs));
    lastTrade.className = state.state === 'stale' ? 'bad' : state.state === 'delayed' ? 'warn' : '';
    const banner = $('#feed-banner');
    const cause = state.state === 'stale' ? state.cause : undefined;
    if (cause) {
      const readAge = heartbeat?.lastReadAt
        ? now - toPageClock(heartbeat.lastReadAt, heartbeat.sentAt, heartbeatAt)
        : undefined;
      const text = CAUSE_TEXT[cause](replica, readAge, state.tradeAgeMs);
      if (banner.textContent !== text) banner.textContent = text;
      banner.dataset.cause = cause;
      banner.hidden = false;
    } else if (!banner.hidden) {
      banner.hidden = true;
      banner.dataset.cause = '';
    }
    if (shown?.state === state.state && shown.cause === state.cause) return;
    shown = state;
    const pill = $('#connection');
    pill.dataset.state = state.state;
    pill.dataset.cause = state.cause ?? '';
    pill.textContent = {
      connected: 'live',
      delayed: 'trades late',
      stale: 'stale data',
      reconnecting: 'reconnecting…',
      connecting: 'connecting…',
    }[state.state];
    pill.className = `pill ${state.state === 'connected' ? 'pill-ok' : state.state === 'stale' ? 'pill-bad' : 'pill-wait'}`;
    document.body.classList.toggle('stale', state.state !== 'connected' && state.state !== 'delayed');
  }

  function noteTrade(replicaTime: number, sentAt: number, received: number): void {
    if (replicaTime <= 0) return;
    lastTradeAt = Math.max(lastTradeAt, toPageClock(replicaTime, sentAt, received));
  }

  return {
    connected() {
      connected = true;
      everConnected = true;
      awaitingSnapshot = true;
      connectedAt = Date.now();
      heartbeatAt = 0;
    },
    disconnected() {
      connected = false;
    },
    heartbeat(message) {
      const received = Date.now();
      heartbeat = message;
      heartbeatAt = received;
      noteTrade(message.newestTradeAt, message.sentAt, received);
    },
    snapshot(name) {
      awaitingSnapshot = false;
      replica = name;
      $('#replica').textContent = name;
      document.body.dataset.replica = name;
      // A new replica's view replaces the old one's.
      heartbeat = undefined;
    },
    noteTrade,
    render,
  };
}

/** End-to-end delay: now minus the trade time of the newest trade in this update. */
export function showDelay(list: readonly { lastTradeAt?: number }[]): void {
  const newest = Math.max(0, ...list.map((item) => item.lastTradeAt ?? 0));
  if (newest <= 0) return;
  const delay = Math.max(0, Date.now() - newest);
  const element = $('#delay');
  element.dataset.ms = String(delay);
  element.textContent = delay < 10_000 ? `${delay} ms` : `${(delay / 1000).toFixed(0)} s`;
}
