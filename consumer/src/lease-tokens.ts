import type { Channel, ConsumeMessage } from 'amqplib';
import { LEASE_TOKEN_EXCHANGE, type LeaseTerms, leaseQueueName } from './leases.js';

/** What the tokens need of a channel (amqplib's `Channel`; a fake in the unit tests). */
export type TokenChannel = Pick<Channel, 'prefetch' | 'consume' | 'nack' | 'publish' | 'checkQueue' | 'close' | 'on'>;

interface Claim {
  readonly channel: TokenChannel;
  readonly sentAt: number;
  readonly won: (won: boolean) => void;
}

/**
 * The lease tokens of one broker connection, a channel per company (held, or being claimed). A
 * lease is held by the single active consumer of its quorum queue, which is delivered the queue's
 * token and keeps it unacked (prefetch 1). To claim a company, open a channel, subscribe and wait
 * for the token: it comes only to the active consumer, so a replica that gets none within
 * `claimWaitMs` is a waiting one (another holds the lease) and closes that channel. Closing, not
 * cancelling: a token delivered after a cancel is delivered to no consumer of amqplib's (which
 * throws "Unknown consumer"), stays checked out and blocks the lease for good; a closed channel's
 * messages all go back to the queue. To renew, return the token (nack with requeue): the queue's
 * leader delivers it again, to this replica only while it is still the active consumer, and only
 * after the return was committed by a majority of the cluster. Nothing here publishes except a
 * claim that finds no token waiting (a new queue): under a memory or disk alarm the broker stops
 * reading from a connection that publishes, and renewals must still be heard.
 */
export class LeaseTokens {
  /** Per company held: its channel, and the token in hand (absent while it is on its way back). */
  private readonly channels = new Map<string, TokenChannel>();
  private readonly tokens = new Map<string, ConsumeMessage>();
  /** Per company held: when the token was returned, while it has not come back. */
  private readonly returning = new Map<string, number>();
  private readonly claims = new Map<string, Claim>();
  private stopped = false;

  constructor(
    private readonly openChannel: () => Promise<TokenChannel>,
    private readonly terms: LeaseTerms,
    private readonly claimWaitMs: number,
    /** A held lease's channel closed, or the broker cancelled its consumer: the lease is gone. */
    private readonly lost: (company: string) => void,
  ) {}

  /**
   * Subscribes to the company's lease queue on a channel of its own and waits for a token: true
   * when this replica became the active consumer and holds it, false when another holds the lease
   * or the broker did not answer in time (the channel is closed, which gives back any token).
   */
  async claim(company: string): Promise<boolean> {
    if (this.stopped) return false;
    const channel = await withinMs(this.openChannel(), this.claimWaitMs);
    if (!channel) return false;
    channel.on('error', () => {}); // followed by 'close'
    channel.on('close', () => {
      if (this.channels.get(company) === channel) this.lost(company);
    });
    let timer: NodeJS.Timeout | undefined;
    const won = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        // From here a token delivered late is given back with the channel.
        if (this.claims.get(company)?.channel === channel) this.claims.delete(company);
        resolve(false);
      }, this.claimWaitMs);
      this.claims.set(company, { channel, sentAt: performance.now(), won: resolve });
    });
    const subscribe = async () => {
      await channel.prefetch(1);
      const queue = leaseQueueName(company);
      const { messageCount } = await channel.checkQueue(queue);
      // No token waiting: a new queue, or the holder has no spare. At most one waits (x-max-length 1).
      if (messageCount === 0)
        channel.publish(LEASE_TOKEN_EXCHANGE, company, Buffer.from(company), { persistent: true });
      await channel.consume(queue, (message) => this.delivered(company, channel, message));
    };
    // A broker slow to answer the subscription counts as refused too (the wait runs meanwhile).
    subscribe().catch(() => {});
    try {
      if ((await won) && !this.stopped) {
        this.channels.set(company, channel);
        return true;
      }
    } finally {
      clearTimeout(timer);
      if (this.claims.get(company)?.channel === channel) this.claims.delete(company);
    }
    channel.close().catch(() => {});
    return false;
  }

  private delivered(company: string, channel: TokenChannel, message: ConsumeMessage | null): void {
    if (message === null) {
      if (this.channels.get(company) === channel) this.lost(company);
      return;
    }
    const claim = this.claims.get(company);
    if (claim?.channel === channel) {
      this.claims.delete(company);
      this.tokens.set(company, message);
      this.terms.renewed(company, claim.sentAt);
      claim.won(true);
      return;
    }
    const returnedAt = this.returning.get(company);
    if (this.channels.get(company) === channel && returnedAt !== undefined) {
      this.returning.delete(company);
      this.tokens.set(company, message);
      this.terms.renewed(company, returnedAt);
      return;
    }
    // Not wanted (a second token, or one for a claim given up whose channel is closing): give it back.
    channel.nack(message, false, true);
  }

  /** Returns the token of every held company that has one in hand; it comes back if still ours. */
  renew(): void {
    for (const [company, channel] of this.channels) {
      const token = this.tokens.get(company);
      if (!token || this.returning.has(company)) continue;
      this.tokens.delete(company);
      this.returning.set(company, performance.now());
      channel.nack(token, false, true);
    }
  }

  get companiesHeld(): readonly string[] {
    return [...this.channels.keys()];
  }

  /** No more claims; the channels close with the connection. */
  stop(): void {
    this.stopped = true;
  }
}

/** The channel, or undefined when the broker did not open it in time (it is closed once it opens). */
async function withinMs(opening: Promise<TokenChannel>, ms: number): Promise<TokenChannel | undefined> {
  let late = false;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      late = true;
      resolve(undefined);
    }, ms);
  });
  opening.then(
    (channel) => {
      if (late) channel.close().catch(() => {});
    },
    () => {},
  );
  try {
    return await Promise.race([opening, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
