/** The socket.io contract: what liveview sends to browsers (read from the MongoDB layout in storage.ts). */

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

export interface ServerToClientEvents {
  snapshot: (message: SnapshotMessage) => void;
  update: (message: UpdateMessage) => void;
  heartbeat: (message: HeartbeatMessage) => void;
}

export type ClientToServerEvents = Record<string, never>;
