// Checks of the docker compose deployment's parts that run here without Docker: NGINX's compose
// configuration under `nginx -t`, the RabbitMQ definitions renderer (passwords and
// COMPANY_QUEUES_DURABLE) and the replica-set logic of mongo-init (with a scripted server;
// mongo-init.integration.test.ts runs it against FerretDB). The compose file, the Dockerfile and
// the build context are checked with Docker's own Go code: deploy/compose-check
// (scripts/compose-check.sh, run by npm test).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { UPSTREAM_SERVER_PARAMS } from './nginx.js';
import { repoRoot } from './paths.js';

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

/** `KEY=value` lines of an env file (comments and blanks skipped). */
function envFile(path: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of read(path).split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined) entries.set(match[1], match[2] ?? '');
  }
  return entries;
}

/** The raw compose file (YAML only; compose semantics are deploy/compose-check's). */
interface RawService {
  environment?: Record<string, string>;
  command?: string[];
  volumes?: string[];
}
const rawServices = () => (parse(read('docker-compose.yml')) as { services: Record<string, RawService> }).services;

/** A service's mounts (short syntax `source:target[:options]`), target -> absolute source or volume. */
function mounts(service: string): Map<string, string> {
  const entries = (rawServices()[service]?.volumes ?? []).map((volume) => {
    const [source = '', target = ''] = volume.split(':');
    return [target, source.startsWith('./') ? join(repoRoot, source.slice(2)) : source] as const;
  });
  return new Map(entries);
}

describe('NGINX compose configuration', () => {
  const defaultConf = () => read('nginx/default.conf');

  it('re-resolves the liveview name through Docker DNS, with the shared balancing parameters', () => {
    const conf = defaultConf();
    assert.match(conf, /^resolver 127\.0\.0\.11\b/m, "Docker's embedded DNS");
    assert.match(conf, /^\s*zone liveview \d+k;$/m, 'a shared zone (required by resolve)');
    // Per browser (the userid cookie of http.conf), not per address.
    assert.match(conf, /^\s*hash \$uid_got\$uid_set consistent;$/m);
    assert.match(conf, new RegExp(`^\\s*server liveview:3000 resolve ${UPSTREAM_SERVER_PARAMS};$`, 'm'));
  });

  it('includes the shared http.conf and locations.conf at the paths compose mounts them', () => {
    const mounted = mounts('nginx');
    assert.equal(mounted.get('/etc/nginx/conf.d/default.conf'), join(repoRoot, 'nginx', 'default.conf'));
    for (const [, file] of defaultConf().matchAll(/include (\S+);/g)) {
      const source = mounted.get(file ?? '');
      assert.ok(source, `${file} is included but not mounted`);
      assert.equal(source, join(repoRoot, 'nginx', (file ?? '').split('/').at(-1) ?? ''));
    }
    assert.equal([...defaultConf().matchAll(/include (\S+);/g)].length, 2);
  });

  /**
   * `nginx -t` on the compose files as the nginx image loads them: its main file nginx/nginx.conf
   * and the server nginx/default.conf. The local nginx (Debian's 1.22) predates `resolve` on
   * upstream servers (1.27.3) and resolves names at start, so the copy under test drops `resolve`
   * and points the server at 127.0.0.1; it runs without the image's user and writes its logs and
   * pid into a temporary directory; everything else is tested as is.
   */
  function nginxTest(conf: string): { status: number | null; output: string } {
    const dir = mkdtempSync(join(tmpdir(), 'stockmarket-nginx-t-'));
    try {
      const adapted = conf
        .replace(/server liveview:3000 resolve /, 'server 127.0.0.1:3000 ')
        .replaceAll('/etc/nginx/stockmarket/', `${join(repoRoot, 'nginx')}/`);
      writeFileSync(join(dir, 'default.conf'), adapted);
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
        .map((kind) => `${kind}_temp_path ${join(dir, kind)};`)
        .join(' ');
      const main = read('nginx/nginx.conf');
      assert.match(main, /^user nginx;$/m);
      assert.match(main, /^ {2}include \/etc\/nginx\/conf\.d\/\*\.conf;$/m, 'the main file includes conf.d');
      writeFileSync(
        join(dir, 'nginx.conf'),
        main
          .replace(/^user nginx;$/m, '')
          .replaceAll('/var/log/nginx/', `${dir}/`)
          .replace('/run/nginx.pid', join(dir, 'nginx.pid'))
          .replace('include /etc/nginx/conf.d/*.conf;', `${temp}\n  include ${join(dir, 'default.conf')};`),
      );
      const result = spawnSync('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('passes nginx -t (without "resolve", which nginx 1.22 lacks)', () => {
    const result = nginxTest(defaultConf());
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /test is successful/);
  });

  it('would catch a broken configuration (the check is not vacuous)', () => {
    const broken = nginxTest(`${defaultConf()}\nupstream liveview { server 127.0.0.1:1; }\n`);
    assert.notEqual(broken.status, 0, 'a second upstream "liveview" must fail');
    assert.match(broken.output, /duplicate upstream/);
  });
});

