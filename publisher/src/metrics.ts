import { Counter, Gauge, type Registry } from 'prom-client';

export function createPublisherMetrics(registry: Registry) {
  const registers = [registry];
  return {
    published: new Counter({ name: 'publisher_published_total', help: 'Trades published (first sends)', registers }),
    confirmed: new Counter({ name: 'publisher_confirmed_total', help: 'Trades confirmed by the broker', registers }),
    nacked: new Counter({
      name: 'publisher_nacked_total',
      help: 'Trades nacked by the broker (a batch message is nacked as a whole)',
      registers,
    }),
    republished: new Counter({
      name: 'publisher_republished_total',
      help: 'Trades sent again after a nack or a lost channel',
      registers,
    }),
    inFlight: new Gauge({
      name: 'publisher_in_flight',
      help: 'Unconfirmed messages (sent or waiting to be resent; a batch message counts as one)',
      registers,
    }),
    rate: new Gauge({
      name: 'publisher_confirmed_rate',
      help: 'Confirmed trades per second over the last seconds',
      registers,
    }),
    confirmTimeouts: new Counter({
      name: 'publisher_confirm_timeouts_total',
      help: 'Connections given up because no confirm came within PUBLISHER_CONFIRM_TIMEOUT_MS',
      registers,
    }),
    ledgerSent: new Counter({
      name: 'publisher_ledger_sent_total',
      help: 'Ledger messages sent (one per company and closed minute), by partial',
      labelNames: ['partial'],
      registers,
    }),
    ledgerConfirmed: new Counter({
      name: 'publisher_ledger_confirmed_total',
      help: 'Ledger messages confirmed by the broker',
      registers,
    }),
    ledgerOpenMinutes: new Gauge({
      name: 'publisher_ledger_open_minutes',
      help: 'Company-minutes with trades whose ledger is not closed yet',
      registers,
    }),
    target: new Gauge({ name: 'publisher_target_rate', help: 'Configured trades per second', registers }),
    blocked: new Gauge({
      name: 'publisher_blocked',
      help: '1 while the broker blocks publishing (memory or disk alarm): generation is paused',
      registers,
    }),
  };
}

export type PublisherMetrics = ReturnType<typeof createPublisherMetrics>;

/** A counter's total over its labels (for the progress log, which repeats a few of them). */
export async function counted(counter: Counter): Promise<number> {
  return (await counter.get()).values.reduce((sum, { value }) => sum + value, 0);
}
