/** What the watchdog reads of the publisher it watches. */
export interface StallSubject {
  /** 0 while nothing waits or no channel is up; else `StallWatchdog.clockMs`. */
  stalledForMs(): number;
  readonly isBlocked: boolean;
  readonly pendingCount: number;
  readonly inFlightCount: number;
}

/**
 * The confirm-stall watchdog of one confirmed publisher. Its clock restarts at the last positive
 * confirm, the last attach and the last 0 → 1 pending message (a nack does not restart it): a
 * connected node that confirms nothing for `timeoutMs` while messages wait is given up, once per
 * channel (`PUBLISHER_CONFIRM_TIMEOUT_MS`); its close moves the unconfirmed messages to the retry
 * list. Not while the broker blocks us (a memory or disk alarm): every node would do the same.
 */
export class StallWatchdog {
  private confirmedAt = 0;
  private attachedAt = 0;
  private pendingSince = 0;
  private gaveUp = false;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number | undefined,
    private readonly subject: StallSubject,
    private readonly onStall: (reason: string) => void,
  ) {
    if (timeoutMs === undefined) return;
    this.timer = setInterval(() => this.check(), 200);
    this.timer.unref();
  }

  attached(now = performance.now()): void {
    this.attachedAt = now;
    this.gaveUp = false;
  }

  firstPending(now = performance.now()): void {
    this.pendingSince = now;
  }

  confirmed(now = performance.now()): void {
    this.confirmedAt = now;
  }

  /** Time since the clock last restarted. */
  clockMs(now = performance.now()): number {
    return now - Math.max(this.confirmedAt, this.attachedAt, this.pendingSince);
  }

  private check(): void {
    const stalledMs = this.subject.stalledForMs();
    const stalled = this.timeoutMs !== undefined && stalledMs > this.timeoutMs && !this.subject.isBlocked;
    if (!stalled || this.gaveUp) return;
    this.gaveUp = true;
    const { pendingCount, inFlightCount } = this.subject;
    this.onStall(
      `no confirm for ${Math.round(stalledMs)} ms with ${pendingCount} unconfirmed, ${inFlightCount} of them sent on this channel (PUBLISHER_CONFIRM_TIMEOUT_MS)`,
    );
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
