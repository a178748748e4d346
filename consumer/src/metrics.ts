import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createConsumerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    consumed: new Counter({
      name: 'consumer_consumed_total',
      help: 'Messages received',
      labelNames: ['queue'],
      registers,
    }),
    acked: new Counter({ name: 'consumer_acked_total', help: 'Messages acked', labelNames: ['queue'], registers }),
    ackedTrades: new Counter({
      name: 'consumer_acked_trades_total',
      help: 'Trades of the messages acked (a batch message counts each of its trades, stored or parked)',
      labelNames: ['queue'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'consumer_dead_lettered_total',
      help: 'Messages parked in the dead-letter queue (out of a batch message: each bad trade alone)',
      labelNames: ['queue', 'reason'],
      registers,
    }),
    ledgerWritten: new Counter({
      name: 'consumer_ledger_written_total',
      help: 'Publisher ledger messages written to the ledger collection',
      registers,
    }),
    duplicates: new Counter({
      name: 'consumer_duplicates_dropped_total',
      help: 'Trades already stored (redeliveries)',
      registers,
    }),
    batches: new Counter({
      name: 'consumer_batches_written_total',
      help: 'Batches written',
      labelNames: ['company'],
      registers,
    }),
    writeSeconds: new Histogram({
      name: 'consumer_batch_write_seconds',
      help: 'Time to write one batch to the database',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    buffered: new Gauge({ name: 'consumer_buffered_trades', help: 'Trades received and not yet acked', registers }),
    leases: new Gauge({ name: 'consumer_leases_held', help: 'Companies this replica writes', registers }),
    // Per company, so the liveview System view can show who writes what.
    lease: new Gauge({
      name: 'consumer_lease_held',
      help: '1 for each company whose write lease this replica holds',
      labelNames: ['company'],
      registers,
    }),
    leaseTaken: new Gauge({
      name: 'consumer_lease_taken_timestamp_seconds',
      help: 'When this replica took the write lease of each company it holds (Unix time)',
      labelNames: ['company'],
      registers,
    }),
    leaseWritable: new Gauge({
      name: 'consumer_lease_writable_timestamp_seconds',
      help: 'From when this replica may write each company it holds: taken + lease term + takeover delay (Unix time)',
      labelNames: ['company'],
      registers,
    }),
    fenced: new Counter({
      name: 'consumer_lease_fenced_total',
      help: 'Times this replica stopped writing because a lease token did not come back within the lease term',
      registers,
    }),
    lastWritten: new Gauge({
      name: 'consumer_batch_last_written_timestamp_seconds',
      help: 'When the latest batch write ended (Unix time)',
      registers,
    }),
  };
}

export type ConsumerMetrics = ReturnType<typeof createConsumerMetrics>;
