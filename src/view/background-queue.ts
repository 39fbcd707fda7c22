/**
 * Work done ahead of need, a few at a time: it shares libuv's thread pool with the requests being
 * answered and must not fill it. Beyond `maxWaiting` items more is dropped: it was only ahead of
 * need, and whoever needs it does it then. Failures are left to that caller to meet and report.
 */
export class BackgroundQueue {
  private running = 0;
  private readonly waiting: (() => Promise<unknown>)[] = [];

  constructor(private readonly concurrency: number, private readonly maxWaiting: number) {}

  add(work: () => Promise<unknown>): void {
    if (this.waiting.length >= this.maxWaiting) return;
    this.waiting.push(work);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const work = this.waiting.shift()!;
      this.running++;
      void work().catch(() => undefined).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }
}
