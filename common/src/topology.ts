import type { Channel, ChannelModel, Options } from 'amqplib';
import type { Logger } from 'pino';

/** Topology names shared by every service and by rabbitmq/definitions.json. */
export const DEAD_LETTER_EXCHANGE = 'stockmarket.dlx';
export const DEAD_LETTER_QUEUE = 'stockmarket.dead-letters';

export type QueueType = 'classic' | 'quorum';

/**
 * Makes sure a durable queue exists without ever failing on one that exists with other
 * arguments (declared by another program or by the definitions file): check first, declare only
 * when missing, and treat a PRECONDITION_FAILED race as "exists". Each probe uses its own
 * throwaway channel, because a failed check or declare closes the channel it ran on.
 */
export async function ensureQueue(
  connection: ChannelModel,
  queue: string,
  queueType: QueueType,
  logger: Logger,
  extra: Options.AssertQueue = {},
): Promise<void> {
  if (await tryOnChannel(connection, (channel) => channel.checkQueue(queue))) return;
  const args = queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : {};
  const declared = await tryOnChannel(connection, (channel) =>
    channel.assertQueue(queue, { durable: true, ...extra, arguments: { ...args, ...extra.arguments } }),
  );
  if (!declared) {
    logger.warn({ queue }, 'queue exists with other arguments; using it as it is');
  }
}

/** The dead-letter exchange and its queue, where the consumer parks bad messages with a reason. */
export async function ensureDeadLetterTopology(connection: ChannelModel, logger: Logger): Promise<void> {
  await tryOnChannel(connection, async (channel) => {
    await channel.assertExchange(DEAD_LETTER_EXCHANGE, 'fanout', { durable: true });
  });
  await ensureQueue(connection, DEAD_LETTER_QUEUE, 'classic', logger);
  await tryOnChannel(connection, (channel) => channel.bindQueue(DEAD_LETTER_QUEUE, DEAD_LETTER_EXCHANGE, ''));
}

async function tryOnChannel(connection: ChannelModel, work: (channel: Channel) => Promise<unknown>): Promise<boolean> {
  const channel = await connection.createChannel();
  channel.on('error', () => {}); // a failed probe closes the channel with an error; expected
  try {
    await work(channel);
    await channel.close();
    return true;
  } catch {
    return false;
  }
}
