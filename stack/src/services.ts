import { join } from 'node:path';
import { waitFor } from '@stockmarket/common';
import { stackConfig } from './config.js';
import { makeRunDir, serviceEntry } from './paths.js';
import { freePort } from './ports.js';
import { ManagedProcess } from './process.js';
import { passwordsToFiles } from './service-secrets.js';

export type ServiceName = 'publisher' | 'consumer' | 'liveview';

const opsPortVariable: Record<ServiceName, string> = {
  publisher: 'PUBLISHER_OPS_PORT',
  consumer: 'CONSUMER_OPS_PORT',
  liveview: 'PORT',
};

/** One service as a Node process, exactly as its image runs it (`node dist/main.js`). */
export class ServiceProcess {
  readonly process: ManagedProcess;

  private constructor(
    readonly name: ServiceName,
    readonly port: number,
    readonly env: NodeJS.ProcessEnv,
    dir: string,
    label: string,
  ) {
    this.process = new ManagedProcess({
      name: label,
      command: process.execPath,
      args: [serviceEntry(name)],
      env,
      logFile: join(dir, `${label}.log`),
      captureOutput: true,
    });
  }

  /** Starts the service; with `waitReady`, resolves once its /readyz answers 200. */
  static async start(
    name: ServiceName,
    env: Record<string, string>,
    { waitReady = true, label = name, port }: { waitReady?: boolean; label?: string; port?: number } = {},
  ): Promise<ServiceProcess> {
    const chosen = port ?? (await freePort());
    const dir = makeRunDir(label);
    const service = new ServiceProcess(
      name,
      chosen,
      {
        PATH: stackConfig.PATH,
        HOME: stackConfig.HOME,
        LOG_LEVEL: 'info',
        OPS_HOST: '127.0.0.1',
        HOST: '127.0.0.1',
        // As docker compose gives them: passwords in files, not in the environment.
        ...passwordsToFiles(env, dir),
        [opsPortVariable[name]]: String(chosen),
      },
      dir,
      label,
    );
    service.process.start();
    if (waitReady) await service.waitReady();
    return service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${this.process.options.name} to be ready`,
      async () => {
        if (!this.process.running) {
          throw new Error(`${this.process.options.name} exited:\n${this.process.output.slice(-2000)}`);
        }
        const response = await fetch(`${this.url}/readyz`);
        return response.status === 200;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Restarts a stopped or killed service with the same port and settings. */
  async restart(waitReady = true): Promise<void> {
    this.process.start();
    if (waitReady) await this.waitReady();
  }

  /** A Prometheus counter or gauge summed over its label sets. */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    return sumMetric(text, name);
  }

  stop(graceMs?: number): Promise<number | null> {
    return this.process.stop(graceMs);
  }

  kill(): Promise<void> {
    return this.process.kill();
  }
}

function sumMetric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match && match[1] === name) total += Number(match[3]);
  }
  return total;
}
