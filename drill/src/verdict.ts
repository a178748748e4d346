import { waitFor } from '@stockmarket/common';

/** One company-minute as the liveview's reconciliation API classifies it. */
export interface ReconciledMinute {
  readonly company: string;
  readonly minute: number;
  readonly status: string;
  readonly [figure: string]: unknown;
}

export interface Verdict {
  readonly ok: boolean;
  readonly from: number;
  readonly to: number;
  readonly counts: Readonly<Record<string, number>>;
  /** Every company-minute of the span that has a status, as the API answered it. */
  readonly minutes: readonly ReconciledMinute[];
  /** Every minute that is not matched (a break, a partial ledger, or no ledger at all). */
  readonly notMatched: readonly ReconciledMinute[];
}

/**
 * What fails a drill: a break (lost or extra trades, or other figures), or a minute with no ledger
 * although our publisher ran (its ledger was lost). A partial minute (the publisher started or
 * stopped inside it) proves less but is not wrong.
 */
const FAILING = new Set(['break', 'no-ledger']);

const MINUTE_MS = 60_000;

async function fetchMinutes(baseUrl: string, company: string, from: number, to: number): Promise<ReconciledMinute[]> {
  const url = `${baseUrl}/api/reconciliation?company=${company}&from=${from}&to=${to}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { minutes: ReconciledMinute[] };
  return body.minutes;
}

/**
 * The reconciliation verdict over the whole minutes from `from` to `to`: waits until the last of
 * them has a final status for every company and none is pending any more (closed, past the grace
 * period), then counts them by status.
 */
export async function waitForVerdict(
  baseUrl: string,
  companies: readonly string[],
  from: number,
  to: number,
  timeoutMs = 240_000,
): Promise<Verdict> {
  const first = Math.floor(from / MINUTE_MS) * MINUTE_MS;
  const last = Math.floor(to / MINUTE_MS) * MINUTE_MS;
  let minutes: ReconciledMinute[] = [];
  await waitFor(
    `every minute from ${new Date(first).toISOString()} to ${new Date(last).toISOString()} reconciled (not pending)`,
    async () => {
      minutes = (await Promise.all(companies.map((company) => fetchMinutes(baseUrl, company, first, last)))).flat();
      const lastReconciled = companies.every((company) =>
        minutes.some((minute) => minute.company === company && minute.minute === last),
      );
      return lastReconciled && minutes.every((minute) => minute.status !== 'pending');
    },
    { timeoutMs, intervalMs: 2_000 },
  );
  const counts: Record<string, number> = {};
  for (const minute of minutes) counts[minute.status] = (counts[minute.status] ?? 0) + 1;
  const notMatched = minutes.filter((minute) => minute.status !== 'matched');
  return {
    ok: !minutes.some((minute) => FAILING.has(minute.status)),
    from: first,
    to: last,
    counts,
    minutes,
    notMatched,
  };
}

export function formatVerdict(verdict: Verdict): string {
  const span = `${new Date(verdict.from).toISOString().slice(11, 16)}–${new Date(verdict.to).toISOString().slice(11, 16)} UTC`;
  const counts = Object.entries(verdict.counts)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
  return [
    `reconciliation ${span}: ${verdict.ok ? 'no break' : 'BROKEN'} (${counts})`,
    ...verdict.notMatched.map(
      (minute) => `  ${minute.company} ${new Date(minute.minute).toISOString()}: ${JSON.stringify(minute)}`,
    ),
  ].join('\n');
}
