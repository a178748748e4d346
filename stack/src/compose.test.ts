// Static checks of the docker compose deployment (no Docker engine here): the compose file as
// resolved by a real compose parser (Debian's docker-compose v1), its invariants, the
// Dockerfiles, NGINX's compose configuration under `nginx -t`, the RabbitMQ definitions renderer
// and the replica-set logic of mongo-init (with a scripted server; mongo-init.integration.test.ts
// runs it against FerretDB).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { UPSTREAM_SERVER_PARAMS } from './nginx.js';
import { repoRoot } from './paths.js';

interface Healthcheck {
  test?: string[] | string;
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | null>;
  ports?: (string | { target: number; published?: number | string; host_ip?: string })[];
  expose?: (string | number)[];
  healthcheck?: Healthcheck;
  labels?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  logging?: { driver: string; options?: Record<string, string> };
  stop_grace_period?: string;
  container_name?: string;
  volumes?: (string | { type: string; source: string; target: string; read_only?: boolean })[];
  deploy?: { replicas?: number; resources?: { limits?: { memory?: string } } };
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const nodeServices = ['publisher', 'consumer', 'liveview'] as const;
const mongoMembers = ['mongo1', 'mongo2', 'mongo3'];
const noHealthcheckLabel = 'com.stockmarket.no-healthcheck';

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const rawCompose = () => read('docker-compose.yml');

/** `KEY=value` lines of an env file (comments and blanks skipped). */
function envFile(path: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of read(path).split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined) entries.set(match[1], match[2] ?? '');
  }
  return entries;
}

/** Milliseconds of a compose duration such as `20s`, `1m30s`, `500ms`. */
function durationMs(text: string): number {
  let total = 0;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)) {
    const factor = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001 }[unit as 'h' | 'm' | 's' | 'ms' | 'us'];
    total += Number(value) * factor;
  }
  assert.ok(total > 0, `cannot read duration "${text}"`);
  return total;
}

function hostPath(volume: string | { source: string }): string {
  return typeof volume === 'string' ? (volume.split(':')[0] ?? '') : volume.source;
}
function targetPath(volume: string | { target: string }): string {
  return typeof volume === 'string' ? (volume.split(':')[1] ?? '') : volume.target;
}

/** `major.minor.patch` of an image tag, or undefined when the tag is not a pinned version. */
function pinnedVersion(image: string): [number, number, number] | undefined {
  const match = /:(\d+)\.(\d+)\.(\d+)(?:-[a-z0-9.-]+)?$/.exec(image);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}
function atLeast(version: [number, number, number], minimum: [number, number, number]): boolean {
  for (let index = 0; index < 3; index++) {
    const a = version[index] ?? 0;
    const b = minimum[index] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** The margin publisher/src/main.ts adds to PUBLISHER_DRAIN_TIMEOUT_MS for its hard stop. */
function publisherShutdownMargin(): number {
  const match = /config\.PUBLISHER_DRAIN_TIMEOUT_MS \+ ([\d_]+),?\s*\)/.exec(read('publisher/src/main.ts'));
  assert.ok(match?.[1], 'publisher/src/main.ts: shutdown deadline not found');
  return Number(match[1].replaceAll('_', ''));
}

let compose: Compose;

before(() => {
  // The committed .env is what `docker compose up` uses; the config must resolve with it alone.
  const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
  });
  assert.equal(result.error, undefined, `docker-compose could not run: ${result.error?.message}`);
  assert.equal(result.status, 0, `docker-compose config failed:\n${result.stderr}`);
  compose = parse(result.stdout) as Compose;
});

