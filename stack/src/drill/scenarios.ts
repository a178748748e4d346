import type { DrillContext, Scenario } from '@stockmarket/drill';
import type { LocalStack } from '../local-stack.js';
import { Partition } from '../partition.js';
import type { RabbitMqServer } from '../rabbitmq.js';
import type { RabbitMqCluster } from '../rabbitmq-cluster.js';
import type { ServiceProcess } from '../services.js';

function clusterOf(stack: LocalStack): RabbitMqCluster {
  if (!stack.cluster) throw new Error('this drill needs the three-node broker cluster');
  return stack.cluster;
}

async function leaderNode(stack: LocalStack): Promise<RabbitMqServer> {
  return clusterOf(stack).leaderOfCompanyQueues();
}

async function followerNode(stack: LocalStack): Promise<RabbitMqServer> {
  const leader = await leaderNode(stack);
  const follower = clusterOf(stack).nodes.find((node) => node !== leader && node.running);
  if (!follower) throw new Error('no running follower node');
  return follower;
}

async function leaseHolder(stack: LocalStack): Promise<ServiceProcess> {
  for (const consumer of stack.consumers) {
    if (consumer.process.running && (await consumer.metric('consumer_leases_held')) > 0) return consumer;
  }
  throw new Error('no consumer holds a lease');
}

function servingLiveview(stack: LocalStack, { probe }: DrillContext): ServiceProcess {
  const replica = probe.latest?.replica;
  const liveview = stack.liveviews.find((candidate) => candidate.env.LIVEVIEW_REPLICA_NAME === replica);
  if (!liveview) throw new Error(`the page's replica ${replica ?? '(none yet)'} is not one of the stack's`);
  return liveview;
}

const HOLD_MS = 15_000;

/** The local stack's drills (`npm run drill`); the compose one-shot's are in drill/src/compose. */
export const LOCAL_SCENARIOS: readonly Scenario<LocalStack>[] = [
  {
    name: 'broker-leader-kill',
    what: 'kill -9 of the broker node leading the company queues; restarted at once',
    cluster: true,
    async choose({ system: stack }) {
      const node = await leaderNode(stack);
      return { target: node.nodeName, holdMs: 0, inject: () => node.crash(), heal: () => node.resume() };
    },
  },
  {
    name: 'broker-stop',
    what: `graceful stop of a broker node that leads no company queue, for ${HOLD_MS / 1000} s`,
    cluster: true,
    async choose({ system: stack }) {
      const node = await followerNode(stack);
      return { target: node.nodeName, holdMs: HOLD_MS, inject: () => node.pause(), heal: () => node.resume() };
    },
  },
  {
    name: 'broker-pause',
    what: `SIGSTOP of the broker node leading the queues for ${HOLD_MS / 1000} s (a hung node, not a dead one)`,
    cluster: true,
    async choose({ system: stack }) {
      const node = await leaderNode(stack);
      const pid = node.pid;
      if (pid === undefined) throw new Error(`${node.nodeName} has no process`);
      return {
        target: node.nodeName,
        holdMs: HOLD_MS,
        inject: async () => {
          process.kill(pid, 'SIGSTOP');
        },
        heal: async () => {
          process.kill(pid, 'SIGCONT');
        },
      };
    },
  },
  {
    name: 'broker-partition',
    what: `the node leading the queues cut off from the other two for ${(2 * HOLD_MS) / 1000} s (iptables on loopback; root)`,
    cluster: true,
    async choose({ system: stack }) {
      const cluster = clusterOf(stack);
      const node = await leaderNode(stack);
      let partition: Partition | undefined;
      return {
        target: node.nodeName,
        holdMs: 2 * HOLD_MS,
        inject: async () => {
          partition = Partition.isolateBroker(
            node,
            cluster.nodes.filter((other) => other !== node),
          );
        },
        heal: async () => partition?.heal(),
      };
    },
  },
  {
    name: 'consumer-kill',
    what: 'kill -9 of a consumer holding a write lease; restarted at once (as a restart policy would)',
    async choose({ system: stack }) {
      const consumer = await leaseHolder(stack);
      return {
        target: consumer.process.options.name,
        holdMs: 0,
        inject: () => consumer.kill(),
        heal: () => consumer.restart(),
      };
    },
  },
  {
    name: 'liveview-kill',
    what: 'kill -9 of the liveview replica serving the page; restarted after the hold',
    async choose(context) {
      const liveview = servingLiveview(context.system, context);
      return {
        target: liveview.process.options.name,
        holdMs: HOLD_MS,
        inject: () => liveview.kill(),
        heal: () => liveview.restart(),
      };
    },
  },
  {
    name: 'database-stop',
    what: `the database (FerretDB; a real replica set would elect a new primary) stopped for ${HOLD_MS / 1000} s`,
    async choose({ system: stack }) {
      return {
        target: 'ferretdb',
        holdMs: HOLD_MS,
        inject: () => stack.mongo.pause(),
        heal: () => stack.mongo.resume(),
      };
    },
  },
  {
    name: 'nginx-reload',
    what: 'NGINX reloaded (new workers; open WebSockets stay on the old ones until they close)',
    async choose({ system: stack }) {
      const nginx = stack.nginx;
      if (!nginx) throw new Error('no NGINX');
      return {
        target: 'nginx',
        holdMs: 0,
        inject: async () => nginx.reload(stack.liveviews.map((liveview) => liveview.port)),
        heal: async () => {},
      };
    },
  },
];
