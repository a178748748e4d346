/**
 * A nack means the broker could not take the message now (a queue without a leader, say):
 * resending at once would spin between the two, so resends wait `delayMs`, then `resume` runs.
 */
export class RetryPause {
  private until = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly resume: () => void,
  ) {}

  get active(): boolean {
    return performance.now() < this.until;
  }

  start(): void {
    this.until = performance.now() + this.delayMs;
    if (!this.timer) this.schedule(this.delayMs);
  }

  /**
   * Node's timer clock is the event loop's, which can run a little behind `performance.now()`:
   * a timer that fires before the pause is over waits the rest, so the resend is not lost.
   */
  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const left = this.until - performance.now();
      if (left > 0) this.schedule(left);
      else this.resume();
    }, ms);
    this.timer.unref();
  }

  /** A new channel, perhaps a new node: resend at once. */
  end(): void {
    this.until = 0;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
