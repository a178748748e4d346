/**
 * Fan-out: 1,000 to 10,000 socket.io clients through NGINX on one, then two, liveview replicas, fed by the
 * normal pipeline (publisher at its default rate -> RabbitMQ -> consumer -> FerretDB). Measures
 * the delivery delay of every update each client receives, CPU and RSS of the replica.
 *
 * Delay: client receive time minus `sentAt`, the moment the replica emitted the update (one clock:
 * everything runs on this machine). That is the fan-out cost alone: serialisation, writes to every
 * socket, NGINX, the client. The end-to-end delay (receive minus the newest trade time) is reported
 * as well, but it is dominated by the consumer's batch window (CONSUMER_FLUSH_INTERVAL_MS, 1 s) and
 * the poll interval, not by the number of clients.
 *
 * NGINX allows 256 connections per client address (limit_conn perip 256), so the clients connect
 * from many loopback source addresses (127.0.0.2, 127.0.0.3, ...), 200 per address, instead of
 * raising the limit. The clients run in several child processes so one client event loop is not
 * what gets measured.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuTicks, LocalStack, resultsDir, rssMb, waitFor } from '@stockmarket/stack';
import type { BenchOptions, BenchResult } from './cli.js';
import { benchConfig } from './config.js';
import { Latencies } from './latency.js';
import { linePlot } from './plot.js';

const WORKER_FLAG = '--fanout-worker';
const PER_ADDRESS = 200;

type Command =
  | { type: 'connect'; url: string; count: number; firstAddress: number }
  | { type: 'reset' }
  | { type: 'report' }
  | { type: 'close' };
type Reply =
  | { type: 'connected'; connected: number; failed: number; errors: Record<string, number> }
  | { type: 'report'; fanout: string; endToEnd: string; received: number; connected: number; disconnects: number }
  | { type: 'closed' };

interface Figures {
  /** Liveview replicas behind NGINX; CPU is their sum, RSS their sum. */
  replicas: number;
  clients: number;
  connected: number;
  seconds: number;
  updatesPerClientPerSecond: number;
  messagesReceived: number;
  fanoutMs: { p50: number; p90: number; p99: number; max: number };
  endToEndMs: { p50: number; p99: number };
  replicaCpuPercent: number;
  replicaRssMb: number;
  replicaRssPeakMb: number;
  /** RSS of the replicas just before the clients connected (for the per-client figure). */
  replicaRssBeforeMb: number;
  disconnects: number;
  /** Clients the replica's own metric counted after the connection phase. */
  replicaClients: number;
}

export async function run({ short, log }: BenchOptions): Promise<BenchResult> {
  const seconds = short ? 10 : 30;
  // The full run doubles the client count in steps, so the growth curve is visible; then the
  // same loads on two replicas behind NGINX. BENCH_FANOUT_CLIENTS picks steps on one replica only.
  const picked = benchConfig.BENCH_FANOUT_CLIENTS;
  const one = await measure(
    1,
    picked ?? (short ? [1000, 5000, 10_000] : [625, 1000, 1250, 2500, 5000, 10_000]),
    seconds,
    log,
  );
  const two = picked ? [] : await measure(2, short ? [1000, 5000] : [1000, 5000, 10_000], seconds, log);
  const results = [...one, ...two];
  writeFileSync(join(resultsDir, 'fanout-latency.svg'), await fanoutPlot(results));
  return { name: 'fanout', data: { seconds, results }, markdown: markdown(results, short) };
}

