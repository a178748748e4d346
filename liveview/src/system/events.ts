import type { ServiceReplicaView, SystemEvent, SystemMessage } from '../../shared/system-message.js';

/** The parts of a picture the log compares from one gathering to the next. */
export type Observed = Pick<SystemMessage, 'publishers' | 'broker' | 'consumers' | 'database' | 'liveviews'>;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Derives an event log from the changes between successive pictures: a replica lost and back,
 * a lease that moved, a new PRIMARY, the broker unreachable, the publisher blocked; each event
 * that ends an outage carries how long it lasted.
 */
export class EventLog {
  private readonly events: SystemEvent[] = [];
  private previous: Observed | undefined;
  /** When something went missing: `replica:<name>`, `lease:<company>`, `primary`, `blocked:<name>`. */
  private readonly since = new Map<string, number>();

  constructor(private readonly limit = 50) {}

  get all(): readonly SystemEvent[] {
    return this.events;
  }

  /** Events found elsewhere (the reconciler's breaks and recoveries), added as they are. */
  record(events: readonly SystemEvent[]): void {
    this.events.push(...events);
    if (this.events.length > this.limit) this.events.splice(0, this.events.length - this.limit);
  }

  observe(next: Observed, at: number): SystemEvent[] {
    const previous = this.previous;
    this.previous = next;
    if (!previous) return [];
    const added: SystemEvent[] = [];
    const add = (event: Omit<SystemEvent, 'at'>) => added.push({ at, ...event });
    const ended = (key: string) => {
      const start = this.since.get(key);
      this.since.delete(key);
      return start === undefined ? undefined : at - start;
    };

    for (const list of ['publishers', 'consumers', 'liveviews'] as const) {
      const before = new Map<string, ServiceReplicaView>(previous[list].map((view) => [view.name, view]));
      for (const view of next[list]) {
        const was = before.get(view.name);
        if (was?.up && !view.up) {
          this.since.set(`replica:${view.name}`, at);
          add({ kind: 'replica-lost', text: `${view.name} lost` });
        } else if (was && !was.up && view.up && was.seenAt === 0) {
          add({ kind: 'replica-back', text: `${view.name} up` });
        } else if (was && !was.up && view.up) {
          const durationMs = ended(`replica:${view.name}`);
          add({
            kind: 'replica-back',
            text: `${view.name} back${durationMs === undefined ? '' : ` after ${seconds(durationMs)}`}`,
            ...(durationMs === undefined ? {} : { durationMs }),
          });
        }
      }
    }

    const owners = (picture: Observed) => {
      const map = new Map<string, string>();
      for (const consumer of picture.consumers) {
        if (consumer.up) for (const company of consumer.leases) map.set(company, consumer.name);
      }
      return map;
    };
    const ownerBefore = owners(previous);
    const ownerNow = owners(next);
    for (const company of new Set([...ownerBefore.keys(), ...ownerNow.keys()])) {
      const was = ownerBefore.get(company);
      const now = ownerNow.get(company);
      if (was === now) continue;
      if (now === undefined) {
        this.since.set(`lease:${company}`, at);
        continue;
      }
      const from = was ?? this.lastOwner.get(company);
      // Without a round in between, the company had no writer since its old owner was last seen.
      const lastSeen = next.consumers.find((consumer) => consumer.name === from && !consumer.up)?.seenAt;
      const durationMs = ended(`lease:${company}`) ?? (lastSeen ? at - lastSeen : 0);
      add({
        kind: 'lease-moved',
        // The same owner again: the lease was lost with its connection (a broker restart) and retaken.
        text:
          from === now
            ? `${company} lease retaken by ${now} after ${seconds(durationMs)}`
            : `${company} lease ${from ?? 'none'} -> ${now} in ${seconds(durationMs)}`,
        durationMs,
      });
    }
    for (const [company, owner] of ownerBefore) this.lastOwner.set(company, owner);

    const primaryOf = (picture: Observed) => picture.database.find((member) => member.state === 'PRIMARY')?.name;
    const primaryBefore = primaryOf(previous);
    const primaryNow = primaryOf(next);
    if (primaryBefore !== primaryNow) {
      if (primaryNow === undefined) {
        this.since.set('primary', at);
        this.lastPrimary = primaryBefore;
        add({ kind: 'primary-changed', text: `no PRIMARY (was ${primaryBefore})` });
      } else {
        const durationMs = ended('primary');
        const from = primaryBefore ?? this.lastPrimary ?? 'none';
        add({
          kind: 'primary-changed',
          text: `PRIMARY ${from} -> ${primaryNow}${durationMs === undefined ? '' : ` in ${seconds(durationMs)}`}`,
          ...(durationMs === undefined ? {} : { durationMs }),
        });
      }
    }

    if (!next.broker.configured) {
      // Nothing to say about a broker this replica does not watch.
    } else if (previous.broker.up && !next.broker.up) {
      add({ kind: 'broker-down', text: 'broker unreachable' });
    } else if (!previous.broker.up && next.broker.up) {
      const durationMs = at - previous.broker.downSince;
      add({ kind: 'broker-back', text: `broker unreachable ${seconds(durationMs)}`, durationMs });
    }

    const blockedBefore = new Map(previous.publishers.map((publisher) => [publisher.name, publisher.blocked]));
    for (const publisher of next.publishers) {
      if (!publisher.up) continue;
      const was = blockedBefore.get(publisher.name);
      if (!was && publisher.blocked) {
        this.since.set(`blocked:${publisher.name}`, at);
        add({ kind: 'blocked', text: `${publisher.name} blocked by the broker (resource alarm)` });
      } else if (was && !publisher.blocked) {
        const durationMs = ended(`blocked:${publisher.name}`);
        add({
          kind: 'unblocked',
          text: `${publisher.name} unblocked${durationMs === undefined ? '' : ` after ${seconds(durationMs)}`}`,
          ...(durationMs === undefined ? {} : { durationMs }),
        });
      }
    }

    this.events.push(...added);
    if (this.events.length > this.limit) this.events.splice(0, this.events.length - this.limit);
    return added;
  }

  private readonly lastOwner = new Map<string, string>();
  private lastPrimary: string | undefined;
}
