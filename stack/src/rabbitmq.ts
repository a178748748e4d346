import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitFor } from '@stockmarket/common';
import amqp from 'amqplib';
import { stackConfig } from './config.js';
import { makeRunDir, repoRoot } from './paths.js';
import { freePort } from './ports.js';
import { ManagedProcess } from './process.js';
import { inRabbitmqRoot, rabbitmqUser } from './rabbitmq-root.js';

const RABBITMQ_VHOST = 'stockmarket';
/** Boots of a node before its start is given up (a restart policy's retries). */
const BOOT_ATTEMPTS = 3;
/** The users of rabbitmq/definitions.json. */
export const RABBITMQ_USERS = ['admin', 'publisher', 'consumer', 'liveview'] as const;
export type RabbitMqUser = (typeof RABBITMQ_USERS)[number];
export type RabbitMqPasswords = Readonly<Record<RabbitMqUser, string>>;

/**
 * A password per user, random for each run as compose's `secrets` one-shot makes them for each
 * install: no test depends on a known password, and none is in the repository.
 */
export function randomRabbitMqPasswords(): RabbitMqPasswords {
  return Object.freeze(
    Object.fromEntries(RABBITMQ_USERS.map((user) => [user, randomBytes(18).toString('base64url')])) as Record<
      RabbitMqUser,
      string
    >,
  );
}

/** What a node of a local cluster shares with the others (stack/src/rabbitmq-cluster.ts). */
export interface ClusterMembership {
  /** One epmd for the cluster: nodes find each other's distribution ports through it. */
  readonly epmdPort: number;
  readonly cookie: string;
  /** Every member's node name, this one's included (classic config peer discovery). */
  readonly nodes: readonly string[];
  /**
   * Each member's own loopback address (same order as `nodes`), the source of the distribution
   * connections it opens, so that a test can cut one node off from the others with packet
   * filter rules on addresses and ports that no other process uses.
   */
  readonly addresses: readonly string[];
  /** Erlang's tick: a silent peer counts as down after 0.75-1.25 of it (default 60 s). */
  readonly netTicktimeSeconds: number;
  /**
   * Erlang's `net_setuptime`: how long a connection attempt to a peer may take (default 7 s).
   * It decides how soon a node cut off pauses: RabbitMQ 4.0's node monitor, on losing a peer,
   * pings every member one after another before it looks at the majority (docs/reliability.md).
   */
  readonly netSetuptimeSeconds: number;
}

export const rabbitNodeName = (port: number) => `stockmarket-${port}@localhost`;

export interface RabbitMqOptions {
  /** COMPANY_QUEUES_DURABLE of the definitions (default true); false as the original programs. */
  readonly companyQueuesDurable?: boolean;
  /** Lines appended to the shared rabbitmq.conf (e.g. docker compose's own settings). */
  readonly extraConfig?: string;
  /** The users' passwords (a cluster's nodes share them); random by default. */
  readonly passwords?: RabbitMqPasswords;
}

/** rabbitmq/render-definitions.mjs, the renderer docker compose runs (plain JavaScript). */
interface DefinitionsRenderer {
  renderDefinitions(definitions: unknown, env: Record<string, string>): { definitions: unknown };
}

/**
 * A private RabbitMQ node from Debian trixie's rabbitmq-server 4.x, run in the root that
 * scripts/rabbitmq-root.sh builds (stack/src/rabbitmq-root.ts): its own node name, AMQP,
 * distribution and epmd ports, data and log directories, loading the project's definitions file
 * at boot. It runs as the root's `rabbitmq` user, so its directory belongs to that user.
 */