async function measure(
  replicaCount: number,
  sizes: readonly number[],
  seconds: number,
  log: (line: string) => void,
): Promise<Figures[]> {
  const nodeOptions = benchConfig.BENCH_LIVEVIEW_NODE_OPTIONS;
  const stack = await LocalStack.start({
    liveviews: replicaCount,
    consumers: 1,
    liveviewEnv: nodeOptions ? { NODE_OPTIONS: nodeOptions } : {},
  });
  const workers: Worker[] = [];
  try {
    const pids = stack.liveviews.map((replica) => replica.process.pid);
    if (pids.length !== replicaCount || pids.some((pid) => pid === undefined))
      throw new Error('a liveview replica is missing');
    const replicaPids = pids as number[];
    const clientsOnReplicas = async () => {
      let total = 0;
      for (const replica of stack.liveviews) total += await replica.metric('liveview_connected_clients');
      return total;
    };
    for (let i = 0; i < 4; i++) workers.push(new Worker());
    const results: Figures[] = [];
    let nextAddress = 2;
    for (const clients of sizes) {
      const rssBefore = replicaPids.reduce((sum, pid) => sum + rssMb(pid), 0);
      log(`${clients} clients on ${replicaCount} replica(s): connecting (replica RSS ${rssBefore.toFixed(0)} MB)`);
      const share = Math.ceil(clients / workers.length);
      const replies = await Promise.all(
        workers.map((worker, index) => {
          const count = Math.min(share, clients - index * share);
          const firstAddress = nextAddress + index * Math.ceil(share / PER_ADDRESS);
          return worker.ask({ type: 'connect', url: stack.url, count, firstAddress }, 'connected', 300_000);
        }),
      );
      nextAddress += workers.length * Math.ceil(share / PER_ADDRESS);
      const connected = replies.reduce((sum, reply) => sum + (reply.type === 'connected' ? reply.connected : 0), 0);
      const failed = replies.reduce((sum, reply) => sum + (reply.type === 'connected' ? reply.failed : 0), 0);
      log(`${clients} clients: ${connected} connected, ${failed} failed`);
      if (failed > 0) {
        const errors: Record<string, number> = {};
        for (const reply of replies)
          if (reply.type === 'connected')
            for (const [message, count] of Object.entries(reply.errors))
              errors[message] = (errors[message] ?? 0) + count;
        log(`${clients} clients: connect errors ${JSON.stringify(errors)}`);
      }
      log(`${clients} clients: NGINX error log ${nginxErrors(stack.nginx?.dir)}`);
      // The replica's own view of the connection phase: event-loop stall (max since the last
      // scrape) and time in GC so far; a stall past NGINX's 2 s read timeout fails upgrades.
      const lagMax = await Promise.all(
        stack.liveviews.map((replica) => replica.metric('nodejs_eventloop_lag_max_seconds')),
      );
      const gcSeconds = await Promise.all(
        stack.liveviews.map((replica) => replica.metric('nodejs_gc_duration_seconds_sum')),
      );
      log(
        `${clients} clients: replica event-loop lag max ${lagMax.map((s) => s.toFixed(2))} s, GC ${gcSeconds.map((s) => s.toFixed(2))} s in all`,
      );
      const replicaClients = await clientsOnReplicas().catch(() => Number.NaN);
      log(`${clients} clients: the replica counts ${replicaClients}`);
      // Let the connection burst settle before measuring.
      await settle(3_000);
      await Promise.all(workers.map((worker) => worker.send({ type: 'reset' })));
      const ticks = () => replicaPids.reduce((sum, pid) => sum + (cpuTicks(pid) ?? Number.NaN), 0);
      const rss = () => replicaPids.reduce((sum, pid) => sum + rssMb(pid), 0);
      const cpuBefore = ticks();
      const startedAt = Date.now();
      let rssPeak = 0;
      for (let elapsed = 0; elapsed < seconds * 1000; elapsed = Date.now() - startedAt) {
        rssPeak = Math.max(rssPeak, rss());
        await settle(Math.min(1_000, seconds * 1000 - elapsed));
      }
      const window = (Date.now() - startedAt) / 1000;
      const cpu = ((ticks() - cpuBefore) / 100 / window) * 100;
      const heap = async (name: string) =>
        (await Promise.all(stack.liveviews.map((replica) => replica.metric(name)))).reduce((a, b) => a + b, 0) / 1e6;
      log(
        `${clients} clients: replica V8 heap ${(await heap('nodejs_heap_size_used_bytes')).toFixed(0)} MB used of ${(await heap('nodejs_heap_size_total_bytes')).toFixed(0)} MB, external ${(await heap('nodejs_external_memory_bytes')).toFixed(0)} MB, RSS ${rss().toFixed(0)} MB`,
      );
      const reports = await Promise.all(workers.map((worker) => worker.ask({ type: 'report' }, 'report', 60_000)));
      const fanout = Latencies.create();
      const endToEnd = Latencies.create();
      let received = 0;
      let disconnects = 0;
      for (const report of reports) {
        if (report.type !== 'report') continue;
        fanout.add(Latencies.decode(report.fanout));
        endToEnd.add(Latencies.decode(report.endToEnd));
        received += report.received;
        disconnects += report.disconnects;
      }
      const figures: Figures = {
        replicas: replicaCount,
        clients,
        connected,
        seconds: Number(window.toFixed(1)),
        updatesPerClientPerSecond: Number((received / Math.max(1, connected) / window).toFixed(2)),
        messagesReceived: received,
        fanoutMs: (({ p50, p90, p99, max }) => ({ p50, p90, p99, max }))(fanout.summary()),
        endToEndMs: (({ p50, p99 }) => ({ p50, p99 }))(endToEnd.summary()),
        replicaCpuPercent: Number(cpu.toFixed(1)),
        replicaRssMb: Number(rss().toFixed(0)),
        replicaRssPeakMb: Number(rssPeak.toFixed(0)),
        replicaRssBeforeMb: Number(rssBefore.toFixed(0)),
        disconnects,
        replicaClients,
      };
      log(JSON.stringify(figures));
      results.push(figures);
      await Promise.all(workers.map((worker) => worker.ask({ type: 'close' }, 'closed', 120_000)));
      await waitFor('the replica to see the clients leave', async () => (await clientsOnReplicas()) === 0, {
        timeoutMs: 120_000,
        intervalMs: 500,
      });
    }
    return results;
  } finally {
    for (const worker of workers) worker.kill();
    await stack.stop();
  }
}

