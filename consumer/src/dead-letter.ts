import { DEAD_LETTER_EXCHANGE } from '@stockmarket/common';
import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';

/** Why a trade whose second's duplicate filter was swept is parked (docs/reconciliation.md). */
export const BEYOND_DEDUP_WINDOW =
  'beyond the dedup window: its second was booked and its trade ids swept (CONSUMER_DEDUP_RETENTION_MINUTES), so a redelivery cannot be told from a new trade';

/** The reason's first word (`not JSON`, `invalid trade`, `oversized`...), a metric label. */
export const reasonKind = (reason: string): string => reason.split(':')[0] ?? 'invalid';

/** The original's properties, with why and where it was parked as headers. */
export function deadLetterProperties(
  queue: string,
  message: ConsumeMessage,
  reason: string,
  now = new Date(),
): Options.Publish {
  return {
    persistent: true,
    contentType: message.properties.contentType,
    messageId: message.properties.messageId,
    headers: {
      ...message.properties.headers,
      'x-stockmarket-reason': reason.slice(0, 1000),
      'x-stockmarket-queue': queue,
      'x-stockmarket-dead-lettered-at': now.toISOString(),
    },
  };
}

/** Publishes a bad message to the dead-letter exchange; resolves once the broker confirmed it. */
export function parkMessage(
  deadLetters: ConfirmChannel,
  queue: string,
  message: ConsumeMessage,
  reason: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    deadLetters.publish(
      DEAD_LETTER_EXCHANGE,
      queue,
      message.content,
      deadLetterProperties(queue, message, reason),
      (error: unknown) => (error ? reject(new Error(`dead-letter publish nacked: ${String(error)}`)) : resolve()),
    );
  });
}
