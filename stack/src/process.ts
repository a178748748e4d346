import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

const live = new Set<ManagedProcess>();
let hooksInstalled = false;
let onInterrupt: (() => Promise<void>) | undefined;

/** Replaces the default "kill everything" on Ctrl-C with a graceful stop (used by `npm run stack`). */
export function setInterruptHandler(handler: () => Promise<void>): void {
  onInterrupt = handler;
}

function killAll(): void {
  for (const child of live) child.killNow();
}

/** On exit or interrupt, whatever is still running is killed: tests never leave servers behind. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAll);
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // `on`, not `once`: a second signal (timeout(1) and a shell both forwarding) must not
    // kill this process before it has stopped its children.
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      const graceful = onInterrupt?.() ?? Promise.resolve();
      graceful.finally(() => {
        killAll();
        process.exit(130);
      });
    });
  }
}

export interface ManagedOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly logFile: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Keep the output in memory as well, for tests that read a service's logs. */
  readonly captureOutput?: boolean;
}

/**
 * A child process in its own process group, with its output in a log file. `stop` sends SIGTERM
 * and escalates to SIGKILL after a grace period; `kill` is kill -9.
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private log: WriteStream | undefined;
  output = '';

  constructor(readonly options: ManagedOptions) {
    installExitHooks();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): this {
    if (this.running) throw new Error(`${this.options.name} is already running`);
    this.log = createWriteStream(this.options.logFile, { flags: 'a' });
    // Without `env`, the child inherits this process's environment (spawn's default).
    const spawnOptions: SpawnOptions = {
      cwd: this.options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    };
    if (this.options.env !== undefined) spawnOptions.env = this.options.env;
    if (this.options.uid !== undefined) spawnOptions.uid = this.options.uid;
    if (this.options.gid !== undefined) spawnOptions.gid = this.options.gid;
    const child = spawn(this.options.command, [...this.options.args], spawnOptions);
    this.child = child;
    const log = this.log;
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      if (this.options.captureOutput) this.output += chunk.toString();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        live.delete(this);
        resolve(code);
      });
      child.once('error', (error) => {
        log.write(`spawn error: ${error.message}\n`);
        live.delete(this);
        resolve(null);
      });
    });
    live.add(this);
    return this;
  }

  /** Resolves with the exit code once the process has ended. */
  waitForExit(): Promise<number | null> {
    return this.exited;
  }

  /** Signals the whole process group, or only the leader (e.g. SIGHUP to an NGINX master). */
  signal(signal: NodeJS.Signals, leaderOnly = false): void {
    if (this.running && this.child?.pid) {
      try {
        process.kill(leaderOnly ? this.child.pid : -this.child.pid, signal);
      } catch {
        this.child.kill(signal);
      }
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Returns the exit code (null when killed). */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    this.log?.end();
    return code;
  }

  /** kill -9, as a crash would. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
    this.log?.end();
  }

  killNow(): void {
    this.signal('SIGKILL');
  }
}
