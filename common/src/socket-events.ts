/** The socket.io contract: what liveview sends to browsers (read from the MongoDB layout in storage.ts). */

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

export type CandleInterval = '1s' | '1m';

export interface CandleView {
  company: string;
  interval: CandleInterval;
  /** Window start, epoch ms. */
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  vwap: number;
  volume: number;
  trades: number;
  buys: number;
  sells: number;
  lastTradeAt: number;
}

export interface SnapshotMessage {
  replica: string;
  stocks: StockView[];
  candles: CandleView[];
  /** The replica's view of the database when the client connected (absent: true). */
  fresh?: boolean;
}

export interface UpdateMessage {
  stocks: StockView[];
  candles: CandleView[];
  /** The replica's view of the database: false while it cannot read it. */
  fresh: boolean;
  /** When the replica emitted this update, epoch ms (its clock): fan-out delay is measured from it. */
  sentAt?: number;
}

export interface ServerToClientEvents {
  snapshot: (message: SnapshotMessage) => void;
  update: (message: UpdateMessage) => void;
}

export type ClientToServerEvents = Record<string, never>;
