import type { IncomingMessage } from 'node:http';
import type { LiveviewMetrics } from './metrics.js';

type Verdict = (error: string | null | undefined, success: boolean) => void;

/**
 * socket.io's allowRequest: same origin only (a page from elsewhere cannot open a socket here),
 * and no more than `maxClients` at once.
 */
export function admission(maxClients: number, clientsCount: () => number, metrics: LiveviewMetrics) {
  return (request: IncomingMessage, callback: Verdict): void => {
    const origin = request.headers.origin;
    if (origin && !sameOrigin(origin, request.headers.host)) {
      metrics.refused.inc({ reason: 'origin' });
      callback('cross-origin request refused', false);
      return;
    }
    if (clientsCount() >= maxClients) {
      metrics.refused.inc({ reason: 'capacity' });
      callback('server full', false);
      return;
    }
    callback(null, true);
  };
}

export function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