export class RabbitMqServer {
  private broker: ManagedProcess | undefined;
  private epmd: ManagedProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly distPort: number,
    private readonly epmdPort: number,
    /** rabbitmq_prometheus' port: the liveview System view and Prometheus scrape `/metrics` here. */
    readonly prometheusPort: number,
    private readonly passwords: RabbitMqPasswords,
    readonly cluster?: ClusterMembership,
  ) {}

  static async start(options: RabbitMqOptions = {}): Promise<RabbitMqServer> {
    const server = new RabbitMqServer(
      makeRunDir('rabbitmq'),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      options.passwords ?? randomRabbitMqPasswords(),
    );
    await server.prepare(options);
    await server.boot();
    return server;
  }

  /** A cluster member on `port` (chosen by the cluster so that every node name is known first). */
  static async startMember(
    port: number,
    cluster: ClusterMembership,
    options: RabbitMqOptions = {},
  ): Promise<RabbitMqServer> {
    const server = new RabbitMqServer(
      makeRunDir('rabbitmq'),
      port,
      await freePort(),
      cluster.epmdPort,
      await freePort(),
      options.passwords ?? randomRabbitMqPasswords(),
      cluster,
    );
    await server.prepare(options);
    server.prepareMembership(cluster);
    await server.boot();
    return server;
  }

  /** This member's own loopback address (see ClusterMembership.addresses). */
  get address(): string {
    return this.cluster?.addresses[this.cluster.nodes.indexOf(this.nodeName)] ?? '127.0.0.1';
  }

  get nodeName(): string {
    return rabbitNodeName(this.port);
  }

  /**
   * Cluster settings on top of the single node's: classic config peer discovery over the member
   * list, the shared Erlang cookie, `pause_minority` (a node cut off from the majority stops
   * serving clients instead of going on alone). `prepare` has rendered the definitions' durable
   * queues as quorum queues (RABBITMQ_QUORUM_QUEUES, as compose does).
   */
  private prepareMembership(cluster: ClusterMembership): void {
    const conf = [
      'cluster_formation.peer_discovery_backend = classic_config',
      ...cluster.nodes.map((node, i) => `cluster_formation.classic_config.nodes.${i + 1} = ${node}`),
      'cluster_partition_handling = pause_minority',
      '',
    ].join('\n');
    appendFileSync(join(this.dir, 'rabbitmq.conf'), `\n${conf}`);
    const address = cluster.addresses[cluster.nodes.indexOf(this.nodeName)] ?? '127.0.0.1';
    writeFileSync(
      join(this.dir, 'advanced.config'),
      `[{kernel, [{net_ticktime, ${cluster.netTicktimeSeconds}}, {net_setuptime, ${cluster.netSetuptimeSeconds}}, {inet_dist_connect_options, [{ip, {${address.replaceAll('.', ',')}}}]}]}].\n`,
    );
    const cookieFile = join(this.dir, 'home', '.erlang.cookie');
    writeFileSync(cookieFile, cluster.cookie, { mode: 0o400 });
    if (process.getuid?.() === 0) {
      const { uid, gid } = rabbitmqUser();
      chownTree(this.dir, uid, gid);
    }
  }

  /** The broker's Erlang VM (beam.smp), a child of the start script, for CPU and memory figures. */
  get pid(): number | undefined {
    const script = this.broker?.pid;
    return script === undefined ? undefined : (findDescendant(script, 'beam.smp') ?? script);
  }

  /** rabbitmq_prometheus' per-object endpoint (per-queue figures). */
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.prometheusPort}/metrics/per-object`;
  }

  /**
   * A user's URL with its password, for clients in the test process. A service started with it
   * (ServiceProcess) gets the password as a file, never in its environment.
   */
  url(user: RabbitMqUser = 'admin'): string {
    return `amqp://${user}:${encodeURIComponent(this.passwords[user])}@127.0.0.1:${this.port}/${RABBITMQ_VHOST}`;
  }

  /** This run's password of a user. */
  password(user: RabbitMqUser): string {
    return this.passwords[user];
  }

  private async prepare(options: RabbitMqOptions): Promise<void> {
    for (const sub of ['mnesia', 'log', 'home']) mkdirSync(join(this.dir, sub), { recursive: true });
    // The definitions as compose's rabbitmq-definitions one-shot renders them (same code), with
    // this run's passwords (hashes only; passed in this process, never in an environment) and
    // the queues' durability.
    const renderer = (await import(
      pathToFileURL(join(repoRoot, 'rabbitmq', 'render-definitions.mjs')).href
    )) as DefinitionsRenderer;
    const { definitions } = renderer.renderDefinitions(
      JSON.parse(readFileSync(join(repoRoot, 'rabbitmq', 'definitions.json'), 'utf8')),
      {
        ...Object.fromEntries(
          RABBITMQ_USERS.map((user) => [`RABBITMQ_${user.toUpperCase()}_PASSWORD`, this.passwords[user]]),
        ),
        COMPANY_QUEUES_DURABLE: String(options.companyQueuesDurable ?? true),
        // A cluster member's durable queues are quorum queues, as in compose's cluster.
        RABBITMQ_QUORUM_QUEUES: String(this.cluster !== undefined),
      },
    );
    writeFileSync(join(this.dir, 'definitions.json'), `${JSON.stringify(definitions, null, 2)}\n`);
    const shared = readFileSync(join(repoRoot, 'rabbitmq', 'rabbitmq.conf'), 'utf8').replace(
      '/etc/rabbitmq/definitions.json',
      join(this.dir, 'definitions.json'),
    );
    // rabbitmq_prometheus is on in the 4.x images; here on a private loopback port.
    const prometheus = `prometheus.tcp.ip = 127.0.0.1\nprometheus.tcp.port = ${this.prometheusPort}\n`;
    writeFileSync(join(this.dir, 'rabbitmq.conf'), `${shared}\n${prometheus}${options.extraConfig ?? ''}\n`);
    writeFileSync(join(this.dir, 'enabled_plugins'), '[rabbitmq_prometheus].\n');
    if (process.getuid?.() === 0) {
      const { uid, gid } = rabbitmqUser();
      chownTree(this.dir, uid, gid);
    }
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: stackConfig.PATH,
      HOME: join(this.dir, 'home'),
      LANG: 'C.UTF-8',
      RABBITMQ_NODENAME: rabbitNodeName(this.port),
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      ERL_EPMD_PORT: String(this.epmdPort),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(this.dir, 'rabbitmq.pid'),
      ...(this.cluster ? { RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, 'advanced.config') } : {}),
    };
  }

  private async boot(): Promise<void> {
    // Our own epmd in the foreground, so that it stops with the broker instead of lingering (a
    // cluster member uses the cluster's).
    if (!this.cluster)
      this.epmd ??= new ManagedProcess({
        name: 'epmd',
        ...inRabbitmqRoot('epmd', ['-port', String(this.epmdPort), '-address', '127.0.0.1']),
        env: this.env(),
        logFile: join(this.dir, 'epmd.log'),
      });
    if (this.epmd && !this.epmd.running) this.epmd.start();
    // Like compose's `restart: unless-stopped`, a node whose boot fails is started again. RabbitMQ
    // 4.0 can fail a boot when a peer restarts at the same moment: its cluster consistency check
    // meets the peer's Mnesia still starting (`{case_clause,{error,{node_not_running,Peer}}}` in
    // rabbit_mnesia:check_mnesia_consistency, BOOT FAILED) and the node exits; the next boot joins.
    for (let attempt = 1; ; attempt++) {
      const broker = new ManagedProcess({
        name: 'rabbitmq',
        ...inRabbitmqRoot('/usr/lib/rabbitmq/bin/rabbitmq-server', []),
        env: this.env(),
        cwd: this.dir,
        logFile: join(this.dir, 'rabbitmq.log'),
      }).start();
      this.broker = broker;
      const outcome = await waitFor(
        'RabbitMQ to accept AMQP connections',
        async () => {
          if (!broker.running) return 'exited';
          const connection = await amqp.connect(this.url(), { timeout: 2_000 });
          await connection.close();
          return 'up';
        },
        { timeoutMs: 90_000, intervalMs: 250 },
      );
      if (outcome === 'up') return;
      if (attempt === BOOT_ATTEMPTS)
        throw new Error(`rabbitmq exited during boot ${attempt} times; the end of its logs:\n${this.logTail()}`);
      console.error(`rabbitmq ${this.nodeName}: boot ${attempt} failed, starting it again`);
    }
  }

  /** The last lines of the start script's output and of the node's own log, for an error. */
  private logTail(lines = 30): string {
    const tail = (file: string) => {
      try {
        return `${file}:\n${readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`;
      } catch {
        return `${file}: not written`;
      }
    };
    const nodeLog = join(this.dir, 'log', `${rabbitNodeName(this.port)}.log`);
    return [tail(join(this.dir, 'rabbitmq.log')), tail(nodeLog)].join('\n');
  }

  /** Runs rabbitmqctl against this node (e.g. to raise a memory alarm); returns its output. */
  ctl(...args: string[]): Promise<string> {
    return this.run('rabbitmqctl', args);
  }

  /** Runs one of the broker's CLI tools (rabbitmq-queues, rabbitmq-diagnostics) against this node. */
  tool(tool: 'rabbitmq-queues' | 'rabbitmq-diagnostics' | 'rabbitmq-plugins', ...args: string[]): Promise<string> {
    return this.run(tool, args);
  }

  private run(tool: string, args: string[]): Promise<string> {
    const { command, args: argv } = inRabbitmqRoot(`/usr/lib/rabbitmq/bin/${tool}`, [
      '-n',
      rabbitNodeName(this.port),
      ...args,
    ]);
    return new Promise((resolve, reject) => {
      execFile(command, argv, { env: this.env(), cwd: this.dir, timeout: 60_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${tool} ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
      );
    });
  }

  /** kill -9 of the broker's Erlang VM, as a crash would (the data stays; `resume` restarts it). */
  async crash(): Promise<void> {
    const beam = this.pid;
    if (beam !== undefined) process.kill(beam, 'SIGKILL');
    await this.broker?.kill();
  }

  get running(): boolean {
    return this.broker?.running ?? false;
  }

  /** Graceful broker stop (keeps epmd and the data, so `resume` brings the same node back). */
  async pause(): Promise<void> {
    await this.broker?.stop(30_000);
  }

  async resume(): Promise<void> {
    await this.boot();
  }

  async stop(): Promise<void> {
    await this.broker?.stop(30_000);
    await this.epmd?.stop(5_000);
  }

  /** Runs a management function on a throwaway admin connection. */
  async withChannel<T>(work: (channel: amqp.Channel) => Promise<T>): Promise<T> {
    const connection = await amqp.connect(this.url());
    try {
      const channel = await connection.createChannel();
      return await work(channel);
    } finally {
      await connection.close().catch(() => {});
    }
  }
}

function findDescendant(pid: number, name: string, depth = 0): number | undefined {
  if (depth > 4) return undefined;
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return undefined;
  }
  for (const child of children) {
    try {
      if (readFileSync(`/proc/${child}/comm`, 'utf8').trim() === name) return child;
    } catch {
      // gone meanwhile
    }
    const found = findDescendant(child, name, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, uid, gid);
    else chownSync(child, uid, gid);
  }
}
