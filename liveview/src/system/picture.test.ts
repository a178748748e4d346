import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PictureBuilder, REPLICA_INFO_METRIC } from './picture.js';
import { mergeSamples, parseMetrics } from './scrape.js';
import type { ScrapeTarget } from './targets.js';

const consumer: ScrapeTarget = { role: 'consumer', name: 'consumer-1', url: 'http://c/metrics' };
const liveview: ScrapeTarget = { role: 'liveview', name: 'liveview@10.0.0.7', url: 'http://l/metrics' };

test('consumer leases, rates between two scrapes, and a replica that stops answering', () => {
  const builder = new PictureBuilder('liveview-1');
  const text = (batches: number) => `# TYPE consumer_lease_held gauge
consumer_lease_held{company="MSFT"} 1
consumer_lease_held{company="AAPL"} 1
# TYPE consumer_batches_written_total counter
consumer_batches_written_total{queue="trades.AAPL"} ${batches}
# TYPE consumer_buffered_trades gauge
consumer_buffered_trades 7
`;
  builder.services([{ target: consumer, samples: parseMetrics(text(10)) }], 1_000);
  const [seen] = builder.services([{ target: consumer, samples: parseMetrics(text(14)) }], 3_000).consumers;
  assert.deepEqual(seen, {
    name: 'consumer-1',
    up: true,
    seenAt: 3_000,
    leases: ['AAPL', 'MSFT'],
    batchesPerSecond: 2,
    buffered: 7,
  });
  const [lost] = builder.services([{ target: consumer }], 4_000).consumers;
  assert.equal(lost?.up, false);
  assert.equal(lost?.seenAt, 3_000);
});

test('a liveview found by address is named by its own replica-info metric; the sender is marked', () => {
  const builder = new PictureBuilder('liveview-1');
  const samples = parseMetrics(`# TYPE ${REPLICA_INFO_METRIC} gauge
${REPLICA_INFO_METRIC}{replica="liveview-1"} 1
# TYPE liveview_connected_clients gauge
liveview_connected_clients 12
`);
  const [view] = builder.services([{ target: liveview, samples }], 1_000).liveviews;
  assert.equal(view?.name, 'liveview-1');
  assert.equal(view?.clients, 12);
  assert.equal(view?.self, true);
});

test('the broker from rabbitmq_prometheus per-object figures; lease queues hidden; down since the first miss', () => {
  const builder = new PictureBuilder('liveview-1');
  const samples = parseMetrics(`# TYPE rabbitmq_queue_messages gauge
rabbitmq_queue_messages{vhost="stockmarket",queue="trades.AAPL"} 5
rabbitmq_queue_messages{vhost="stockmarket",queue="stockmarket.dead-letters"} 2
rabbitmq_queue_messages{vhost="stockmarket",queue="stockmarket.lease.AAPL"} 0
# TYPE rabbitmq_queue_consumers gauge
rabbitmq_queue_consumers{vhost="stockmarket",queue="trades.AAPL"} 1
`);
  const broker = builder.broker(samples, 1_000);
  assert.deepEqual(
    broker.queues.map((queue) => queue.queue),
    ['stockmarket.dead-letters', 'trades.AAPL'],
  );
  assert.equal(broker.deadLetters, 2);
  assert.equal(builder.broker(undefined, 2_000).downSince, 2_000);
  assert.equal(builder.broker(undefined, 3_000).downSince, 2_000);
  assert.equal(builder.broker(samples, 4_000).up, true);
});

test("a cluster's broker picture is the union of every node's page (each node reports the queues it leads)", () => {
  const builder = new PictureBuilder('liveview-1');
  const node1 = parseMetrics(`# TYPE rabbitmq_queue_messages gauge
rabbitmq_queue_messages{vhost="stockmarket",queue="AAPL"} 5
`);
  const node2 = parseMetrics(`# TYPE rabbitmq_queue_messages gauge
rabbitmq_queue_messages{vhost="stockmarket",queue="MSFT"} 7
`);
  const broker = builder.broker(mergeSamples([node1, node2]), 1_000);
  assert.deepEqual(
    broker.queues.map((queue) => [queue.queue, queue.messages]),
    [
      ['AAPL', 5],
      ['MSFT', 7],
    ],
  );
  assert.equal(mergeSamples([]), undefined, 'no node answered: the broker is down');
});