describe('docker-compose.yml as resolved by docker-compose config', () => {
  it('has every service of the system', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [
      'consumer',
      'liveview',
      'mongo-init',
      'mongo-keyfile',
      'mongo1',
      'mongo2',
      'mongo3',
      'nginx',
      'publisher',
      'rabbitmq',
      'rabbitmq-definitions',
    ]);
  });

  it('gives every service a healthcheck with a real command, or a written reason for none', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const check = service.healthcheck;
      // docker-compose v1 renders `disable: true` as `test: [NONE]`.
      const disabled = check?.disable === true || (Array.isArray(check?.test) && check.test[0] === 'NONE');
      if (check === undefined || disabled) {
        const reason = service.labels?.[noHealthcheckLabel] ?? '';
        assert.ok(reason.length > 10, `${name}: no healthcheck and no ${noHealthcheckLabel} label`);
        assert.equal(service.restart, 'no', `${name}: a service without a healthcheck must be a one-shot`);
        continue;
      }
      const test = Array.isArray(check.test) ? check.test : [check.test ?? ''];
      assert.ok(test[0] === 'CMD' || test[0] === 'CMD-SHELL', `${name}: healthcheck must be CMD or CMD-SHELL`);
      assert.ok(test.length > 1, `${name}: empty healthcheck`);
    }
  });

  it('probes each image with a tool that image has', () => {
    const tool = (name: string) => {
      const test = compose.services[name]?.healthcheck?.test;
      assert.ok(Array.isArray(test), `${name}: healthcheck test`);
      return test.slice(1).join(' ');
    };
    for (const name of nodeServices) assert.match(tool(name), /^node -e /, `${name}: node -e (no curl in node slim)`);
    for (const name of mongoMembers) assert.match(tool(name), /^mongosh /, `${name}: mongosh`);
    assert.match(tool('rabbitmq'), /^rabbitmq-diagnostics /);
    assert.match(tool('nginx'), /^curl /, 'nginx: curl (the official image is Debian-based)');
  });

  it('probes each Node service on the readiness endpoint of its own ops port', () => {
    const ports = { publisher: 'PUBLISHER_OPS_PORT', consumer: 'CONSUMER_OPS_PORT', liveview: 'PORT' } as const;
    for (const name of nodeServices) {
      const service = compose.services[name] as Service;
      const port = service.environment?.[ports[name]];
      assert.ok(port, `${name}: ${ports[name]} must be set explicitly`);
      assert.ok(
        [service.healthcheck?.test ?? []].flat().join(' ').includes(`http://127.0.0.1:${port}/readyz`),
        `${name}: healthcheck must fetch 127.0.0.1:${port}/readyz`,
      );
      assert.deepEqual(service.expose?.map(String), [port], `${name}: exposes its port ${port}`);
    }
  });

  it('publishes ports only for NGINX (3000) and the management UI on the loopback interface', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const port of service.ports ?? []) {
        const text = typeof port === 'string' ? port : `${port.host_ip ?? ''}:${port.published}:${port.target}`;
        if (name === 'nginx') assert.match(text, /(^|:)3000(\/tcp)?$/, 'nginx publishes its port 3000');
        else if (name === 'rabbitmq')
          assert.match(text, /^127\.0\.0\.1:\d+:15672(\/tcp)?$/, 'management UI on 127.0.0.1');
        else assert.fail(`${name} publishes ${text}`);
      }
    }
    assert.ok((compose.services.nginx?.ports ?? []).length === 1, 'nginx publishes one port');
  });

  it('runs the liveview as scalable replicas: two by default, no container_name, only expose', () => {
    const liveview = compose.services.liveview as Service;
    assert.equal(liveview.container_name, undefined);
    assert.equal(liveview.ports, undefined);
    assert.equal(liveview.deploy?.replicas, 2);
    for (const [name, service] of Object.entries(compose.services)) {
      assert.equal(service.container_name, undefined, `${name}: container_name blocks scaling and reuse`);
    }
  });

  it('runs three consumers, each holding one company lease at most', () => {
    const consumer = compose.services.consumer as Service;
    assert.equal(consumer.deploy?.replicas, 3);
    assert.equal(consumer.environment?.CONSUMER_MAX_LEASES, '1');
    assert.equal(consumer.environment?.COMPANIES?.split(',').length, 3);
  });

  it('gives every long-running service a restart policy, a memory limit and the shared logging', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      assert.ok(service.restart === 'unless-stopped' || service.restart === 'no', `${name}: restart policy`);
      assert.match(service.deploy?.resources?.limits?.memory ?? '', /^\d+[MG]$/, `${name}: memory limit`);
      assert.equal(service.logging?.driver, 'json-file', `${name}: logging anchor`);
      assert.equal(service.logging?.options?.['max-size'], '10m', `${name}: log rotation`);
    }
    assert.match(rawCompose(), /^x-logging: &logging$/m, 'one shared logging anchor');
  });

  it('stops each Node service later than its own shutdown deadline', () => {
    const deadlines: Record<(typeof nodeServices)[number], (env: Record<string, string | null>) => number> = {
      // publisher/src/main.ts: installShutdown(..., config.PUBLISHER_DRAIN_TIMEOUT_MS + <margin>)
      publisher: (env) => Number(env.PUBLISHER_DRAIN_TIMEOUT_MS) + publisherShutdownMargin(),
      consumer: (env) => Number(env.CONSUMER_SHUTDOWN_TIMEOUT_MS),
      liveview: (env) => Number(env.LIVEVIEW_SHUTDOWN_TIMEOUT_MS),
    };
    for (const name of nodeServices) {
      const service = compose.services[name] as Service;
      const deadline = deadlines[name](service.environment ?? {});
      assert.ok(Number.isFinite(deadline) && deadline > 0, `${name}: shutdown deadline set explicitly`);
      const grace = durationMs(service.stop_grace_period ?? '10s');
      assert.ok(grace >= deadline + 2_000, `${name}: stop_grace_period ${grace} ms must exceed ${deadline} ms`);
    }
    for (const name of ['rabbitmq', ...mongoMembers]) {
      assert.ok(durationMs(compose.services[name]?.stop_grace_period ?? '10s') >= 30_000, `${name}: 30 s to stop`);
    }
  });

  it('starts services in order: healthy servers, completed one-shots', () => {
    const expected: Record<string, Record<string, string>> = {
      rabbitmq: { 'rabbitmq-definitions': 'service_completed_successfully' },
      mongo1: { 'mongo-keyfile': 'service_completed_successfully' },
      'mongo-init': { mongo1: 'service_healthy', mongo2: 'service_healthy', mongo3: 'service_healthy' },
      publisher: { rabbitmq: 'service_healthy' },
      consumer: { rabbitmq: 'service_healthy', 'mongo-init': 'service_completed_successfully' },
      liveview: { 'mongo-init': 'service_completed_successfully' },
      nginx: { liveview: 'service_healthy' },
    };
    for (const [name, dependencies] of Object.entries(expected)) {
      const actual = Object.fromEntries(
        Object.entries(compose.services[name]?.depends_on ?? {}).map(([dep, { condition }]) => [dep, condition]),
      );
      assert.deepEqual(actual, dependencies, `${name}: depends_on`);
    }
    // A condition fits its target: one-shots complete, servers become healthy.
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        const oneShot = compose.services[dep]?.restart === 'no';
        assert.equal(
          condition,
          oneShot ? 'service_completed_successfully' : 'service_healthy',
          `${name} -> ${dep}: condition`,
        );
      }
    }
  });

  it('pins every image to a full version: mongo, rabbitmq with management, nginx >= 1.27.3', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const image = service.image ?? '';
      if (service.build) {
        assert.match(image, /^stockmarket\/[a-z]+:dev$/, `${name}: local image name`);
        continue;
      }
      assert.ok(pinnedVersion(image), `${name}: ${image} is not pinned to major.minor.patch`);
    }
    const nginxVersion = pinnedVersion(compose.services.nginx?.image ?? '');
    assert.ok(nginxVersion && atLeast(nginxVersion, [1, 27, 3]), 'nginx >= 1.27.3 for "resolve" on upstream servers');
    assert.match(compose.services.rabbitmq?.image ?? '', /^rabbitmq:\d+\.\d+\.\d+-management$/);
    for (const name of [...mongoMembers, 'mongo-init', 'mongo-keyfile']) {
      assert.equal(compose.services[name]?.image, compose.services.mongo1?.image, `${name}: same mongo image`);
    }
    assert.match(compose.services.mongo1?.image ?? '', /^mongo:\d+\.\d+\.\d+$/);
  });

  it('builds each Node service from the repository root with its own Dockerfile', () => {
    for (const name of nodeServices) {
      const build = compose.services[name]?.build;
      assert.equal(build?.context, repoRoot.replace(/\/$/, ''), `${name}: context is the repository root`);
      assert.equal(build?.dockerfile, `${name}/Dockerfile`);
    }
  });

  it('mounts only files and folders that exist in the repository', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = hostPath(volume);
        if (source.startsWith('/')) assert.ok(existsSync(source), `${name}: ${source} does not exist`);
        else assert.ok(compose.volumes && source in compose.volumes, `${name}: volume ${source} is not declared`);
      }
    }
  });
});

