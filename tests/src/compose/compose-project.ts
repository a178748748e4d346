// The private Docker engine (scripts/docker-engine.sh) and a compose project on it, for the
// compose suite (compose-engine.integration.test.ts): commands with their output kept, the
// state of every container, and waits on conditions with deadlines (never sleeps).
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, stackConfig, waitFor } from '@stockmarket/stack';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; its output is kept (and shown in the error when `check` fails). */
export function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; check?: boolean; timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  const { check = true, timeoutMs = 600_000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = { code: code ?? -1, stdout, stderr };
      if (check && result.code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited ${result.code}\n${tail(stdout)}\n${tail(stderr)}`));
      } else {
        resolve(result);
      }
    });
  });
}

function tail(text: string, lines = 60): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** dockerd on a private socket: started and stopped by scripts/docker-engine.sh. */
export class DockerEngine {
  private constructor(readonly env: NodeJS.ProcessEnv) {}

  /** Starts dockerd (a no-op when it runs) and builds the stand-in images that are missing. */
  static async start(): Promise<DockerEngine> {
    const script = join(repoRoot, 'scripts', 'docker-engine.sh');
    // An interrupted run (Ctrl-C, a CI timeout) skips `after`: stop the engine and restore the
    // host's settings on the way out all the same.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        spawnSync('bash', [script, 'stop'], { stdio: 'inherit' });
        process.exit(130);
      });
    }
    await run('bash', [script, 'start']);
    const exported = (await run('bash', [script, 'env'])).stdout;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const match of exported.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) {
      const [, name = '', value = ''] = match;
      env[name] = value.replace('$PATH', process.env.PATH ?? stackConfig.PATH);
    }
    // Compose builds with BuildKit through the engine (never the legacy builder).
    delete env.DOCKER_BUILDKIT;
    const engine = new DockerEngine(env);
    await run('bash', [join(repoRoot, 'scripts', 'stand-in-images.sh')], { env, timeoutMs: 1_200_000 });
    return engine;
  }

  /** Stops dockerd and restores the host settings it changed. */
  static async stop(): Promise<void> {
    await run('bash', [join(repoRoot, 'scripts', 'docker-engine.sh'), 'stop']);
  }

  docker(args: readonly string[], options: { check?: boolean; timeoutMs?: number } = {}): Promise<CommandResult> {
    return run('docker', args, { ...options, env: this.env });
  }
}

/** One container as `docker compose ps --format json` describes it. */
export interface ContainerState {
  readonly Name: string;
  readonly Service: string;
  readonly State: string;
  readonly Health: string;
  readonly ExitCode: number;
}

export class ComposeProject {
  /** Environment overrides of .env for every compose command (ports). */
  readonly env: Record<string, string>;

  constructor(
    readonly engine: DockerEngine,
    readonly name: string,
    readonly files: readonly string[],
    env: Record<string, string>,
    /** `docker compose` (the CLI plugin) or the standalone `docker-compose`. */
    private readonly standalone = false,
  ) {
    this.env = { ...env };
  }

  private args(args: readonly string[]): string[] {
    return ['-p', this.name, ...this.files.flatMap((file) => ['-f', join(repoRoot, file)]), ...args];
  }

  compose(args: readonly string[], options: { check?: boolean; timeoutMs?: number } = {}): Promise<CommandResult> {
    const env = { ...this.engine.env, ...this.env };
    return this.standalone
      ? run('docker-compose', this.args(args), { ...options, env })
      : run('docker', ['compose', ...this.args(args)], { ...options, env });
  }

  /** The same project through the other spelling (`docker-compose` vs `docker compose`). */
  withStandalone(): ComposeProject {
    return new ComposeProject(this.engine, this.name, this.files, this.env, true);
  }

  async containers(): Promise<ContainerState[]> {
    const out = (await this.compose(['ps', '-a', '--format', 'json'])).stdout.trim();
    if (out === '') return [];
    // Compose prints one JSON object per line (older releases: one array).
    return out.startsWith('[')
      ? (JSON.parse(out) as ContainerState[])
      : out.split('\n').map((line) => JSON.parse(line) as ContainerState);
  }

  async logs(service: string, lines = 80): Promise<string> {
    const result = await this.compose(['logs', '--no-color', '--tail', String(lines), service], { check: false });
    return result.stdout + result.stderr;
  }

  /**
   * Waits until every one-shot has exited 0 and every other container is healthy (or running,
   * for a container without a health check). A one-shot that exited non-zero, or a service
   * container that exited, fails at once with its name and its logs; at the deadline, the
   * message names every container not there yet (starting or unhealthy), with their logs. An
   * unhealthy container may still recover: on a loaded machine `node -e fetch(...)` can exceed
   * the checks' 5 s timeout a few times in a row.
   */
  async waitSettled(oneShots: ReadonlySet<string>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const containers = await this.containers();
      const pending: ContainerState[] = [];
      for (const container of containers) {
        if (oneShots.has(container.Service)) {
          if (container.State === 'exited' && container.ExitCode !== 0) {
            throw new Error(
              `one-shot ${container.Service} (${container.Name}) exited ${container.ExitCode}:\n${await this.logs(container.Service)}`,
            );
          }
          if (container.State !== 'exited') pending.push(container);
        } else if (container.State === 'exited' || container.State === 'dead') {
          throw new Error(
            `service ${container.Service} (${container.Name}) ${container.State} with code ${container.ExitCode}:\n${await this.logs(container.Service)}`,
          );
        } else if (container.State !== 'running' || (container.Health !== '' && container.Health !== 'healthy')) {
          pending.push(container);
        }
      }
      if (containers.length > 0 && pending.length === 0) return;
      if (Date.now() > deadline) {
        const described = await Promise.all(
          pending.map(
            async (c) => `${c.Service} (${c.Name}): ${c.State} ${c.Health}\n${await this.logs(c.Service, 30)}`,
          ),
        );
        throw new Error(`not settled after ${timeoutMs} ms:\n${described.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  /** Runs a Node script inside a service's container (`--index` picks the replica). */
  async node(service: string, script: string, index = 1): Promise<string> {
    return (
      await this.compose(['exec', '-T', '--index', String(index), service, 'node', '-e', script], { timeoutMs: 30_000 })
    ).stdout;
  }

  /** One counter of a service's Prometheus /metrics (summed over its label sets), read inside its container. */
  async metric(service: string, port: number, name: string, index = 1): Promise<number> {
    const text = await this.node(
      service,
      `fetch('http://127.0.0.1:${port}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`,
      index,
    );
    let total = 0;
    let found = false;
    for (const line of text.split('\n')) {
      const match = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
      if (match?.[1] === name) {
        total += Number(match[2]);
        found = true;
      }
    }
    if (!found) throw new Error(`${service} #${index} has no metric ${name}`);
    return total;
  }

  /** Waits for `what`, polling every second, within `timeoutMs`. */
  wait<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
    return waitFor(`${what} (project ${this.name})`, probe, { timeoutMs, intervalMs: 1_000 });
  }
}
