/**
 * The System view's contract: the picture of the whole system a liveview replica gathers and sends
 * to its pages as the socket.io event `system` (docs/liveview.md). It belongs to the liveview
 * alone, so it lives here, shared by the server (liveview/src) and the page (liveview/client).
 */
import type { ServerToClientEvents, TradeFigures } from '@stockmarket/common';

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

/** The market events of the socket contract, plus the System view's. */
export interface LiveviewServerEvents extends ServerToClientEvents {
  /** The system picture, about once a second, and at once on connect. */
  system: (message: SystemMessage) => void;
}
