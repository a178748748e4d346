import {
  AmqpSession,
  brokerUrls,
  createLogger,
  createMetricsRegistry,
  declareQueue,
  exitOnStartupError,
  installShutdown,
  LEDGER_QUEUE,
  type LedgerMessage,
  ledgerMessageBody,
  startOpsServer,
  withDeadline,
} from '@stockmarket/common';
import { monotonicFactory, ulid } from 'ulid';
import { loadPublisherConfig, totalRate } from './config.js';
import { Confirmations } from './confirmations.js';
import { ConfirmedPublisher } from './confirmed-publisher.js';
import { LedgerBook } from './ledger-book.js';
import { counted, createPublisherMetrics } from './metrics.js';
import { Pacer } from './pacer.js';
import { PublishingLoop } from './publishing-loop.js';
import { seededRandom } from './random.js';
import { symbolParamsFor, TradeSimulator } from './simulator.js';

const bootLogger = createLogger('publisher', 'info');

async function main(): Promise<void> {
  const config = loadPublisherConfig();
  const logger = createLogger('publisher', config.LOG_LEVEL);
  // First of all: a signal during start-up stops what has started so far, at once.
  const shutdown = installShutdown(logger, config.PUBLISHER_DRAIN_TIMEOUT_MS + 6_000);
  const registry = createMetricsRegistry('publisher');
  const metrics = createPublisherMetrics(registry);
  const rate = totalRate(config);
  metrics.target.set(rate);

  const confirmations = new Confirmations(logger, metrics);
  // The ledger of this run (docs/reconciliation.md): a new source id at every start.
  const ledgerSource = ulid();
  const ledger = config.PUBLISHER_LEDGER ? new LedgerBook(ledgerSource, Date.now()) : undefined;
  const publisher = new ConfirmedPublisher(
    { maxInFlight: config.PUBLISHER_MAX_IN_FLIGHT, confirmTimeoutMs: config.PUBLISHER_CONFIRM_TIMEOUT_MS },
    {
      // In trades: a batch message is sent, confirmed and nacked as a whole, and counts for each trade.
      published: (count, message) => {
        if (message.ledger) return;
        metrics.published.inc(count);
        for (const trade of message.trades ?? []) ledger?.sent(trade);
      },
      confirmed: (message) => {
        if (message.ledger) {
          metrics.ledgerConfirmed.inc();
          return;
        }
        for (const trade of message.trades ?? []) {
          confirmations.add(trade.id);
          ledger?.confirmed(trade);
        }
      },
      nacked: (message) => metrics.nacked.inc(message.trades?.length ?? 1),
      republished: (count) => metrics.republished.inc(count),
      stalled: (reason) => {
        metrics.confirmTimeouts.inc();
        // The session is up before any channel can stall.
        session.abandon(reason);
      },
    },
    logger,
  );
  const ops = await startOpsServer(
    config.PUBLISHER_OPS_PORT,
    config.OPS_HOST,
    { ready: () => publisher.connected && !shutdown.signal.aborted },
    registry,
  );
  shutdown.onStop(() => {
    ops.close();
  });

  const session = new AmqpSession(brokerUrls(config), logger, async (connection) => {
    for (const company of config.COMPANIES) {
      await declareQueue(
        connection,
        company,
        { queueType: config.PUBLISHER_QUEUE_TYPE, durable: config.COMPANY_QUEUES_DURABLE },
        logger,
      );
    }
    if (ledger) {
      await declareQueue(
        connection,
        LEDGER_QUEUE,
        { queueType: config.PUBLISHER_QUEUE_TYPE, durable: config.COMPANY_QUEUES_DURABLE },
        logger,
      );
    }
    await publisher.attach(connection);
  });
  /** Ledger messages go through the confirm window like trades: republished until confirmed. */
  const sendLedgers = (messages: readonly LedgerMessage[]) => {
    for (const message of messages) {
      publisher.send({
        queue: LEDGER_QUEUE,
        body: ledgerMessageBody(message),
        id: `ledger-${message.company}-${message.minute}-${message.source}`,
        ts: message.closedAt,
        ledger: true,
      });
      metrics.ledgerSent.inc({ partial: String(message.partial) });
      if (message.partial) logger.info({ ledger: message }, 'partial ledger minute');
    }
  };
  session.start();
  // A broker that stopped answering must not hold the exit: each close gets a bounded wait.
  shutdown.onStop(() => withDeadline(session.close(), 2_000));

  const random = seededRandom(config.SEED ?? Date.now() >>> 0);
  const loop = new PublishingLoop({
    simulator: new TradeSimulator(
      config.COMPANIES,
      symbolParamsFor(config.PUBLISHER_SYMBOLS, config.PUBLISHER_VOLATILITY, config.PUBLISHER_DRIFT),
      random,
    ),
    publisher,
    pacer: new Pacer(rate, Date.now()),
    nextId: monotonicFactory(random),
    maxTrades: config.PUBLISHER_MAX_TRADES,
    tradesPerMessage: config.PUBLISHER_TRADES_PER_MESSAGE,
    lingerMs: config.PUBLISHER_MESSAGE_LINGER_MS,
  });
  loop.start().then(
    () => {
      if (!shutdown.signal.aborted) {
        logger.info({ generated: loop.generated }, 'PUBLISHER_MAX_TRADES reached; generation stopped');
      }
    },
    (error: unknown) => logger.error({ err: error }, 'generation failed'),
  );
  logger.info(
    {
      companies: config.COMPANIES,
      ratePerSecond: rate,
      tradesPerMessage: config.PUBLISHER_TRADES_PER_MESSAGE,
      queueType: config.PUBLISHER_QUEUE_TYPE,
      opsPort: ops.port,
      ledgerSource: ledger ? ledgerSource : null,
    },
    'publisher started',
  );

  const report = setInterval(() => {
    metrics.rate.set(confirmations.rate());
    metrics.inFlight.set(publisher.pendingCount);
    metrics.blocked.set(publisher.isBlocked ? 1 : 0);
    confirmations.flushIds();
    if (ledger) {
      sendLedgers(ledger.closeDue(Date.now()));
      metrics.ledgerOpenMinutes.set(ledger.openMinutes);
    }
  }, 200);
  const progress = setInterval(async () => {
    const figures = {
      generated: loop.generated,
      confirmed: confirmations.count,
      achievedRate: Math.round(confirmations.rate()),
      targetRate: rate,
      inFlight: publisher.pendingCount,
    };
    logger.info(
      { ...figures, nacked: await counted(metrics.nacked), republished: await counted(metrics.republished) },
      'publishing',
    );
  }, 10_000);

  shutdown.onStop(async () => {
    // Counted when the signal came (this step runs first): while the loop's last turn ends,
    // confirms keep arriving and may settle every trade in flight.
    const inFlightAtStop = publisher.pendingCount;
    await loop.stop();
    const drained = await publisher.drain(config.PUBLISHER_DRAIN_TIMEOUT_MS);
    confirmations.flushIds();
    if (ledger) {
      // What this run confirmed of the minutes still open, marked partial; a short wait for their confirms.
      sendLedgers(ledger.closeDue(Date.now()));
      sendLedgers(ledger.closeAll(Date.now()));
      await publisher.drain(Math.min(2_000, config.PUBLISHER_DRAIN_TIMEOUT_MS));
    }
    // The final report: every trade generated is either confirmed or listed here by id.
    const unconfirmedIds = publisher.pendingIds();
    logger.info(
      {
        published: loop.generated,
        confirmed: confirmations.count,
        inFlightAtStop,
        unconfirmed: unconfirmedIds.length,
        unconfirmedIds,
        drained,
      },
      drained ? 'all trades confirmed' : 'stopping with unconfirmed trades',
    );
    clearInterval(report);
    clearInterval(progress);
    await withDeadline(publisher.close(), 2_000);
  });
}

main().catch((error: unknown) => exitOnStartupError(bootLogger, error));
