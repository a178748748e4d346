import { FerretDbServer } from './ferretdb.js';
import { NginxServer } from './nginx.js';
import { RabbitMqServer } from './rabbitmq.js';
import { RabbitMqCluster } from './rabbitmq-cluster.js';
import { ServiceProcess } from './services.js';

/**
 * The tests' lone consumer takes every company at once. With the shipped soft cap of one lease
 * (CONSUMER_MAX_LEASES=1, so that replicas spread the companies) a lone replica takes the second
 * and third only after 12 s and 24 s of patience; tests of spreading pass
 * CONSUMER_MAX_LEASES=1 themselves.
 */
export const TAKE_EVERY_LEASE = { CONSUMER_MAX_LEASES: '1000' } as const;

export interface StackOptions {
  /** 1: one broker node (fast, the default); 3: a cluster with quorum queues. */
  readonly brokers?: 1 | 3;
  /** NGINX port (free one by default). */
  readonly port?: number;
  readonly liveviews?: number;
  readonly consumers?: number;
  /** Start the simulating publisher (tests that publish their own trades say false). */
  readonly publisher?: boolean;
  readonly publisherEnv?: Record<string, string>;
  readonly consumerEnv?: Record<string, string>;
  readonly liveviewEnv?: Record<string, string>;
  /**
   * COMPANY_QUEUES_DURABLE for the broker's definitions, the publisher and the consumers
   * (default true); false runs the compatibility mode for the course's original programs.
   */
  readonly companyQueuesDurable?: boolean;
}

/**
 * The whole system on one machine without Docker: RabbitMQ, FerretDB and NGINX as private
 * servers on free loopback ports, and the three services as Node processes.
 */
export class LocalStack {
  readonly liveviews: ServiceProcess[] = [];
  readonly consumers: ServiceProcess[] = [];
  publisher: ServiceProcess | undefined;
  nginx: NginxServer | undefined;

  private constructor(
    /** The broker, or the first node of the cluster. */
    readonly rabbitmq: RabbitMqServer,
    readonly mongo: FerretDbServer,
    /** Settings every publisher and consumer of this stack shares with the broker. */
    readonly queueEnv: Record<string, string>,
    readonly cluster?: RabbitMqCluster,
  ) {}

  static async start(options: StackOptions = {}): Promise<LocalStack> {
    const durable = options.companyQueuesDurable ?? true;
    const clustered = (options.brokers ?? 1) > 1;
    const [rabbitmqStart, mongoStart] = await Promise.allSettled([
      clustered
        ? RabbitMqCluster.start(options.brokers, { companyQueuesDurable: durable })
        : RabbitMqServer.start({ companyQueuesDurable: durable }),
      FerretDbServer.start(),
    ]);
    if (rabbitmqStart.status === 'rejected' || mongoStart.status === 'rejected') {
      // Stop the one that started, or its processes keep the test process alive.
      await Promise.allSettled([
        rabbitmqStart.status === 'fulfilled' ? rabbitmqStart.value.stop() : undefined,
        mongoStart.status === 'fulfilled' ? mongoStart.value.stop() : undefined,
      ]);
      throw rabbitmqStart.status === 'rejected' ? rabbitmqStart.reason : (mongoStart as PromiseRejectedResult).reason;
    }
    const brokers = rabbitmqStart.value;
    const mongo = mongoStart.value;
    const queueEnv = { COMPANY_QUEUES_DURABLE: String(durable) };
    const stack =
      brokers instanceof RabbitMqCluster
        ? new LocalStack(brokers.nodes[0] as RabbitMqServer, mongo, queueEnv, brokers)
        : new LocalStack(brokers, mongo, queueEnv);
    try {
      for (let i = 0; i < (options.consumers ?? 1); i++) await stack.addConsumer(options.consumerEnv);
      for (let i = 0; i < (options.liveviews ?? 2); i++) await stack.addLiveview(options.liveviewEnv);
      stack.nginx = await NginxServer.start(
        stack.liveviews.map((liveview) => liveview.port),
        options.port,
      );
      if (options.publisher ?? true) {
        stack.publisher = await ServiceProcess.start('publisher', stack.publisherEnv(options.publisherEnv));
      }
      return stack;
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }

  get url(): string {
    if (!this.nginx) throw new Error('nginx not started');
    return this.nginx.url;
  }

  /** A service's broker settings: the one node, or every node of the cluster. */
  brokerEnv(user: 'publisher' | 'consumer'): Record<string, string> {
    const env: Record<string, string> = { RABBITMQ_URL: this.rabbitmq.url(user) };
    if (this.cluster) env.RABBITMQ_URLS = this.cluster.urls(user).join(',');
    return env;
  }

  publisherEnv(extra: Record<string, string> = {}): Record<string, string> {
    return { ...this.brokerEnv('publisher'), ...this.queueEnv, ...extra };
  }

  consumerEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...this.brokerEnv('consumer'),
      ...this.queueEnv,
      MONGODB_URL: this.mongo.url,
      // FerretDB acknowledges every write durably on its one node.
      MONGODB_WRITE_CONCERN: '1',
      // FerretDB's updates slow down as a collection grows (docs/consumer.md): keep 1 s candles
      // for an hour here instead of six.
      CONSUMER_CANDLE_1S_RETENTION_MINUTES: '60',
      ...TAKE_EVERY_LEASE,
      ...extra,
    };
  }

  async addConsumer(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const consumer = await ServiceProcess.start('consumer', this.consumerEnv(env), {
      label: `consumer-${this.consumers.length + 1}`,
    });
    this.consumers.push(consumer);
    return consumer;
  }

  async addLiveview(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const name = `liveview-${this.liveviews.length + 1}`;
    const liveview = await ServiceProcess.start(
      'liveview',
      {
        MONGODB_URL: this.mongo.url,
        LIVEVIEW_RABBITMQ_URLS: this.cluster ? this.cluster.urls('liveview').join(',') : this.rabbitmq.url('liveview'),
        LIVEVIEW_REPLICA_NAME: name,
        ...env,
      },
      { label: name },
    );
    this.liveviews.push(liveview);
    return liveview;
  }

  /** Stops everything, services first (graceful), then the servers; never throws. */
  async stop(): Promise<void> {
    const services = [this.publisher, ...this.consumers, ...this.liveviews].filter(
      (service): service is ServiceProcess => service !== undefined,
    );
    await Promise.allSettled(services.map((service) => service.stop(15_000)));
    await Promise.allSettled([this.nginx?.stop(), (this.cluster ?? this.rabbitmq).stop(), this.mongo.stop()]);
  }
}
