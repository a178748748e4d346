import { setTimeout as delay } from 'node:timers/promises';
import type { MongoClient } from 'mongodb';
import type { Logger } from './logger.js';

/** The driver's defaults, for a client made without them. */
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const DEFAULT_HEARTBEAT_FREQUENCY_MS = 10_000;

/**
 * The longest a server check of the MongoDB driver may last: a streaming check waits up to the
 * heartbeat interval for news and then has the connect timeout as its socket timeout; a polling
 * one has the connect timeout. Five seconds on top for a busy event loop.
 */
export function longestServerCheckMs(options: { connectTimeoutMS?: number; heartbeatFrequencyMS?: number }): number {
  return (
    (options.connectTimeoutMS ?? DEFAULT_CONNECT_TIMEOUT_MS) +
    (options.heartbeatFrequencyMS ?? DEFAULT_HEARTBEAT_FREQUENCY_MS) +
    5_000
  );
}

/**
 * Watches the MongoDB driver's server monitors and starts the client afresh when one hangs.
 *
 * Found by the soak (docs/reliability.md): mongodb 7.9 can leave a server check unfinished for ever
 * when the server goes away at the wrong moment (a write to a socket closed meanwhile waits for a
 * 'drain' that never comes), and with its monitor stuck the driver never sees the server again:
 * every operation fails server selection with the error of before, until the process restarts.
 * Reproduced here in about one FerretDB restart of three under load. A check that has run longer
 * than any check may (`longestServerCheckMs`) is taken as hung: the client is closed and connected
 * again, which builds a new topology; the `Db` and `Collection` handles taken from it keep working.
 */
export class MongoMonitorWatchdog {
  /** Per server address: when its current check started (performance.now()). */
  private readonly checking = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private restarting = false;
  private stopped = false;
  restarts = 0;

  constructor(
    private readonly client: Pick<MongoClient, 'on' | 'close' | 'connect'>,
    private readonly logger: Logger,
    private readonly stuckAfterMs: number,
    onRestart: () => void = () => {},
    private readonly retryCapMs = 5_000,
  ) {
    client.on('serverHeartbeatStarted', ({ connectionId }) => {
      if (!this.checking.has(connectionId)) this.checking.set(connectionId, performance.now());
    });
    const ended = ({ connectionId }: { connectionId: string }) => this.checking.delete(connectionId);
    client.on('serverHeartbeatSucceeded', ended);
    client.on('serverHeartbeatFailed', ended);
    this.timer = setInterval(
      () => {
        const hung = this.hungServer();
        if (hung && !this.restarting) {
          this.restart(hung).then(onRestart, (error: Error) =>
            this.logger.warn({ err: error.message }, 'restarting the MongoDB client failed'),
          );
        }
      },
      Math.min(5_000, stuckAfterMs / 4),
    );
    this.timer.unref();
  }

  /** The address of a server whose check has lasted longer than any check may, if any. */
  hungServer(now = performance.now()): string | undefined {
    for (const [address, since] of this.checking) if (now - since > this.stuckAfterMs) return address;
    return undefined;
  }

  private async restart(address: string): Promise<void> {
    this.restarting = true;
    try {
      this.logger.warn(
        { server: address, stuckAfterMs: this.stuckAfterMs },
        "the MongoDB driver's check of a server never ended: starting the client afresh",
      );
      this.checking.clear();
      this.restarts++;
      await this.client
        .close()
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'closing the hung MongoDB client failed'));
      // A closed client stays closed ('Topology is closed') until a connect succeeds, and a connect
      // fails while no server answers (found in the compose suite): so it is tried until it does.
      for (let attempt = 1; !this.stopped; attempt++) {
        try {
          await this.client.connect();
          return;
        } catch (error) {
          this.logger.warn(
            { err: (error as Error).message, attempt },
            'connecting the MongoDB client again failed: trying again',
          );
          await delay(Math.min(500 * attempt, this.retryCapMs), undefined, { ref: false });
        }
      }
    } finally {
      this.restarting = false;
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
