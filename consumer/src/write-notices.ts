import { type Logger, onThrowawayChannel, WRITE_NOTICE_EXCHANGE } from '@stockmarket/common';
import type { Channel, ChannelModel } from 'amqplib';

/** What a notice says: this company's batch is committed. The data itself is read from the database. */
export interface WriteNotice {
  readonly company: string;
}

/**
 * Announces each committed batch write on a fanout exchange, so every liveview replica reads at
 * once instead of at its next poll. Best effort on a channel of its own: a refused or lost notice
 * costs a liveview at most one poll interval and never touches the channel that acks trades.
 */
export class WriteNotices {
  private channel: Channel | undefined;

  constructor(private readonly logger: Logger) {}

  /** On every (re)connection, before intake: declare the exchange and open the notice channel. */
  async attach(connection: ChannelModel): Promise<void> {
    this.channel = undefined;
    const refused = await onThrowawayChannel(connection, (channel) =>
      channel.assertExchange(WRITE_NOTICE_EXCHANGE, 'fanout', { durable: true }),
    );
    if (refused) {
      this.logger.warn(
        { exchange: WRITE_NOTICE_EXCHANGE, err: refused.message },
        'write notices off on this connection; liveviews fall back to polling',
      );
      return;
    }
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'write-notice channel error'));
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined;
    });
    this.channel = channel;
  }

  announce(notice: WriteNotice): void {
    const channel = this.channel;
    if (!channel) return;
    try {
      channel.publish(WRITE_NOTICE_EXCHANGE, '', Buffer.from(JSON.stringify(notice)), {
        contentType: 'application/json',
        persistent: false,
      });
    } catch (error) {
      // The channel closed between the check and the publish: the next poll covers this write.
      this.logger.debug({ err: (error as Error).message }, 'write notice not sent');
    }
  }
}
