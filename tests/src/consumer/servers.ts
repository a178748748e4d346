import { after, before } from 'node:test';
import { FerretDbServer, queueDepth, RabbitMqServer, ServiceProcess, TAKE_EVERY_LEASE } from '@stockmarket/stack';
import { MongoClient } from 'mongodb';

/** Small batches, a short flush and quick leases: a backlog is written in many batches, soon. */
export const QUICK_CONSUMER = {
  BATCH_SIZE: '200',
  CONSUMER_FLUSH_INTERVAL_MS: '300',
  CONSUMER_LEASE_RETRY_MS: '200',
  ...TAKE_EVERY_LEASE,
} as const;

interface Servers {
  rabbitmq: RabbitMqServer;
  mongo: FerretDbServer;
  client: MongoClient;
}

/**
 * A broker and a database of one test file's own, started before its tests and stopped after
 * them, and consumers that each write into a database of their own, so that tests do not mix.
 */
export function consumerServers() {
  const servers: Partial<Servers> = {};
  const get = <K extends keyof Servers>(key: K): Servers[K] => {
    const server = servers[key];
    if (!server) throw new Error(`${key} is not started (before() has not run)`);
    return server as Servers[K];
  };
  before(async () => {
    [servers.rabbitmq, servers.mongo] = await Promise.all([RabbitMqServer.start(), FerretDbServer.start()]);
    servers.client = new MongoClient(servers.mongo.url, { serverSelectionTimeoutMS: 2_000 });
  });
  after(async () => {
    await servers.client?.close();
    await Promise.allSettled([servers.rabbitmq?.stop(), servers.mongo?.stop()]);
  });
  const consumerEnv = (database: string, env: Record<string, string> = {}): Record<string, string> => ({
    RABBITMQ_URL: get('rabbitmq').url('consumer'),
    MONGODB_URL: get('mongo').url,
    MONGODB_DB: database,
    ...env,
  });
  return {
    get rabbitmq() {
      return get('rabbitmq');
    },
    get mongo() {
      return get('mongo');
    },
    get client() {
      return get('client');
    },
    consumerEnv,
    startConsumer: (database: string, env: Record<string, string> = {}) =>
      ServiceProcess.start('consumer', consumerEnv(database, env), { label: `consumer-${database}` }),
    /** No ready message left in any of `queues`. */
    async queuesEmpty(queues: readonly string[]): Promise<boolean> {
      for (const queue of queues) if ((await queueDepth(get('rabbitmq'), queue)) > 0) return false;
      return true;
    },
  };
}
