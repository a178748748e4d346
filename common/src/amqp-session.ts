import amqp, { type ChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, delay } from './backoff.js';
import { redactUrl } from './logger.js';

/**
 * The order in which a session tries its broker nodes: after `failed` (the node just lost, or
 * just refused), the next one in the list, wrapping round. A full round without success is one
 * backoff step, so a cluster with one node down costs no backoff at all.
 */
export function nextEndpoint(count: number, failed: number): { index: number; roundDone: boolean } {
  const index = (failed + 1) % count;
  return { index, roundDone: index === 0 };
}

/**
 * One AMQP connection per process that comes back by itself, to any node of a cluster: the
 * endpoints are tried in list order (the first is the preferred one), and when the connection
 * is lost or refused the next node is tried at once; only a whole round of refusals waits
 * (capped exponential backoff with jitter). `setup` runs again on each new connection.
 */
export class AmqpSession {
  private current: ChannelModel | undefined;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private readonly urls: readonly string[];

  constructor(
    urls: string | readonly string[],
    private readonly logger: Logger,
    private readonly setup: (connection: ChannelModel) => Promise<void>,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    this.urls = typeof urls === 'string' ? [urls] : [...urls];
    if (this.urls.length === 0) throw new Error('AmqpSession needs at least one broker URL');
  }

  get connection(): ChannelModel | undefined {
    return this.current;
  }

  start(): void {
    this.running ??= this.loop();
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    let index = 0;
    while (!this.stopping.signal.aborted) {
      let connection: ChannelModel | undefined;
      const url = this.urls[index] as string;
      try {
        connection = await amqp.connect(url, { timeout: 5_000 });
        const closed = new Promise<Error | undefined>((resolve) => {
          connection?.once('close', (error?: Error) => resolve(error));
          connection?.on('error', () => {}); // 'close' follows and is handled there
        });
        connection.on('blocked', (reason: string) => this.logger.warn({ reason }, 'broker blocked us'));
        connection.on('unblocked', () => this.logger.info('broker unblocked us'));
        await this.setup(connection);
        this.current = connection;
        attempt = 0;
        this.logger.info({ url: redactUrl(url) }, 'connected to RabbitMQ');
        const error = await closed;
        this.current = undefined;
        if (this.stopping.signal.aborted) break;
        this.logger.warn({ url: redactUrl(url), err: error?.message }, 'lost RabbitMQ connection');
        // The node may be gone: try the next one first (a single node is simply retried).
        index = nextEndpoint(this.urls.length, index).index;
      } catch (error) {
        this.current = undefined;
        if (connection) await this.closeQuietly(connection);
        if (this.stopping.signal.aborted) break;
        const next = nextEndpoint(this.urls.length, index);
        index = next.index;
        if (!next.roundDone) {
          this.logger.warn(
            { url: redactUrl(url), err: (error as Error).message },
            'RabbitMQ node unavailable, trying the next',
          );
          continue;
        }
        const wait = backoffDelay(attempt++, this.backoff);
        this.logger.warn({ err: (error as Error).message, attempt, retryInMs: wait }, 'RabbitMQ unavailable, retrying');
        await delay(wait, this.stopping.signal);
      }
    }
  }

  /**
   * Gives up the open connection (a node that is connected but no longer useful, e.g. one that
   * stopped confirming): the session moves on to the next node as after a lost connection. A
   * node that does not answer the close within 2 s has its socket cut.
   */
  abandon(reason: string): void {
    const connection = this.current;
    if (!connection) return;
    this.logger.warn({ reason }, 'giving up this RabbitMQ connection');
    const socket = (connection.connection as { stream?: { destroy(error: Error): void } }).stream;
    const cut = setTimeout(() => socket?.destroy(new Error(`abandoned: ${reason}`)), 2_000);
    connection
      .close()
      .catch((error: Error) => this.logger.debug({ err: error.message }, 'connection close'))
      .finally(() => clearTimeout(cut));
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
