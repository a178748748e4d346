import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { DEFAULT_COMPANIES, inOneWrite, parseTrade } from '@stockmarket/common';
import { RabbitMqServer, ServiceProcess, waitFor, waitForDepth } from '@stockmarket/stack';
import type { ConsumeMessage } from 'amqplib';

let rabbitmq: RabbitMqServer;

before(async () => {
  rabbitmq = await RabbitMqServer.start();
});
after(async () => {
  await rabbitmq?.stop();
});

/** Takes every ready message out of a queue with one consumer (much faster than basic.get). */
function takeAll(queue: string): Promise<ConsumeMessage[]> {
  return rabbitmq.withChannel(async (channel) => {
    const { messageCount } = await channel.checkQueue(queue);
    const messages: ConsumeMessage[] = [];
    if (messageCount === 0) return messages;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`got ${messages.length} of ${messageCount} from ${queue}`)),
        60_000,
      );
      void channel.consume(
        queue,
        (message) => {
          if (message) messages.push(message);
          if (messages.length >= messageCount) {
            clearTimeout(timer);
            resolve();
          }
        },
        { noAck: true },
      );
    });
    return messages;
  });
}

/** Every message in the queues, checked against the contract; returns the ids. */
async function idsInQueues(queues: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const queue of queues) {
    for (const message of await takeAll(queue)) {
      assert.equal(message.properties.contentType, 'application/json');
      assert.equal(message.properties.deliveryMode, 2, 'persistent');
      const parsed = parseTrade(message.content, new Set(queues));
      assert.ok(parsed.ok, `valid trade: ${message.content.toString()}`);
      assert.equal(parsed.trade.company, queue, 'routed to its company queue');
      assert.ok(parsed.trade.id && parsed.trade.ts && parsed.trade.quantity);
      assert.equal(message.properties.messageId, parsed.trade.id);
      ids.push(parsed.trade.id);
    }
  }
  return ids;
}

type LogLine = Record<string, unknown> & { msg?: string };

