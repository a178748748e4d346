/** The socket.io contract: what liveview sends to browsers (read from the MongoDB layout in storage.ts). */

import type { TradeFigures } from './ledger.js';
import type { CandleFields, CandleInterval, SpanFigures } from './storage.js';

/** A `stocks` document as the page sees it. Only `company` and `avgPrice` are guaranteed. */
export interface StockView {
  company: string;
  avgPrice: number;
  lastPrice?: number;
  vwap?: number;
  batchSize?: number;
  lastTradeAt?: number;
  updatedAt?: number;
}

/** What a span of trades adds up to: a candle's window or a whole session (figures: storage.ts). */
export interface TradeSpan extends SpanFigures {
  company: string;
  /** Span start, epoch ms. */
  start: number;
}

export interface CandleView extends TradeSpan, CandleFields {
  interval: CandleInterval;
}

export interface SnapshotMessage {
  replica: string;
  stocks: StockView[];
  candles: CandleView[];
  /** The replica's view of the database when the client connected (absent: true). */
  fresh?: boolean;
  /** Session figures per company (absent from older replicas). */
  sessions?: SessionStats[];
}

export interface UpdateMessage {
  stocks: StockView[];
  candles: CandleView[];
  /** The replica's view of the database: false while it cannot read it. */
  fresh: boolean;
  /** When the replica emitted this update, epoch ms (its clock): fan-out delay is measured from it. */
  sentAt?: number;
  /** Session figures of the companies whose session changed in this tick. */
  sessions?: SessionStats[];
  /**
   * The replica's heartbeat, carried by the update: while updates flow at least once per
   * heartbeat interval, the replica sends no separate `heartbeat` message.
   */
  heartbeat?: HeartbeatMessage;
}

/**
 * A company's trading session as every replica derives it from the 1 m candles in MongoDB: the
 * session is the UTC calendar day; its open is the open of its first 1 m candle.
 */
export interface SessionStats extends TradeSpan {
  /** Minutes of the session that have candles (`start` is 00:00 UTC). */
  minutes: number;
}

/**
 * Sent by every replica every `intervalMs` whether or not anything changed, so a client can tell
 * a quiet feed (heartbeats, no trades) from a dead replica (no heartbeats).
 */
export interface HeartbeatMessage {
  replica: string;
  /** The replica's clock when it sent this, epoch ms. */
  sentAt: number;
  /** The replica can read MongoDB (its last read is recent). */
  fresh: boolean;
  /** Epoch ms of the replica's last successful read (0 before the first). */
  lastReadAt: number;
  /** Epoch ms of the newest trade the replica has seen (0 before the first). */
  newestTradeAt: number;
  /** Period of these heartbeats, ms: a client drops the connection after a few missed ones. */
  intervalMs: number;
  /** No trade for this long counts as a stalled feed. */
  tradeStaleAfterMs: number;
}

/** One replica of a service as the liveview replica sees it in its scrape of the replica's /metrics. */
export interface ServiceReplicaView {
  /** Configured name (local stack) or `service@address` (found by DNS in compose). */
  name: string;
  /** The last scrape answered. */
  up: boolean;
  /** Epoch ms of the last scrape that answered (0: never). */
  seenAt: number;
}

export interface PublisherView extends ServiceReplicaView {
  tradesPerSecond: number;
  /** Published, not yet confirmed by the broker. */
  unconfirmed: number;
  /** The broker blocked the connection (memory or disk alarm). */
  blocked: boolean;
}

export interface ConsumerView extends ServiceReplicaView {
  /** Companies whose write lease this replica holds. */
  leases: string[];
  batchesPerSecond: number;
  /** Trades received and not yet acked. */
  buffered: number;
}

export interface LiveviewReplicaView extends ServiceReplicaView {
  clients: number;
  /** Seconds since the newest trade this replica has seen. */
  feedLagSeconds: number;
  /** This is the replica that sent the picture. */
  self: boolean;
}

