import { resolve4 } from 'node:dns/promises';
import { z } from 'zod';

export type ServiceRole = 'publisher' | 'consumer' | 'liveview';
const ROLES: readonly ServiceRole[] = ['publisher', 'consumer', 'liveview'];

/** One `/metrics` endpoint to scrape, and what it is. */
export interface ScrapeTarget {
  role: ServiceRole;
  name: string;
  url: string;
}

/** A name's role is the service it starts with (`consumer-2`, `stockmarket-consumer`…). */
export function roleOf(name: string): ServiceRole | undefined {
  return ROLES.find((role) => name.includes(role));
}

/**
 * `LIVEVIEW_SYSTEM_TARGETS`: `name=url,...`, each name containing its service
 * (`consumer-1=http://127.0.0.1:9465`). `/metrics` is appended when the URL has no path.
 */
export const staticTargetsSchema = z
  .string()
  .transform((value, context) => {
    const targets: ScrapeTarget[] = [];
    for (const entry of value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const at = entry.indexOf('=');
      const name = entry.slice(0, at).trim();
      const url = entry.slice(at + 1).trim();
      const role = roleOf(name);
      if (at <= 0 || !role || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
        context.addIssue({
          code: 'custom',
          message: `"${entry}" is not name=http://host:port with a name containing publisher, consumer or liveview`,
        });
        return z.NEVER;
      }
      targets.push({ role, name, url: metricsUrl(url) });
    }
    return targets;
  })
  .default([]);

export interface DnsService {
  role: ServiceRole;
  host: string;
  port: number;
}

/**
 * `LIVEVIEW_SYSTEM_DNS`: `host:port,...` of compose services; each host name resolves to every
 * replica of a scaled service, as Prometheus' DNS service discovery uses it.
 */
export const dnsServicesSchema = z
  .string()
  .transform((value, context) => {
    const services: DnsService[] = [];
    for (const entry of value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const match = /^([a-zA-Z0-9][\w.-]*):(\d{1,5})$/.exec(entry);
      const role = match?.[1] ? roleOf(match[1]) : undefined;
      const port = Number(match?.[2]);
      if (!match?.[1] || !role || port < 1 || port > 65_535) {
        context.addIssue({
          code: 'custom',
          message: `"${entry}" is not host:port with a host containing publisher, consumer or liveview`,
        });
        return z.NEVER;
      }
      services.push({ role, host: match[1], port });
    }
    return services;
  })
  .default([]);

function metricsUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/metrics';
  return parsed.toString();
}

/**
 * Every replica behind each DNS name, named `host@address`. A name that does not resolve (the
 * service is scaled to 0 or not up yet) yields no targets; its replicas show as lost.
 */
export async function discoverTargets(services: readonly DnsService[]): Promise<ScrapeTarget[]> {
  const found = await Promise.all(
    services.map(async (service) => {
      const addresses = await resolve4(service.host).catch(() => [] as string[]);
      return addresses.sort().map((address) => ({
        role: service.role,
        name: `${service.host}@${address}`,
        url: `http://${address}:${service.port}/metrics`,
      }));
    }),
  );
  return found.flat();
}