describe('.env and .env.example', () => {
  const used = () => [...rawCompose().matchAll(/\$\{([A-Z0-9_]+)/g)].map((match) => match[1] as string);

  it('document every variable the compose file uses, and only those', () => {
    const documented = envFile('.env.example');
    const variables = new Set(used());
    assert.ok(variables.size >= 15, 'the compose file takes its settings from .env');
    for (const name of variables) assert.ok(documented.has(name), `${name} is used but not in .env.example`);
    for (const name of documented.keys()) assert.ok(variables.has(name), `${name} is documented but not used`);
    // ...and docs/deployment.md explains each one.
    const guide = read('docs/deployment.md');
    for (const name of documented.keys()) assert.match(guide, new RegExp(`\\b${name}\\b`), `${name} in deployment.md`);
  });

  it('commit .env with the same variables as .env.example', () => {
    assert.deepEqual([...envFile('.env').keys()].sort(), [...envFile('.env.example').keys()].sort());
  });

  it('keep passwords usable in connection URLs', () => {
    for (const [name, value] of envFile('.env')) {
      if (name.endsWith('_PASSWORD')) assert.match(value, /^[A-Za-z0-9._~-]{8,}$/, `${name}: URL-safe, 8+ characters`);
    }
  });

  it('hand the services the RabbitMQ and MongoDB users that exist', () => {
    const definitions = JSON.parse(read('rabbitmq/definitions.json')) as { users: { name: string }[] };
    const users = definitions.users.map((user) => user.name);
    const amqpUser = (name: string) => new URL(compose.services[name]?.environment?.RABBITMQ_URL ?? '').username;
    assert.equal(amqpUser('publisher'), 'publisher');
    assert.equal(amqpUser('consumer'), 'consumer');
    for (const name of ['publisher', 'consumer']) {
      assert.ok(users.includes(amqpUser(name)), `${name}: user in definitions.json`);
      assert.equal(new URL(compose.services[name]?.environment?.RABBITMQ_URL ?? '').pathname, '/stockmarket');
    }
    const init = compose.services['mongo-init']?.environment ?? {};
    for (const [name, user] of [
      ['consumer', init.MONGO_CONSUMER_USERNAME],
      ['liveview', init.MONGO_LIVEVIEW_USERNAME],
    ] as const) {
      // mongodb:// URLs list several hosts, which WHATWG URL refuses: read the parts by hand.
      const url = /^mongodb:\/\/([^:@/]+):[^@/]+@([^/]+)\/([^?]*)\?(.*)$/.exec(
        compose.services[name]?.environment?.MONGODB_URL ?? '',
      );
      assert.ok(url, `${name}: MONGODB_URL with user, password, hosts and options`);
      assert.equal(url[1], user, `${name}: logs in as the user mongo-init creates`);
      assert.equal(url[2], 'mongo1:27017,mongo2:27017,mongo3:27017', `${name}: every member as a seed`);
      assert.equal(url[3], compose.services[name]?.environment?.MONGODB_DB);
      const options = new URLSearchParams(url[4]);
      assert.equal(options.get('replicaSet'), 'rs0');
      assert.equal(options.get('authSource'), 'admin');
    }
  });
});

describe('mongo services and mongo-init', () => {
  it('run every member with --replSet rs0 and the shared key file', () => {
    for (const name of mongoMembers) {
      const service = compose.services[name] as Service;
      const command = service.command ?? [];
      assert.equal(command[command.indexOf('--replSet') + 1], 'rs0', `${name}: --replSet rs0`);
      const keyFile = command[command.indexOf('--keyFile') + 1] ?? '';
      const mount = (service.volumes ?? []).find((volume) => keyFile.startsWith(`${targetPath(volume)}/`));
      assert.ok(mount && hostPath(mount) === 'mongo-keyfile', `${name}: key file from the mongo-keyfile volume`);
      const targets = (service.volumes ?? []).map(targetPath);
      assert.ok(targets.includes('/data/db') && targets.includes('/data/configdb'), `${name}: data and config`);
    }
    assert.ok(compose.services.mongo1?.environment?.MONGO_INITDB_ROOT_USERNAME, 'mongo1 creates the administrator');
    for (const name of ['mongo2', 'mongo3']) {
      assert.equal(compose.services[name]?.environment, undefined, `${name} must start empty to join the set`);
    }
  });

  it('name the replica-set members exactly as the mongo services', () => {
    const init = compose.services['mongo-init']?.environment ?? {};
    const setup = loadSetup();
    const members = setup.parseMembers(init.MONGO_MEMBERS ?? '');
    const services = Object.entries(compose.services)
      .filter(([, service]) => (service.command ?? []).includes('--replSet'))
      .map(([name]) => `${name}:27017`);
    assert.deepEqual(members, services);
    assert.equal(init.MONGO_REPLICA_SET, 'rs0');
    // The defaults of setup.cjs (used when run by hand) say the same.
    assert.deepEqual(setup.settingsFromEnv({ ...requiredInitEnv }).members, services);
  });
});

describe('Dockerfiles', () => {
  const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;

  for (const name of nodeServices) {
    it(`${name}: multi-stage, npm ci, production dependencies only, non-root, node dist/main.js`, () => {
      const dockerfile = read(`${name}/Dockerfile`);
      const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)];
      assert.equal(stages.length, 2, 'a build stage and a runtime stage');
      const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
      const version = /^node:(\d+)\.(\d+)\.(\d+)-bookworm-slim$/.exec(base);
      assert.ok(version, `pinned node base image, got "${base}"`);
      assert.ok(atLeast([Number(version[1]), Number(version[2]), Number(version[3])], [20, 19, 0]), 'node >= 20.19');
      assert.equal(base, compose.services['rabbitmq-definitions']?.image, 'one node image for the whole suite');
      const [build, runtime] = dockerfile.split(/^FROM .* AS runtime$/m) as [string, string];
      assert.match(build, /^RUN npm ci --no-audit --no-fund$/m);
      assert.match(build, new RegExp(`npx tsc --build ${name}`));
      assert.match(runtime, new RegExp(`npm ci --omit=dev [^\\n]*-w ${name} -w common`));
      assert.doesNotMatch(runtime, /COPY --from=build \/app\/node_modules/, 'no dev dependencies copied over');
      for (const workspace of workspaces) {
        assert.match(build, new RegExp(`^COPY ${workspace}/package.json ${workspace}/$`, 'm'), `build: ${workspace}`);
        assert.match(
          runtime,
          new RegExp(`^COPY ${workspace}/package.json ${workspace}/$`, 'm'),
          `runtime: ${workspace}`,
        );
      }
      assert.match(runtime, /^COPY --from=build \/app\/common\/dist common\/dist$/m, 'the shared package at run time');
      assert.match(runtime, /^USER node$/m);
      assert.match(runtime, new RegExp(`^WORKDIR /app/${name}$`, 'm'));
      const lines = runtime.trim().split('\n');
      assert.equal(lines.at(-1), 'CMD ["node", "dist/main.js"]');
      if (name === 'liveview') {
        assert.match(build, /npm run build:client -w liveview/);
        assert.match(runtime, /^COPY --from=build \/app\/liveview\/public liveview\/public$/m);
      }
    });
  }

  it('.dockerignore keeps build output and secrets out, and what the Dockerfiles copy in', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    for (const pattern of ['**/node_modules', '**/dist', '.git', '.env']) assert.ok(ignored.includes(pattern), pattern);
    const copied = new Set<string>();
    for (const name of nodeServices) {
      for (const [, sources] of read(`${name}/Dockerfile`).matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
        for (const source of (sources ?? '').split(' ')) copied.add(source.replace(/\/$/, ''));
      }
    }
    for (const source of copied) {
      assert.ok(existsSync(join(repoRoot, source)), `${source} is copied but missing`);
      const top = source.split('/')[0] ?? '';
      assert.ok(!ignored.includes(source) && !ignored.includes(top), `${source} is copied but ignored`);
    }
  });
});

