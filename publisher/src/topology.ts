import type { Logger, QueueType } from '@stockmarket/common';
import type { Channel, ChannelModel } from 'amqplib';

/**
 * Declares a company queue with the publisher's settings (durable unless `durable` is false,
 * COMPANY_QUEUES_DURABLE: then as the course's original programs declare it). When a queue of that name
 * already exists with other arguments (another program's, or an older declaration), the broker
 * refuses the declaration with PRECONDITION_FAILED; the publisher then uses the queue as it is and
 * logs a warning naming the difference instead of crashing. Each attempt runs on a throwaway
 * channel, because a refused declaration closes the channel it ran on.
 */
export async function declareCompanyQueue(
  connection: Pick<ChannelModel, 'createChannel'>,
  queue: string,
  queueType: QueueType,
  logger: Logger,
  durable = true,
): Promise<void> {
  const args = queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : {};
  const refused = await onThrowawayChannel(connection, (channel) =>
    channel.assertQueue(queue, { durable, arguments: args }),
  );
  if (!refused) return;
  const missing = await onThrowawayChannel(connection, (channel) => channel.checkQueue(queue));
  if (missing) throw new Error(`cannot declare queue ${queue}: ${refused.message}`);
  logger.warn(
    { queue, wanted: { durable, arguments: args }, err: refused.message },
    'queue exists with other arguments; using it as it is',
  );
}

/** Runs `work` on a fresh channel; returns the error it failed with, or undefined. */
async function onThrowawayChannel(
  connection: Pick<ChannelModel, 'createChannel'>,
  work: (channel: Channel) => Promise<unknown>,
): Promise<Error | undefined> {
  const channel = await connection.createChannel();
  channel.on('error', () => {}); // the refusal closes the channel with an error; handled below
  try {
    await work(channel);
  } catch (error) {
    return error as Error;
  }
  await channel.close();
  return undefined;
}
