const EMPTY = 0;
const MIN_CAPACITY = 1024;
const TWO_32 = 2 ** 32;
/** Linear probing stays short below this load (about 6 probes for an absent id at 0.7). */
const MAX_LOAD = 0.7;

/** A slot for `id` (an integer below 2^53, never 0) in a table of `mask + 1` slots. */
function slotOf(id: number, mask: number): number {
  const mixed = Math.imul((id >>> 0) ^ Math.imul(Math.floor(id / TWO_32), 0x85ebca6b), 0x9e3779b1);
  return (mixed ^ (mixed >>> 15)) & mask;
}

/**
 * The node ids the kernel holds, with its lookup counts: a LOOKUP or a readdirplus entry adds one,
 * FORGET takes them away, and an id at zero leaves the table. Only the counts are kept, and the
 * nodes themselves are made again from their ids through the view (View.byId), which is as cheap
 * as finding them by path. After a crawl of every view the kernel holds most of the tree (a
 * million ids at 50,000 references), so this is an open-addressing table in two typed arrays,
 * 12 bytes a slot outside the JavaScript heap: a Map of as many was 64 MiB of heap (blob ids are
 * above 2^31, so each key was a heap number too), and every full collection walked it. Sized by
 * what the kernel caches, not by the store: it grows at 70% full (a million ids fit 2^21 slots,
 * 24 MiB) and shrinks at an eighth.
 */
export class KernelNodes {
  private ids = new Float64Array(MIN_CAPACITY);
  private counts = new Uint32Array(MIN_CAPACITY);
  private count = 0;

  remember(id: number): void {
    const mask = this.ids.length - 1;
    let s = slotOf(id, mask);
    while (this.ids[s] !== EMPTY && this.ids[s] !== id) s = (s + 1) & mask;
    if (this.ids[s] === id) {
      this.counts[s]!++;
      return;
    }
    this.ids[s] = id;
    this.counts[s] = 1;
    if (++this.count > this.ids.length * MAX_LOAD) this.resize(this.ids.length * 2);
  }

  forget(id: number, lookups: number): void {
    const s = this.find(id);
    if (s < 0) return;
    if (this.counts[s]! > lookups) {
      this.counts[s]! -= lookups;
      return;
    }
    this.remove(s);
    if (this.count * 8 < this.ids.length && this.ids.length > MIN_CAPACITY) this.resize(this.ids.length / 2);
  }

  has(id: number): boolean {
    return this.find(id) >= 0;
  }

  get size(): number {
    return this.count;
  }

  private find(id: number): number {
    const mask = this.ids.length - 1;
    for (let s = slotOf(id, mask); this.ids[s] !== EMPTY; s = (s + 1) & mask) if (this.ids[s] === id) return s;
    return -1;
  }

  /** Empties slot `s`, moving back the entries after it that would no longer be found (no tombstones). */
  private remove(s: number): void {
    const mask = this.ids.length - 1;
    let hole = s;
    for (let next = (s + 1) & mask; this.ids[next] !== EMPTY; next = (next + 1) & mask) {
      const home = slotOf(this.ids[next]!, mask);
      // The entry at `next` may fill the hole if its home is not in the run (hole, next].
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        this.ids[hole] = this.ids[next]!;
        this.counts[hole] = this.counts[next]!;
        hole = next;
      }
    }
    this.ids[hole] = EMPTY;
    this.counts[hole] = 0;
    this.count--;
  }

  private resize(capacity: number): void {
    const { ids, counts } = this;
    this.ids = new Float64Array(capacity);
    this.counts = new Uint32Array(capacity);
    const mask = capacity - 1;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === EMPTY) continue;
      let s = slotOf(id, mask);
      while (this.ids[s] !== EMPTY) s = (s + 1) & mask;
      this.ids[s] = id;
      this.counts[s] = counts[i]!;
    }
  }
}
