import { AMQP_REPLY, DEFAULT_BACKOFF, onThrowawayChannel } from '@stockmarket/common';
import type { ChannelModel } from 'amqplib';

/** The quorum queue whose single active consumer writes company X (docs/consumer.md, leases). */
export const leaseQueueName = (company: string) => `stockmarket.lease.${company}`;

/** Where lease tokens are published, bound to each lease queue by its company (not the default exchange: the consumer user may not publish to company queues). */
export const LEASE_TOKEN_EXCHANGE = 'stockmarket.lease.tokens';

/**
 * A lease queue: quorum (its state is Raft's, so a minority of the cluster can neither hand the
 * lease over nor renew it), single active consumer (the holder), at most one token waiting
 * (a spare; extra ones are dropped from the head), tokens never dead-lettered for being returned
 * often (each renewal returns one).
 */
export const LEASE_QUEUE_ARGUMENTS = Object.freeze({
  'x-queue-type': 'quorum',
  'x-single-active-consumer': true,
  'x-max-length': 1,
  'x-overflow': 'drop-head',
  'x-delivery-limit': -1,
});

/**
 * Declares a company's lease queue and binds it to the token exchange. False when a consumer of
 * the versions before 7 Dec still holds it as an exclusive queue (RESOURCE_LOCKED): the company
 * is taken, which keeps one writer during a rolling upgrade.
 */
export async function declareLeaseQueue(
  connection: Pick<ChannelModel, 'createChannel'>,
  company: string,
): Promise<boolean> {
  const queue = leaseQueueName(company);
  const refused = await onThrowawayChannel(connection, async (channel) => {
    await channel.assertQueue(queue, { durable: true, arguments: { ...LEASE_QUEUE_ARGUMENTS } });
    await channel.bindQueue(queue, LEASE_TOKEN_EXCHANGE, company);
  });
  if (!refused) return true;
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
 * The holder's own bound on each lease (self-fencing). A lease token delivered to this replica
 * after a request sent at time t (a claim's subscription, or a renewal returning the token) proves
 * that the lease queue's leader, in Raft order after t, saw this replica as its single active
 * consumer. A write of that company may start until t + the term. A replica that takes a lease
 * waits the term plus the takeover delay before its first write, so that the previous holder,
 * whose last proof predates the handover, has stopped starting writes and ended the last one.
 * Times are this process's monotonic clock (durations, no clock synchronisation).
 */
export class LeaseTerms {
  private readonly renewedAt = new Map<string, number>();

  constructor(readonly validForMs: number) {}

  /** A token came back for a request sent at `sentAt` (performance.now()). */
  renewed(company: string, sentAt: number): void {
    if (sentAt > (this.renewedAt.get(company) ?? Number.NEGATIVE_INFINITY)) this.renewedAt.set(company, sentAt);
  }

  /** May a write of `company` start now? */
  valid(company: string, now = performance.now()): boolean {
    return now - (this.renewedAt.get(company) ?? Number.NEGATIVE_INFINITY) < this.validForMs;
  }

  /** The first of `companies` whose term ran out, if any. */
  expired(companies: Iterable<string>, now = performance.now()): string | undefined {
    for (const company of companies) if (!this.valid(company, now)) return company;
    return undefined;
  }

  sinceRenewalMs(company: string, now = performance.now()): number {
    return now - (this.renewedAt.get(company) ?? Number.NEGATIVE_INFINITY);
  }

  /** How often to renew: four times per term, at most once a second, at least every 50 ms. */
  get renewEveryMs(): number {
    return Math.max(50, Math.min(1000, Math.floor(this.validForMs / 4)));
  }
}
