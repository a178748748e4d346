import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FerretDbServer, publishRaw, RabbitMqServer, ServiceProcess, waitFor } from '@stockmarket/stack';
import { MongoClient } from 'mongodb';

let rabbitmq: RabbitMqServer;
let mongo: FerretDbServer;
let client: MongoClient;

before(async () => {
  [rabbitmq, mongo] = await Promise.all([RabbitMqServer.start(), FerretDbServer.start()]);
  client = new MongoClient(mongo.url);
});
after(async () => {
  await client?.close();
  await Promise.allSettled([rabbitmq?.stop(), mongo?.stop()]);
});

test('stores the mean price of a batch as avgPrice, also for messages of the original publisher', async () => {
  const perCompany = 40;
  const expected = new Map<string, number>();
  const bodies = new Map<string, object[]>();
  for (const [index, company] of ['AAPL', 'MSFT', 'TSLA'].entries()) {
    const trades: object[] = [];
    let sum = 0;
    for (let i = 0; i < perCompany; i++) {
      const price = Math.round((100 + index * 50 + Math.sin(i) * 7 + i / 3) * 100) / 100;
      sum += price;
      const eventType = i % 2 === 0 ? 'buy' : 'sell';
      // Every other trade as the original publisher sends it: only the three contract fields.
      trades.push(
        i % 2 === 0
          ? { company, eventType, price }
          : { company, eventType, price, id: `t-${company}-${i}`, ts: Date.now(), quantity: 10 },
      );
    }
    expected.set(company, sum / perCompany);
    bodies.set(company, trades);
  }
  for (const [company, trades] of bodies) await publishRaw(rabbitmq, company, trades);

  // One batch per company: it closes at BATCH_SIZE, long before the flush interval.
  const consumer = await ServiceProcess.start('consumer', {
    RABBITMQ_URL: rabbitmq.url('consumer'),
    MONGODB_URL: mongo.url,
    MONGODB_WRITE_CONCERN: '1',
    BATCH_SIZE: String(perCompany),
    CONSUMER_FLUSH_INTERVAL_MS: '60000',
  });
  try {
    const stocks = client.db('stockmarket').collection('stocks');
    const docs = await waitFor('three stocks documents', async () => {
      const found = await stocks.find({}).toArray();
      return found.length === 3 ? found : undefined;
    });
    for (const doc of docs) {
      const mean = expected.get(doc.company);
      assert.ok(mean !== undefined, `unexpected company ${doc.company}`);
      assert.ok(Math.abs(doc.avgPrice - mean) < 1e-9, `${doc.company}: avgPrice ${doc.avgPrice} = mean ${mean}`);
      assert.equal(doc.batchSize, perCompany);
    }
    assert.equal(await consumer.metric('consumer_acked_total'), perCompany * 3);
  } finally {
    await consumer.stop();
  }
});
