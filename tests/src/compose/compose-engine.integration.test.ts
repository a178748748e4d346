// docker-compose.yml, unchanged, on a real Docker engine (dockerd on a private socket,
// scripts/docker-engine.sh), with local stand-ins for the official images
// (scripts/stand-in-images.sh) and FerretDB for MongoDB (deploy/compose-engine/
// docker-compose.ferretdb.yml, the only override). One project for the whole file, each test a
// step that builds on the one before: up from nothing, a real browser, scale-out, kills with
// their recovery times, down/up, no password anywhere it could be seen, rotated broker
// passwords, the monitoring profile, down -v.
// Every figure is printed as `compose: ...` (docs/deployment.md keeps the reference run).
//
// Part of `npm test`; STOCKMARKET_COMPOSE_TESTS=false leaves it out. Needs root (dockerd).
// Engine, containers and the host's network settings are cleaned up in `after`, also when a
// step fails.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_COMPANIES, DEFAULT_DATABASE } from '@stockmarket/common';
import { freePort, launchBrowser, repoRoot, stackConfig } from '@stockmarket/stack';
import type { Browser, Page } from 'playwright-core';
import { ComposeProject, type ContainerState, DockerEngine } from './compose-project.js';

const skip = stackConfig.STOCKMARKET_COMPOSE_TESTS ? false : 'STOCKMARKET_COMPOSE_TESTS=false';

const FILES = [
  'docker-compose.yml',
  'deploy/compose-engine/docker-compose.ferretdb.yml',
  // npm ci in our Dockerfiles trusts this machine's CA store (TLS to the registry is intercepted).
  'deploy/compose-engine/docker-compose.build-ca.yml',
];
const ONE_SHOTS = new Set([
  'secrets',
  'rabbitmq-definitions',
  'rabbitmq-cookie',
  'rabbitmq-cluster',
  'mongo-keyfile',
  'mongo-init',
]);
const COMPANIES = [...DEFAULT_COMPANIES];
/** drill/src/compose/scenarios.ts, every one of them (`all`). */
const DRILL_SCENARIOS = [
  'broker-leader-kill',
  'broker-stop',
  'broker-pause',
  'broker-partition',
  'consumer-kill',
  'liveview-kill',
  'mongo-primary-kill',
  'nginx-reload',
];
const SETTLE_MS = 300_000;
/** After a fault: the services have been up, only the faulty one comes back. */
const RESETTLE_MS = 180_000;

const figures: string[] = [];
function report(line: string): void {
  figures.push(line);
  console.log(`compose: ${line}`);
}
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

let engine: DockerEngine | undefined;
let project: ComposeProject;
let browser: Browser | undefined;
let page: Page | undefined;
let nginxUrl = '';
/**
 * Per publisher container (recreated by `down`/`up` and by a changed setting): the trades it
 * reported confirmed at each of its graceful stops, summed. Its counter restarts with the
 * process, and its logs go with the container, so they are read before it is removed.
 */
const confirmedByContainer = new Map<string, number>();
const confirmedTotal = () => [...confirmedByContainer.values()].reduce((sum, n) => sum + n, 0);

/** The replica number (`--index`) of a running container of a service. */
async function runningIndex(service: string): Promise<number> {
  const running = (await project.containers()).filter((c) => c.Service === service && c.State === 'running');
  const name = running[0]?.Name;
  if (!name) throw new Error(`no running ${service} container`);
  return Number(name.slice(name.lastIndexOf('-') + 1));
}

