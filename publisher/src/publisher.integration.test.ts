import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseTrade } from '@stockmarket/common';
import { drainQueue, RabbitMqServer, ServiceProcess, waitForDepth } from '@stockmarket/stack';

const COMPANIES = ['AAPL', 'MSFT', 'TSLA'];
let rabbitmq: RabbitMqServer;

before(async () => {
  rabbitmq = await RabbitMqServer.start();
});
after(async () => {
  await rabbitmq?.stop();
});

test('publishes N trades: N valid contract messages with distinct ids in the company queues', async () => {
  const count = 3_000;
  const publisher = await ServiceProcess.start('publisher', {
    RABBITMQ_URL: rabbitmq.url('publisher'),
    PUBLISHER_RATE: '5000',
    PUBLISHER_MAX_TRADES: String(count),
  });
  try {
    await waitForDepth(rabbitmq, COMPANIES, count);
    const ids = new Set<string>();
    for (const queue of COMPANIES) {
      const messages = await drainQueue(rabbitmq, queue);
      assert.ok(messages.length >= count / COMPANIES.length - 1, `${queue} got its share (${messages.length})`);
      for (const message of messages) {
        assert.equal(message.properties.contentType, 'application/json');
        assert.equal(message.properties.deliveryMode, 2, 'persistent');
        const parsed = parseTrade(message.content, new Set(COMPANIES));
        assert.ok(parsed.ok, `valid trade: ${message.content.toString()}`);
        assert.equal(parsed.trade.company, queue, 'routed to its company queue');
        assert.ok(parsed.trade.id && parsed.trade.ts && parsed.trade.quantity);
        ids.add(parsed.trade.id);
      }
    }
    assert.equal(ids.size, count, 'every id distinct, none missing');
    assert.equal(await publisher.metric('publisher_confirmed_total'), count);
  } finally {
    await publisher.stop();
  }
});
