import { declareDeadLetterTopology, declareQueue, LEDGER_QUEUE, type Logger } from '@stockmarket/common';
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import type { ConsumerConfig } from './config.js';

/** Ledger messages in flight per replica: a few per minute arrive, so a small window is plenty. */
const LEDGER_PREFETCH = 50;

/** The channels the queue consumer reads and dead-letters on, all of one broker connection. */
export interface Channels {
  readonly connection: ChannelModel;
  /** The company queues' channel. */
  readonly channel: Channel;
  /** The ledger queue's channel (every replica reads it: docs/reconciliation.md). */
  readonly ledger: Channel;
  readonly deadLetters: ConfirmChannel;
}

/**
 * Set-up on every (re)connection: the topology (dead-letter exchange and queue, the company and
 * ledger queues), then the channels with their prefetch.
 */
export async function openChannels(
  connection: ChannelModel,
  config: Pick<ConsumerConfig, 'QUEUES' | 'COMPANY_QUEUES_DURABLE' | 'CONSUMER_PREFETCH'>,
  logger: Logger,
): Promise<Channels> {
  await declareDeadLetterTopology(connection, logger);
  for (const queue of config.QUEUES)
    await declareQueue(connection, queue, { durable: config.COMPANY_QUEUES_DURABLE }, logger);
  const deadLetters = await connection.createConfirmChannel();
  await declareQueue(connection, LEDGER_QUEUE, { durable: config.COMPANY_QUEUES_DURABLE }, logger);
  const channel = await connection.createChannel();
  await channel.prefetch(config.CONSUMER_PREFETCH);
  const ledger = await connection.createChannel();
  await ledger.prefetch(LEDGER_PREFETCH);
  return { connection, channel, ledger, deadLetters };
}

/**
 * `onClose` runs when any of the channels closes: a channel can die alone (a protocol error), and
 * the caller then gives up the whole connection. Errors are logged; each is followed by a close.
 */
export function watchChannels({ channel, ledger, deadLetters }: Channels, logger: Logger, onClose: () => void): void {
  channel.on('close', onClose);
  ledger.on('close', onClose);
  deadLetters.on('close', onClose);
  ledger.on('error', (error: Error) => logger.warn({ err: error.message }, 'ledger channel error'));
  channel.on('error', (error: Error) => logger.warn({ err: error.message }, 'channel error'));
  deadLetters.on('error', (error: Error) => logger.warn({ err: error.message }, 'dead-letter channel error'));
}

/** SIGTERM, after the last acks: the outstanding dead-letter confirms, then each channel closes. */
export async function closeChannels(channels: Channels, logger: Logger): Promise<void> {
  const ended = (step: string) => shutdownStepFailed(logger, step);
  await channels.deadLetters.waitForConfirms().catch(ended('dead-letter confirms'));
  await channels.channel.close().catch(ended('channel close'));
  await channels.ledger.close().catch(ended('ledger channel close'));
  await channels.deadLetters.close().catch(ended('dead-letter channel close'));
}

/** A step of the stop met a channel the broker or the network closed first: nothing left to do there. */
export const shutdownStepFailed = (logger: Logger, step: string) => (error: Error) =>
  logger.warn({ step, err: error.message }, 'channel gone during shutdown');
