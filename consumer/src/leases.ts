import { AMQP_REPLY, DEFAULT_BACKOFF, onThrowawayChannel } from '@stockmarket/common';
import type { Channel, ChannelModel } from 'amqplib';

/** The exclusive queue whose existence on a connection means "this connection writes company X". */
export const leaseQueueName = (company: string) => `stockmarket.lease.${company}`;

/**
 * Tries to take the write lease of a company: declaring an exclusive queue succeeds for one
 * connection only, and the broker deletes it when that connection dies (crash, kill -9, network
 * loss), so a standby replica takes over without any clock or heartbeat of ours.
 */
export async function tryAcquireLease(connection: ChannelModel, company: string): Promise<boolean> {
  const refused = await onThrowawayChannel(connection, (channel) =>
    channel.assertQueue(leaseQueueName(company), { exclusive: true, durable: false, autoDelete: false, arguments: {} }),
  );
  if (!refused) return true;
  // RESOURCE_LOCKED: another connection holds it. Anything else is a fault, not "taken".
  if (refused.code === AMQP_REPLY.RESOURCE_LOCKED) return false;
  throw new Error(`lease ${company}: ${refused.message}`);
}

/**
 * How many rounds a company must have stayed free before a replica holding `held` leases tries
 * it. Below the soft cap: none, it tries at once. At or above it the company is an orphan that no
 * replica below its cap took, and the patience grows with every lease held beyond the cap, so
 * that among busy replicas the least loaded one reaches it first. A replica below its cap (a
 * standby, or a holder restarted after a crash) takes an orphan at once, before any busy one.
 */
export function roundsBeforeTrying(held: number, softCap: number, patience = 3): number {
  return held < softCap ? 0 : patience * (held - softCap + 1);
}

/**
 * The patience of a busy replica, in lease rounds: one longest reconnect backoff of the broker
 * session plus two seconds. After a broker node's loss or restart every replica reconnects within
 * one backoff of the others; a company free for less than that may be waiting for its old holder,
 * which would take it back at once (below its cap), so that the replicas spread again instead of
 * the first ones back taking the others' companies (measured: 0/2/1 after a broker restart with
 * a patience of 3 s).
 */
export function patienceRounds(retryMs: number, backoffMaxMs: number = DEFAULT_BACKOFF.maxMs): number {
  return Math.ceil((backoffMaxMs + 2_000) / retryMs);
}

/** The leases one connection holds, and for how many rounds each free one has stayed free. */
export class LeaseRounds {
  private readonly held = new Set<string>();
  private readonly freeRounds = new Map<string, number>();

  constructor(
    private readonly companies: readonly string[],
    private readonly softCap: number,
    /** Rounds a company must stay free before a replica at its cap takes it (`patienceRounds`). */
    private readonly patience = 3,
  ) {}

  get count(): number {
    return this.held.size;
  }

  get companiesHeld(): string[] {
    return [...this.held];
  }

  /**
   * One round over every company not held, in list order. A company is tried when
   * `roundsBeforeTrying` allows it; one that another replica holds is skipped and the next one
   * tried (so replicas starting together spread the companies: the second takes the first free
   * one after the first's), and one not tried counts a round towards being an orphan.
   * `onTaken` runs for each lease won; `tryAcquire` answers false when another connection holds it.
   */
  async claim(
    tryAcquire: (company: string) => Promise<boolean>,
    stillCurrent: () => boolean,
    onTaken: (company: string) => Promise<void>,
  ): Promise<void> {
    for (const company of this.companies) {
      if (this.held.has(company)) continue;
      const freeFor = this.freeRounds.get(company) ?? 0;
      if (freeFor < roundsBeforeTrying(this.held.size, this.softCap, this.patience)) {
        this.freeRounds.set(company, freeFor + 1);
        continue;
      }
      if (!(await tryAcquire(company))) {
        // Held by another replica: not an orphan; count again from zero.
        this.freeRounds.set(company, 0);
        continue;
      }
      if (!stillCurrent()) return;
      this.held.add(company);
      this.freeRounds.delete(company);
      await onTaken(company);
    }
  }
}

/**
 * The holder's own bound on its leases (self-fencing). The broker frees a lease when it has heard
 * nothing on the holder's connection for two to three heartbeat intervals (RabbitMQ's
 * rabbit_heartbeat: "time out between 2 and 3 intervals after the last data has been received").
 * A broker reply to a request sent at time t proves the broker heard the holder at or after t, so
 * the lease cannot be freed before t + 2 heartbeats. The holder starts no write later than
 * t + one heartbeat: a write it began in time has another heartbeat to end before a standby can
 * even take the lease, and the standby waits its takeover delay on top. Times are this process's
 * monotonic clock (durations, no clock synchronisation). A heartbeat of 0 (disabled) means the
 * broker never times the connection out, and no bound can be given: then only a lost lease stops
 * writing.
 */
export class LeaseTerm {
  private renewedAt = Number.NEGATIVE_INFINITY;
  readonly validForMs: number;

  constructor(heartbeatSeconds: number) {
    this.validForMs = heartbeatSeconds > 0 ? heartbeatSeconds * 1000 : Number.POSITIVE_INFINITY;
  }

  /** The broker answered a request sent at `sentAt` (performance.now()) on the leases' connection. */
  renewed(sentAt: number): void {
    if (sentAt > this.renewedAt) this.renewedAt = sentAt;
  }

  /** May a write start now? */
  valid(now = performance.now()): boolean {
    return now - this.renewedAt < this.validForMs;
  }

  sinceRenewalMs(now = performance.now()): number {
    return now - this.renewedAt;
  }

  /** How often to renew: four times per term, at most once a second, at least every 100 ms. */
  get renewEveryMs(): number {
    return Math.max(100, Math.min(1000, Math.floor(this.validForMs / 4)));
  }
}

/**
 * Renews the leases of one connection: asks the broker, on a channel of their own, whether each
 * held lease queue is still there (a passive declare, one round trip; an exclusive queue answers
 * only its owner's connection). A reply renews the term; a refusal (the lease is gone) closes that
 * channel, which the caller treats like any dead channel. One renewal at a time: while the broker
 * does not answer, the term runs out.
 */
export class LeaseRenewal {
  private busy = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly channel: Pick<Channel, 'checkQueue'>,
    private readonly term: LeaseTerm,
    private readonly held: () => readonly string[],
    onRound: () => void,
  ) {
    this.timer = setInterval(() => {
      this.renew();
      onRound();
    }, term.renewEveryMs);
  }

  private renew(): void {
    const companies = this.held();
    if (this.busy || companies.length === 0) return;
    this.busy = true;
    const sentAt = performance.now();
    Promise.all(companies.map((company) => this.channel.checkQueue(leaseQueueName(company)))).then(
      () => {
        this.busy = false;
        this.term.renewed(sentAt);
      },
      // The channel closes with the refusal; its 'close' handler ends the connection.
      () => {},
    );
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
