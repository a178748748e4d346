import { DEAD_LETTER_QUEUE } from '@stockmarket/common';
import type {
  BrokerView,
  ConsumerView,
  DatabaseMemberView,
  LiveviewReplicaView,
  PublisherView,
  QueueView,
  ServiceReplicaView,
} from '../../shared/system-message.js';
import { type Samples, total } from './scrape.js';
import type { ScrapeTarget } from './targets.js';

/** The result of scraping one target this round. */
export interface TargetScrape {
  target: ScrapeTarget;
  samples?: Samples;
}

/** The name a liveview replica tells in its own metrics (compose replicas are found by address). */
export const REPLICA_INFO_METRIC = 'liveview_system_replica_info';

/** Counter values seen last round, so rates are per second between two gatherings. */
export class Rates {
  private readonly last = new Map<string, { value: number; at: number }>();

  perSecond(key: string, value: number, at: number): number {
    const previous = this.last.get(key);
    this.last.set(key, { value, at });
    // A restarted process starts its counters at 0: no rate for that round rather than a negative one.
    if (!previous || at <= previous.at || value < previous.value) return 0;
    return round((value - previous.value) / ((at - previous.at) / 1000));
  }
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** What was last known of a replica, so a lost one still shows (as down) with its last figures. */
export class Roster<View extends ServiceReplicaView> {
  private readonly known = new Map<string, View>();

  /** `empty`: the figures of a replica never seen up. */
  constructor(private readonly empty: Omit<View, keyof ServiceReplicaView>) {}

  update(name: string, view: View | undefined): View {
    const previous = this.known.get(name);
    const next = view ?? ({ ...this.empty, ...previous, name, up: false, seenAt: previous?.seenAt ?? 0 } as View);
    this.known.set(name, next);
    return next;
  }

  /** Views of this round, plus those known before and no longer found (DNS dropped them), as down. */
  all(seen: ReadonlySet<string>): View[] {
    const views: View[] = [];
    for (const [name, view] of this.known) views.push(seen.has(name) ? view : this.update(name, undefined));
    return views.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  }
}

export class PictureBuilder {
  private readonly rates = new Rates();
  private readonly publishers = new Roster<PublisherView>({ tradesPerSecond: 0, unconfirmed: 0, blocked: false });
  private readonly consumers = new Roster<ConsumerView>({ leases: [], batchesPerSecond: 0, buffered: 0 });
  private readonly liveviews = new Roster<LiveviewReplicaView>({ clients: 0, feedLagSeconds: 0, self: false });
  private brokerDownSince = 0;

  constructor(private readonly selfName: string) {}

  services(scrapes: readonly TargetScrape[], at: number) {
    const seen = new Set<string>();
    for (const { target, samples } of scrapes) {
      const told = samples?.get(REPLICA_INFO_METRIC)?.[0]?.labels.replica;
      const name = target.role === 'liveview' && told ? told : target.name;
      seen.add(name);
      const base = { name, up: samples !== undefined, seenAt: samples ? at : 0 };
      if (target.role === 'publisher') {
        this.publishers.update(
          name,
          samples && {
            ...base,
            tradesPerSecond: this.rates.perSecond(`${name}:confirmed`, total(samples, 'publisher_confirmed_total'), at),
            unconfirmed: total(samples, 'publisher_in_flight'),
            blocked: total(samples, 'publisher_blocked') > 0,
          },
        );
      } else if (target.role === 'consumer') {
        this.consumers.update(
          name,
          samples && {
            ...base,
            leases: (samples.get('consumer_lease_held') ?? [])
              .filter((sample) => sample.value > 0 && sample.labels.company)
              .map((sample) => sample.labels.company as string)
              .sort(),
            batchesPerSecond: this.rates.perSecond(
              `${name}:batches`,
              total(samples, 'consumer_batches_written_total'),
              at,
            ),
            buffered: total(samples, 'consumer_buffered_trades'),
          },
        );
      } else {
        this.liveviews.update(
          name,
          samples && {
            ...base,
            clients: total(samples, 'liveview_connected_clients'),
            feedLagSeconds: round(total(samples, 'liveview_feed_lag_seconds')),
            self: name === this.selfName,
          },
        );
      }
    }
    return {
      publishers: this.publishers.all(seen),
      consumers: this.consumers.all(seen),
      liveviews: this.liveviews.all(seen),
    };
  }

  /** The broker from rabbitmq_prometheus' per-object page (undefined: it did not answer). */
  broker(samples: Samples | undefined, at: number, configured = true): BrokerView {
    if (!configured) {
      return {
        configured,
        up: false,
        downSince: 0,
        queues: [],
        publishPerSecond: 0,
        deliverPerSecond: 0,
        deadLetters: 0,
      };
    }
    if (!samples) {
      if (this.brokerDownSince === 0) this.brokerDownSince = at;
      return {
        configured,
        up: false,
        downSince: this.brokerDownSince,
        queues: [],
        publishPerSecond: 0,
        deliverPerSecond: 0,
        deadLetters: 0,
      };
    }
    this.brokerDownSince = 0;
    const queues = new Map<string, QueueView>();
    const queueOf = (name: string) => {
      const view = queues.get(name) ?? { queue: name, messages: 0, consumers: 0 };
      queues.set(name, view);
      return view;
    };
    for (const sample of samples.get('rabbitmq_queue_messages') ?? []) {
      if (sample.labels.queue) queueOf(sample.labels.queue).messages += sample.value;
    }
    for (const sample of samples.get('rabbitmq_queue_consumers') ?? []) {
      if (sample.labels.queue) queueOf(sample.labels.queue).consumers += sample.value;
    }
    // Lease queues are exclusive markers, not work: the consumers' rows show them.
    const shown = [...queues.values()]
      .filter((queue) => !queue.queue.startsWith('stockmarket.lease.'))
      .sort((a, b) => a.queue.localeCompare(b.queue));
    return {
      configured,
      up: true,
      downSince: 0,
      queues: shown,
      publishPerSecond: this.rates.perSecond(
        'broker:received',
        total(samples, 'rabbitmq_global_messages_received_total'),
        at,
      ),
      deliverPerSecond: this.rates.perSecond(
        'broker:delivered',
        total(samples, 'rabbitmq_global_messages_delivered_total'),
        at,
      ),
      deadLetters: queues.get(DEAD_LETTER_QUEUE)?.messages ?? 0,
    };
  }
}

export type { DatabaseMemberView };
