import type { ChannelModel } from 'amqplib';

export interface OutgoingMessage {
  readonly queue: string;
  readonly body: Buffer;
  readonly id: string;
  readonly ts: number;
  /** The trade's figures for the ledger; absent on a ledger message. */
  readonly trade?: { readonly company: string; readonly price: number; readonly quantity: number };
  /** A ledger message (docs/reconciliation.md), not a trade. */
  readonly ledger?: boolean;
}

export interface DeliveryEvents {
  /** A first send (`message` tells which: a trade, or a ledger message). */
  published(count: number, message: OutgoingMessage): void;
  confirmed(message: OutgoingMessage): void;
  nacked(message: OutgoingMessage): void;
  republished(count: number): void;
  /** No confirm came for longer than the confirm timeout: give up the connection (`reason` says why). */
  stalled?(reason: string): void;
}

export interface ConfirmedPublisherOptions {
  /** Unconfirmed messages at most (sent, or waiting to be resent). */
  readonly maxInFlight: number;
  /** A connected channel that confirms nothing this long while messages wait is given up (default: never). */
  readonly confirmTimeoutMs?: number;
  /** After a nack, resends wait this long: the broker could not take them just now. */
  readonly nackRetryDelayMs?: number;
}

/** What the publisher needs from an amqplib connection (a seam for unit tests). */
export type ConfirmConnection = Pick<ChannelModel, 'createConfirmChannel' | 'on'>;
