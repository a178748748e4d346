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
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.resume();
    }, this.delayMs);
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
