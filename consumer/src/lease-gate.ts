import { type Logger, onThrowawayChannel } from '@stockmarket/common';
import type { ChannelModel } from 'amqplib';
import type { ConsumerConfig } from './config.js';
import { LeaseTokens } from './lease-tokens.js';
import { declareLeaseQueue, LEASE_TOKEN_EXCHANGE, LeaseRounds, LeaseTerms, patienceRounds } from './leases.js';
import type { ConsumerMetrics } from './metrics.js';

export type LeaseSettings = Pick<
  ConsumerConfig,
  | 'QUEUES'
  | 'CONSUMER_LEASES'
  | 'CONSUMER_MAX_LEASES'
  | 'CONSUMER_LEASE_RETRY_MS'
  | 'CONSUMER_LEASE_TERM_MS'
  | 'CONSUMER_LEASE_TAKEOVER_DELAY_MS'
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
  /** The lease tokens' channel closed, or the broker cancelled a lease: like any dead channel. */
  closed(): void;
}

/**
 * The write leases of one broker connection and the fencing that goes with them, behind three
 * questions: may a write of a company start now (`mayWrite`), how long until a company taken over
 * may be written (`writableInMs`), and the leases are lost (`fence`). Without CONSUMER_LEASES
 * every queue is read directly: writes are always allowed and nothing is claimed.
 */
export class LeaseGate {
  private readonly rounds: LeaseRounds;
  /** How long each lease of this connection may be written under (self-fencing). */
  private readonly terms: LeaseTerms;
  /** Per company taken on this connection: no write before this time (term + takeover delay). */
  private readonly writableAt = new Map<string, number>();
  /** Lease queues declared on this connection, and those an older consumer still holds exclusively. */
  private readonly declared = new Set<string>();
  private tokens: LeaseTokens | undefined;
  private claiming = false;
  private timer: NodeJS.Timeout | undefined;
  private renewals: NodeJS.Timeout | undefined;

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
    this.terms = new LeaseTerms(settings.CONSUMER_LEASE_TERM_MS);
  }

  /** With leases: the token exchange, a first round of claims, then a round every retry interval. */
  async start(): Promise<void> {
    if (!this.settings.CONSUMER_LEASES) return;
    const refused = await onThrowawayChannel(this.connection, (channel) =>
      channel.assertExchange(LEASE_TOKEN_EXCHANGE, 'direct', { durable: true }),
    );
    if (refused) throw new Error(`cannot declare ${LEASE_TOKEN_EXCHANGE}: ${refused.message}`);
    // A claim waits for its token at most one term (at most 2 s): subscription and delivery, a few round trips.
    this.tokens = new LeaseTokens(
      () => this.connection.createChannel(),
      this.terms,
      Math.min(2000, this.terms.validForMs),
      (company) => {
        this.logger.warn({ company }, 'lease channel closed or its consumer cancelled by the broker');
        this.hooks.closed();
      },
    );
    this.renewals = setInterval(() => {
      const held = this.rounds.companiesHeld;
      if (held.length === 0) return;
      const lapsed = this.terms.expired(held);
      if (lapsed !== undefined) this.fence(lapsed);
      else this.tokens?.renew();
    }, this.terms.renewEveryMs);
    if (negotiatedHeartbeat(this.connection) === 0) {
      this.logger.warn(
        'AMQP heartbeat disabled: the broker may not notice a holder cut off from it, and its leases stay with it (docs/consumer.md)',
      );
    }
    // Rounds never overlap (`claiming`); none waits for the broker longer than a claim's wait.
    const round = () => {
      this.claim().catch((error: Error) => this.logger.warn({ err: error.message }, 'lease round failed'));
    };
    round();
    this.timer = setInterval(round, this.settings.CONSUMER_LEASE_RETRY_MS);
  }

  private async claim(): Promise<void> {
    if (!this.hooks.isCurrent() || this.hooks.isStopping() || this.claiming) return;
    this.claiming = true;
    try {
      await this.rounds.claim(
        (company) => this.tryAcquire(company),
        () => this.hooks.isCurrent(),
        async (company) => {
          // The previous holder may start writes for one more term: wait it out, and the delay.
          const wait = this.settings.CONSUMER_LEASE_TERM_MS + this.settings.CONSUMER_LEASE_TAKEOVER_DELAY_MS;
          this.writableAt.set(company, performance.now() + wait);
          this.metrics.leases.set(this.rounds.count);
          this.metrics.lease.set({ company }, 1);
          this.metrics.leaseTaken.set({ company }, Date.now() / 1000);
          this.metrics.leaseWritable.set({ company }, (Date.now() + wait) / 1000);
          this.logger.info({ company, firstWriteInMs: wait }, 'took the write lease; consuming');
          await this.hooks.taken(company);
        },
      );
    } finally {
      this.claiming = false;
    }
  }

  private async tryAcquire(company: string): Promise<boolean> {
    const tokens = this.tokens;
    if (!tokens) return false;
    if (!this.declared.has(company)) {
      if (!(await declareLeaseQueue(this.connection, company))) return false;
      this.declared.add(company);
    }
    return tokens.claim(company);
  }

  /**
   * May a write of `company` start now? With leases, only within the term its token last came
   * back in (`LeaseTerms`): a holder whose lease moved, or that is cut off from the broker or from
   * a majority of the cluster, stops writing before a new holder's first write.
   */
  mayWrite(company: string): boolean {
    return !this.settings.CONSUMER_LEASES || this.terms.valid(company);
  }

  /** How long a company's first write must still wait after its takeover (0: none). */
  writableInMs(company: string): number {
    return (this.writableAt.get(company) ?? 0) - performance.now();
  }

  /** A lease's term ran out: stop writing and give every lease up (the trades are redelivered). */
  fence(company: string): void {
    if (!this.hooks.isCurrent()) return;
    this.metrics.fenced.inc();
    this.logger.warn(
      { company, sinceRenewalMs: Math.round(this.terms.sinceRenewalMs(company)), termMs: this.terms.validForMs },
      'the lease token did not come back in time: no more writes, closing the connection',
    );
    this.hooks.lost();
  }

  /**
   * No more claims (the consumer stops). Renewals go on: the last flush after SIGTERM writes under
   * the leases held, and may first have to wait out a takeover; `release` ends them.
   */
  stop(): void {
    clearInterval(this.timer);
    this.tokens?.stop();
  }

  /** The connection is gone, and its leases with it. */
  release(): void {
    this.stop();
    clearInterval(this.renewals);
    this.metrics.leases.set(0);
    this.metrics.lease.reset();
    this.metrics.leaseTaken.reset();
    this.metrics.leaseWritable.reset();
  }
}

/** The heartbeat the connection negotiated, in seconds (0: none); amqplib keeps it on its connection. */
function negotiatedHeartbeat(connection: ChannelModel): number {
  const heartbeat = (connection.connection as { heartbeat?: unknown }).heartbeat;
  return typeof heartbeat === 'number' ? heartbeat : 0;
}