/** Trades stored, per company: the sum of `trades` over the 1 m candles (read inside a consumer). */
async function stored(beforeStart = Number.MAX_SAFE_INTEGER): Promise<Record<string, number>> {
  const script = `
    const { MongoClient } = require('mongodb');
    const client = new MongoClient(process.env.MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
    client.db(process.env.MONGODB_DB || ${JSON.stringify(DEFAULT_DATABASE)}).collection('candles')
      .aggregate([{ $match: { interval: '1m', start: { $lt: ${beforeStart} } } }, { $group: { _id: '$company', n: { $sum: '$trades' } } }])
      .toArray()
      .then((rows) => { process.stdout.write(JSON.stringify(rows)); return client.close(); });`;
  const rows = JSON.parse(await project.node('consumer', script, await runningIndex('consumer'))) as {
    _id: string;
    n: number;
  }[];
  return Object.fromEntries(rows.map((row) => [row._id, row.n]));
}
const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);

/**
 * Stops the publisher gracefully (it drains its confirms and logs how many it had) and records
 * what every run of its container reported; a run that stopped with unconfirmed trades fails.
 */
async function stopPublisher(): Promise<void> {
  await project.compose(['stop', 'publisher']);
  const id = (await project.compose(['ps', '-a', '-q', 'publisher'])).stdout.trim();
  if (!id || !engine) return;
  const logs = await engine.docker(['logs', id]);
  let confirmed = 0;
  for (const line of `${logs.stdout}\n${logs.stderr}`.split('\n')) {
    if (!line.includes('"all trades confirmed"') && !line.includes('"stopping with unconfirmed trades"')) continue;
    const final = JSON.parse(line) as { confirmed: number; unconfirmed: number };
    assert.equal(final.unconfirmed, 0, `the publisher stopped with unconfirmed trades: ${line}`);
    confirmed += final.confirmed;
  }
  confirmedByContainer.set(id, confirmed);
}

/**
 * Stops the publisher, waits until the database holds exactly every trade ever confirmed, and
 * starts it again.
 */
async function publishedEqualsStored(after: string): Promise<void> {
  await stopPublisher();
  const published = confirmedTotal();
  let last = -1;
  try {
    await project.wait(
      `stored = ${published} confirmed`,
      async () => {
        last = total(await stored());
        return last === published;
      },
      60_000,
    );
  } catch (error) {
    throw new Error(`after ${after}: published ${published}, stored ${last}: ${(error as Error).message}`);
  }
  report(`published = stored after ${after}: ${published} = ${last}`);
  // Started again; the next step goes on once trades flow into the database again (sooner
  // than the publisher's first health check, 10 s after its start).
  const base = await stored();
  await project.compose(['start', 'publisher']);
  await storingAgain('trades stored again after the publisher restarted', base, Date.now(), 10);
}

/** Time from `from` until every company's stored count has grown by `by` beyond `base`. */
async function storingAgain(what: string, base: Record<string, number>, from: number, by = 20): Promise<number> {
  await project.wait(
    what,
    async () => {
      const now = await stored();
      return COMPANIES.every((company) => (now[company] ?? 0) >= (base[company] ?? 0) + by);
    },
    120_000,
  );
  return Date.now() - from;
}

/** What the page's watchlist shows: each tile's price and last trade time. */
async function tiles(): Promise<string> {
  return (
    (await page?.$$eval('#tiles li[data-company]', (items) =>
      items
        .map(
          (item) =>
            `${item.getAttribute('data-company')} ${item.querySelector('[data-field="price"]')?.textContent ?? ''} ${item.querySelector('[data-field="time"]')?.textContent ?? ''}`,
        )
        .join(' | '),
    )) ?? ''
  );
}
const hasPrices = (shown: string) => /\d/.test(shown.replace(/[A-Z]{2,5} /g, ''));

async function container(name: string): Promise<ContainerState> {
  const found = (await project.containers()).find((c) => c.Name === name);
  assert.ok(found, `container ${name}`);
  return found;
}

