/**
 * The node ids the kernel holds, with its lookup counts: a LOOKUP or a readdirplus entry adds one,
 * FORGET takes them away, and an id at zero leaves the table. Only the counts are kept (an id and
 * a number, about 40 bytes an entry in a Map): after a crawl of every view the kernel holds most
 * of the tree, and the nodes themselves are made again from their ids through the view
 * (View.byId), which is as cheap as finding them by path. Sized by what the kernel caches, not by
 * the store; a Map's table shrinks as entries leave.
 */
export class KernelNodes {
  private readonly lookups = new Map<number, number>();

  remember(id: number): void {
    this.lookups.set(id, (this.lookups.get(id) ?? 0) + 1);
  }

  forget(id: number, lookups: number): void {
    const held = this.lookups.get(id);
    if (held === undefined) return;
    if (held <= lookups) this.lookups.delete(id);
    else this.lookups.set(id, held - lookups);
  }

  has(id: number): boolean {
    return this.lookups.has(id);
  }

  get size(): number {
    return this.lookups.size;
  }
}
