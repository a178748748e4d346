// Bad input into the whole stack: malformed messages into the company queues (among good ones),
// and malformed HTTP and socket.io traffic through NGINX. Then the security defaults that can be
// checked here: broker users and permissions against the real broker, published ports in the
// compose file, page headers, NGINX limits, and no secret in any log.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEAD_LETTER_QUEUE, WRITE_NOTICE_EXCHANGE } from '@stockmarket/common';
import { drainQueue, LocalStack, publishRaw, queueDepth, repoRoot, ServiceProcess, waitFor } from '@stockmarket/stack';
import amqp from 'amqplib';
import { io, type Socket } from 'socket.io-client';
import { parse } from 'yaml';
import { COMPANIES, readStoredState, recordScenario, secretsInLogs, stackPasswords } from './ground-truth.js';

let stack: LocalStack;
const extraServices: ServiceProcess[] = [];

before(async () => {
  stack = await LocalStack.start({
    consumers: 1,
    liveviews: 2,
    publisher: false,
    consumerEnv: { BATCH_SIZE: '500', CONSUMER_FLUSH_INTERVAL_MS: '250' },
  });
});
after(async () => {
  await Promise.allSettled(extraServices.map((service) => service.stop(15_000)));
  await stack?.stop();
});

/** Process ids of every service: a crash (and restart) would change one. */
const pids = () => [...stack.consumers, ...stack.liveviews].map((service) => service.process.pid);

async function allHealthy(): Promise<void> {
  for (const service of [...stack.consumers, ...stack.liveviews]) {
    assert.ok(service.process.running, `${service.process.options.name} is running`);
    assert.equal((await fetch(`${service.url}/healthz`)).status, 200, `${service.process.options.name} /healthz`);
  }
}

let goodSerial = 0;
function goodTrade(company: string, id = `good-${process.pid}-${goodSerial++}`) {
  return {
    company,
    eventType: goodSerial % 2 === 0 ? 'buy' : 'sell',
    price: 100 + (goodSerial % 97) / 4,
    quantity: 1 + (goodSerial % 5),
    id,
    ts: Date.now(),
  };
}

// Every kind of bad message, with the reason the consumer must give it.
const mib = 1024 * 1024;
const badKinds: Array<{ name: string; body: string | Buffer; reason: RegExp }> = [
  { name: 'not JSON', body: 'this is not json {', reason: /^not JSON/ },
  { name: 'empty body', body: '', reason: /^not JSON/ },
  { name: 'binary garbage', body: Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x7b]), reason: /^not JSON/ },
  { name: 'JSON array', body: '[1,2,3]', reason: /^invalid trade/ },
  { name: 'JSON null', body: 'null', reason: /^invalid trade/ },
  { name: 'JSON string', body: '"AAPL buy 12"', reason: /^invalid trade/ },
  { name: 'missing price', body: '{"company":"AAPL","eventType":"buy"}', reason: /^invalid trade: price/ },
  { name: 'price as string', body: '{"company":"AAPL","eventType":"buy","price":"12.5"}', reason: /price/ },
  { name: 'company as number', body: '{"company":42,"eventType":"buy","price":12.5}', reason: /company/ },
  { name: 'eventType as number', body: '{"company":"AAPL","eventType":1,"price":12.5}', reason: /eventType/ },
  {
    name: 'quantity fractional',
    body: '{"company":"AAPL","eventType":"buy","price":1,"quantity":1.5}',
    reason: /quantity/,
  },
  { name: 'NaN literal', body: '{"company":"AAPL","eventType":"buy","price":NaN}', reason: /^not JSON/ },
  { name: 'Infinity literal', body: '{"company":"AAPL","eventType":"buy","price":Infinity}', reason: /^not JSON/ },
  { name: '-Infinity literal', body: '{"company":"AAPL","eventType":"sell","price":-Infinity}', reason: /^not JSON/ },
  { name: '1e999 (parses to Infinity)', body: '{"company":"AAPL","eventType":"buy","price":1e999}', reason: /price/ },
  { name: 'price above 1e9', body: '{"company":"AAPL","eventType":"buy","price":1e300}', reason: /price: above/ },
  { name: 'negative price', body: '{"company":"AAPL","eventType":"buy","price":-5}', reason: /price/ },
  { name: 'zero price', body: '{"company":"AAPL","eventType":"buy","price":0}', reason: /price/ },
  { name: 'unknown eventType', body: '{"company":"AAPL","eventType":"hold","price":12.5}', reason: /eventType/ },
  { name: 'empty company', body: '{"company":"","eventType":"buy","price":12.5}', reason: /company/ },
  {
    name: 'very long company (10,000 chars)',
    body: JSON.stringify({ company: 'A'.repeat(10_000), eventType: 'buy', price: 12.5 }),
    reason: /company/,
  },
  { name: 'lower-case company', body: '{"company":"aapl","eventType":"buy","price":12.5}', reason: /company/ },
  { name: 'unknown company', body: '{"company":"NOPE","eventType":"buy","price":12.5}', reason: /^unknown company/ },
  { name: 'company of another queue', body: '{"company":"MSFT","eventType":"buy","price":12.5}', reason: /belong/ },
  { name: 'id with $ and .', body: '{"company":"AAPL","eventType":"buy","price":1,"id":"a.$b"}', reason: /id/ },
  { name: 'ts not a time', body: '{"company":"AAPL","eventType":"buy","price":1,"ts":1e300}', reason: /ts/ },
  { name: '1 MiB body', body: JSON.stringify({ ...goodTrade('AAPL'), pad: 'x'.repeat(mib) }), reason: /^oversized/ },
  { name: '8 MiB body', body: Buffer.alloc(8 * mib, 0x7b), reason: /^oversized/ },
];