describe('docker-compose.yml on a real Docker engine', { skip }, () => {
  before(async () => {
    engine = await DockerEngine.start();
    // The engine is private to this suite: anything left by an earlier run that died goes first
    // (a container with restart: unless-stopped would otherwise come back with the daemon).
    const leftover = (await engine.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (leftover.length > 0) await engine.docker(['rm', '-f', '-v', ...leftover]);
    await engine.docker(['network', 'prune', '-f']);
    await engine.docker(['volume', 'prune', '-f']);
    const nginxPort = await freePort();
    nginxUrl = `http://127.0.0.1:${nginxPort}`;
    project = new ComposeProject(engine, `stockmarket-compose-${process.pid}`, FILES, {
      NGINX_PORT: String(nginxPort),
      RABBITMQ_MANAGEMENT_PORT: String(await freePort()),
      PROMETHEUS_PORT: String(await freePort()),
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    try {
      if (engine && project) {
        await project.compose(['--profile', 'monitoring', 'down', '-v', '--remove-orphans', '--timeout', '5'], {
          check: false,
        });
      }
    } finally {
      await DockerEngine.stop();
      console.log(`compose: figures\n  ${figures.join('\n  ')}`);
    }
  });

  test('up -d --build from nothing: every one-shot exits 0 and every service is healthy', async () => {
    const started = Date.now();
    const up = await project.compose(['up', '-d', '--build'], { check: false, timeoutMs: 900_000 });
    // A one-shot that fails makes `up` fail too: the wait names it and shows its logs.
    await project.waitSettled(ONE_SHOTS, SETTLE_MS).catch((error: Error) => {
      throw new Error(`${error.message}\n--- docker compose up:\n${up.stderr.slice(-4000)}`);
    });
    assert.equal(up.code, 0, `docker compose up -d --build exited ${up.code}\n${up.stderr.slice(-4000)}`);
    const containers = await project.containers();
    const count = (service: string) => containers.filter((c) => c.Service === service).length;
    for (const [service, replicas] of Object.entries({
      publisher: 1,
      consumer: 3,
      liveview: 2,
      nginx: 1,
      rabbitmq1: 1,
      rabbitmq2: 1,
      rabbitmq3: 1,
      mongo1: 1,
    })) {
      assert.equal(count(service), replicas, `${service} replicas`);
    }
    report(`time to healthy from nothing (build included): ${seconds(Date.now() - started)}`);
  });

  test('a real Chromium through NGINX sees prices move', async () => {
    browser = await launchBrowser();
    page = await browser.newPage();
    const opened = Date.now();
    await page.goto(nginxUrl);
    const first = await project.wait(
      'a first price on the page',
      async () => {
        const shown = await tiles();
        return hasPrices(shown) ? shown : undefined;
      },
      60_000,
    );
    report(`first price on the page: ${seconds(Date.now() - opened)} after opening it`);
    await project.wait('the prices to move', async () => (await tiles()) !== first, 30_000);
    const replica = (await page.textContent('#replica')) ?? '';
    assert.match(replica, /^[0-9a-f]{12}$/, 'the page names the replica (its container) that serves it');
  });

  test("the liveview's /metrics, /healthz and /readyz are not reachable on NGINX's port", async () => {
    for (const path of ['/metrics', '/healthz', '/readyz']) {
      assert.equal((await fetch(`${nginxUrl}${path}`)).status, 404, path);
    }
    assert.equal((await fetch(`${nginxUrl}/api/info`)).status, 200);
  });

  test('docker compose scale liveview=3: NGINX serves the third replica without a restart', async () => {
    const nginx = (await project.containers()).find((c) => c.Service === 'nginx');
    assert.ok(nginx);
    const startedAt = async () =>
      (await engine?.docker(['inspect', '--format', '{{.State.StartedAt}}', nginx.Name]))?.stdout.trim();
    const nginxStarted = await startedAt();
    const before = new Set((await project.compose(['ps', '-q', 'liveview'])).stdout.split('\n').filter(Boolean));
    const scaled = Date.now();
    await project.compose(['scale', 'liveview=3']);
    const added = (await project.compose(['ps', '-q', 'liveview'])).stdout
      .split('\n')
      .find((id) => id && !before.has(id));
    assert.ok(added, 'a third liveview container');
    const name = added.slice(0, 12);
    // Without a cookie NGINX hashes a new browser id each time: any replica may answer.
    await project.wait(
      `the third replica (${name}) to serve a request through NGINX`,
      async () => (await fetch(`${nginxUrl}/api/info`)).headers.get('x-served-by') === name,
      120_000,
    );
    report(`scale-out picked up after ${seconds(Date.now() - scaled)} (from the scale command)`);
    assert.equal(await startedAt(), nginxStarted, 'NGINX was not restarted');
    await project.waitSettled(ONE_SHOTS, SETTLE_MS);
  });

  test('publisher and consumers: published = stored before any fault', async () => {
    await publishedEqualsStored('start-up');
  });

  test('docker compose kill of the broker node leading the queues: recovery and published = stored', async () => {
    const listed = await project.compose([
      'exec',
      '-T',
      'rabbitmq1',
      'rabbitmqctl',
      '-q',
      'list_queues',
      '--vhost',
      'stockmarket',
      'name',
      'leader',
      '--formatter',
      'json',
    ]);
    const leaders = JSON.parse(listed.stdout) as { name: string; leader: string }[];
    const leader = leaders.find((queue) => queue.name === 'AAPL')?.leader ?? '';
    const node = leader.replace(/^rabbit@/, '');
    assert.match(node, /^rabbitmq[123]$/, `AAPL's leader ${leader}`);
    const base = await stored();
    const killed = Date.now();
    await project.compose(['kill', node]);
    const recovery = await storingAgain(`every company stored again after killing ${node}`, base, killed);
    report(`kill of ${node} (leader of AAPL): stored again for every company after ${seconds(recovery)}`);
    // A killed container stays down under restart: unless-stopped (moby cancels the policy).
    assert.equal((await container(`${project.name}-${node}-1`)).State, 'exited');
    await project.compose(['start', node]);
    await project.waitSettled(ONE_SHOTS, RESETTLE_MS);
    await publishedEqualsStored(`the kill of ${node}`);
  });

  test('kill of a consumer holding a lease: another replica takes over, published = stored', async () => {
    let holder: { index: number; company: string } | undefined;
    for (const index of [1, 2, 3]) {
      const text = await project.node(
        'consumer',
        "fetch('http://127.0.0.1:8081/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))",
        index,
      );
      const match = /^consumer_lease_held\{company="([A-Z]+)"[^}]*\} 1$/m.exec(text);
      if (match?.[1]) {
        holder = { index, company: match[1] };
        break;
      }
    }
    assert.ok(holder, 'a consumer holding a lease');
    const name = `${project.name}-consumer-${holder.index}`;
    const base = await stored();
    const killed = Date.now();
    await engine?.docker(['kill', name]);
    const recovery = await storingAgain(`${holder.company} stored again after killing ${name}`, base, killed);
    report(`kill of consumer-${holder.index} (lease of ${holder.company}): stored again after ${seconds(recovery)}`);
    await engine?.docker(['start', name]);
    await project.waitSettled(ONE_SHOTS, RESETTLE_MS);
    await publishedEqualsStored(`the kill of consumer-${holder.index}`);
  });

  test('kill of the liveview serving the page: the page moves to another replica and updates again', async () => {
    assert.ok(page);
    const replica = (await page.textContent('#replica')) ?? '';
    const id = (await engine?.docker(['inspect', '--format', '{{.Id}}', ...(await liveviewNames())]))?.stdout
      .split('\n')
      .find((full) => full.startsWith(replica));
    assert.ok(id, `the container of replica ${replica}`);
    const killed = Date.now();
    await engine?.docker(['kill', id]);
    let seen = '';
    let onNewReplica: string | undefined;
    await project
      .wait(
        'the page on another replica, its prices moving again',
        async () => {
          const now = (await page?.textContent('#replica')) ?? '';
          const connection = (await page?.getAttribute('#connection', 'data-state')) ?? '';
          const shown = await tiles();
          seen = `replica ${now}, connection ${connection}, tiles ${shown}`;
          if (now === replica || !/^[0-9a-f]{12}$/.test(now) || connection !== 'connected') return false;
          onNewReplica ??= shown;
          return shown !== onNewReplica;
        },
        120_000,
      )
      .catch(async (error: Error) => {
        throw new Error(`${error.message}; the page: ${seen}\n${await project.logs('nginx', 40)}`);
      });
    report(
      `kill of the liveview serving the page: updating again from another replica after ${seconds(Date.now() - killed)}`,
    );
    await engine?.docker(['start', id]);
    await project.waitSettled(ONE_SHOTS, RESETTLE_MS);
    await publishedEqualsStored('the kill of a liveview');
  });

  test('the drill one-shot (--profile drill run --rm drill all): every scenario recovers, every minute reconciles', async () => {
    // The drill reaches this engine through its socket: the private one, not /var/run/docker.sock.
    const socket = (engine?.env.DOCKER_HOST ?? '').replace(/^unix:\/\//, '');
    assert.ok(socket.startsWith('/'), `the engine's socket (DOCKER_HOST ${engine?.env.DOCKER_HOST})`);
    project.env.DOCKER_SOCKET = socket;
    // Held faults of 5 s (15 s by default) keep the suite short; recovery is what is measured.
    project.env.DRILL_HOLD_MS = '5000';
    const started = Date.now();
    const drill = await project.compose(['--profile', 'drill', 'run', '--build', '--rm', 'drill', 'all'], {
      check: false,
      timeoutMs: 1_200_000,
    });
    const output = `${drill.stdout}${drill.stderr}`;
    // Every scenario's failure line, then the end of the output (a failure's section may be long gone).
    const failures = output.split('\n').filter((line) => / FAILED: /.test(line));
    const shown = [...failures, '…', ...output.trimEnd().split('\n').slice(-60)].join('\n');
    for (const line of output.split('\n').filter((text) => /^ {2}page: |^reconciliation /.test(text))) {
      report(`drill ${line.trim()}`);
    }
    for (const scenario of DRILL_SCENARIOS) {
      assert.match(output, new RegExp(`^drill ${scenario} \\(`, 'm'), `${scenario} ran to its end\n${shown}`);
    }
    assert.match(output, /^reconciliation .+ UTC: no break/m, `the verdict\n${shown}`);
    assert.equal(drill.code, 0, `the drill exited ${drill.code}\n${shown}`);
    report(
      `drill all (${DRILL_SCENARIOS.length} scenarios, 5 s holds, verdict included): ${seconds(Date.now() - started)}`,
    );
    await project.waitSettled(ONE_SHOTS, RESETTLE_MS);
    await publishedEqualsStored('the drills');
  });

  test('down, then up (standalone docker-compose): the data is kept', async () => {
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const before = total(await stored(minute));
    assert.ok(before > 0, 'trades stored before down');
    // `down` removes the publisher's container, and its logs with it: read them first.
    await stopPublisher();
    await project.compose(['down']);
    await project.withStandalone().compose(['up', '-d']);
    await project.waitSettled(ONE_SHOTS, SETTLE_MS);
    assert.equal(total(await stored(minute)), before, 'the complete minutes stored before down are all there');
    report(`down, then up: the ${before} trades of the complete minutes before down are kept`);
    await publishedEqualsStored('down and up');
  });

  test("no password in docker compose config, any container's environment, command or log; the admin password opens the management UI", async () => {
    const passwords = await generatedPasswords();
    assert.equal(new Set(Object.values(passwords)).size, GENERATED.length, 'a different password each');
    const config = (await project.compose(['config'])).stdout;
    const problems: string[] = [];
    const look = (where: string, text: string) => {
      for (const [name, password] of Object.entries(passwords)) {
        if (text.includes(password)) problems.push(`${where}: ${name}`);
      }
      if (/[a-z]+:\/\/[^/\s:@]*:[^/\s@]+@/.test(text)) problems.push(`${where}: a URL with a password`);
    };
    look('docker compose config', config);
    for (const container of await project.containers()) {
      const [inspected] = JSON.parse((await engine?.docker(['inspect', container.Name]))?.stdout ?? '[]') as {
        Path: string;
        Args: string[];
        Config: { Env: string[]; Cmd: string[] | null };
      }[];
      assert.ok(inspected, container.Name);
      look(`docker inspect ${container.Name}`, JSON.stringify(inspected));
      for (const variable of inspected.Config.Env) {
        const name = variable.slice(0, variable.indexOf('='));
        if (/PASSWORD/.test(name) && !name.endsWith('_FILE') && name !== 'OLD_ENV_PASSWORDS') {
          problems.push(`${container.Name}: ${name} in its environment`);
        }
      }
    }
    look('docker compose logs', (await project.compose(['logs', '--no-color'])).stdout);
    assert.deepEqual(problems, []);
    // The README's one command gives the management UI's password.
    const management = `http://127.0.0.1:${project.env.RABBITMQ_MANAGEMENT_PORT}/api/whoami`;
    const basic = (password: string) => ({
      headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
    });
    assert.equal((await fetch(management, basic(passwords['rabbitmq-admin-password'] ?? ''))).status, 200);
    assert.equal((await fetch(management, basic('admin-dev-password'))).status, 401, 'the retired default is refused');
    // Another install (the one-shot on two empty volumes) gets other passwords.
    const fresh = async () =>
      (
        await engine?.docker([
          'run',
          '--rm',
          '-v',
          `${join(repoRoot, 'secrets', 'generate.sh')}:/generate.sh:ro`,
          '--entrypoint',
          'sh',
          'node:22.23.5-bookworm-slim',
          '-c',
          'mkdir -p /secrets /out/publisher /out/consumer /out/liveview /out/mongo && sh /generate.sh >/dev/null && cat /secrets/rabbitmq-admin-password /secrets/mongo-root-password',
        ])
      )?.stdout ?? '';
    const [one, two] = [await fresh(), await fresh()];
    assert.equal(one.length, two.length);
    assert.ok(one.length >= 80, 'two passwords');
    assert.notEqual(one, two, 'two installs, two sets of passwords');
    assert.ok(!one.includes(passwords['rabbitmq-admin-password'] ?? '-'), "not this install's");
    report(
      `no password in compose config, ${(await project.containers()).length} containers' inspect and the logs; fresh installs differ`,
    );
  });

  test('rotated broker passwords: the brokers restart with them and the services reconnect', async () => {
    const brokerStarted = async () =>
      (
        await engine?.docker(['inspect', '--format', '{{.State.StartedAt}}', `${project.name}-rabbitmq1-1`])
      )?.stdout.trim();
    const startedBefore = await brokerStarted();
    const previous = await generatedPasswords();
    await project.compose([
      'run',
      '--rm',
      '--no-deps',
      'secrets',
      'rotate',
      'rabbitmq-publisher-password',
      'rabbitmq-consumer-password',
    ]);
    const rotated = await generatedPasswords();
    assert.notEqual(rotated['rabbitmq-publisher-password'], previous['rabbitmq-publisher-password']);
    assert.equal(rotated['rabbitmq-admin-password'], previous['rabbitmq-admin-password'], 'the others are kept');
    // The publisher is recreated with its new password, and its logs go: read them first.
    await stopPublisher();
    const changed = Date.now();
    // README, "Passwords": the one-shots copy and render the new ones, compose restarts the
    // brokers (restart: true), the services read their files again.
    await project.compose(['up', '-d', '--force-recreate', 'secrets', 'rabbitmq-definitions', 'publisher', 'consumer']);
    await project.waitSettled(ONE_SHOTS, SETTLE_MS);
    assert.notEqual(await brokerStarted(), startedBefore, 'rabbitmq1 restarted with the new definitions');
    const base = await stored();
    await storingAgain('trades stored with the new passwords', base, Date.now());
    report(`new broker passwords: brokers restarted, services storing again ${seconds(Date.now() - changed)} after up`);
    await publishedEqualsStored('the password change');
  });

  test('--profile monitoring: every Prometheus target is up and the alert rules are loaded', async () => {
    await project.compose(['--profile', 'monitoring', 'up', '-d']);
    await project.waitSettled(ONE_SHOTS, SETTLE_MS);
    let down: string[] = [];
    await project
      .wait(
        'every Prometheus target up',
        async () => {
          const text = (
            await project.compose([
              'exec',
              '-T',
              'prometheus',
              'wget',
              '-q',
              '-O',
              '-',
              'http://127.0.0.1:9090/api/v1/targets',
            ])
          ).stdout;
          const targets = (JSON.parse(text) as { data: { activeTargets: { scrapeUrl: string; health: string }[] } })
            .data.activeTargets;
          down = targets
            .filter((target) => target.health !== 'up')
            .map((target) => `${target.scrapeUrl} ${target.health}`);
          const jobs = new Set(targets.map((target) => new URL(target.scrapeUrl).port));
          return targets.length >= 10 && down.length === 0 && jobs.size >= 4;
        },
        90_000,
      )
      .catch((error: Error) => {
        throw new Error(`${error.message}; not up: ${down.join(', ')}`);
      });
    // The reconciliation's alert rules are mounted and loaded.
    const rules = (
      await project.compose(['exec', '-T', 'prometheus', 'wget', '-q', '-O', '-', 'http://127.0.0.1:9090/api/v1/rules'])
    ).stdout;
    const names = (JSON.parse(rules) as { data: { groups: { rules: { name: string }[] }[] } }).data.groups.flatMap(
      (group) => group.rules.map((rule) => rule.name),
    );
    assert.ok(
      names.includes('ReconciliationBreak') && names.includes('ReconciliationStalled'),
      `alert rules loaded: ${names.join(', ') || 'none'}`,
    );
  });

  test('down -v --profile monitoring leaves no container, network or volume', async () => {
    await project.compose(['--profile', 'monitoring', 'down', '-v']);
    const label = `label=com.docker.compose.project=${project.name}`;
    for (const kind of [
      ['ps', '-a'],
      ['network', 'ls'],
      ['volume', 'ls'],
    ]) {
      const left = (await engine?.docker([...kind, '-q', '--filter', label]))?.stdout.trim();
      assert.equal(left, '', `${kind.join(' ')} left: ${left}`);
    }
    // Anonymous volumes carry no project label: none may be left either.
    assert.equal((await engine?.docker(['volume', 'ls', '-q']))?.stdout.trim(), '', 'no volume at all');
  });
});

const GENERATED = [
  'rabbitmq-admin-password',
  'rabbitmq-publisher-password',
  'rabbitmq-consumer-password',
  'rabbitmq-liveview-password',
  'mongo-root-password',
  'mongo-consumer-password',
  'mongo-liveview-password',
];

/** The install's generated passwords, read as README says (`docker compose run ... secrets show`). */
async function generatedPasswords(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of GENERATED) {
    out[name] = (await project.compose(['run', '--rm', '--no-deps', '-T', 'secrets', 'show', name])).stdout.trim();
    assert.match(out[name] ?? '', /^[A-Za-z0-9]{40,}$/, name);
  }
  return out;
}

async function liveviewNames(): Promise<string[]> {
  return (await project.containers()).filter((c) => c.Service === 'liveview').map((c) => c.Name);
}
