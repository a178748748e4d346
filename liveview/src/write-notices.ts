import { AmqpSession, type Logger, WRITE_NOTICE_EXCHANGE } from '@stockmarket/common';

/**
 * Follows the consumer's write notices (docs/performance.md): each replica binds a queue of its
 * own (server-named, exclusive, deleted with the connection) to the fanout exchange and calls
 * `onNotice` for every notice. Only a hint to read now: the feed keeps polling, so a broker that
 * is down or a lost notice costs at most one poll interval. Reconnects by itself.
 */
export function followWriteNotices(urls: readonly string[], logger: Logger, onNotice: () => void): AmqpSession {
  const session = new AmqpSession(urls, logger, async (connection) => {
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) => logger.warn({ err: error.message }, 'write-notice channel error'));
    // Without its channel the connection is useless: close it, and the session connects afresh.
    channel.on('close', () => {
      connection.close().catch((error: Error) => logger.debug({ err: error.message }, 'connection already closed'));
    });
    // Passive: the consumer (or the definitions file) declares the exchange; until it exists, retry.
    await channel.checkExchange(WRITE_NOTICE_EXCHANGE);
    const { queue } = await channel.assertQueue('', {
      exclusive: true,
      autoDelete: true,
      durable: false,
      // Notices are only worth their arrival: a replica that falls behind loses old ones, not memory.
      arguments: { 'x-max-length': 100 },
    });
    await channel.bindQueue(queue, WRITE_NOTICE_EXCHANGE, '');
    await channel.consume(queue, () => onNotice(), { noAck: true });
  });
  session.start();
  return session;
}