test('every kind of bad message is dead-lettered with its reason; good ones flow and count once', async (t) => {
  const pidsBefore = pids();
  await drainQueue(stack.rabbitmq, DEAD_LETTER_QUEUE);
  const goodIds = new Set<string>();
  // Each kind alone, tagged, between two good trades.
  for (const kind of badKinds) {
    const before = goodTrade('AAPL');
    const afterTrade = goodTrade('AAPL');
    goodIds.add(before.id).add(afterTrade.id);
    await publishRaw(stack.rabbitmq, 'AAPL', [before], {});
    await publishRaw(stack.rabbitmq, 'AAPL', [kind.body], { headers: { 'x-test-kind': kind.name } });
    await publishRaw(stack.rabbitmq, 'AAPL', [afterTrade], {});
  }
  // Duplicate ids: the same 200 trades three times over (a publisher republishing), in every queue.
  const duplicates = COMPANIES.flatMap((company) => Array.from({ length: 200 }, () => goodTrade(company)));
  for (const trade of duplicates) goodIds.add(trade.id);
  for (let round = 0; round < 3; round++) {
    for (const company of COMPANIES) {
      await publishRaw(
        stack.rabbitmq,
        company,
        duplicates.filter((trade) => trade.company === company),
      );
    }
  }
  // A burst of 10,000 bad messages with 2,000 good ones among them, over the three queues.
  const burstStarted = Date.now();
  const burstBad = 10_000;
  let burstGood = 0;
  for (const [index, company] of COMPANIES.entries()) {
    const bodies: (string | Buffer | object)[] = [];
    // 3,334 + 3,333 + 3,333 = 10,000
    const share = Math.floor(burstBad / COMPANIES.length) + (index < burstBad % COMPANIES.length ? 1 : 0);
    for (let i = 0; i < share; i++) {
      const kind = badKinds[i % 20] as (typeof badKinds)[number]; // the small kinds, invalid in any queue
      bodies.push(typeof kind.body === 'string' ? kind.body.replace('AAPL', company) : kind.body);
      if (i % 5 === 0) {
        const trade = goodTrade(company);
        goodIds.add(trade.id);
        bodies.push(trade);
        burstGood++;
      }
    }
    await publishRaw(stack.rabbitmq, company, bodies, { headers: { 'x-test-kind': 'burst' } });
  }
  const expectedDeadLetters = badKinds.length + burstBad;
  await waitFor(
    `${expectedDeadLetters} dead letters`,
    async () => (await queueDepth(stack.rabbitmq, DEAD_LETTER_QUEUE)) >= expectedDeadLetters,
    { timeoutMs: 180_000, intervalMs: 500 },
  );
  const state = await waitFor(
    'every good trade stored',
    async () => {
      const stored = await readStoredState(stack.mongo.url);
      return [...goodIds].every((id) => stored.idCounts.has(id)) ? stored : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
  const burstMs = Date.now() - burstStarted;
  const parked = await drainQueue(stack.rabbitmq, DEAD_LETTER_QUEUE);
  assert.equal(parked.length, expectedDeadLetters, 'one dead letter per bad message, no more');
  const reasons = new Map<string, string>();
  for (const message of parked) {
    const headers = message.properties.headers ?? {};
    const reason = String(headers['x-stockmarket-reason'] ?? '');
    assert.ok(reason.length > 0, 'every dead letter carries its reason');
    const kind = String(headers['x-test-kind'] ?? '');
    if (kind !== 'burst') reasons.set(kind, reason);
  }
  for (const kind of badKinds) {
    const reason = reasons.get(kind.name);
    assert.ok(reason !== undefined, `${kind.name}: dead-lettered`);
    assert.match(reason, kind.reason, `${kind.name}: reason`);
    recordScenario(`bad-message: ${kind.name}`, {
      kind: 'bad input',
      what: `queue AAPL: ${kind.name} (${typeof kind.body === 'string' ? Buffer.byteLength(kind.body) : kind.body.length} bytes)`,
      outcome: `dead-lettered: "${reason.slice(0, 100)}"`,
      figures: { published: 1, deadLettered: 1, lost: 0 },
    });
  }
  const stored = [...state.idCounts.keys()];
  const countedTwice =
    [...state.idCounts.values()].reduce((sum, count) => sum + count - 1, 0) + (state.sum1s - state.idCounts.size);
  const unknown = stored.filter((id) => !goodIds.has(id)).length;
  recordScenario('bad-message: duplicate ids', {
    kind: 'bad input',
    what: '600 good trades (200 per queue), each published 3 times with the same id',
    outcome: 'each stored and counted once, no dead letter',
    figures: { published: 1_800, distinct: 600, aggregatedOnce: 600, countedTwice },
  });
  recordScenario('bad-message: burst of 10,000', {
    kind: 'bad input',
    what: `10,000 bad messages (20 kinds) with ${burstGood} good ones among them, over the 3 queues`,
    outcome: 'every bad one dead-lettered with its reason, every good one stored once, consumer alive',
    figures: {
      published: burstBad + burstGood,
      deadLettered: burstBad,
      aggregated: burstGood,
      lost: [...goodIds].filter((id) => !state.idCounts.has(id)).length,
      countedTwice,
      allDoneMs: burstMs,
    },
  });
  t.diagnostic(`dead letters ${parked.length}, good ${goodIds.size}, burst done in ${burstMs} ms`);
  assert.deepEqual(state.problems, []);
  assert.equal(unknown, 0, 'nothing stored but the good trades');
  assert.equal(state.idCounts.size, goodIds.size, 'every good trade stored');
  assert.equal(countedTwice, 0, 'duplicates counted once');
  assert.equal(state.sum1m, state.sum1s);
  assert.equal(await stack.consumers[0]?.metric('consumer_dead_lettered_total'), expectedDeadLetters);
  assert.ok(((await stack.consumers[0]?.metric('consumer_duplicates_dropped_total')) ?? 0) >= 1_200);
  assert.deepEqual(pids(), pidsBefore, 'no service restarted');
  await allHealthy();
});

/** A stack trace or an internal path in a response body. */
const leaks = (body: string) => /\bat [\w.<>]+ \(|\.(?:js|ts):\d+|node_modules|\/work\/|Error: /.test(body);

test('malformed HTTP requests through NGINX: clear 4xx answers, no stack traces, no crash', async (t) => {
  const pidsBefore = pids();
  const long = 'A'.repeat(9_000);
  const cases: Array<{ name: string; path: string; init?: RequestInit; status: number | RegExp }> = [
    { name: 'lower-case company', path: '/api/candles?company=aapl', status: 400 },
    { name: 'unknown company', path: '/api/candles?company=ZZZZ', status: 404 },
    { name: 'limit not a number', path: '/api/candles?company=AAPL&limit=abc', status: 400 },
    { name: 'negative limit', path: '/api/candles?company=AAPL&limit=-1', status: 400 },
    { name: 'huge limit', path: '/api/candles?company=AAPL&limit=1e308', status: 400 },
    { name: 'unknown interval', path: '/api/candles?company=AAPL&interval=5m', status: 400 },
    { name: 'repeated parameter (array)', path: '/api/candles?company=AAPL&company=MSFT', status: 400 },
    { name: 'bracket (object) parameter', path: '/api/candles?company[$ne]=x', status: 400 },
    { name: 'unknown parameter', path: '/api/stocks?drop=1', status: 400 },
    { name: 'bad percent-encoding', path: '/api/candles?company=%zz%', status: 400 },
    { name: 'NUL byte', path: '/api/candles?company=AA%00PL', status: 400 },
    { name: 'path traversal', path: '/..%2f..%2fetc%2fpasswd', status: /^4\d\d$/ },
    { name: 'unknown path', path: '/api/nothing', status: 404 },
    { name: 'request line over 8 KiB', path: `/api/candles?company=${long}`, status: 414 },
    {
      name: 'header over 8 KiB',
      path: '/api/info',
      init: { headers: { 'x-big': 'b'.repeat(9_000) } },
      status: 400,
    },
    { name: 'POST', path: '/api/stocks', init: { method: 'POST', body: '{}' }, status: 405 },
    {
      name: 'body over 16 KiB',
      path: '/api/stocks',
      init: { method: 'POST', body: 'x'.repeat(32 * 1024) },
      status: 413,
    },
    { name: 'DELETE', path: '/', init: { method: 'DELETE' }, status: 405 },
    { name: 'socket.io: unknown protocol version', path: '/socket.io/?EIO=9&transport=polling', status: 400 },
    { name: 'socket.io: unknown transport', path: '/socket.io/?EIO=4&transport=carrier-pigeon', status: 400 },
    { name: 'socket.io: unknown session', path: '/socket.io/?EIO=4&transport=polling&sid=nope', status: 400 },
    {
      name: 'socket.io: foreign origin',
      path: '/socket.io/?EIO=4&transport=polling',
      init: { headers: { origin: 'https://evil.example' } },
      status: 403,
    },
  ];
  const results: string[] = [];
  for (const item of cases) {
    const response = await fetch(`${stack.url}${item.path}`, item.init);
    const body = await response.text();
    const statusOk =
      typeof item.status === 'number' ? response.status === item.status : item.status.test(String(response.status));
    results.push(`${item.name}: ${response.status}`);
    recordScenario(`http: ${item.name}`, {
      kind: 'bad input',
      what: `${item.init?.method ?? 'GET'} ${item.path.slice(0, 60)}${item.path.length > 60 ? '…' : ''}`,
      outcome: `${response.status} ${body.slice(0, 80).replace(/\s+/g, ' ')}`,
    });
    assert.ok(statusOk, `${item.name}: status ${response.status}, wanted ${item.status}: ${body.slice(0, 200)}`);
    assert.ok(!leaks(body), `${item.name}: no stack trace or path in the answer: ${body.slice(0, 300)}`);
  }
  t.diagnostic(results.join('; '));
  assert.deepEqual(pids(), pidsBefore, 'no replica restarted');
  await allHealthy();
});

/** Whether each socket got its snapshot: listened for from the start, so no snapshot is missed. */
const openings = new WeakMap<Socket, Promise<boolean>>();

function connect(extra: Record<string, unknown> = {}): Socket {
  const socket = io(stack.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: 10_000,
    ...extra,
  });
  openings.set(
    socket,
    new Promise((resolve) => {
      const deadline = setTimeout(() => resolve(false), 15_000);
      const settle = (ok: boolean) => {
        clearTimeout(deadline);
        resolve(ok);
      };
      socket.once('snapshot', () => settle(true));
      socket.once('connect_error', () => settle(false));
      socket.once('disconnect', () => settle(false));
    }),
  );
  return socket;
}

/** True once the socket's snapshot came; false on a refused or dropped connection, or after 15 s. */
function opened(socket: Socket): Promise<boolean> {
  return openings.get(socket) ?? Promise.resolve(false);
}

test('socket.io: unknown events and oversized frames hurt only the sender', async () => {
  const pidsBefore = pids();
  const bystander = connect();
  const rude = connect();
  try {
    assert.ok(await opened(bystander));
    assert.ok(await opened(rude));
    // Unknown events, events named like the server's, odd payloads: ignored.
    for (const event of ['hack', 'update', 'snapshot', '__proto__', 'constructor', 'x'.repeat(1_000)]) {
      rude.emit(event, { $where: 'sleep(1000)' }, [1, 2, 3], 'text');
    }
    const ping = await fetch(`${stack.url}/api/info`);
    assert.equal(ping.status, 200);
    assert.ok(rude.connected, 'unknown events do not disconnect');
    // A frame over the 16 KiB limit closes that socket only.
    const closed = new Promise<string>((resolve) => rude.once('disconnect', (reason) => resolve(reason)));
    rude.emit('hack', 'x'.repeat(64 * 1024));
    const reason = await Promise.race([
      closed,
      waitFor('the oversized sender to be disconnected', () => false, { timeoutMs: 15_000 }).then(() => 'open'),
    ]);
    assert.notEqual(reason, 'open', 'the oversized frame closed its socket');
    assert.ok(bystander.connected, 'other clients stay connected');
    recordScenario('socket.io: unknown events and a 64 KiB frame', {
      kind: 'bad input',
      what: 'events hack, update, snapshot, `__proto__`, a 1,000-char name with odd payloads; then a 64 KiB frame',
      outcome: `unknown events ignored (socket stays open); the 64 KiB frame closes that socket (${reason}); others unaffected`,
    });
  } finally {
    bystander.close();
    rude.close();
  }
  assert.deepEqual(pids(), pidsBefore);
  await allHealthy();
});

test('many connections and requests from one address: NGINX refuses above its limits, no crash', async (t) => {
  const pidsBefore = pids();
  const sockets: Socket[] = [];
  let accepted = 0;
  let refused = 0;
  try {
    for (let wave = 0; wave < 6; wave++) {
      const batch = Array.from({ length: 50 }, () => connect());
      sockets.push(...batch);
      for (const ok of await Promise.all(batch.map(opened))) ok ? accepted++ : refused++;
    }
    t.diagnostic(`300 WebSockets from one address: ${accepted} accepted, ${refused} refused`);
    assert.ok(accepted <= 256, `at most 256 connections per address (${accepted})`);
    assert.ok(refused >= 300 - 256, `the rest refused (${refused})`);
  } finally {
    for (const socket of sockets) socket.close();
  }
  // Once the crowd is gone, a new client is served again.
  await waitFor(
    'a new connection to be accepted again',
    async () => {
      const socket = connect();
      const ok = await opened(socket);
      socket.close();
      return ok;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  // Requests over 50/s (burst 100) from one address: 429.
  const statuses = await Promise.all(
    Array.from({ length: 200 }, () => fetch(`${stack.url}/api/info`).then((response) => response.status)),
  );
  const limited = statuses.filter((status) => status === 429).length;
  const served = statuses.filter((status) => status === 200).length;
  t.diagnostic(`200 parallel requests: ${served} served, ${limited} answered 429`);
  assert.ok(limited > 0, 'some requests rate-limited');
  assert.ok(served >= 50, 'the burst allowance is served');
  assert.equal(served + limited, 200, 'every request answered 200 or 429');
  recordScenario('http: 300 WebSockets and 200 parallel requests from one address', {
    kind: 'bad input',
    what: '300 socket.io WebSocket connections from 127.0.0.1, then (after closing them) 200 parallel GET /api/info',
    outcome: `${accepted} connections accepted, ${refused} refused (limit_conn perip 256 -> 429); ${served} requests served, ${limited} answered 429`,
    figures: { accepted, refused, served, limited },
  });
  assert.deepEqual(pids(), pidsBefore);
  await allHealthy();
});

/** Opens a channel as `user` and runs `attempt`; resolves with the broker's refusal, or 'allowed'. */
async function asUser(
  user: 'publisher' | 'consumer' | 'liveview',
  attempt: (channel: amqp.ConfirmChannel) => Promise<unknown>,
): Promise<string> {
  const connection = await amqp.connect(stack.rabbitmq.url(user));
  connection.on('error', () => {});
  try {
    const channel = await connection.createConfirmChannel();
    const closed = new Promise<string>((resolve) => {
      channel.on('error', (error: Error) => resolve(error.message));
      channel.on('close', () => resolve('closed'));
    });
    const outcome = attempt(channel).then(
      () => 'allowed',
      (error: Error) => error.message,
    );
    const result = await Promise.race([closed, outcome]);
    // A publish is refused asynchronously: give the channel error its chance to arrive.
    if (result === 'allowed') {
      return await Promise.race([
        closed,
        channel.checkQueue('AAPL').then(
          () => 'allowed',
          (error: Error) => error.message,
        ),
      ]);
    }
    return result;
  } finally {
    await connection.close().catch(() => {});
  }
}

test('broker users: no guest, and each service user has only the permissions it needs', async () => {
  const definitions = JSON.parse(readFileSync(join(repoRoot, 'rabbitmq', 'definitions.json'), 'utf8')) as {
    users: { name: string }[];
  };
  assert.ok(!definitions.users.some((user) => user.name === 'guest'), 'no guest user in definitions.json');
  const compose = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
  assert.ok(!/guest/i.test(compose), 'no guest in docker-compose.yml');
  assert.ok(!/RABBITMQ_DEFAULT_(USER|PASS)/.test(compose), 'no default broker user in compose');
  // The real broker: guest/guest is refused.
  const guest = await amqp
    .connect(`amqp://guest:guest@127.0.0.1:${stack.rabbitmq.port}/stockmarket`)
    .then(async (connection) => {
      await connection.close();
      return 'allowed';
    })
    .catch((error: Error) => error.message);
  assert.match(guest, /ACCESS_REFUSED|403|refused|auth/i, 'guest cannot log in');
  const checks: Array<
    [string, 'publisher' | 'consumer' | 'liveview', (channel: amqp.ConfirmChannel) => Promise<unknown>, boolean]
  > = [
    ['publisher consumes AAPL', 'publisher', (channel) => channel.consume('AAPL', () => {}), false],
    ['publisher gets from AAPL', 'publisher', (channel) => channel.get('AAPL'), false],
    ['publisher reads the dead letters', 'publisher', (channel) => channel.get(DEAD_LETTER_QUEUE), false],
    [
      'publisher writes to the dead-letter exchange',
      'publisher',
      async (channel) => {
        channel.publish('stockmarket.dlx', '', Buffer.from('{}'));
        await channel.waitForConfirms();
      },
      false,
    ],
    ['publisher deletes a queue', 'publisher', (channel) => channel.deleteQueue(DEAD_LETTER_QUEUE), false],
    [
      'publisher publishes a trade',
      'publisher',
      async (channel) => {
        channel.publish('', 'TSLA', Buffer.from('{"company":"TSLA","eventType":"buy","price":1,"id":"perm-check"}'));
        await channel.waitForConfirms();
      },
      true,
    ],
    [
      'consumer publishes into a company queue',
      'consumer',
      async (channel) => {
        channel.publish('', 'AAPL', Buffer.from('{}'));
        await channel.waitForConfirms();
      },
      false,
    ],
    ['consumer declares an exchange', 'consumer', (channel) => channel.assertExchange('evil', 'fanout'), false],
    [
      // The lease tokens' exchange (consumer/src/leases.ts; a spare token at most is kept per queue).
      'consumer publishes a lease token',
      'consumer',
      async (channel) => {
        channel.publish('stockmarket.lease.tokens', 'AAPL', Buffer.from('AAPL'));
        await channel.waitForConfirms();
      },
      true,
    ],
    ['consumer reads a company queue', 'consumer', (channel) => channel.get('MSFT'), true],
    ['liveview reads a company queue', 'liveview', (channel) => channel.get('MSFT'), false],
    [
      'liveview publishes a write notice',
      'liveview',
      async (channel) => {
        channel.publish(WRITE_NOTICE_EXCHANGE, '', Buffer.from('{}'));
        await channel.waitForConfirms();
      },
      false,
    ],
    [
      'liveview follows the write notices',
      'liveview',
      async (channel) => {
        const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
        await channel.bindQueue(queue, WRITE_NOTICE_EXCHANGE, '');
        await channel.consume(queue, () => {}, { noAck: true });
      },
      true,
    ],
  ];
  const outcomes: string[] = [];
  for (const [name, user, attempt, allowed] of checks) {
    const result = await asUser(user, attempt);
    outcomes.push(`${name}: ${result === 'allowed' ? 'allowed' : 'refused'}`);
    if (allowed) assert.equal(result, 'allowed', `${name} must be allowed: ${result}`);
    else assert.match(result, /ACCESS_REFUSED|403/, `${name} must be refused: ${result}`);
  }
  recordScenario('security: broker users and permissions', {
    kind: 'security',
    what: 'guest login; each service user tried against the real broker',
    outcome: `guest refused; ${outcomes.join('; ')}`,
  });
});

test('compose publishes only NGINX; MongoDB users are least-privilege; page headers and NGINX limits', async () => {
  const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { ports?: (string | { host_ip?: string })[] }>;
  };
  const published: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    for (const port of service.ports ?? []) {
      const text = typeof port === 'string' ? port : JSON.stringify(port);
      const loopbackOnly = typeof port === 'string' ? port.startsWith('127.0.0.1:') : port.host_ip === '127.0.0.1';
      published.push(`${name}: ${text}`);
      if (name !== 'nginx') assert.ok(loopbackOnly, `${name} publishes ${text} beyond the loopback interface`);
    }
  }
  assert.ok(
    published.some((entry) => entry.startsWith('nginx:')),
    'NGINX is published',
  );
  const setup = readFileSync(join(repoRoot, 'mongo-init', 'setup.cjs'), 'utf8');
  assert.match(setup, /role: 'readWrite', db: dbName/, 'consumer: readWrite on the one database');
  // The liveview reads its database, plus the read-only clusterMonitor role for the System view's
  // replica-set status (replSetGetStatus), and nothing else.
  assert.match(
    setup,
    /liveview\.pwd,\s*roles: \[\s*\{ role: 'read', db: dbName \},\s*\{ role: 'clusterMonitor', db: 'admin' \},?\s*\]/,
    'liveview: read only (and clusterMonitor)',
  );
  const response = await fetch(`${stack.url}/`);
  assert.equal(response.status, 200);
  const csp = response.headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) {
    assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
  }
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(response.headers.get('x-frame-options'), 'x-frame-options');
  assert.ok(response.headers.get('referrer-policy'), 'referrer-policy');
  assert.equal(response.headers.get('x-powered-by'), null, 'no x-powered-by');
  assert.equal(response.headers.get('server'), 'nginx', 'no version in the server header');
  const locations = readFileSync(join(repoRoot, 'nginx', 'locations.conf'), 'utf8');
  for (const limit of ['client_max_body_size 16k', 'limit_conn perip 256', 'limit_req zone=api', 'server_tokens off']) {
    assert.ok(locations.includes(limit), `nginx/locations.conf has ${limit}`);
  }
  recordScenario('security: compose ports, MongoDB roles, headers, NGINX limits', {
    kind: 'security',
    what: 'docker-compose.yml ports, mongo-init roles, headers of GET / through NGINX, nginx/locations.conf',
    outcome: `published: ${published.join(', ')}; consumer readWrite, liveview read; CSP, nosniff, frame and referrer headers, no x-powered-by, server "nginx"; body 16k, 256 conns/address, 50 r/s`,
  });
});

test('no secret in any log, also when a service is given a wrong password', async () => {
  const wrong = 'wrong-secret-4711';
  const url = stack.rabbitmq.url('consumer').replace(stack.rabbitmq.password('consumer'), wrong);
  const refused = await ServiceProcess.start('consumer', stack.consumerEnv({ RABBITMQ_URL: url, LOG_LEVEL: 'debug' }), {
    waitReady: false,
    label: 'consumer-wrong-password',
  });
  extraServices.push(refused);
  const publisher = await ServiceProcess.start(
    'publisher',
    { RABBITMQ_URL: stack.rabbitmq.url('publisher'), LOG_LEVEL: 'debug', PUBLISHER_MAX_TRADES: '30' },
    { label: 'publisher-debug' },
  );
  extraServices.push(publisher);
  // The consumer reaches for the broker once its database answers; whatever holds it up is named
  // in the failure (its own output), and an exit fails at once instead of at the deadline.
  const outcome = await waitFor(
    'the refused consumer to log its retry',
    () => {
      if (refused.process.output.includes('RabbitMQ unavailable')) return 'retrying';
      if (!refused.process.running) return 'exited';
      throw new Error(`its output so far:\n${refused.process.output.slice(-3_000)}`);
    },
    { timeoutMs: 60_000 },
  );
  assert.equal(outcome, 'retrying', `the consumer exited:\n${refused.process.output.slice(-3_000)}`);
  await refused.stop();
  await publisher.stop();
  const services = [...stack.consumers, ...stack.liveviews, ...extraServices];
  const found = secretsInLogs(stack, services);
  if (refused.process.output.includes(wrong)) found.push(`consumer-wrong-password: ${wrong}`);
  recordScenario('security: no secrets in logs', {
    kind: 'security',
    what: `grep of every service output of this run (incl. LOG_LEVEL=debug, a failed login) for this run's ${stackPasswords(stack).length} random broker passwords and the wrong password`,
    outcome: found.length === 0 ? 'none found' : `FOUND: ${found.join(', ')}`,
  });
  assert.deepEqual(found, []);
});
