/** Promises resolved together when something happens, or each after its own timeout. */
export class Waiters {
  private readonly waiting = new Set<() => void>();

  get size(): number {
    return this.waiting.size;
  }

  /** Resolves true at the next `wake()`, or false after `ms`. */
  wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiting = this.waiting;
      const timer = setTimeout(() => finish(false), ms);
      function finish(woken: boolean) {
        clearTimeout(timer);
        waiting.delete(onWake);
        resolve(woken);
      }
      function onWake() {
        finish(true);
      }
      waiting.add(onWake);
    });
  }

  wake(): void {
    for (const waiter of [...this.waiting]) waiter();
  }
}
