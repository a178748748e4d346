import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface Probe {
  /** Ready to do useful work: connections up, topology in place. */
  ready(): boolean;
}

/** One Prometheus registry per process, with Node's default metrics and a `service` label. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** `GET /healthz` (process alive), `GET /readyz` (probe) and `GET /metrics` (Prometheus). */
export async function handleOpsRequest(
  path: string,
  probe: Probe,
  registry: Registry,
): Promise<{ status: number; type: string; body: string } | undefined> {
  switch (path) {
    case '/healthz':
      return { status: 200, type: 'application/json', body: '{"status":"ok"}' };
    case '/readyz': {
      const ready = probe.ready();
      return {
        status: ready ? 200 : 503,
        type: 'application/json',
        body: JSON.stringify({ status: ready ? 'ready' : 'not ready' }),
      };
    }
    case '/metrics':
      return { status: 200, type: registry.contentType, body: await registry.metrics() };
    default:
      return undefined;
  }
}

/** A small HTTP server for the services without a web front (publisher, consumer). */
export async function startOpsServer(
  port: number,
  host: string,
  probe: Probe,
  registry: Registry,
): Promise<Server & { port: number }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    handleOpsRequest(path, probe, registry).then(
      (answer) => {
        if (!answer) response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        else response.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
      },
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}
