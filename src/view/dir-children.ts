/** Whether sorted `list` holds `name` (binary search, in the order Array.prototype.sort gives strings). */
function holds(list: readonly string[], name: string): boolean {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = list[mid]!;
    if (at === name) return true;
    if (at < name) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/**
 * The children of one directory while a refresh changes them: names added and deleted beside its
 * sorted list, merged into a new sorted list once at the end. A refresh that adds one `_digests/`
 * view to 100,000 costs a merge, not a Set of 100,000 names and a sort of them again.
 */
export class DirChildren {
  private readonly added = new Set<string>();
  private readonly deleted = new Set<string>();

  constructor(private readonly before: readonly string[] = []) {}

  get size(): number {
    return this.before.length - this.deleted.size + this.added.size;
  }

  add(name: string): void {
    if (this.deleted.delete(name) || this.added.has(name) || holds(this.before, name)) return;
    this.added.add(name);
  }

  delete(name: string): void {
    if (this.added.delete(name) || !holds(this.before, name)) return;
    this.deleted.add(name);
  }

  /** The children now, sorted (the list it started from when nothing changed). */
  sorted(): readonly string[] {
    if (this.added.size === 0 && this.deleted.size === 0) return this.before;
    const kept = this.deleted.size === 0 ? this.before : this.before.filter((name) => !this.deleted.has(name));
    if (this.added.size === 0) return kept;
    const added = [...this.added].sort();
    const out: string[] = new Array<string>(kept.length + added.length);
    let i = 0;
    let j = 0;
    for (let k = 0; k < out.length; k++) out[k] = j >= added.length || (i < kept.length && kept[i]! < added[j]!) ? kept[i++]! : added[j++]!;
    return out;
  }
}
