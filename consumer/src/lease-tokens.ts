import type { Channel, ConsumeMessage } from 'amqplib';
import { LEASE_TOKEN_EXCHANGE, type LeaseTerms, leaseQueueName } from './leases.js';

/** What the tokens need of their channel (amqplib's `Channel`; a fake in the unit tests). */
export type TokenChannel = Pick<Channel, 'prefetch' | 'consume' | 'cancel' | 'nack' | 'publish' | 'checkQueue'>;

interface Claim {
  readonly sentAt: number;
  readonly won: (won: boolean) => void;
}

/**
 * The lease tokens of one broker connection, on a channel of their own. A lease is held by the
 * single active consumer of its quorum queue, which is delivered the queue's token and keeps it
 * unacked (prefetch 1). To claim a company, subscribe and wait for the token: it comes only to
 * the active consumer, so a replica that gets none within `claimWaitMs` is a waiting one (another
 * holds the lease) and cancels. To renew, return the token (nack with requeue): the queue's leader
 * delivers it again, to this replica only while it is still the active consumer, and only after
 * the return was committed by a majority of the cluster. Nothing here publishes except a claim
 * that finds no token waiting (a new queue): under a memory or disk alarm the broker stops reading
 * from a connection that publishes, and renewals must still be heard.
 */
export class LeaseTokens {
  /** The token in hand per company held (absent while it is on its way back). */
  private readonly tokens = new Map<string, ConsumeMessage>();
  /** Per company held: when the token was returned, while it has not come back. */
  private readonly returning = new Map<string, number>();
  private readonly claims = new Map<string, Claim>();
  private readonly consumerTags = new Map<string, string>();
  private readonly held = new Set<string>();

  constructor(
    private readonly channel: TokenChannel,
    private readonly terms: LeaseTerms,
    private readonly claimWaitMs: number,
    /** The broker cancelled a lease queue's consumer (the queue was deleted): the lease is gone. */
    private readonly cancelled: (company: string) => void,
  ) {}

  /** One token per lease queue consumer: the holder keeps exactly one in hand. */
  async start(): Promise<void> {
    await this.channel.prefetch(1);
  }

  /**
   * Subscribes to the company's lease queue and waits for a token: true when this replica became
   * the active consumer and holds it, false when another holds the lease (the subscription is
   * cancelled, and a token delivered late is given back).
   */
  async claim(company: string): Promise<boolean> {
    const queue = leaseQueueName(company);
    const { messageCount } = await this.channel.checkQueue(queue);
    // No token waiting: a new queue, or the holder has no spare. At most one waits (x-max-length 1).
    if (messageCount === 0)
      this.channel.publish(LEASE_TOKEN_EXCHANGE, company, Buffer.from(company), { persistent: true });
    const sentAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const won = new Promise<boolean>((resolve) => {
      this.claims.set(company, { sentAt, won: resolve });
      timer = setTimeout(() => {
        // From here a token delivered late is given back (`delivered`).
        this.claims.delete(company);
        resolve(false);
      }, this.claimWaitMs);
    });
    try {
      const { consumerTag } = await this.channel.consume(queue, (message) => this.delivered(company, message));
      this.consumerTags.set(company, consumerTag);
      if (await won) {
        this.held.add(company);
        return true;
      }
      this.consumerTags.delete(company);
      await this.channel.cancel(consumerTag);
      return false;
    } finally {
      clearTimeout(timer);
      this.claims.delete(company);
    }
  }

  private delivered(company: string, message: ConsumeMessage | null): void {
    if (message === null) {
      this.cancelled(company);
      return;
    }
    const claim = this.claims.get(company);
    if (claim && !this.tokens.has(company)) {
      this.claims.delete(company);
      this.tokens.set(company, message);
      this.terms.renewed(company, claim.sentAt);
      claim.won(true);
      return;
    }
    const returnedAt = this.returning.get(company);
    if (this.held.has(company) && returnedAt !== undefined) {
      this.returning.delete(company);
      this.tokens.set(company, message);
      this.terms.renewed(company, returnedAt);
      return;
    }
    // Not wanted here (a claim given up, or a second token): back to the queue.
    this.channel.nack(message, false, true);
  }

  /** Returns the token of every held company that has one in hand; it comes back if still ours. */
  renew(): void {
    for (const company of this.held) {
      const token = this.tokens.get(company);
      if (!token || this.returning.has(company)) continue;
      this.tokens.delete(company);
      this.returning.set(company, performance.now());
      this.channel.nack(token, false, true);
    }
  }

  get companiesHeld(): readonly string[] {
    return [...this.held];
  }
}