describe('NGINX compose configuration', () => {
  const defaultConf = () => read('nginx/default.conf');

  it('re-resolves the liveview name through Docker DNS, with the shared balancing parameters', () => {
    const conf = defaultConf();
    assert.match(conf, /^resolver 127\.0\.0\.11\b/m, "Docker's embedded DNS");
    assert.match(conf, /^\s*zone liveview \d+k;$/m, 'a shared zone (required by resolve)');
    assert.match(conf, /^\s*hash \$remote_addr consistent;$/m);
    assert.match(conf, new RegExp(`^\\s*server liveview:3000 resolve ${UPSTREAM_SERVER_PARAMS};$`, 'm'));
  });

  it('includes the shared http.conf and locations.conf at the paths compose mounts them', () => {
    const volumes = (compose.services.nginx?.volumes ?? []).map((volume) => [hostPath(volume), targetPath(volume)]);
    const mounted = new Map(volumes.map(([source, target]) => [target, source]));
    assert.equal(mounted.get('/etc/nginx/conf.d/default.conf'), join(repoRoot, 'nginx', 'default.conf'));
    for (const [, file] of defaultConf().matchAll(/include (\S+);/g)) {
      const source = mounted.get(file ?? '');
      assert.ok(source, `${file} is included but not mounted`);
      assert.equal(source, join(repoRoot, 'nginx', (file ?? '').split('/').at(-1) ?? ''));
    }
    assert.equal([...defaultConf().matchAll(/include (\S+);/g)].length, 2);
  });

  /**
   * `nginx -t` on the compose server as the nginx image loads it. The local nginx (Debian's 1.22)
   * predates `resolve` on upstream servers (1.27.3) and resolves names at start, so the copy under
   * test drops `resolve` and points the server at 127.0.0.1; everything else is tested as is.
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
      writeFileSync(
        join(dir, 'nginx.conf'),
        `pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')};
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log ${join(dir, 'access.log')};
  ${temp}
  include ${join(dir, 'default.conf')};
}
`,
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
      assert.ok(compose.services['rabbitmq-definitions']?.environment?.[variable], `compose passes ${variable}`);
    }
    const rendered = renderer.renderDefinitions(committed, { RABBITMQ_PUBLISHER_PASSWORD: 'a-new-secret' });
    assert.deepEqual(rendered.changed, ['publisher']);
    const byName = new Map(rendered.definitions.users.map((user) => [user.name, user.password_hash]));
    assert.ok(renderer.checkPassword('a-new-secret', byName.get('publisher') ?? ''));
    assert.equal(byName.get('consumer'), committed.users.find((user) => user.name === 'consumer')?.password_hash);
    assert.doesNotMatch(JSON.stringify(rendered.definitions), /a-new-secret/, 'no plaintext password');
  });

  it('points the broker at the rendered definitions, after the shared configuration', () => {
    const volumes = compose.services.rabbitmq?.volumes ?? [];
    const targets = new Map(volumes.map((volume) => [targetPath(volume), hostPath(volume)]));
    assert.equal(targets.get('/etc/rabbitmq/conf.d/30-stockmarket.conf'), join(repoRoot, 'rabbitmq', 'rabbitmq.conf'));
    assert.equal(targets.get('/etc/rabbitmq/conf.d/40-compose.conf'), join(repoRoot, 'rabbitmq', 'compose.conf'));
    const load = /^load_definitions = (\S+)$/m.exec(read('rabbitmq/compose.conf'))?.[1] ?? '';
    const dir = load.slice(0, load.lastIndexOf('/'));
    assert.equal(targets.get(dir), 'rabbitmq-definitions', 'the rendered volume is mounted where compose.conf looks');
    const command = compose.services['rabbitmq-definitions']?.command ?? [];
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
