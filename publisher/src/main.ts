import {
  AmqpSession,
  createLogger,
  createMetricsRegistry,
  exitOnStartupError,
  installShutdown,
  startOpsServer,
} from '@stockmarket/common';
import { Counter, Gauge } from 'prom-client';
import { monotonicFactory } from 'ulid';
import { loadPublisherConfig, totalRate } from './config.js';
import { ConfirmedPublisher } from './confirmed-publisher.js';
import { TradeGenerator } from './generator.js';
import { Pacer, RateMeter } from './pacer.js';
import { seededRandom } from './random.js';
import { symbolParamsFor, TradeSimulator } from './simulator.js';
import { declareCompanyQueue } from './topology.js';

const bootLogger = createLogger('publisher', 'info');

async function main(): Promise<void> {
  const config = loadPublisherConfig();
  const logger = createLogger('publisher', config.LOG_LEVEL);
  const registry = createMetricsRegistry('publisher');
  const metric = {
    published: new Counter({
      name: 'publisher_published_total',
      help: 'Trades published (first sends)',
      registers: [registry],
    }),
    confirmed: new Counter({
      name: 'publisher_confirmed_total',
      help: 'Trades confirmed by the broker',
      registers: [registry],
    }),
    nacked: new Counter({
      name: 'publisher_nacked_total',
      help: 'Publishes nacked by the broker',
      registers: [registry],
    }),
    republished: new Counter({
      name: 'publisher_republished_total',
      help: 'Trades sent again after a nack or a lost channel',
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'publisher_in_flight',
      help: 'Unconfirmed trades (sent or waiting to be resent)',
      registers: [registry],
    }),
    rate: new Gauge({
      name: 'publisher_confirmed_rate',
      help: 'Confirmed trades per second over the last seconds',
      registers: [registry],
    }),
    target: new Gauge({ name: 'publisher_target_rate', help: 'Configured trades per second', registers: [registry] }),
    blocked: new Gauge({
      name: 'publisher_blocked',
      help: '1 while the broker blocks publishing (memory or disk alarm): generation is paused',
      registers: [registry],
    }),
  };
  const rate = totalRate(config);
  metric.target.set(rate);
  const meter = new RateMeter(Date.now());
  let confirmedCount = 0;
  // LOG_LEVEL=trace lists every confirmed id (in batches): a debugging and testing aid.
  const traceIds = logger.isLevelEnabled('trace');
  let confirmedIds: string[] = [];
  const flushConfirmedIds = () => {
    if (confirmedIds.length === 0) return;
    logger.trace({ ids: confirmedIds }, 'confirmed ids');
    confirmedIds = [];
  };

  const publisher = new ConfirmedPublisher(
    config.PUBLISHER_MAX_IN_FLIGHT,
    {
      published: (count) => metric.published.inc(count),
      confirmed: (message) => {
        confirmedCount++;
        metric.confirmed.inc();
        meter.add(1, Date.now());
        if (traceIds) confirmedIds.push(message.id);
      },
      nacked: () => metric.nacked.inc(),
      republished: (count) => metric.republished.inc(count),
    },
    logger,
  );
  const session = new AmqpSession(config.RABBITMQ_URL, logger, async (connection) => {
    for (const company of config.COMPANIES) {
      await declareCompanyQueue(
        connection,
        company,
        config.PUBLISHER_QUEUE_TYPE,
        logger,
        config.COMPANY_QUEUES_DURABLE,
      );
    }
    await publisher.attach(connection);
  });

  const random = seededRandom(config.SEED ?? Date.now() >>> 0);
  const generator = new TradeGenerator({
    simulator: new TradeSimulator(
      config.COMPANIES,
      symbolParamsFor(config.PUBLISHER_SYMBOLS, config.PUBLISHER_VOLATILITY, config.PUBLISHER_DRIFT),
      random,
    ),
    publisher,
    pacer: new Pacer(rate, Date.now()),
    nextId: monotonicFactory(random),
    maxTrades: config.PUBLISHER_MAX_TRADES,
  });
  let stopping = false;

  const ops = await startOpsServer(
    config.PUBLISHER_OPS_PORT,
    config.OPS_HOST,
    { ready: () => publisher.connected && !stopping },
    registry,
  );
  session.start();
  logger.info(
    { companies: config.COMPANIES, ratePerSecond: rate, queueType: config.PUBLISHER_QUEUE_TYPE, opsPort: ops.port },
    'publisher started',
  );

  const report = setInterval(() => {
    metric.rate.set(meter.rate(Date.now()));
    metric.inFlight.set(publisher.pendingCount);
    metric.blocked.set(publisher.isBlocked ? 1 : 0);
    flushConfirmedIds();
  }, 200);
  const progress = setInterval(() => {
    logger.info(
      {
        generated: generator.generated,
        confirmed: confirmedCount,
        achievedRate: Math.round(meter.rate(Date.now())),
        targetRate: rate,
        inFlight: publisher.pendingCount,
      },
      'publishing',
    );
  }, 10_000);

  generator.start().then(
    () => {
      if (!stopping)
        logger.info({ generated: generator.generated }, 'PUBLISHER_MAX_TRADES reached; generation stopped');
    },
    (error: unknown) => logger.error({ err: error }, 'generation failed'),
  );

  installShutdown(
    logger,
    async () => {
      stopping = true;
      await generator.stop().catch(() => {});
      const inFlightAtStop = publisher.pendingCount;
      const drained = await publisher.drain(config.PUBLISHER_DRAIN_TIMEOUT_MS);
      flushConfirmedIds();
      // The final report: every trade generated is either confirmed or listed here by id.
      const unconfirmedIds = publisher.pendingIds();
      logger.info(
        {
          published: generator.generated,
          confirmed: confirmedCount,
          inFlightAtStop,
          unconfirmed: unconfirmedIds.length,
          unconfirmedIds,
          drained,
        },
        drained ? 'all trades confirmed' : 'stopping with unconfirmed trades',
      );
      clearInterval(report);
      clearInterval(progress);
      // A broker that stopped answering must not hold the exit: each close gets a bounded wait.
      await withDeadline(publisher.close(), 2_000);
      await withDeadline(session.close(), 2_000);
      ops.close();
    },
    config.PUBLISHER_DRAIN_TIMEOUT_MS + 6_000,
  );
}

function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

main().catch((error: unknown) => exitOnStartupError(bootLogger, error));
