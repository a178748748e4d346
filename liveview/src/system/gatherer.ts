import type { Logger } from '@stockmarket/common';
import type { Db } from 'mongodb';
import { Gauge, type Registry } from 'prom-client';
import type {
  DatabaseMemberView,
  ReconciliationView,
  SystemEvent,
  SystemMessage,
} from '../../shared/system-message.js';
import { readMembers } from './database.js';
import { EventLog } from './events.js';
import { PictureBuilder, REPLICA_INFO_METRIC, type TargetScrape } from './picture.js';
import { mergeSamples, type Samples, scrape } from './scrape.js';
import { type DnsService, discoverTargets, type ScrapeTarget } from './targets.js';

export interface SystemSources {
  replicaName: string;
  intervalMs: number;
  staticTargets: readonly ScrapeTarget[];
  dnsServices: readonly DnsService[];
  /** rabbitmq_prometheus' page of every broker node (none: the broker is not shown). */
  brokerMetricsUrls: readonly string[];
  db: Db;
  /** The reconciler's row and its breaks and recoveries for the event log (absent: not shown). */
  reconciliation?: { view(): ReconciliationView | undefined; takeEvents(): SystemEvent[] };
}

export interface SystemGatherer {
  stop(): void;
}

/**
 * Gathers the picture once per interval, whether or not anyone watches (the event log must see
 * every change), and hands each one to `onPicture`: one object for all sockets.
 */
export function startSystemGatherer(
  sources: SystemSources,
  registry: Registry,
  logger: Logger,
  onPicture: (picture: SystemMessage) => void,
): SystemGatherer {
  // This replica's name in its own metrics, so peers that found it by address can name it.
  new Gauge({
    name: REPLICA_INFO_METRIC,
    help: 'Always 1; the label tells the replica name (for the System view of peers)',
    labelNames: ['replica'],
    registers: [registry],
  }).set({ replica: sources.replicaName }, 1);

  const builder = new PictureBuilder(sources.replicaName);
  const log = new EventLog();
  const timeoutMs = Math.max(200, Math.floor(sources.intervalMs * 0.8));
  let members: DatabaseMemberView[] = [];
  let running = false;

  const gather = async (): Promise<SystemMessage> => {
    const targets = [...sources.staticTargets, ...(await discoverTargets(sources.dnsServices))];
    const [scrapes, broker, database] = await Promise.all([
      Promise.all(
        targets.map(async (target): Promise<TargetScrape> => {
          try {
            return { target, samples: await scrape(target.url, timeoutMs) };
          } catch (error) {
            logger.debug({ target: target.name, err: (error as Error).message }, 'scrape failed');
            return { target };
          }
        }),
      ),
      scrapeBroker(sources.brokerMetricsUrls, timeoutMs, logger),
      readMembers(sources.db, timeoutMs, members),
    ]);
    members = database;
    const at = Date.now();
    const picture = {
      ...builder.services(scrapes, at),
      broker: builder.broker(broker, at, sources.brokerMetricsUrls.length > 0),
      database,
    };
    for (const event of log.observe(picture, at)) logger.info({ event: event.text }, 'system event');
    // The reconciler logs its own events; here they only join the page's log.
    log.record(sources.reconciliation?.takeEvents() ?? []);
    const reconciliation = sources.reconciliation?.view();
    return {
      replica: sources.replicaName,
      at,
      ...picture,
      events: [...log.all],
      ...(reconciliation ? { reconciliation } : {}),
    };
  };

  const tick = () => {
    // A slow round (timeouts) is not overlapped by the next one.
    if (running) return;
    running = true;
    gather()
      .then(onPicture)
      .catch((error: Error) => logger.warn({ err: error.message }, 'system gathering failed'))
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(tick, sources.intervalMs);
  timer.unref();
  tick();
  return { stop: () => clearInterval(timer) };
}

/**
 * Every broker node's per-object page, merged: in a cluster each node reports the queues it leads,
 * so the broker's picture is the union. Undefined (broker down) when no node answers.
 */
async function scrapeBroker(urls: readonly string[], timeoutMs: number, logger: Logger): Promise<Samples | undefined> {
  const pages = await Promise.all(
    urls.map((url) =>
      scrape(url, timeoutMs).catch((error: Error) => {
        logger.debug({ url, err: error.message }, 'broker scrape failed');
        return undefined;
      }),
    ),
  );
  return mergeSamples(pages.filter((page): page is Samples => page !== undefined));
}
