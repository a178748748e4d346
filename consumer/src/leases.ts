import type { ChannelModel } from 'amqplib';

/** The exclusive queue whose existence on a connection means "this connection writes company X". */
export const leaseQueueName = (company: string) => `stockmarket.lease.${company}`;

/**
 * Tries to take the write lease of a company: declaring an exclusive queue succeeds for one
 * connection only, and the broker deletes it when that connection dies (crash, kill -9, network
 * loss), so a standby replica takes over without any clock or heartbeat of ours.
 */
export async function tryAcquireLease(connection: ChannelModel, company: string): Promise<boolean> {
  const channel = await connection.createChannel();
  channel.on('error', () => {}); // RESOURCE_LOCKED closes the probe channel: expected
  try {
    await channel.assertQueue(leaseQueueName(company), {
      exclusive: true,
      durable: false,
      autoDelete: false,
      arguments: {},
    });
    await channel.close();
    return true;
  } catch {
    return false;
  }
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
