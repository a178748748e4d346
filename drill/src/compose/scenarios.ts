import { waitFor } from '@stockmarket/common';
import type { Scenario } from '../scenario.js';
import { isWritablePrimary } from './mongo.js';
import type { ComposeProject, ProjectContainer } from './project.js';

/** What a compose drill breaks: the project's containers, through the engine. */
export interface ComposeSystem {
  readonly project: ComposeProject;
  /** How long a held fault lasts (DRILL_HOLD_MS). */
  readonly holdMs: number;
}

const BROKERS = ['rabbitmq1', 'rabbitmq2', 'rabbitmq3'];

/** The broker node leading most company queues (the queues' leaders move together after a restart). */
async function leaderNode(project: ComposeProject): Promise<ProjectContainer> {
  const nodes = (await Promise.all(BROKERS.map((service) => project.containers(service)))).flat();
  // Every node back from the drill before (a restarted node takes a while to rejoin).
  for (const node of nodes) await project.healthy(node);
  const asker = nodes[0];
  if (!asker) throw new Error('no broker node in this project');
  // Asked again for a while: right after the drill before, a node may still be rejoining, and the
  // query fails or names a leader that is not back yet.
  return waitFor(
    "the company queues' leader among the running broker nodes",
    async () => {
      const listed = await project.exec(asker, [
        'rabbitmqctl',
        '-q',
        'list_queues',
        '--vhost',
        'stockmarket',
        'name',
        'leader',
        '--formatter',
        'json',
      ]);
      const counts = new Map<string, number>();
      for (const queue of JSON.parse(listed) as { name: string; leader?: string }[]) {
        if (queue.name.startsWith('stockmarket.') || !queue.leader) continue;
        counts.set(queue.leader, (counts.get(queue.leader) ?? 0) + 1);
      }
      const [leader] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
      // rabbit@rabbitmq2 is the node of service rabbitmq2 (the compose file sets each node's hostname).
      const node = nodes.find((candidate) => `rabbit@${candidate.service}` === leader);
      if (!node)
        throw new Error(`the company queues' leader ${leader ?? '(none)'} is not a running node of this project`);
      return node;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}

async function followerNode(project: ComposeProject): Promise<ProjectContainer> {
  const leader = await leaderNode(project);
  for (const service of BROKERS) {
    const node = (await project.containers(service))[0];
    if (node && node.id !== leader.id) return node;
  }
  throw new Error('no running broker node besides the leader');
}

/**
 * A consumer replica holding a write lease, asked on its ops port inside the network; asked again
 * for a while, as right after a broker drill the replicas may still be taking their leases back.
 */
function leaseHolder(project: ComposeProject): Promise<ProjectContainer> {
  return waitFor(
    'a consumer replica holding a lease',
    async () => {
      for (const consumer of await project.containers('consumer')) {
        if (!consumer.running) continue;
        for (const address of Object.values(consumer.addresses)) {
          const metrics = await fetch(`http://${address}:8081/metrics`, { signal: AbortSignal.timeout(3_000) })
            .then((response) => response.text())
            .catch(() => '');
          // prom-client adds the default labels: consumer_leases_held{service="consumer"} 1
          const held = /^consumer_leases_held(?:\{[^}]*\})? (\d+)/m.exec(metrics);
          if (held && Number(held[1]) > 0) return consumer;
        }
      }
      throw new Error('no consumer replica holds a lease');
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}

/** The MongoDB member that is primary now (with the FerretDB stand-in, its one server); asked again during an election. */
function primaryMember(project: ComposeProject): Promise<ProjectContainer> {
  return waitFor(
    'a MongoDB member that says it is primary',
    async () => {
      for (const service of ['mongo1', 'mongo2', 'mongo3']) {
        for (const member of await project.containers(service)) {
          if (!member.running) continue;
          for (const address of Object.values(member.addresses)) {
            if (await isWritablePrimary(address)) return member;
          }
        }
      }
      throw new Error('no MongoDB member says it is primary');
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}

/** Restarted at once, as the kill cancelled the restart policy (moby does so for a killed container). */
const restartAt = 0;

export const COMPOSE_SCENARIOS: readonly Scenario<ComposeSystem>[] = [
  {
    name: 'broker-leader-kill',
    what: 'kill -9 of the broker node leading the company queues; started again at once',
    async choose({ system: { project } }) {
      const node = await leaderNode(project);
      return {
        target: node.name,
        holdMs: restartAt,
        inject: () => project.kill(node),
        heal: () => project.start(node),
      };
    },
  },
  {
    name: 'broker-stop',
    what: 'graceful stop of a broker node that leads no company queue, for the hold',
    async choose({ system: { project, holdMs } }) {
      const node = await followerNode(project);
      return { target: node.name, holdMs, inject: () => project.stop(node), heal: () => project.start(node) };
    },
  },
  {
    name: 'broker-pause',
    what: 'docker pause (SIGSTOP to every process) of the broker node leading the queues, for the hold',
    async choose({ system: { project, holdMs } }) {
      const node = await leaderNode(project);
      return { target: node.name, holdMs, inject: () => project.pause(node), heal: () => project.unpause(node) };
    },
  },
  {
    name: 'broker-partition',
    what: 'the node leading the queues disconnected from the compose network (from its peers and its clients) for twice the hold',
    async choose({ system: { project, holdMs } }) {
      const node = await leaderNode(project);
      let reconnect: (() => Promise<void>) | undefined;
      return {
        target: node.name,
        holdMs: 2 * holdMs,
        inject: async () => {
          reconnect = await project.disconnect(node);
        },
        heal: async () => reconnect?.(),
      };
    },
  },
  {
    name: 'consumer-kill',
    what: 'kill -9 of a consumer replica holding a write lease; started again at once',
    async choose({ system: { project } }) {
      const consumer = await leaseHolder(project);
      return {
        target: consumer.name,
        holdMs: restartAt,
        inject: () => project.kill(consumer),
        heal: () => project.start(consumer),
      };
    },
  },
  {
    name: 'liveview-kill',
    what: 'kill -9 of the liveview replica serving the page; started again after the hold',
    async choose({ system: { project, holdMs }, probe }) {
      // A replica's name on the page is its container's host name: the id's first 12 characters.
      const replica = probe.latest?.replica;
      const liveview = (await project.containers('liveview')).find(
        (candidate) => replica !== undefined && candidate.id.startsWith(replica),
      );
      if (!liveview) throw new Error(`the page's replica ${replica ?? '(none yet)'} is no liveview of this project`);
      return {
        target: liveview.name,
        holdMs,
        inject: () => project.kill(liveview),
        heal: () => project.start(liveview),
      };
    },
  },
  {
    name: 'mongo-primary-kill',
    what: 'kill -9 of the MongoDB primary (a real replica set elects another; the FerretDB stand-in is the whole database), started again after the hold',
    async choose({ system: { project, holdMs } }) {
      const primary = await primaryMember(project);
      return {
        target: primary.name,
        holdMs,
        inject: () => project.kill(primary),
        heal: () => project.start(primary),
      };
    },
  },
  {
    name: 'nginx-reload',
    what: 'NGINX reloaded (new workers; open WebSockets stay on the old ones until they close)',
    async choose({ system: { project } }) {
      const nginx = await project.running('nginx');
      return {
        target: nginx.name,
        holdMs: 0,
        inject: async () => {
          await project.exec(nginx, ['nginx', '-s', 'reload']);
        },
        heal: async () => {},
      };
    },
  },
];