describe('RabbitMQ credentials from .env', () => {
  interface Renderer {
    hashPassword(password: string, salt?: Buffer): string;
    checkPassword(password: string, hash: string): boolean;
    passwordVariable(user: string): string;
    renderDefinitions(
      definitions: unknown,
      env: Record<string, string>,
    ): { definitions: { users: { name: string; password_hash: string }[] }; changed: string[] };
  }
  let renderer: Renderer;
  const definitions = () =>
    JSON.parse(read('rabbitmq/definitions.json')) as { users: { name: string; password_hash: string }[] };

  before(async () => {
    renderer = (await import(pathToFileURL(join(repoRoot, 'rabbitmq', 'render-definitions.mjs')).href)) as Renderer;
  });

  it('hashes as RabbitMQ does: the committed hashes are those of the development passwords', () => {
    for (const user of definitions().users) {
      assert.ok(renderer.checkPassword(`${user.name}-dev-password`, user.password_hash), user.name);
      assert.ok(!renderer.checkPassword(`${user.name}-other`, user.password_hash), `${user.name}: wrong password`);
    }
  });

  it('renders the passwords of .env, and the .env defaults match the committed hashes', () => {
    const env = Object.fromEntries(envFile('.env'));
    const committed = definitions();
    for (const user of committed.users) {
      const variable = renderer.passwordVariable(user.name);
      assert.ok(env[variable], `.env sets ${variable}`);
      assert.ok(renderer.checkPassword(env[variable] as string, user.password_hash), `${variable} is the dev default`);
      assert.ok(rawServices()['rabbitmq-definitions']?.environment?.[variable], `compose passes ${variable}`);
    }
    const rendered = renderer.renderDefinitions(committed, { RABBITMQ_PUBLISHER_PASSWORD: 'a-new-secret' });
    assert.deepEqual(rendered.changed, ['publisher']);
    const byName = new Map(rendered.definitions.users.map((user) => [user.name, user.password_hash]));
    assert.ok(renderer.checkPassword('a-new-secret', byName.get('publisher') ?? ''));
    assert.equal(byName.get('consumer'), committed.users.find((user) => user.name === 'consumer')?.password_hash);
    assert.doesNotMatch(JSON.stringify(rendered.definitions), /a-new-secret/, 'no plaintext password');
  });

  it('renders COMPANY_QUEUES_DURABLE into the company queues and the ledger queue only, and refuses a bad value', () => {
    type Queues = { queues: { name: string; durable: boolean }[] };
    const durability = (env: Record<string, string>) =>
      Object.fromEntries(
        (renderer.renderDefinitions(definitions(), env).definitions as unknown as Queues).queues.map((queue) => [
          queue.name,
          queue.durable,
        ]),
      );
    const all = (value: boolean) => ({
      AAPL: value,
      MSFT: value,
      TSLA: value,
      'stockmarket.ledger': value,
      'stockmarket.dead-letters': true,
    });
    assert.deepEqual(durability({}), all(true), 'durable by default');
    assert.deepEqual(durability({ COMPANY_QUEUES_DURABLE: 'true' }), all(true));
    assert.deepEqual(durability({ COMPANY_QUEUES_DURABLE: 'false' }), all(false), 'as the original declares them');
    assert.throws(() => durability({ COMPANY_QUEUES_DURABLE: 'flase' }), /COMPANY_QUEUES_DURABLE/);
  });

  it('renders RABBITMQ_QUORUM_QUEUES into every durable queue, never a non-durable one', () => {
    type Queues = { queues: { name: string; durable: boolean; arguments: Record<string, unknown> }[] };
    const types = (env: Record<string, string>) =>
      Object.fromEntries(
        (renderer.renderDefinitions(definitions(), env).definitions as unknown as Queues).queues.map((queue) => [
          queue.name,
          queue.arguments['x-queue-type'] ?? 'classic',
        ]),
      );
    const all = (company: string, deadLetters: string) => ({
      AAPL: company,
      MSFT: company,
      TSLA: company,
      // The reconciliation's ledger queue follows the company queues.
      'stockmarket.ledger': company,
      'stockmarket.dead-letters': deadLetters,
    });
    assert.deepEqual(types({}), all('classic', 'classic'), 'classic by default (one node)');
    assert.deepEqual(types({ RABBITMQ_QUORUM_QUEUES: 'true' }), all('quorum', 'quorum'), 'compose: quorum');
    assert.deepEqual(
      types({ RABBITMQ_QUORUM_QUEUES: 'true', COMPANY_QUEUES_DURABLE: 'false' }),
      all('classic', 'quorum'),
      'non-durable company queues stay classic',
    );
    assert.equal(rawServices()['rabbitmq-definitions']?.environment?.RABBITMQ_QUORUM_QUEUES, 'true');
    assert.throws(() => types({ RABBITMQ_QUORUM_QUEUES: 'ja' }), /RABBITMQ_QUORUM_QUEUES/);
  });

  it('gives every queue of the definitions an unlimited delivery limit by policy (RabbitMQ 4 quorum queues default to 20)', () => {
    type Rendered = {
      queues: { name: string }[];
      policies: { name: string; pattern: string; priority: number; definition: Record<string, unknown> }[];
    };
    const rendered = renderer.renderDefinitions(definitions(), { RABBITMQ_QUORUM_QUEUES: 'true' })
      .definitions as unknown as Rendered;
    for (const queue of rendered.queues) {
      // RabbitMQ applies the matching policy of the highest priority.
      const policy = rendered.policies
        .filter((candidate) => new RegExp(candidate.pattern).test(queue.name))
        .sort((a, b) => b.priority - a.priority)[0];
      assert.equal(policy?.definition['delivery-limit'], -1, `${queue.name}: policy ${policy?.name ?? '(none)'}`);
    }
  });

  it('points every broker node at the rendered definitions, after the shared configuration', () => {
    for (const node of ['rabbitmq1', 'rabbitmq2', 'rabbitmq3']) {
      const targets = mounts(node);
      assert.equal(
        targets.get('/etc/rabbitmq/conf.d/30-stockmarket.conf'),
        join(repoRoot, 'rabbitmq', 'rabbitmq.conf'),
      );
      assert.equal(targets.get('/etc/rabbitmq/conf.d/35-cluster.conf'), join(repoRoot, 'rabbitmq', 'cluster.conf'));
      assert.equal(targets.get('/etc/rabbitmq/conf.d/40-compose.conf'), join(repoRoot, 'rabbitmq', 'compose.conf'));
      const load = /^load_definitions = (\S+)$/m.exec(read('rabbitmq/compose.conf'))?.[1] ?? '';
      const dir = load.slice(0, load.lastIndexOf('/'));
      assert.equal(targets.get(dir), 'rabbitmq-definitions', 'the rendered volume is mounted where compose.conf looks');
    }
    const load = /^load_definitions = (\S+)$/m.exec(read('rabbitmq/compose.conf'))?.[1] ?? '';
    const command = rawServices()['rabbitmq-definitions']?.command ?? [];
    assert.equal(command.at(-1), `/rendered/${load.split('/').at(-1)}`, 'the renderer writes that file');
  });
});

