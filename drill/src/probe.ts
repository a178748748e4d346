/**
 * What a user sees, sampled as a browser would get it: `/api/stocks` through NGINX every
 * `intervalMs`, with one browser cookie (so NGINX keeps it on one replica, as it keeps a page),
 * recording which replica answered and how old the newest trade of each company is. A drill reads
 * detection and recovery off these samples; nothing here knows what the fault is.
 */
export interface ProbeSample {
  /** When the request was sent. */
  readonly at: number;
  /** When its answer (or failure) came: a request in flight at the fault may be answered by another replica. */
  readonly answeredAt?: number;
  /** The replica that answered, or undefined when the request failed. */
  readonly replica?: string;
  readonly error?: string;
  /** Each company's newest trade time (event time, ms), as that replica knows it. */
  readonly lastTradeAt: Readonly<Record<string, number>>;
}

interface StocksAnswer {
  replica: string;
  stocks: { company: string; lastTradeAt?: number }[];
}

export class PageProbe {
  readonly samples: ProbeSample[] = [];
  private cookie: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;

  constructor(
    private readonly baseUrl: string,
    private readonly intervalMs = 100,
    private readonly requestTimeoutMs = 2_000,
  ) {}

  start(): this {
    this.timer = setInterval(() => {
      if (this.inFlight) return;
      this.inFlight = true;
      this.sample().finally(() => {
        this.inFlight = false;
      });
    }, this.intervalMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get latest(): ProbeSample | undefined {
    return this.samples.at(-1);
  }

  private async sample(): Promise<void> {
    const at = Date.now();
    try {
      const response = await fetch(`${this.baseUrl}/api/stocks`, {
        headers: this.cookie ? { cookie: this.cookie } : {},
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      // NGINX's userid module names the browser on its first answer; keep it like a browser.
      const setCookie = response.headers.get('set-cookie');
      if (setCookie && !this.cookie) this.cookie = setCookie.split(';')[0];
      if (!response.ok) {
        this.samples.push({ at, answeredAt: Date.now(), error: `HTTP ${response.status}`, lastTradeAt: {} });
        return;
      }
      const body = (await response.json()) as StocksAnswer;
      const lastTradeAt: Record<string, number> = {};
      for (const stock of body.stocks) if (stock.lastTradeAt) lastTradeAt[stock.company] = stock.lastTradeAt;
      this.samples.push({ at, answeredAt: Date.now(), replica: body.replica, lastTradeAt });
    } catch (error) {
      this.samples.push({ at, answeredAt: Date.now(), error: (error as Error).message, lastTradeAt: {} });
    }
  }
}

/** How far behind the page is at a sample: the age of the stalest company's newest trade. */
export function staleness(sample: ProbeSample, companies: readonly string[]): number {
  if (sample.error !== undefined) return Number.POSITIVE_INFINITY;
  let oldest = Number.POSITIVE_INFINITY;
  for (const company of companies) oldest = Math.min(oldest, sample.lastTradeAt[company] ?? 0);
  return sample.at - oldest;
}

export interface Timeline {
  /** First sample after the fault at which the page was behind, failed, or changed replica. */
  readonly detectedMs?: number;
  /** First sample after that at which every company was fresh again (and stayed answered). */
  readonly recoveredMs?: number;
  /** The longest the page went without a fresh price for every company. */
  readonly worstStalenessMs: number;
  readonly replicaBefore?: string;
  readonly replicaAfter?: string;
  readonly failedRequests: number;
}

/**
 * Reads the timeline of one fault off the samples: detection is the first sample after `faultAt`
 * that is failed, staler than `staleAfterMs`, or from another replica; recovery the first later
 * sample that is fresh again. A fault the page never noticed has neither (and no outage).
 */
export function timelineOf(
  samples: readonly ProbeSample[],
  faultAt: number,
  companies: readonly string[],
  staleAfterMs: number,
): Timeline {
  // Answered before the fault: a request sent just before it and answered after belongs to the fault.
  const answered = (sample: ProbeSample) => sample.answeredAt ?? sample.at;
  const answeredBefore = samples.filter((sample) => answered(sample) < faultAt && sample.replica !== undefined);
  const before = answeredBefore.at(-1);
  // A change of replica counts only where routing was sticky before the fault: on compose, NGINX
  // balances the addresses of one DNS name round robin (docs/deployment.md), so it changes anyway.
  const sticky = new Set(answeredBefore.slice(-10).map((sample) => sample.replica)).size === 1;
  const after = samples.filter((sample) => answered(sample) >= faultAt);
  let detectedMs: number | undefined;
  let recoveredMs: number | undefined;
  let worstStalenessMs = 0;
  for (const sample of after) {
    const stale = staleness(sample, companies);
    if (Number.isFinite(stale)) worstStalenessMs = Math.max(worstStalenessMs, stale);
    const moved = sticky && before?.replica !== undefined && sample.replica !== before.replica;
    const bad = stale > staleAfterMs || moved;
    if (detectedMs === undefined) {
      if (bad) detectedMs = answered(sample) - faultAt;
      continue;
    }
    if (recoveredMs === undefined && stale <= staleAfterMs) recoveredMs = answered(sample) - faultAt;
  }
  const last = after.filter((sample) => sample.replica !== undefined).at(-1);
  return {
    ...(detectedMs === undefined ? {} : { detectedMs }),
    ...(recoveredMs === undefined ? {} : { recoveredMs }),
    worstStalenessMs,
    ...(before?.replica === undefined ? {} : { replicaBefore: before.replica }),
    ...(last?.replica === undefined ? {} : { replicaAfter: last.replica }),
    failedRequests: after.filter((sample) => sample.error !== undefined).length,
  };
}
