import { EventEmitter } from 'node:events';
import amqp, { type ChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, delay } from './backoff.js';
import { redactUrl } from './logger.js';

export interface AmqpSessionEvents {
  /** A fresh connection; the listener sets up channels. Throwing closes it and retries. */
  connected: [connection: ChannelModel];
  /** The connection is gone; channels from it are dead, unacked deliveries will be redelivered. */
  lost: [error: Error | undefined];
}

/**
 * One AMQP connection per process that comes back by itself: capped exponential backoff with
 * jitter between attempts, and the `connected` listener re-runs the set-up on each new connection.
 */
export class AmqpSession extends EventEmitter<AmqpSessionEvents> {
  private current: ChannelModel | undefined;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly setup: (connection: ChannelModel) => Promise<void>,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    super();
  }

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
        this.emit('connected', connection);
        const error = await closed;
        this.current = undefined;
        if (this.stopping.signal.aborted) break;
        this.logger.warn({ err: error?.message }, 'lost RabbitMQ connection');
        this.emit('lost', error);
      } catch (error) {
        this.current = undefined;
        await connection?.close().catch(() => {});
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
    await connection?.close().catch(() => {});
    await this.running;
  }
}
