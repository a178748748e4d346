import type { Channel, ChannelModel, Options } from 'amqplib';
import type { Logger } from 'pino';

/** Topology names shared by every service and by rabbitmq/definitions.json. */
export const DEAD_LETTER_EXCHANGE = 'stockmarket.dlx';
export const DEAD_LETTER_QUEUE = 'stockmarket.dead-letters';
/**
 * Fanout exchange on which the consumer announces each committed batch write, so the liveview
 * reads at once instead of at its next poll (docs/performance.md). Notices are hints, not data.
 */
export const WRITE_NOTICE_EXCHANGE = 'stockmarket.writes';

export type QueueType = 'classic' | 'quorum';

/** AMQP reply codes the services handle (a broker refusal carries one as `code`). */
export const AMQP_REPLY = Object.freeze({ NOT_FOUND: 404, RESOURCE_LOCKED: 405, PRECONDITION_FAILED: 406 });

/** The broker refused an operation and closed its channel (the connection lives on). */
export type BrokerRefusal = Error & { code: number };

function isBrokerRefusal(error: unknown): error is BrokerRefusal {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number';
}

/**
 * Runs `work` on a channel of its own, because a refused operation closes the channel it ran on.
 * Returns the broker's refusal, or undefined when the work succeeded. Anything else (a lost
 * connection, a closed channel without a reply code) is not a refusal and is thrown.
 */
export async function onThrowawayChannel(
  connection: Pick<ChannelModel, 'createChannel'>,
  work: (channel: Channel) => Promise<unknown>,
): Promise<BrokerRefusal | undefined> {
  const channel = await connection.createChannel();
  // The refusal also arrives as an 'error' event on the channel; it is handled from the rejection below.
  channel.on('error', () => {});
  try {
    await work(channel);
  } catch (error) {
    if (isBrokerRefusal(error)) return error;
    throw error;
  }
  await channel.close();
  return undefined;
}

export interface QueueOptions {
  /** false matches the course's original programs, which declare their queues non-durable. */
  readonly durable?: boolean;
  readonly queueType?: QueueType;
  readonly arguments?: Options.AssertQueue['arguments'];
}

/**
 * The one queue-declaration policy of every service: declare the queue as wanted; when a queue of
 * that name exists with other arguments (another program's, or the definitions file's), the
 * broker refuses with PRECONDITION_FAILED, and the queue is used as it is, with a warning naming
 * the difference, instead of crashing. Any other refusal, or a queue that is then missing, throws.
 */
export async function declareQueue(
  connection: Pick<ChannelModel, 'createChannel'>,
  queue: string,
  options: QueueOptions,
  logger: Logger,
): Promise<void> {
  const wanted = {
    durable: options.durable ?? true,
    arguments: { ...(options.queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : {}), ...options.arguments },
  };
  const refused = await onThrowawayChannel(connection, (channel) => channel.assertQueue(queue, wanted));
  if (!refused) return;
  if (refused.code !== AMQP_REPLY.PRECONDITION_FAILED) {
    throw new Error(`cannot declare queue ${queue}: ${refused.message}`);
  }
  const missing = await onThrowawayChannel(connection, (channel) => channel.checkQueue(queue));
  if (missing) throw new Error(`cannot declare queue ${queue}: ${refused.message}`);
  logger.warn({ queue, wanted, err: refused.message }, 'queue exists with other arguments; using it as it is');
}

/** The dead-letter exchange and its queue, where the consumer parks bad messages with a reason. */
export async function declareDeadLetterTopology(
  connection: Pick<ChannelModel, 'createChannel'>,
  logger: Logger,
): Promise<void> {
  const refused = await onThrowawayChannel(connection, (channel) =>
    channel.assertExchange(DEAD_LETTER_EXCHANGE, 'fanout', { durable: true }),
  );
  if (refused) logger.warn({ exchange: DEAD_LETTER_EXCHANGE, err: refused.message }, 'using the exchange as it is');
  await declareQueue(connection, DEAD_LETTER_QUEUE, {}, logger);
  const unbound = await onThrowawayChannel(connection, (channel) =>
    channel.bindQueue(DEAD_LETTER_QUEUE, DEAD_LETTER_EXCHANGE, ''),
  );
  if (unbound) throw new Error(`cannot bind ${DEAD_LETTER_QUEUE} to ${DEAD_LETTER_EXCHANGE}: ${unbound.message}`);
}
