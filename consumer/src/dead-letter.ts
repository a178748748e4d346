import { DEAD_LETTER_EXCHANGE, TRADE_CONTENT_TYPE } from '@stockmarket/common';
import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';

/** Why a trade whose second's duplicate filter was swept is parked (docs/reconciliation.md). */
export const BEYOND_DEDUP_WINDOW =
  'beyond the dedup window: its second was booked and its trade ids swept (CONSUMER_DEDUP_RETENTION_MINUTES), so a redelivery cannot be told from a new trade';

/** The reason's first word (`not JSON`, `invalid trade`, `oversized`...), a metric label. */
export const reasonKind = (reason: string): string => reason.split(':')[0] ?? 'invalid';

/**
 * The original's properties, with why and where it was parked as headers. One trade parked out of
 * a batch message is a single-trade message of the contract (`application/json`), and says so.
 */
export function deadLetterProperties(
  queue: string,
  message: ConsumeMessage,
  reason: string,
  now = new Date(),
  fromBatch = false,
): Options.Publish {
  return {
    persistent: true,
    contentType: fromBatch ? TRADE_CONTENT_TYPE : message.properties.contentType,
    messageId: message.properties.messageId,
    headers: {
      ...message.properties.headers,
      'x-stockmarket-reason': reason.slice(0, 1000),
      'x-stockmarket-queue': queue,
      'x-stockmarket-dead-lettered-at': now.toISOString(),
      ...(fromBatch ? { 'x-stockmarket-from-batch': message.properties.messageId ?? true } : {}),
    },
  };
}

/**
 * Publishes a bad message to the dead-letter exchange, or with `trade` one bad trade of a batch
 * message on its own; resolves once the broker confirmed it.
 */
export function parkMessage(
  deadLetters: ConfirmChannel,
  queue: string,
  message: ConsumeMessage,
  reason: string,
  trade?: Buffer,
): Promise<void> {
  return new Promise((resolve, reject) => {
    deadLetters.publish(
      DEAD_LETTER_EXCHANGE,
      queue,
      trade ?? message.content,
      deadLetterProperties(queue, message, reason, new Date(), trade !== undefined),
      (error: unknown) => (error ? reject(new Error(`dead-letter publish nacked: ${String(error)}`)) : resolve()),
    );
  });
}
