import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { BlobTable } from '../store/blobs/blob-table.js';
import type { Finding } from '../store/findings.js';
import type { Closure } from '../store/graph/closure.js';
import type { Tally } from './accounting-closures.js';
import type { Snapshot } from './snapshot.js';
import type { ViewEntry } from './view-entry.js';
import { digestViewPath } from './views-by-path.js';

/** A count per blob of the store's table: 4 bytes each, where a map of digest strings cost about 100. */
export class BlobCounts {
  constructor(public table: BlobTable, public counts = new Uint32Array(table.capacity)) {}

  /** The count of `digest`; 0 when it has none or is not in the table. */
  count(digest: Digest): number {
    const i = this.table.indexOf(digest);
    return i < 0 ? 0 : this.counts[i]!;
  }

  /**
   * The count of `digest`, found at position `i` of `table` by the caller (no second search when
   * these counts are of that table; -1: not found there).
   */
  countAt(table: BlobTable, i: number, digest: Digest): number {
    return i >= 0 && table === this.table ? this.counts[i]! : this.count(digest);
  }

  /** The counts as a map, for checks. */
  toMap(): Map<Digest, number> {
    const out = new Map<Digest, number>();
    this.counts.forEach((n, i) => n > 0 && out.set(this.table.digestAt(i), n));
    return out;
  }
}

/**
 * How many view paths show each blob (nlink): what the mount needs at every change, kept up to
 * date incrementally. (Which entries hold each blob, for ls and du, is countHolders, on demand.)
 */
export class Census extends BlobCounts {
  /** Roots whose closure lacks blobs or documents: a blob arriving later can change them. */
  readonly incomplete = new Set<Digest>();
  /** How many view paths show each root. */
  readonly roots = new Map<Digest, number>();

  /**
   * Moves the counts onto `next` (the store's blobs changed): the same array within a lineage. A
   * blob gone must have no count left (its position stays a hole).
   */
  moveTo(next: BlobTable): void {
    if (next === this.table) return;
    this.counts = this.table.carry(this.counts, next, 0);
    this.table = next;
  }
}

/** What a view holds for accounting: its closure and its referrers' (see View.holdingOf), as table positions. */
export interface Holding {
  /** Table positions, no position twice. */
  positions: Uint32Array;
  sizes: Float64Array;
  bytes: number;
  referrers: ViewEntry[];
  /** What the view's own closure lacks: descriptors whose blob is missing, unreadable documents. */
  missing: readonly Descriptor[];
  problems: readonly Finding[];
}

const CONCURRENCY = 16;

/** Bytes of `holding` that no other index.json entry holds: what removing its one holder frees. */
export function exclusiveBytes(holding: Pick<Holding, 'positions' | 'sizes'>, holders: BlobCounts): number {
  let bytes = 0;
  for (let k = 0; k < holding.positions.length; k++) if (holders.counts[holding.positions[k]!] === 1) bytes += holding.sizes[k]!;
  return bytes;
}

/** Runs `work` over `items`, CONCURRENCY at a time. */
async function eachConcurrently<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** Views sharing a root share a closure: each root once, with how many view paths show it. */
function rootCounts(snapshot: Snapshot): Map<Digest, { root: Descriptor; views: number }> {
  const roots = new Map<Digest, { root: Descriptor; views: number }>();
  for (const v of snapshot.views.values()) {
    const r = roots.get(v.root.digest);
    if (r) r.views++;
    else roots.set(v.root.digest, { root: v.root, views: 1 });
  }
  return roots;
}

/** A root's blobs as positions in the census's table now, and whether its closure is complete. */
interface CountedClosure { positions: Iterable<number>; complete: boolean }

/** `closure`'s blobs in `table` (a closure holds only blobs its snapshot had: one gone since counts nowhere). */
function inTable(closure: Closure, table: BlobTable): CountedClosure {
  const positions: number[] = [];
  for (const digest of closure.blobs.keys()) {
    const i = table.indexOf(digest);
    if (i >= 0) positions.push(i);
  }
  return { positions, complete: closure.missing.length === 0 && closure.problems.length === 0 };
}

/** Adds `views` paths to every blob of each root's closure; adds the blobs touched to `touched`. */
async function apply(census: Census, changes: { root: Descriptor; views: number }[],
  closureOf: (root: Descriptor) => Promise<CountedClosure>, touched?: Set<Digest>): Promise<void> {
  await eachConcurrently(changes, async (c) => {
    const closure = await closureOf(c.root);
    if (c.views > 0 && !closure.complete) census.incomplete.add(c.root.digest);
    for (const i of closure.positions) {
      census.counts[i] = census.counts[i]! + c.views;
      touched?.add(census.table.digestAt(i));
    }
  });
}

