import amqp, { type ChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, delay } from './backoff.js';
import { redactUrl } from './logger.js';

/**
 * One AMQP connection per process that comes back by itself: capped exponential backoff with
 * jitter between attempts, and `setup` runs again on each new connection.
 */
export class AmqpSession {
  private current: ChannelModel | undefined;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly setup: (connection: ChannelModel) => Promise<void>,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {}

  get connection(): ChannelModel | undefined {
    return this.current;
  }

  start(): void {
    this.running ??= this.loop();
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopping.signal.aborted) {
      let connection: ChannelModel | undefined;
      try {
        connection = await amqp.connect(this.url, { timeout: 5_000 });
        const closed = new Promise<Error | undefined>((resolve) => {
          connection?.once('close', (error?: Error) => resolve(error));
          connection?.on('error', () => {}); // 'close' follows and is handled there
        });
        connection.on('blocked', (reason: string) => this.logger.warn({ reason }, 'broker blocked us'));
        connection.on('unblocked', () => this.logger.info('broker unblocked us'));
        await this.setup(connection);
        this.current = connection;
        attempt = 0;
        this.logger.info({ url: redactUrl(this.url) }, 'connected to RabbitMQ');
        const error = await closed;
        this.current = undefined;
        if (this.stopping.signal.aborted) break;
        this.logger.warn({ err: error?.message }, 'lost RabbitMQ connection');
      } catch (error) {
        this.current = undefined;
        if (connection) await this.closeQuietly(connection);
        if (this.stopping.signal.aborted) break;
        const wait = backoffDelay(attempt++, this.backoff);
        this.logger.warn({ err: (error as Error).message, attempt, retryInMs: wait }, 'RabbitMQ unavailable, retrying');
        await delay(wait, this.stopping.signal);
      }
    }
  }

  /** Stops reconnecting and closes the connection (and with it every channel). */
  async close(): Promise<void> {
    this.stopping.abort();
    const connection = this.current;
    this.current = undefined;
    if (connection) await this.closeQuietly(connection);
    await this.running;
  }

  /** Closing a connection that is failing or already closed: nothing to do but note it. */
  private async closeQuietly(connection: ChannelModel): Promise<void> {
    await connection.close().catch((error: Error) => this.logger.debug({ err: error.message }, 'connection close'));
  }
}