/** Delivery delay against the number of clients, one line per percentile and replica count. */
export function fanoutPlot(results: readonly Figures[]): Promise<string> {
  const series = (replicas: number, key: 'p50' | 'p99') => ({
    label: `${key}, ${replicas} replica${replicas > 1 ? 's' : ''}`,
    points: results.filter((r) => r.replicas === replicas).map((r) => [r.clients, r.fanoutMs[key]] as const),
  });
  return linePlot('Fan-out delay through NGINX', 'socket.io clients', 'ms (emit → client)', [
    series(1, 'p50'),
    series(1, 'p99'),
    series(2, 'p50'),
    series(2, 'p99'),
  ]);
}

function markdown(results: readonly Figures[], short: boolean): string {
  const rows = results.map(
    (r) =>
      `| ${r.replicas} | ${r.clients} | ${r.connected} | ${r.updatesPerClientPerSecond} | ${r.fanoutMs.p50} | ${r.fanoutMs.p99} | ${r.fanoutMs.max} | ${r.endToEndMs.p50} | ${r.endToEndMs.p99} | ${r.replicaCpuPercent} | ${r.replicaRssPeakMb} | ${r.disconnects} |`,
  );
  return [
    `## Fan-out: socket.io clients through NGINX on one and two liveview replicas${short ? ' (short run)' : ''}`,
    '',
    'Delay from the moment the replica emitted an update (`sentAt`) to its arrival at each client, over every',
    'update every client received; end-to-end = arrival minus the newest trade time in the update',
    '(includes the consumer batch window and the poll interval). CPU: percent of one core. Publisher at its',
    'default rate (TICKER_INTERVAL 100 ms per company), one consumer, FerretDB, NGINX, clients on this machine.',
    '',
    '| replicas | clients | connected | updates/client/s | fan-out p50 ms | fan-out p99 ms | max ms | end-to-end p50 ms | end-to-end p99 ms | CPU % (all replicas) | RSS peak MB (all replicas) | disconnects |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

/** NGINX's error log of this stack, summarised: how many lines of each kind of error. */
function nginxErrors(dir: string | undefined): string {
  const file = dir === undefined ? undefined : join(dir, 'logs', 'error.log');
  if (file === undefined || !existsSync(file)) return 'absent';
  const kinds: Record<string, number> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    // "2026/12/04 14:50:01 [alert] 123#0: *5 socket() failed (24: Too many open files) while connecting to upstream, client: ..."
    const match = /\[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*?)(?:, client: .*)?$/.exec(line);
    if (!match) continue;
    const kind = `${match[1]}: ${match[2]?.replace(/\d+/g, 'N')}`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return JSON.stringify(kinds);
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A child process holding a share of the clients, driven over IPC. */
class Worker {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (reply: Reply) => void>();

  constructor() {
    this.child = fork(fileURLToPath(import.meta.url), [WORKER_FLAG], { stdio: 'inherit' });
    this.child.on('message', (reply: Reply) => {
      this.waiting.get(reply.type)?.(reply);
      this.waiting.delete(reply.type);
    });
  }

  send(command: Command): void {
    this.child.send(command);
  }

  ask(command: Command, answer: Reply['type'], timeoutMs: number): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker: no ${answer} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(answer, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.send(command);
    });
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

async function runWorker(): Promise<void> {
  const { io } = await import('socket.io-client');
  type ClientSocket = ReturnType<typeof io>;
  let sockets: ClientSocket[] = [];
  let fanout = Latencies.create();
  let endToEnd = Latencies.create();
  let received = 0;
  let disconnects = 0;
  process.on('message', async (command: Command) => {
    switch (command.type) {
      case 'connect': {
        let connected = 0;
        let failed = 0;
        const errors: Record<string, number> = {};
        // In waves, so the replica and NGINX see a ramp rather than one burst.
        for (let first = 0; first < command.count; first += 100) {
          const wave = Array.from({ length: Math.min(100, command.count - first) }, (_, i) => {
            const index = first + i;
            const address = command.firstAddress + Math.floor(index / PER_ADDRESS);
            if (address > 254) throw new Error('out of loopback source addresses');
            const localAddress = `127.0.0.${address}`;
            const socket = io(command.url, {
              transports: ['websocket'],
              forceNew: true,
              reconnection: false,
              timeout: 60_000,
              localAddress,
            } as Parameters<typeof io>[1]);
            socket.on('update', (message: { sentAt?: number; stocks: { lastTradeAt?: number }[] }) => {
              const now = Date.now();
              received++;
              if (message.sentAt) fanout.record(now - message.sentAt);
              const newest = Math.max(0, ...message.stocks.map((stock) => stock.lastTradeAt ?? 0));
              if (newest > 0) endToEnd.record(now - newest);
            });
            socket.on('disconnect', () => disconnects++);
            sockets.push(socket);
            return new Promise<boolean>((resolve) => {
              socket.once('snapshot', () => resolve(true));
              socket.once('connect_error', (error: Error & { description?: unknown }) => {
                const key = `${error.message}${error.description === undefined ? '' : ` ${String(error.description)}`}`;
                errors[key] = (errors[key] ?? 0) + 1;
                resolve(false);
              });
            });
          });
          for (const ok of await Promise.all(wave)) ok ? connected++ : failed++;
        }
        process.send?.({ type: 'connected', connected, failed, errors } satisfies Reply);
        break;
      }
      case 'reset':
        fanout = Latencies.create();
        endToEnd = Latencies.create();
        received = 0;
        disconnects = 0;
        break;
      case 'report':
        process.send?.({
          type: 'report',
          fanout: fanout.encode(),
          endToEnd: endToEnd.encode(),
          received,
          connected: sockets.filter((socket) => socket.connected).length,
          disconnects,
        } satisfies Reply);
        break;
      case 'close':
        for (const socket of sockets) socket.close();
        sockets = [];
        process.send?.({ type: 'closed' } satisfies Reply);
        break;
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv.includes(WORKER_FLAG)) void runWorker();