/**
 * Walks every root's closure once (a tally: from the closures file where a record holds). Only
 * the counts stay in memory.
 */
export async function takeCensus(snapshot: Snapshot, tallyOf: (root: Descriptor) => Promise<Tally>): Promise<Census> {
  const census = new Census(snapshot.present);
  const roots = rootCounts(snapshot);
  for (const [digest, r] of roots) census.roots.set(digest, r.views);
  await apply(census, [...roots.values()], async (root) => {
    const t = await tallyOf(root);
    return { positions: t.positions, complete: t.missing.length === 0 && t.problems.length === 0 };
  });
  return census;
}

/**
 * Moves `census` to `after` in place, walking only the roots of the views that came or went (a
 * tag, an rm, an import of a few images: `after.delta`), plus the roots in `recount` (incomplete
 * closures that blobs arriving may have completed): `closureBefore` for what leaves,
 * `closureAfter` for what comes. Returns the blobs whose counts moved.
 */
export async function updateCensus(census: Census, after: Snapshot, recount: ReadonlyMap<Digest, Descriptor>,
  closureBefore: (root: Descriptor) => Promise<Closure>, closureAfter: (root: Descriptor) => Promise<Closure>): Promise<Set<Digest>> {
  const moves = new Map<Digest, { root: Descriptor; views: number }>();
  const move = (v: ViewEntry, by: number) => {
    const m = moves.get(v.root.digest);
    if (m) m.views += by;
    else moves.set(v.root.digest, { root: v.root, views: by });
  };
  for (const v of after.delta.gone) move(v, -1);
  for (const v of after.delta.came) move(v, 1);
  const leaving: { root: Descriptor; views: number }[] = [];
  const coming: { root: Descriptor; views: number }[] = [];
  const settle = (digest: Digest, now: number) => {
    if (now > 0) census.roots.set(digest, now);
    else census.roots.delete(digest);
  };
  for (const [digest, root] of recount) {
    const had = census.roots.get(digest) ?? 0;
    const now = had + (moves.get(digest)?.views ?? 0);
    moves.delete(digest);
    census.incomplete.delete(digest);
    if (had > 0) leaving.push({ root, views: -had });
    if (now > 0) coming.push({ root, views: now });
    settle(digest, now);
  }
  // Any other root's closure is the same before and after: its count moves by the difference.
  for (const [digest, m] of moves) {
    if (m.views === 0) continue;
    const now = (census.roots.get(digest) ?? 0) + m.views;
    if (now === 0) census.incomplete.delete(digest);
    (m.views < 0 ? leaving : coming).push(m);
    settle(digest, now);
  }
  const touched = new Set<Digest>();
  await apply(census, leaving, async (root) => inTable(await closureBefore(root), census.table), touched);
  census.moveTo(after.present);
  await apply(census, coming, async (root) => inTable(await closureAfter(root), census.table), touched);
  return touched;
}

/**
 * Entries holding each blob: named references (a platform view is part of its reference, no
 * holder of its own), plus unnamed and duplicate entries (gc keeps what they reach). A referrer
 * (an unnamed artifact about an image) is no holder of its own: its blobs count for each holder
 * of its subject, as gc keeps them. A blob with 1 is what `rm` of its one reference frees.
 */
export async function countHolders(snapshot: Snapshot, referrers: ReadonlyMap<Digest, readonly ViewEntry[]>,
  holdingOf: (v: ViewEntry) => Promise<Pick<Holding, 'positions'>>): Promise<BlobCounts> {
  const referrerRoots = new Set<Digest>();
  for (const list of referrers.values()) for (const r of list) referrerRoots.add(r.root.digest);
  const roots = new Map<Digest, { view: ViewEntry; holders: number }>();
  for (const v of snapshot.named) {
    const r = roots.get(v.root.digest);
    if (r) r.holders++;
    else roots.set(v.root.digest, { view: v, holders: 1 });
  }
  // Every other entry holds what its digest's view under _digests/ shows.
  for (const digest of snapshot.otherRoots) {
    if (referrerRoots.has(digest)) continue;
    const r = roots.get(digest);
    if (r) r.holders++;
    else roots.set(digest, { view: snapshot.views.get(digestViewPath(digest))!, holders: 1 });
  }
  const holders = new BlobCounts(snapshot.present);
  await eachConcurrently([...roots.values()], async (r) => {
    const { positions } = await holdingOf(r.view);
    for (const i of positions) holders.counts[i] = holders.counts[i]! + r.holders;
  });
  return holders;
}
