import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@stockmarket/common';
import { MongoClient } from 'mongodb';
import { ferretdbBinary, makeRunDir } from './paths.js';
import { freePort } from './ports.js';
import { ManagedProcess } from './process.js';

/**
 * FerretDB v1.24.2 with its SQLite backend, standing in for MongoDB (no MongoDB server binary can
 * be had on the test machines). It speaks the wire protocol and answers as replica set `rs0`.
 */
export class FerretDbServer {
  private process: ManagedProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<FerretDbServer> {
    if (!existsSync(ferretdbBinary)) {
      throw new Error(`${ferretdbBinary} is missing: run "npm run setup" to build FerretDB`);
    }
    const server = new FerretDbServer(makeRunDir('ferretdb'), await freePort());
    mkdirSync(join(server.dir, 'data'), { recursive: true });
    await server.resume();
    return server;
  }

  /** The URL services use, as they would for the real replica set. */
  get url(): string {
    return `mongodb://127.0.0.1:${this.port}/?replicaSet=rs0`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async resume(): Promise<void> {
    this.process = new ManagedProcess({
      name: 'ferretdb',
      command: ferretdbBinary,
      args: [
        '--handler=sqlite',
        `--sqlite-url=file:${join(this.dir, 'data')}/`,
        `--listen-addr=127.0.0.1:${this.port}`,
        '--repl-set-name=rs0',
        `--state-dir=${this.dir}`,
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=warn',
        '--log-format=json',
      ],
      logFile: join(this.dir, 'ferretdb.log'),
    }).start();
    const child = this.process;
    await waitFor(
      'FerretDB to answer ping',
      async () => {
        if (!child.running) throw new Error(`ferretdb exited; see ${join(this.dir, 'ferretdb.log')}`);
        const client = new MongoClient(this.url, { serverSelectionTimeoutMS: 1_000 });
        try {
          await client.db('admin').command({ ping: 1 });
          return true;
        } finally {
          await client.close();
        }
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }

  /** Stops the server, keeping its data, so `resume` brings it back (an outage). */
  async pause(): Promise<void> {
    await this.process?.stop(10_000);
  }

  /** SIGSTOP/SIGCONT: a database that hangs instead of failing. */
  freeze(): void {
    this.process?.signal('SIGSTOP');
  }

  thaw(): void {
    this.process?.signal('SIGCONT');
  }

  async stop(): Promise<void> {
    this.thaw();
    await this.process?.stop(10_000);
  }
}
