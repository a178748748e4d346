import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { UpdateMessage } from '@stockmarket/common';
import {
  FerretDbServer,
  freePort,
  RABBITMQ_USERS,
  RabbitMqServer,
  ServiceProcess,
  TAKE_EVERY_LEASE,
  waitFor,
} from '@stockmarket/stack';
import { io as connect, type Socket } from 'socket.io-client';

// The consumer's write notices (docs/performance.md): a liveview that hears them pushes each
// committed batch at once although it polls only every 10 s; one whose broker is unreachable
// still gets every change by polling. Real broker (with the definitions file's `liveview` user),
// FerretDB, publisher and consumer.
const SLOW_POLL_MS = 10_000;
let rabbitmq: RabbitMqServer;
let mongo: FerretDbServer;
const services: ServiceProcess[] = [];
const sockets: Socket[] = [];

before(async () => {
  [rabbitmq, mongo] = await Promise.all([RabbitMqServer.start(), FerretDbServer.start()]);
  services.push(
    await ServiceProcess.start('consumer', {
      RABBITMQ_URL: rabbitmq.url('consumer'),
      MONGODB_URL: mongo.url,
      ...TAKE_EVERY_LEASE,
    }),
    await ServiceProcess.start('publisher', { RABBITMQ_URL: rabbitmq.url('publisher') }),
  );
});
after(async () => {
  for (const socket of sockets) socket.close();
  for (const service of services.reverse()) await service.stop();
  await mongo?.stop();
  await rabbitmq?.stop();
});

/** Arrival times of update messages that carry a stock. */
function updates(liveview: ServiceProcess): number[] {
  const arrivals: number[] = [];
  const socket = connect(liveview.url, { transports: ['websocket'] });
  sockets.push(socket);
  socket.on('update', (message: UpdateMessage) => {
    if (message.stocks.length > 0) arrivals.push(Date.now());
  });
  return arrivals;
}

/** Three stock updates within `spanMs` of each other. */
const burst = (arrivals: readonly number[], spanMs: number) =>
  arrivals.some((at, i) => i >= 2 && at - (arrivals[i - 2] as number) < spanMs);

test('a liveview that hears write notices pushes each write at once, far inside its poll interval', async () => {
  const liveview = await ServiceProcess.start(
    'liveview',
    {
      MONGODB_URL: mongo.url,
      LIVEVIEW_RABBITMQ_URLS: rabbitmq.url('liveview'),
      LIVEVIEW_POLL_INTERVAL_MS: String(SLOW_POLL_MS),
    },
    { label: 'liveview-notices' },
  );
  services.push(liveview);
  const arrivals = updates(liveview);
  // By polling alone three updates span at least two poll intervals (20 s).
  await waitFor('three updates within 5 s', () => burst(arrivals, 5_000), { timeoutMs: 30_000, intervalMs: 100 });
});

test('with its broker unreachable a liveview still gets every change by polling', async () => {
  const liveview = await ServiceProcess.start(
    'liveview',
    {
      MONGODB_URL: mongo.url,
      LIVEVIEW_RABBITMQ_URLS: rabbitmq.url('liveview').replace(`:${rabbitmq.port}/`, `:${await freePort()}/`),
      LIVEVIEW_POLL_INTERVAL_MS: '200',
    },
    { label: 'liveview-polling' },
  );
  services.push(liveview);
  const arrivals = updates(liveview);
  await waitFor('three updates by polling', () => arrivals.length >= 3, { timeoutMs: 30_000, intervalMs: 100 });
  assert.match(liveview.process.output, /RabbitMQ unavailable, retrying/);
});

test("no broker password in any service's environment or command line (ps), only *_PASSWORD_FILE paths", () => {
  const passwords = RABBITMQ_USERS.map((user) => rabbitmq.password(user));
  assert.equal(new Set(passwords).size, RABBITMQ_USERS.length, 'a random password per user');
  for (const service of services) {
    const pid = service.process.pid;
    assert.ok(pid, `${service.name} runs`);
    const shown = ['environ', 'cmdline'].map((file) => readFileSync(`/proc/${pid}/${file}`, 'utf8')).join('\n');
    for (const password of passwords)
      assert.ok(!shown.includes(password), `${service.name}: a password in /proc/${pid}`);
    assert.match(shown, /RABBITMQ_PASSWORD_FILE=\//, `${service.name} reads its password from a file`);
  }
});
