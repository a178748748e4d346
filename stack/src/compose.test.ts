// Checks of the docker compose deployment's parts that run here without Docker: NGINX's compose
// configuration under `nginx -t`, the RabbitMQ definitions renderer (passwords and
// COMPANY_QUEUES_DURABLE) and the replica-set logic of mongo-init (with a scripted server;
// mongo-init.integration.test.ts runs it against FerretDB). The compose file, the Dockerfile and
// the build context are checked with Docker's own Go code: deploy/compose-check
// (scripts/compose-check.sh, run by npm test).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

describe('RabbitMQ definitions and the generated passwords', () => {
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
  /** A password for every user of the definitions (the renderer refuses a user without one). */
  const passwords = () =>
    Object.fromEntries(definitions().users.map((user) => [renderer.passwordVariable(user.name), `${user.name}-test`]));

  before(async () => {
    renderer = (await import(pathToFileURL(join(repoRoot, 'rabbitmq', 'render-definitions.mjs')).href)) as Renderer;
  });

  it('hashes as RabbitMQ does', () => {
    const hash = renderer.hashPassword('a-password');
    assert.ok(renderer.checkPassword('a-password', hash));
    assert.ok(!renderer.checkPassword('a-passwore', hash), 'wrong password');
  });

  it('commits no password hash, and refuses a user without a password, naming its _FILE variable', () => {
    for (const user of definitions().users) assert.equal(user.password_hash, '', `${user.name} has a committed hash`);
    const { RABBITMQ_ADMIN_PASSWORD: _admin, ...others } = passwords();
    assert.throws(() => renderer.renderDefinitions(definitions(), others), /RABBITMQ_ADMIN_PASSWORD_FILE/);
  });

  it("renders each user's password from its _FILE (without the trailing newline) or its variable, never as plaintext", () => {
    const dir = mkdtempSync(join(tmpdir(), 'stockmarket-render-'));
    try {
      writeFileSync(join(dir, 'publisher'), 'a-new-secret\n');
      const env: Record<string, string> = { ...passwords(), RABBITMQ_PUBLISHER_PASSWORD_FILE: join(dir, 'publisher') };
      delete env.RABBITMQ_PUBLISHER_PASSWORD;
      const rendered = renderer.renderDefinitions(definitions(), env);
      assert.deepEqual(
        rendered.changed.sort(),
        definitions()
          .users.map((user) => user.name)
          .sort(),
      );
      const byName = new Map(rendered.definitions.users.map((user) => [user.name, user.password_hash]));
      assert.ok(renderer.checkPassword('a-new-secret', byName.get('publisher') ?? ''));
      assert.ok(renderer.checkPassword('consumer-test', byName.get('consumer') ?? ''));
      assert.doesNotMatch(JSON.stringify(rendered.definitions), /a-new-secret|consumer-test/, 'no plaintext password');
      assert.throws(
        () => renderer.renderDefinitions(definitions(), { ...env, RABBITMQ_PUBLISHER_PASSWORD: 'both' }),
        /RABBITMQ_PUBLISHER_PASSWORD and RABBITMQ_PUBLISHER_PASSWORD_FILE are both set/,
      );
      assert.throws(
        () =>
          renderer.renderDefinitions(definitions(), { ...env, RABBITMQ_PUBLISHER_PASSWORD_FILE: join(dir, 'none') }),
        (error: Error) => /RABBITMQ_PUBLISHER_PASSWORD_FILE \(.*none\): cannot read/.test(error.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compose renders them from the generated files, and .env holds no password', () => {
    const environment = rawServices()['rabbitmq-definitions']?.environment ?? {};
    for (const user of definitions().users) {
      const variable = renderer.passwordVariable(user.name);
      assert.equal(environment[`${variable}_FILE`], `/secrets/rabbitmq-${user.name}-password`, variable);
      assert.equal(environment[variable], undefined, `${variable} itself is not passed`);
    }
    for (const file of ['.env', '.env.example']) {
      for (const [key, value] of envFile(file)) {
        assert.doesNotMatch(key, /PASSWORD/, `${file} sets ${key}`);
        assert.doesNotMatch(value, /password/i, `${file}: ${key}`);
      }
    }
  });

  it('renders COMPANY_QUEUES_DURABLE into the company queues and the ledger queue only, and refuses a bad value', () => {
    type Queues = { queues: { name: string; durable: boolean }[] };
    const durability = (env: Record<string, string>) =>
      Object.fromEntries(
        (
          renderer.renderDefinitions(definitions(), { ...passwords(), ...env }).definitions as unknown as Queues
        ).queues.map((queue) => [queue.name, queue.durable]),
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
        (
          renderer.renderDefinitions(definitions(), { ...passwords(), ...env }).definitions as unknown as Queues
        ).queues.map((queue) => [queue.name, queue.arguments['x-queue-type'] ?? 'classic']),
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
    const rendered = renderer.renderDefinitions(definitions(), { ...passwords(), RABBITMQ_QUORUM_QUEUES: 'true' })
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

// ---- the secrets one-shot (secrets/generate.sh), on directories standing in for its volumes ----

describe('generated passwords (the secrets one-shot)', () => {
  const names = [
    'rabbitmq-admin-password',
    'rabbitmq-publisher-password',
    'rabbitmq-consumer-password',
    'rabbitmq-liveview-password',
    'mongo-root-password',
    'mongo-consumer-password',
    'mongo-liveview-password',
  ];
  /** A fresh install's volumes: the one-shot's own and each reader's. */
  function install() {
    const root = mkdtempSync(join(tmpdir(), 'stockmarket-secrets-'));
    for (const dir of ['secrets', 'out/publisher', 'out/consumer', 'out/liveview', 'out/mongo']) {
      mkdirSync(join(root, dir), { recursive: true });
    }
    const run = (args: string[] = [], env: Record<string, string> = {}, input = '') =>
      spawnSync('sh', [join(repoRoot, 'secrets', 'generate.sh'), ...args], {
        encoding: 'utf8',
        input,
        env: { PATH: process.env.PATH, SECRETS_DIR: join(root, 'secrets'), SECRETS_OUT: join(root, 'out'), ...env },
      });
    const password = (name: string) => readFileSync(join(root, 'secrets', name), 'utf8');
    return { root, run, password, remove: () => rmSync(root, { recursive: true, force: true }) };
  }
  // The copies are chowned to the readers' users.
  const skip = process.getuid?.() === 0 ? false : 'needs root (chown)';

  it('makes every password once: a restart keeps them, another install gets others, each reader only its own', {
    skip,
  }, () => {
    const first = install();
    const second = install();
    try {
      const run = first.run();
      assert.equal(run.status, 0, run.stderr);
      assert.equal(second.run().status, 0);
      const made = names.map(first.password);
      for (const password of made) assert.match(password, /^[A-Za-z0-9]{40,}$/);
      assert.equal(new Set(made).size, names.length, 'all different');
      for (const name of names)
        assert.notEqual(first.password(name), second.password(name), `${name} differs per install`);
      assert.equal(first.run().status, 0);
      assert.deepEqual(names.map(first.password), made, 'a restart keeps them');
      assert.doesNotMatch(run.stdout + run.stderr, new RegExp(made.join('|')), 'no password in the log');
      const copy = (reader: string, file: string) => readFileSync(join(first.root, 'out', reader, file), 'utf8');
      assert.equal(copy('publisher', 'rabbitmq-password'), first.password('rabbitmq-publisher-password'));
      assert.equal(copy('consumer', 'mongodb-password'), first.password('mongo-consumer-password'));
      assert.equal(copy('liveview', 'rabbitmq-password'), first.password('rabbitmq-liveview-password'));
      assert.equal(copy('mongo', 'mongo-root-password'), first.password('mongo-root-password'));
      assert.deepEqual(readdirSync(join(first.root, 'out', 'publisher')), ['rabbitmq-password']);
      assert.equal(statSync(join(first.root, 'out', 'publisher', 'rabbitmq-password')).uid, 1000, 'the node user');
      assert.equal(statSync(join(first.root, 'out', 'publisher', 'rabbitmq-password')).mode & 0o777, 0o400);
      assert.equal(statSync(join(first.root, 'out', 'mongo', 'mongo-root-password')).uid, 999, 'the mongodb user');
      const shown = first.run(['show', 'rabbitmq-admin-password']);
      assert.equal(shown.stdout, `${first.password('rabbitmq-admin-password')}\n`);
    } finally {
      first.remove();
      second.remove();
    }
  });

  it('stops a first start with an old .env that still sets passwords, saying what to do; import keeps them', {
    skip,
  }, () => {
    const old = install();
    try {
      const refused = old.run([], { OLD_ENV_PASSWORDS: ' RABBITMQ_ADMIN_PASSWORD MONGO_ROOT_PASSWORD' });
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /\.env still sets RABBITMQ_ADMIN_PASSWORD MONGO_ROOT_PASSWORD/);
      assert.match(refused.stderr, /docker compose run --rm --no-deps -T secrets import < \.env/);
      const imported = old.run(['import'], {}, 'NGINX_PORT=3000\nMONGO_ROOT_PASSWORD=my-old-root\n');
      assert.equal(imported.status, 0, imported.stderr);
      assert.doesNotMatch(imported.stdout, /my-old-root/);
      const again = old.run([], { OLD_ENV_PASSWORDS: ' MONGO_ROOT_PASSWORD' });
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /warning: \.env still sets MONGO_ROOT_PASSWORD; ignored/);
      assert.equal(old.password('mongo-root-password'), 'my-old-root');
      assert.match(old.password('rabbitmq-admin-password'), /^[A-Za-z0-9]{40,}$/);
    } finally {
      old.remove();
    }
  });

  it('compose runs it first and mounts each reader its own volume at its *_FILE paths', () => {
    const services = rawServices();
    assert.deepEqual(services.secrets?.volumes?.slice(1), [
      'secrets:/secrets',
      'publisher-secrets:/out/publisher',
      'consumer-secrets:/out/consumer',
      'liveview-secrets:/out/liveview',
      'mongo-secrets:/out/mongo',
    ]);
    for (const [service, files] of Object.entries({
      publisher: ['RABBITMQ_PASSWORD_FILE'],
      consumer: ['RABBITMQ_PASSWORD_FILE', 'MONGODB_PASSWORD_FILE'],
      liveview: ['RABBITMQ_PASSWORD_FILE', 'MONGODB_PASSWORD_FILE'],
      mongo1: ['MONGO_INITDB_ROOT_PASSWORD_FILE'],
    })) {
      assert.equal(
        mounts(service).get('/run/secrets/stockmarket'),
        service === 'mongo1' ? 'mongo-secrets' : `${service}-secrets`,
      );
      for (const variable of files) {
        assert.match(
          services[service]?.environment?.[variable] ?? '',
          /^\/run\/secrets\/stockmarket\/[a-z-]+$/,
          `${service} ${variable}`,
        );
      }
    }
  });
});

// ---- mongo-init's replica-set logic against a scripted server ----

interface MongoInitSetup {
  parseMembers(text: string): string[];
  replicaSetConfig(name: string, hosts: string[]): { _id: string; members: { _id: number; host: string }[] };
  settingsFromEnv(env: Record<string, string>): {
    members: string[];
    rootPassword: string;
    consumer: { user: string; pwd: string };
  };
  main(
    settings: unknown,
    connect: (url: string) => Promise<Run>,
    log?: (line: string) => void,
    sleep?: () => Promise<void>,
  ): Promise<unknown>;
  RETIRED_ROOT_PASSWORD: string;
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
      case 'ping':
      case 'createIndexes':
        return { ok: 1 };
      case 'hello':
        return { ok: 1, primary: 'mongo1:27017' };
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

  it('reads the passwords from their _FILE variables (as compose gives them), naming variable and path on errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stockmarket-mongo-init-'));
    try {
      for (const name of ['root', 'consumer', 'liveview']) writeFileSync(join(dir, name), `${name}-generated\n`);
      const settings = setup.settingsFromEnv({
        MONGO_ROOT_USERNAME: 'admin',
        MONGO_ROOT_PASSWORD_FILE: join(dir, 'root'),
        MONGO_CONSUMER_PASSWORD_FILE: join(dir, 'consumer'),
        MONGO_LIVEVIEW_PASSWORD_FILE: join(dir, 'liveview'),
      });
      assert.equal(settings.rootPassword, 'root-generated');
      assert.equal(settings.consumer.pwd, 'consumer-generated');
      assert.throws(
        () => setup.settingsFromEnv({ ...requiredInitEnv, MONGO_CONSUMER_PASSWORD_FILE: join(dir, 'consumer') }),
        /MONGO_CONSUMER_PASSWORD and MONGO_CONSUMER_PASSWORD_FILE are both set/,
      );
      assert.throws(
        () =>
          setup.settingsFromEnv({
            ...requiredInitEnv,
            MONGO_ROOT_PASSWORD: '',
            MONGO_ROOT_PASSWORD_FILE: join(dir, 'x'),
          }),
        (error: Error) => /MONGO_ROOT_PASSWORD_FILE \(.*x\): cannot read the file \(ENOENT\)/.test(error.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('upgrades a data directory made with the retired default root password to the generated one, else says what to do', async () => {
    const settings = setup.settingsFromEnv({ ...requiredInitEnv, MONGO_ROOT_PASSWORD: 'generated' });
    const member = scriptedMember({});
    /** A server whose administrator has `root.password`, changed by updateUser. */
    const server = (root: { password: string }) => async (url: string) => {
      const password = decodeURIComponent(/^mongodb:\/\/[^:]*:([^@]*)@/.exec(url)?.[1] ?? '');
      if (password !== root.password) throw Object.assign(new Error('Authentication failed.'), { code: 18 });
      const run: Run = async (db, command) => {
        if (command.updateUser === 'admin') root.password = command.pwd as string;
        return member.run(db, command);
      };
      return run;
    };
    const retired = { password: setup.RETIRED_ROOT_PASSWORD };
    await setup.main(
      settings,
      server(retired),
      () => {},
      async () => {},
    );
    assert.equal(retired.password, 'generated', 'the root password is changed to the generated one');
    await assert.rejects(
      setup.main(
        settings,
        server({ password: 'made-with-another' }),
        () => {},
        async () => {},
      ),
      /can log in neither with the generated password nor with the retired default.*secrets import/,
    );
  });

  it('requires the passwords and percent-encodes credentials in its connection strings', () => {
    assert.throws(() => setup.settingsFromEnv({ MONGO_ROOT_USERNAME: 'admin' }), /MONGO_ROOT_PASSWORD/);
    const urls = setup.connectionStrings(setup.settingsFromEnv(requiredInitEnv));
    assert.match(urls.seed, /^mongodb:\/\/admin:p%40ss%2Fword@mongo1:27017\/\?directConnection=true&authSource=admin/);
    assert.match(urls.replicaSet, /@mongo1:27017,mongo2:27017,mongo3:27017\/\?replicaSet=rs0&authSource=admin/);
  });
});
