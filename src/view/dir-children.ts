/** Where `name` is or would go in sorted `list` (in the order Array.prototype.sort gives strings). */
export function sortedPosition(list: readonly string[], name: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function holds(list: readonly string[], name: string): boolean {
  return list[sortedPosition(list, name)] === name;
}

/** Past this many changes to one directory, its list is sorted whole again (and pieces would not fit one call's arguments). */
const MANY_CHANGES = 1024;

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

  /**
   * The children now, sorted (the list it started from when nothing changed): the kept runs
   * between the places of the few changes are copied whole, no name compared but at those places.
   */
  sorted(): readonly string[] {
    if (this.added.size === 0 && this.deleted.size === 0) return this.before;
    // A first build, or a change as large: one sort.
    if (this.added.size + this.deleted.size > MANY_CHANGES) return [...this.before.filter((n) => !this.deleted.has(n)), ...this.added].sort();
    // Each change at its place in `before`. At one place, additions (which sort before the name
    // there) go first, then the deletion of that name.
    const changes = [...[...this.deleted].map((name) => ({ at: sortedPosition(this.before, name), name, add: false })),
      ...[...this.added].map((name) => ({ at: sortedPosition(this.before, name), name, add: true }))]
      .sort((a, b) => a.at - b.at || Number(b.add) - Number(a.add) || (a.name < b.name ? -1 : 1));
    const pieces: (readonly string[])[] = [];
    let from = 0;
    for (const c of changes) {
      pieces.push(this.before.slice(from, c.at));
      from = c.at;
      if (c.add) pieces.push([c.name]);
      else from++;
    }
    pieces.push(this.before.slice(from));
    return ([] as string[]).concat(...pieces);
  }
}