export interface QueueView {
  queue: string;
  messages: number;
  consumers: number;
}

export interface BrokerView {
  /** The replica was told where the broker's metrics are (LIVEVIEW_SYSTEM_RABBITMQ_METRICS_URLS). */
  configured: boolean;
  up: boolean;
  /** Epoch ms since when the broker has not answered (0 while it answers). */
  downSince: number;
  queues: QueueView[];
  publishPerSecond: number;
  deliverPerSecond: number;
  /** Messages in the dead-letter queues. */
  deadLetters: number;
}

export type MemberState = 'PRIMARY' | 'SECONDARY' | 'ARBITER' | 'RECOVERING' | 'STARTUP' | 'down' | 'unknown';

export interface DatabaseMemberView {
  name: string;
  state: MemberState;
  /** Seconds behind the primary (secondaries only). */
  lagSeconds?: number;
  /** FerretDB on the local stack: one member, no replica set. */
  standIn?: boolean;
}

export interface SystemEvent {
  /** Epoch ms (the gathering replica's clock). */
  at: number;
  kind:
    | 'replica-lost'
    | 'replica-back'
    | 'lease-moved'
    | 'primary-changed'
    | 'broker-down'
    | 'broker-back'
    | 'blocked'
    | 'unblocked'
    | 'reconciliation-break'
    | 'reconciliation-recovered';
  text: string;
  /** How long the outage lasted, ms (on the event that ends it). */
  durationMs?: number;
}

/** How a company-minute reconciles (docs/reconciliation.md). */
export type ReconciliationStatus = 'matched' | 'pending' | 'break' | 'partial' | 'no-ledger';

/** Figures of one side of a company-minute: the storage contract's. */
export type FiguresView = TradeFigures;

/** One company-minute, compared. */
export interface ReconciledMinute {
  company: string;
  /** Minute start, epoch ms. */
  minute: number;
  status: ReconciliationStatus;
  /** Published and confirmed, missing from the database (breaks only). */
  lost: number;
  /** Booked beyond the ledger (breaks only). */
  extra: number;
  /** Absent when the publisher sent none (no-ledger) or it has not arrived (pending). */
  ledger?: FiguresView & { partial: boolean; parts: number; closedAt: number };
  /** Absent when nothing of the minute is stored. */
  booked?: FiguresView;
  /** One line for people: "lost 1", "extra 2", "quantity 10 != 12". */
  text: string;
}

/** The System view's reconciliation row. */
export interface ReconciliationView {
  /** Minutes counted by their latest status since this replica started. */
  counts: Record<ReconciliationStatus, number>;
  /** Breaks found since this replica started (a minute that became a break; it may have recovered). */
  breaksFound: number;
  /** Company-minutes in break now. */
  breaksNow: number;
  lastBreak?: ReconciledMinute;
  /** Per company, the start of the newest minute with a final status (epoch ms; 0: none yet). */
  lastReconciled: Record<string, number>;
  graceMs: number;
  /** Epoch ms of the last reconciliation round (0: none yet). */
  at: number;
}

/** The whole system as one liveview replica sees it; every replica gathers and sends its own. */
export interface SystemMessage {
  /** The replica that gathered this picture. */
  replica: string;
  /** Epoch ms of the gathering. */
  at: number;
  publishers: PublisherView[];
  broker: BrokerView;
  consumers: ConsumerView[];
  database: DatabaseMemberView[];
  liveviews: LiveviewReplicaView[];
  /** Newest last, bounded. */
  events: SystemEvent[];
  /** Ledger against booked figures, per company and minute (absent before the first round). */
  reconciliation?: ReconciliationView;
}

export interface ServerToClientEvents {
  snapshot: (message: SnapshotMessage) => void;
  update: (message: UpdateMessage) => void;
  heartbeat: (message: HeartbeatMessage) => void;
  /** The system picture, about once a second, and at once on connect. */
  system: (message: SystemMessage) => void;
}

export type ClientToServerEvents = Record<string, never>;
