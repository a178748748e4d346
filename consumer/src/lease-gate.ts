import type { Logger } from '@stockmarket/common';
import type { ChannelModel } from 'amqplib';
import type { ConsumerConfig } from './config.js';
import { LeaseRenewal, LeaseRounds, LeaseTerm, patienceRounds, tryAcquireLease } from './leases.js';
import type { ConsumerMetrics } from './metrics.js';

export type LeaseSettings = Pick<
  ConsumerConfig,
  'QUEUES' | 'CONSUMER_LEASES' | 'CONSUMER_MAX_LEASES' | 'CONSUMER_LEASE_RETRY_MS' | 'CONSUMER_LEASE_TAKEOVER_DELAY_MS'
>;

/** What the gate asks of the queue consumer that owns its connection. */
export interface LeaseGateHooks {
  /** The gate's connection is still the consumer's current one (`QueueConsumer.isCurrent`). */
  isCurrent(): boolean;
  /** The consumer is stopping: no new lease is claimed. */
  isStopping(): boolean;
  /** A lease was won: start reading that company's queue. */
  taken(company: string): Promise<void>;
  /** The leases are lost (fenced): give up the connection, so their trades are redelivered. */
  lost(): void;
  /** The renewals' channel closed (a refused renewal closes it): like any dead channel. */
  closed(): void;
}

/**
 * The write leases of one broker connection and the fencing that goes with them, behind three
 * questions: may a write start now (`mayWrite`), how long until a company taken over may be
 * written (`writableInMs`), and the leases are lost (`fence`). Without CONSUMER_LEASES every
 * queue is read directly: writes are always allowed and nothing is claimed.
 */
export class LeaseGate {
  private readonly rounds: LeaseRounds;
  /** How long the leases of this connection may be written under (self-fencing). */
  private readonly term: LeaseTerm;
  /** Per company taken on this connection: no write before this time (the takeover delay). */
  private readonly writableAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private renewal: LeaseRenewal | undefined;

  constructor(
    private readonly connection: ChannelModel,
    private readonly settings: LeaseSettings,
    private readonly hooks: LeaseGateHooks,
    private readonly metrics: ConsumerMetrics,
    private readonly logger: Logger,
  ) {
    this.rounds = new LeaseRounds(
      settings.QUEUES,
      settings.CONSUMER_MAX_LEASES,
      patienceRounds(settings.CONSUMER_LEASE_RETRY_MS),
    );
    this.term = new LeaseTerm(negotiatedHeartbeat(connection));
  }

  /** With leases: the renewals' channel, a first round of claims, then a round every retry interval. */
  async start(): Promise<void> {
    if (!this.settings.CONSUMER_LEASES) return;
    const renewals = await this.connection.createChannel();
    renewals.on('close', () => this.hooks.closed());
    renewals.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'lease lost'));
    this.renewal = new LeaseRenewal(
      renewals,
      this.term,
      () => this.rounds.companiesHeld,
      () => {
        if (this.rounds.count > 0 && !this.term.valid()) this.fence();
      },
    );
    if (!Number.isFinite(this.term.validForMs)) {
      this.logger.warn('AMQP heartbeat disabled: a holder cut off from the broker is not fenced (docs/consumer.md)');
    }
    await this.claim();
    this.timer = setInterval(() => {
      this.claim().catch((error: Error) => this.logger.warn({ err: error.message }, 'lease round failed'));
    }, this.settings.CONSUMER_LEASE_RETRY_MS);
  }

  private async claim(): Promise<void> {
    if (!this.hooks.isCurrent() || this.hooks.isStopping()) return;
    const sentAt = performance.now();
    await this.rounds.claim(
      (company) => tryAcquireLease(this.connection, company),
      () => this.hooks.isCurrent(),
      async (company) => {
        // The broker granted the lease to a request sent at `sentAt` or later: a renewal too.
        this.term.renewed(sentAt);
        this.writableAt.set(company, performance.now() + this.settings.CONSUMER_LEASE_TAKEOVER_DELAY_MS);
        this.metrics.leases.set(this.rounds.count);
        this.metrics.lease.set({ company }, 1);
        this.metrics.leaseTaken.set({ company }, Date.now() / 1000);
        this.logger.info({ company }, 'took the write lease; consuming');
        await this.hooks.taken(company);
      },
    );
  }

  /**
   * May a write start now? With leases, only within the term the broker last renewed
   * (`LeaseTerm`): a holder cut off from the broker stops writing before the broker can give its
   * leases to a standby.
   */
  mayWrite(): boolean {
    return !this.settings.CONSUMER_LEASES || this.term.valid();
  }

  /** How long a company's first write must still wait after its takeover (0: none). */
  writableInMs(company: string): number {
    return (this.writableAt.get(company) ?? 0) - performance.now();
  }

  /** The leases' term ran out: stop writing and give them up (the trades are redelivered). */
  fence(): void {
    if (!this.hooks.isCurrent()) return;
    this.metrics.fenced.inc();
    this.logger.warn(
      { sinceRenewalMs: Math.round(this.term.sinceRenewalMs()), termMs: this.term.validForMs },
      'the broker did not renew the leases in time: no more writes, closing the connection',
    );
    this.hooks.lost();
  }

  /** No more rounds or renewals (the consumer stops). */
  stop(): void {
    clearInterval(this.timer);
    this.renewal?.stop();
  }

  /** The connection is gone, and its leases with it. */
  release(): void {
    this.stop();
    this.metrics.leases.set(0);
    this.metrics.lease.reset();
    this.metrics.leaseTaken.reset();
  }
}

/** The heartbeat the connection negotiated, in seconds (0: none); amqplib keeps it on its connection. */
function negotiatedHeartbeat(connection: ChannelModel): number {
  const heartbeat = (connection.connection as { heartbeat?: unknown }).heartbeat;
  return typeof heartbeat === 'number' ? heartbeat : 0;
}