// ---- mongo-init's replica-set logic against a scripted server ----

interface MongoInitSetup {
  parseMembers(text: string): string[];
  replicaSetConfig(name: string, hosts: string[]): { _id: string; members: { _id: number; host: string }[] };
  settingsFromEnv(env: Record<string, string>): { members: string[]; consumer: { user: string } };
  ensureReplicaSet(
    run: Run,
    config: { _id: string; members: { host: string }[] },
  ): Promise<{ action: string; mismatch: string[] }>;
  ensureUsers(run: Run, authDb: string, users: unknown[]): Promise<{ user: string; action: string }[]>;
  waitForPrimary(
    run: Run,
    options: { timeoutMs: number; intervalMs: number; sleep: () => Promise<void> },
  ): Promise<string>;
  connectionStrings(settings: unknown): { seed: string; replicaSet: string };
}
type Run = (db: string, command: Record<string, unknown>) => Promise<Record<string, unknown>>;

const requiredInitEnv = {
  MONGO_ROOT_USERNAME: 'admin',
  MONGO_ROOT_PASSWORD: 'p@ss/word',
  MONGO_CONSUMER_PASSWORD: 'c',
  MONGO_LIVEVIEW_PASSWORD: 'l',
};

function loadSetup(): MongoInitSetup {
  return createRequire(import.meta.url)(join(repoRoot, 'mongo-init', 'setup.cjs')) as MongoInitSetup;
}

class ServerError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
  ) {
    super(codeName);
  }
}

