import { AMQP_REPLY, onThrowawayChannel } from '@stockmarket/common';
import type { ChannelModel } from 'amqplib';

/** The exclusive queue whose existence on a connection means "this connection writes company X". */
export const leaseQueueName = (company: string) => `stockmarket.lease.${company}`;

/**
 * Tries to take the write lease of a company: declaring an exclusive queue succeeds for one
 * connection only, and the broker deletes it when that connection dies (crash, kill -9, network
 * loss), so a standby replica takes over without any clock or heartbeat of ours.
 */
async function tryAcquireLease(connection: ChannelModel, company: string): Promise<boolean> {
  const refused = await onThrowawayChannel(connection, (channel) =>
    channel.assertQueue(leaseQueueName(company), { exclusive: true, durable: false, autoDelete: false, arguments: {} }),
  );
  if (!refused) return true;
  // RESOURCE_LOCKED: another connection holds it. Anything else is a fault, not "taken".
  if (refused.code === AMQP_REPLY.RESOURCE_LOCKED) return false;
  throw new Error(`lease ${company}: ${refused.message}`);
}

/**
 * Which free companies to try next. Below the soft cap a replica takes any free lease; at or
 * above it, only leases that stayed free for `patienceRounds` rounds (orphans nobody else took),
 * so several replicas spread the companies between them and one alone still takes them all.
 */
export function leasesToTry(
  companies: readonly string[],
  held: ReadonlySet<string>,
  freeRounds: ReadonlyMap<string, number>,
  softCap: number,
  patienceRounds = 3,
): string[] {
  const wanted: string[] = [];
  let count = held.size;
  for (const company of companies) {
    if (held.has(company)) continue;
    if (count < softCap || (freeRounds.get(company) ?? 0) >= patienceRounds) {
      wanted.push(company);
      count++;
    }
  }
  return wanted;
}

/** The leases one connection holds, and for how many rounds each free one has stayed free. */
export class LeaseRounds {
  private readonly held = new Set<string>();
  private readonly freeRounds = new Map<string, number>();

  constructor(
    private readonly companies: readonly string[],
    private readonly softCap: number,
  ) {}

  get count(): number {
    return this.held.size;
  }

  /** One round: tries the free leases `leasesToTry` picks; `onTaken` runs for each one won. */
  async claim(
    connection: ChannelModel,
    stillCurrent: () => boolean,
    onTaken: (company: string) => Promise<void>,
  ): Promise<void> {
    const candidates = leasesToTry(this.companies, this.held, this.freeRounds, this.softCap);
    for (const company of this.companies) {
      if (this.held.has(company)) continue;
      if (!candidates.includes(company)) {
        // Below the cap we would take it at once; count rounds it stays free (an orphan).
        this.freeRounds.set(company, (this.freeRounds.get(company) ?? 0) + 1);
        continue;
      }
      if (!(await tryAcquireLease(connection, company))) {
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
