import {
  AmqpSession,
  createLogger,
  createMetricsRegistry,
  encodeTrade,
  ensureQueue,
  exitOnStartupError,
  installShutdown,
  startOpsServer,
  type Trade,
  tradeSchema,
} from '@stockmarket/common';
import { Counter, Gauge } from 'prom-client';
import { monotonicFactory } from 'ulid';
import { loadPublisherConfig, totalRate } from './config.js';
import { ConfirmedPublisher } from './confirmed-publisher.js';
import { Pacer, RateMeter } from './pacer.js';
import { seededRandom } from './random.js';
import { symbolParamsFor, TradeSimulator } from './simulator.js';

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
  };
  const rate = totalRate(config);
  metric.target.set(rate);
  const meter = new RateMeter(Date.now());

  const publisher = new ConfirmedPublisher(
    config.PUBLISHER_MAX_IN_FLIGHT,
    {
      published: (count) => metric.published.inc(count),
      confirmed: () => {
        metric.confirmed.inc();
        meter.add(1, Date.now());
      },
      nacked: () => metric.nacked.inc(),
      republished: (count) => metric.republished.inc(count),
    },
    logger,
  );
  const session = new AmqpSession(config.RABBITMQ_URL, logger, async (connection) => {
    for (const company of config.COMPANIES) {
      await ensureQueue(connection, company, config.PUBLISHER_QUEUE_TYPE, logger);
    }
    await publisher.attach(connection);
  });

  const random = seededRandom(config.SEED ?? Date.now() >>> 0);
  const simulator = new TradeSimulator(
    config.COMPANIES,
    symbolParamsFor(config.PUBLISHER_SYMBOLS, config.PUBLISHER_VOLATILITY, config.PUBLISHER_DRIFT),
    random,
  );
  const nextId = monotonicFactory(random);
  const pacer = new Pacer(rate, Date.now());
  let generated = 0;
  let stopping = false;

  const ops = await startOpsServer(
    config.PUBLISHER_OPS_PORT,
    config.OPS_HOST,
    { ready: () => publisher.connected && !stopping },
    registry,
  );
  session.start();
  logger.info({ companies: config.COMPANIES, ratePerSecond: rate, opsPort: ops.port }, 'publisher started');

  const report = setInterval(() => {
    const now = Date.now();
    metric.rate.set(meter.rate(now));
    metric.inFlight.set(publisher.pendingCount);
  }, 1000);
  const progress = setInterval(() => {
    logger.info(
      {
        generated,
        achievedRate: Math.round(meter.rate(Date.now())),
        targetRate: rate,
        inFlight: publisher.pendingCount,
      },
      'publishing',
    );
  }, 10_000);

  // The generation loop: each turn releases the trades that are due and fit in the window.
  const generation = (async () => {
    let paused = true;
    while (!stopping) {
      if (config.PUBLISHER_MAX_TRADES > 0 && generated >= config.PUBLISHER_MAX_TRADES) break;
      const capacity = publisher.capacity();
      if (capacity === 0) {
        paused = paused || !publisher.connected || publisher.isBlocked;
        await publisher.waitForCapacity(100);
        continue;
      }
      const now = Date.now();
      if (paused) {
        pacer.rebase(now);
        paused = false;
      }
      let count = Math.min(pacer.due(now), capacity);
      if (config.PUBLISHER_MAX_TRADES > 0) count = Math.min(count, config.PUBLISHER_MAX_TRADES - generated);
      for (let i = 0; i < count; i++) {
        const trade: Trade = { ...simulator.next(), id: nextId(now), ts: now };
        const message = tradeSchema.parse(trade); // the shared contract, checked before sending
        publisher.send({ queue: message.company, body: encodeTrade(message), id: trade.id as string, ts: now });
      }
      pacer.take(count);
      generated += count;
      const wait = pacer.msUntilNext(Date.now());
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 50)));
      else await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  generation.catch((error: unknown) => logger.error({ err: error }, 'generation failed'));

  installShutdown(
    logger,
    async () => {
      stopping = true;
      await generation.catch(() => {});
      const drained = await publisher.drain(config.PUBLISHER_DRAIN_TIMEOUT_MS);
      logger.info(
        {
          published: generated,
          confirmed: (await metric.confirmed.get()).values[0]?.value ?? 0,
          unconfirmed: publisher.pendingCount,
          drained,
        },
        drained ? 'all trades confirmed' : 'stopping with unconfirmed trades',
      );
      clearInterval(report);
      clearInterval(progress);
      await publisher.close();
      await session.close();
      ops.close();
    },
    config.PUBLISHER_DRAIN_TIMEOUT_MS + 5_000,
  );
}

main().catch((error: unknown) => exitOnStartupError(bootLogger, error));
