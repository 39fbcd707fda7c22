/**
 * Work done ahead of need, a few at a time: it shares libuv's thread pool with the requests being
 * answered and must not fill it. Beyond `maxWaiting` items more is dropped: it was only ahead of
 * need, and whoever needs it does it then. Failures are left to that caller to meet and report.
 */
export class BackgroundQueue {
  private running = 0;
  private readonly waiting: (() => Promise<void>)[] = [];

  constructor(private readonly concurrency: number, private readonly maxWaiting: number) {}

  /** Queues `work`; the promise settles (never rejects) once it has run. Undefined when it was dropped. */
  add(work: () => Promise<unknown>): Promise<void> | undefined {
    if (this.waiting.length >= this.maxWaiting) return undefined;
    const ran = new Promise<void>((resolve) => this.waiting.push(() => work().then(() => undefined, () => undefined).finally(resolve)));
    this.pump();
    return ran;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const work = this.waiting.shift()!;
      this.running++;
      void work().finally(() => {
        this.running--;
        this.pump();
      });
    }
  }
}
