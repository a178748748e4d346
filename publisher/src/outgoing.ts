import type { ChannelModel } from 'amqplib';

/** A trade a message carries: its id, and its figures and event time for the ledger. */
export interface SentTrade {
  readonly id: string;
  readonly company: string;
  readonly price: number;
  readonly quantity: number;
  readonly ts: number;
}

export interface OutgoingMessage {
  readonly queue: string;
  readonly body: Buffer;
  /** The AMQP message id (a batch message: its first trade's id). */
  readonly id: string;
  readonly ts: number;
  /** `application/json` unless told (a batch message has its own, common/src/trade-batch.ts). */
  readonly contentType?: string;
  /** The trades it carries (one, or a batch: confirmed, nacked and resent as a whole); absent on a ledger message. */
  readonly trades?: readonly SentTrade[];
  /** A ledger message (docs/reconciliation.md), not a trade. */
  readonly ledger?: boolean;
}

/** The ids of the trades a message carries (a trade message without `trades` is one trade: its id). */
export function tradeIds(message: OutgoingMessage): string[] {
  if (message.ledger) return [];
  return message.trades ? message.trades.map((trade) => trade.id) : [message.id];
}

/** How many trades a message counts for in the metrics (a ledger message counts as one). */
export const tradeCount = (message: OutgoingMessage): number => message.trades?.length ?? 1;

export interface DeliveryEvents {
  /** A first send, `count` its trades (`message` tells which: trades, or a ledger message). */
  published(count: number, message: OutgoingMessage): void;
  /** A message confirmed as a whole: every trade it carries. */
  confirmed(message: OutgoingMessage): void;
  nacked(message: OutgoingMessage): void;
  /** Messages sent again, counted in trades. */
  republished(count: number): void;
  /** No confirm came for longer than the confirm timeout: give up the connection (`reason` says why). */
  stalled?(reason: string): void;
}

export interface ConfirmedPublisherOptions {
  /** Unconfirmed messages at most (sent, or waiting to be resent); a batch message is one. */
  readonly maxInFlight: number;
  /** A connected channel that confirms nothing this long while messages wait is given up (default: never). */
  readonly confirmTimeoutMs?: number;
  /** After a nack, resends wait this long: the broker could not take them just now. */
  readonly nackRetryDelayMs?: number;
}

/** What the publisher needs from an amqplib connection (a seam for unit tests). */
export type ConfirmConnection = Pick<ChannelModel, 'createConfirmChannel' | 'on'>;
