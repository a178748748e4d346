import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { waitFor } from '@stockmarket/common';
import { stackConfig } from './config.js';
import { makeRunDir } from './paths.js';
import { freePort } from './ports.js';
import { ManagedProcess } from './process.js';
import {
  type ClusterMembership,
  type RabbitMqOptions,
  RabbitMqServer,
  type RabbitMqUser,
  rabbitNodeName,
  randomRabbitMqPasswords,
} from './rabbitmq.js';
import { inRabbitmqRoot } from './rabbitmq-root.js';

/** The company queues and the dead-letter queue: the quorum queues of a cluster. */
const QUORUM_QUEUES = /^([A-Z0-9.-]+|stockmarket\.dead-letters)$/;

export interface QuorumQueueStatus {
  readonly name: string;
  readonly leader: string;
  readonly members: readonly string[];
  readonly online: readonly string[];
}

/**
 * Three (or more) private RabbitMQ nodes on loopback forming one cluster: one epmd, a cookie
 * made for this cluster, classic config peer discovery, all started at once. The queues of the
 * definitions may be created before every node has joined, with fewer members; once all have
 * joined, `rabbitmq-queues grow` adds a replica on each node that lacks one, so every queue lives on every node (what
 * compose's first start gets from its definitions once all three have joined, see
 * docs/deployment.md).
 */
export class RabbitMqCluster {
  private constructor(
    readonly nodes: readonly RabbitMqServer[],
    private readonly epmd: ManagedProcess,
  ) {}

  static async start(size = 3, options: RabbitMqOptions = {}): Promise<RabbitMqCluster> {
    const ports: number[] = [];
    for (let i = 0; i < size; i++) ports.push(await freePort());
    const membership: ClusterMembership = {
      epmdPort: await freePort(),
      cookie: randomBytes(24).toString('hex'),
      nodes: ports.map(rabbitNodeName),
      // 127.0.0.0/8 is local on Linux: these need no setup. Derived from this process and the
      // first port, so that two clusters on one machine (parallel test runs) do not share them.
      addresses: ports.map((_, i) => `127.${100 + (process.pid % 100)}.${(ports[0] ?? 0) % 250}.${i + 1}`),
      // Short, so that a partition is noticed in seconds (the default 60 s would outlast a test).
      netTicktimeSeconds: 8,
      // A node cut off pauses only after its node monitor has pinged each lost peer twice (once
      // per lost peer), each ping waiting out a connection attempt: 4 × 7 s with the default
      // outlasts a 20 s partition, and the node then never pauses (docs/reliability.md). 2 s.
      netSetuptimeSeconds: 2,
    };
    const dir = makeRunDir('rabbitmq-epmd');
    const epmd = new ManagedProcess({
      name: 'epmd',
      ...inRabbitmqRoot('epmd', ['-port', String(membership.epmdPort), '-address', '127.0.0.1']),
      env: { PATH: stackConfig.PATH, ERL_EPMD_ADDRESS: '127.0.0.1' },
      logFile: join(dir, 'epmd.log'),
    }).start();
    const nodes: RabbitMqServer[] = [];
    const cluster = new RabbitMqCluster(nodes, epmd);
    // One set of passwords for every node, as the nodes of compose share one definitions file.
    const shared = { ...options, passwords: options.passwords ?? randomRabbitMqPasswords() };
    try {
      // All at once, as compose starts them: RabbitMQ 4's peer discovery waits until it sees
      // enough of the listed nodes (a node started alone waits ~30 s for the others before it
      // forms a cluster by itself), then the blank nodes agree on one seed and the others join it.
      const started = await Promise.allSettled(
        ports.map((port) => RabbitMqServer.startMember(port, membership, shared)),
      );
      for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
      const failed = started.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      await cluster.waitFormed();
      // Every node: the seed the nodes agreed on need not be the first, nor hold every queue.
      for (const node of nodes) {
        await node.tool('rabbitmq-queues', 'grow', node.nodeName, 'all', '--vhost-pattern', '^stockmarket$');
      }
      await cluster.waitReplicated();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** A running node to ask (the first one that is up). */
  get anyRunning(): RabbitMqServer {
    const node = this.nodes.find((candidate) => candidate.running);
    if (!node) throw new Error('no RabbitMQ node is running');
    return node;
  }

  urls(user: RabbitMqUser): string[] {
    return this.nodes.map((node) => node.url(user));
  }

  /** Until every node sees every other as running. */
  async waitFormed(timeoutMs = 60_000): Promise<void> {
    const names = this.nodes.map((node) => node.nodeName);
    await waitFor(
      `a cluster of ${names.join(', ')}`,
      async () => {
        for (const node of this.nodes) {
          const status = JSON.parse(await node.ctl('cluster_status', '--formatter', 'json')) as {
            running_nodes: string[];
          };
          if (!names.every((name) => status.running_nodes.includes(name))) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** Leader and members of each quorum queue of the vhost, as one running node (or `via`) sees them. */
  async quorumQueues(via: RabbitMqServer = this.anyRunning): Promise<QuorumQueueStatus[]> {
    const out = await via.ctl(
      'list_queues',
      '-p',
      'stockmarket',
      'name',
      'type',
      'leader',
      'members',
      'online',
      '--formatter',
      'json',
    );
    const rows = JSON.parse(out) as {
      name: string;
      type: string;
      leader: string;
      members: string[];
      online: string[];
    }[];
    return rows
      .filter((row) => row.type === 'quorum' && QUORUM_QUEUES.test(row.name))
      .map(({ name, leader, members, online }) => ({ name, leader, members, online }));
  }

  /** Until every quorum queue has a member on every node, all online, with a leader. */
  async waitReplicated(timeoutMs = 60_000): Promise<QuorumQueueStatus[]> {
    const names = this.nodes.map((node) => node.nodeName);
    return waitFor(
      'every quorum queue replicated on every node',
      async () => {
        const queues = await this.quorumQueues();
        const complete = queues.every(
          (queue) =>
            names.includes(queue.leader) &&
            names.every((name) => queue.members.includes(name) && queue.online.includes(name)),
        );
        return queues.length > 0 && complete ? queues : undefined;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** The node that leads the most company queues (all of them, after a fresh start). */
  async leaderOfCompanyQueues(via?: RabbitMqServer): Promise<RabbitMqServer> {
    const counts = new Map<string, number>();
    for (const queue of await this.quorumQueues(via)) {
      if (queue.name.startsWith('stockmarket.')) continue;
      counts.set(queue.leader, (counts.get(queue.leader) ?? 0) + 1);
    }
    const [leader] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
    const node = this.nodes.find((candidate) => candidate.nodeName === leader);
    if (!node) throw new Error(`no leader found among ${[...counts.keys()].join(', ')}`);
    return node;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((node) => node.stop()));
    await this.epmd.stop(5_000);
  }
}