function logLines(service: ServiceProcess): LogLine[] {
  return service.process.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** The ids the publisher reported as confirmed (LOG_LEVEL=trace logs them in batches). */
function confirmedIds(service: ServiceProcess): Set<string> {
  const ids = new Set<string>();
  for (const line of logLines(service)) {
    if (line.msg === 'confirmed ids') for (const id of line.ids as string[]) ids.add(id);
  }
  return ids;
}

interface FinalReport {
  published: number;
  confirmed: number;
  inFlightAtStop: number;
  unconfirmed: number;
  unconfirmedIds: string[];
  drained: boolean;
}

function finalReport(service: ServiceProcess): FinalReport {
  const line = logLines(service).find((entry) => 'unconfirmedIds' in entry);
  assert.ok(line, `a final report in the log:\n${service.process.output.slice(-2000)}`);
  return line as unknown as FinalReport;
}

async function readyStatus(service: ServiceProcess): Promise<number> {
  return (await fetch(`${service.url}/readyz`)).status;
}

test('publishes N trades: N valid contract messages with distinct ids in the company queues', async () => {
  const companies = [...DEFAULT_COMPANIES];
  const count = 3_000;
  const publisher = await ServiceProcess.start('publisher', {
    RABBITMQ_URL: rabbitmq.url('publisher'),
    PUBLISHER_RATE: '5000',
    PUBLISHER_MAX_TRADES: String(count),
  });
  try {
    await waitForDepth(rabbitmq, companies, count);
    await waitFor('all confirms', async () => (await publisher.metric('publisher_confirmed_total')) === count);
    const ids = await idsInQueues(companies);
    assert.equal(ids.length, count);
    assert.equal(new Set(ids).size, count, 'every id distinct, none missing');
    assert.deepEqual([...ids].sort(), ids.slice().sort(), 'ids are sortable strings');
    assert.equal(await publisher.metric('publisher_nacked_total'), 0);
  } finally {
    await publisher.stop();
  }
});

test("a turn's publishes leave in one socket write (inOneWrite), each still a message of its own", async () => {
  const queue = 'stockmarket.test.one-write';
  await rabbitmq.withChannel(async (channel) => {
    await channel.assertQueue(queue, { durable: false });
    try {
      // The socket under the channel, with its two ways to write counted.
      const socket = (channel as unknown as { connection: { stream: Record<string, unknown> } }).connection.stream;
      const counts = { write: 0, writev: 0 };
      for (const method of ['_write', '_writev'] as const) {
        const original = socket[method] as (...args: unknown[]) => unknown;
        socket[method] = (...args: unknown[]) => {
          counts[method === '_write' ? 'write' : 'writev']++;
          return original.apply(socket, args);
        };
      }
      const publishTurn = async (expected: number, wrap: (send: () => void) => void) => {
        counts.write = 0;
        counts.writev = 0;
        wrap(() => {
          for (let i = 0; i < 100; i++) channel.sendToQueue(queue, Buffer.from(`{"n":${i}}`));
        });
        await waitFor(`${expected} messages in ${queue}`, async () => {
          const { messageCount } = await channel.checkQueue(queue);
          return messageCount === expected;
        });
        return { ...counts };
      };
      const plain = await publishTurn(100, (send) => send());
      const corked = await publishTurn(200, (send) => inOneWrite(channel, send));
      // The counts include checkQueue's own frames (one write each, after the turn).
      assert.ok(plain.write + plain.writev >= 50, `without it, about one write per message: ${JSON.stringify(plain)}`);
      assert.equal(corked.writev, 1, `with it, the turn in one writev: ${JSON.stringify(corked)}`);
      assert.ok(corked.write <= 10, `only checkQueue's frames on their own: ${JSON.stringify(corked)}`);
    } finally {
      await channel.deleteQueue(queue);
    }
  });
});

test('a pre-existing queue with other arguments: used as it is, with a warning, no crash', async () => {
  await rabbitmq.withChannel((channel) =>
    channel.assertQueue('ZZZ', { durable: true, arguments: { 'x-max-length': 1_000_000 } }),
  );
  const publisher = await ServiceProcess.start('publisher', {
    RABBITMQ_URL: rabbitmq.url('publisher'),
    COMPANIES: 'ZZZ',
    PUBLISHER_RATE: '1000',
    PUBLISHER_MAX_TRADES: '200',
  });
  try {
    await waitForDepth(rabbitmq, ['ZZZ'], 200);
    const warning = logLines(publisher).find(
      (line) => line.msg === 'queue exists with other arguments; using it as it is' && line.queue === 'ZZZ',
    );
    assert.ok(warning, `warning logged:\n${publisher.process.output}`);
    assert.match(String(warning.err), /x-max-length/, 'the warning names the differing argument');
    assert.equal(await readyStatus(publisher), 200);
    assert.ok(publisher.process.running);
    assert.equal((await idsInQueues(['ZZZ'])).length, 200);
  } finally {
    await publisher.stop();
  }
});

test('SIGTERM mid-run at full speed: every trade confirmed before exit, all of them in the queues', async () => {
  const companies = ['STOPA', 'STOPB'];
  const publisher = await ServiceProcess.start('publisher', {
    RABBITMQ_URL: rabbitmq.url('publisher'),
    COMPANIES: companies.join(','),
    // Faster than the broker confirms, so the confirm window (not the rate) limits the publisher
    // and trades are in flight at any moment: at 50,000/s a quiet machine confirmed each turn
    // before the next, and SIGTERM found none in flight (a fresh-clone run, 7 Dec).
    PUBLISHER_RATE: '1000000',
    PUBLISHER_MAX_IN_FLIGHT: '5000',
    LOG_LEVEL: 'trace',
  });
  let code: number | null;
  try {
    await waitFor('2,000 confirms', async () => (await publisher.metric('publisher_confirmed_total')) >= 2_000, {
      timeoutMs: 60_000,
    });
  } finally {
    code = await publisher.stop(30_000);
  }
  assert.equal(code, 0, 'clean exit');
  const report = finalReport(publisher);
  assert.ok(report.inFlightAtStop > 0, 'trades were in flight when SIGTERM came');
  assert.equal(report.drained, true);
  assert.equal(report.unconfirmed, 0);
  assert.equal(report.confirmed, report.published);
  const confirmed = confirmedIds(publisher);
  assert.equal(confirmed.size, report.confirmed, 'every confirm listed in the trace log');
  const ids = new Set(await idsInQueues(companies));
  for (const id of confirmed) assert.ok(ids.has(id), `confirmed trade ${id} is in a queue`);
});

/** A TCP relay that can stop passing the broker's replies (confirms) on to the client. */
class FreezableProxy {
  private readonly sockets = new Set<Socket>();
  private readonly upstreams = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<FreezableProxy> {
    const server = createServer();
    const proxy = new FreezableProxy(server);
    server.on('connection', (client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      proxy.sockets.add(client);
      proxy.upstreams.add(upstream);
      for (const socket of [client, upstream]) socket.on('error', () => {});
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The broker still receives everything; its answers stay unread. */
  freeze(): void {
    for (const upstream of this.upstreams) {
      upstream.unpipe();
      upstream.pause();
    }
  }

  async close(): Promise<void> {
    for (const socket of [...this.sockets, ...this.upstreams]) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

test('SIGTERM while the broker stops confirming: exits by the deadline and reports every unconfirmed id', async () => {
  const companies = ['HANGA', 'HANGB'];
  const proxy = await FreezableProxy.start(rabbitmq.port);
  const url = rabbitmq.url('publisher').replace(`:${rabbitmq.port}/`, `:${proxy.port}/`);
  const publisher = await ServiceProcess.start('publisher', {
    RABBITMQ_URL: url,
    COMPANIES: companies.join(','),
    PUBLISHER_RATE: '1000',
    PUBLISHER_DRAIN_TIMEOUT_MS: '1500',
    LOG_LEVEL: 'trace',
  });
  let code: number | null;
  try {
    await waitFor('200 confirms', async () => (await publisher.metric('publisher_confirmed_total')) >= 200, {
      timeoutMs: 60_000,
    });
    proxy.freeze();
    const confirmedAtFreeze = await publisher.metric('publisher_confirmed_total');
    await waitFor('trades in flight', async () => (await publisher.metric('publisher_in_flight')) >= 100);
    assert.ok((await publisher.metric('publisher_confirmed_total')) - confirmedAtFreeze < 50, 'confirms stopped');
  } finally {
    code = await publisher.stop(30_000);
    await proxy.close();
  }
  assert.equal(code, 0, 'exits cleanly within the shutdown deadline');
  const report = finalReport(publisher);
  assert.equal(report.drained, false);
  assert.ok(report.unconfirmed >= 100, `unconfirmed trades reported (${report.unconfirmed})`);
  assert.equal(report.unconfirmedIds.length, report.unconfirmed);
  assert.equal(report.confirmed + report.unconfirmed, report.published, 'every trade confirmed or reported');
  const confirmed = confirmedIds(publisher);
  assert.equal(confirmed.size, report.confirmed);
  const reported = new Set(report.unconfirmedIds);
  for (const id of reported) assert.ok(!confirmed.has(id), 'reported ids were not confirmed');
  // The broker may well hold reported trades (only the confirm was lost): never anything else.
  const ids = new Set(await idsInQueues(companies));
  for (const id of confirmed) assert.ok(ids.has(id), `confirmed trade ${id} is in a queue`);
  for (const id of ids) assert.ok(confirmed.has(id) || reported.has(id), `${id} is accounted for`);
});

test('broker stopped mid-run: /readyz 503 meanwhile, recovers without restart, every confirmed id kept', async () => {
  const companies = ['OUTA', 'OUTB', 'OUTC'];
  const publisher = await ServiceProcess.start('publisher', {
    RABBITMQ_URL: rabbitmq.url('publisher'),
    COMPANIES: companies.join(','),
    PUBLISHER_RATE: '300',
    LOG_LEVEL: 'trace',
  });
  const pid = publisher.process.pid;
  try {
    await waitFor('300 confirms', async () => (await publisher.metric('publisher_confirmed_total')) >= 300, {
      timeoutMs: 60_000,
    });
    await rabbitmq.pause();
    await waitFor('/readyz to be 503', async () => (await readyStatus(publisher)) === 503, { timeoutMs: 30_000 });
    const confirmedDuringOutage = await publisher.metric('publisher_confirmed_total');
    await rabbitmq.resume();
    await waitFor('/readyz to be 200 again', async () => (await readyStatus(publisher)) === 200, {
      timeoutMs: 120_000,
      intervalMs: 250,
    });
    await waitFor(
      'publishing to resume',
      async () => (await publisher.metric('publisher_confirmed_total')) >= confirmedDuringOutage + 300,
      { timeoutMs: 60_000 },
    );
    assert.ok(publisher.process.running, 'still the same process');
    assert.equal(publisher.process.pid, pid);
    const connects = logLines(publisher).filter((line) => line.msg === 'connected to RabbitMQ');
    assert.ok(connects.length >= 2, 'reconnected by itself');
  } finally {
    assert.equal(await publisher.stop(30_000), 0);
  }
  const report = finalReport(publisher);
  assert.equal(report.drained, true);
  const confirmed = confirmedIds(publisher);
  assert.equal(confirmed.size, report.confirmed);
  const ids = new Set(await idsInQueues(companies));
  let missing = 0;
  for (const id of confirmed) if (!ids.has(id)) missing++;
  assert.equal(missing, 0, `every confirmed trade survived the broker restart (${confirmed.size} confirmed)`);
});