/** Records commands and answers them from a small model of a replica-set member. */
function scriptedMember(state: { set?: string; hosts?: string[]; users?: string[] }) {
  const commands: string[] = [];
  const run: Run = async (db, command) => {
    const name = Object.keys(command)[0] ?? '';
    commands.push(`${db}.${name}`);
    switch (name) {
      case 'replSetGetStatus':
        if (!state.set) throw new ServerError(94, 'NotYetInitialized');
        return { ok: 1, set: state.set };
      case 'replSetInitiate': {
        const config = command.replSetInitiate as { _id: string; members: { host: string }[] };
        state.set = config._id;
        state.hosts = config.members.map((member) => member.host);
        return { ok: 1 };
      }
      case 'replSetGetConfig':
        return { ok: 1, config: { _id: state.set, members: (state.hosts ?? []).map((host) => ({ host })) } };
      case 'usersInfo':
        return { ok: 1, users: (state.users ?? []).includes(command.usersInfo as string) ? [{}] : [] };
      case 'createUser':
        state.users = [...(state.users ?? []), command.createUser as string];
        return { ok: 1 };
      case 'updateUser':
        return { ok: 1 };
      default:
        throw new ServerError(59, 'CommandNotFound');
    }
  };
  return { run, commands, state };
}

describe('mongo-init replica-set logic', () => {
  const setup = loadSetup();
  const config = () => setup.replicaSetConfig('rs0', ['mongo1:27017', 'mongo2:27017', 'mongo3:27017']);

  it('initiates a fresh set with the members by service name, once', async () => {
    const member = scriptedMember({});
    assert.deepEqual(await setup.ensureReplicaSet(member.run, config()), { action: 'initiated', mismatch: [] });
    assert.deepEqual(member.state.hosts, ['mongo1:27017', 'mongo2:27017', 'mongo3:27017']);
    assert.deepEqual(await setup.ensureReplicaSet(member.run, config()), { action: 'exists', mismatch: [] });
    assert.equal(member.commands.filter((command) => command === 'admin.replSetInitiate').length, 1);
  });

  it('reports, and leaves alone, a set with other members', async () => {
    const member = scriptedMember({ set: 'rs0', hosts: ['mongo1:27017', 'host.docker.internal:27018'] });
    const result = await setup.ensureReplicaSet(member.run, config());
    assert.equal(result.action, 'exists');
    assert.deepEqual(result.mismatch, [
      'missing mongo2:27017',
      'missing mongo3:27017',
      'unexpected host.docker.internal:27018',
    ]);
    assert.ok(!member.commands.includes('admin.replSetInitiate'));
  });

  it('refuses a node of another replica set, and passes other errors on', async () => {
    await assert.rejects(setup.ensureReplicaSet(scriptedMember({ set: 'other' }).run, config()), /replica set "other"/);
    const failing: Run = async () => {
      throw new ServerError(13, 'Unauthorized');
    };
    await assert.rejects(setup.ensureReplicaSet(failing, config()), /Unauthorized/);
  });

  it('creates missing users and updates existing ones', async () => {
    const member = scriptedMember({ users: ['consumer'] });
    const users = [
      { user: 'consumer', pwd: 'a', roles: [{ role: 'readWrite', db: 'stockmarket' }] },
      { user: 'liveview', pwd: 'b', roles: [{ role: 'read', db: 'stockmarket' }] },
    ];
    assert.deepEqual(await setup.ensureUsers(member.run, 'admin', users), [
      { user: 'consumer', action: 'updated' },
      { user: 'liveview', action: 'created' },
    ]);
    await assert.rejects(setup.ensureUsers(member.run, 'admin', [{ user: 'x', pwd: '', roles: [] }]), /password/);
  });

  it('waits for a primary, and gives up after its timeout', async () => {
    let calls = 0;
    const electing: Run = async () => (++calls < 3 ? { ok: 1 } : { ok: 1, primary: 'mongo2:27017' });
    const sleep = async () => {};
    assert.equal(await setup.waitForPrimary(electing, { timeoutMs: 10_000, intervalMs: 1, sleep }), 'mongo2:27017');
    assert.equal(calls, 3);
    await assert.rejects(
      setup.waitForPrimary(async () => ({ ok: 1 }), { timeoutMs: 0, intervalMs: 1, sleep }),
      /no primary/,
    );
  });

  it('requires the passwords and percent-encodes credentials in its connection strings', () => {
    assert.throws(() => setup.settingsFromEnv({ MONGO_ROOT_USERNAME: 'admin' }), /MONGO_ROOT_PASSWORD/);
    const urls = setup.connectionStrings(setup.settingsFromEnv(requiredInitEnv));
    assert.match(urls.seed, /^mongodb:\/\/admin:p%40ss%2Fword@mongo1:27017\/\?directConnection=true&authSource=admin/);
    assert.match(urls.replicaSet, /@mongo1:27017,mongo2:27017,mongo3:27017\/\?replicaSet=rs0&authSource=admin/);
  });
});
