import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { Closure } from '../store/graph/closure.js';
import { attachReferrers } from './referrers.js';
import type { Snapshot, ViewEntry } from './snapshot.js';

/**
 * How many view paths show each blob (nlink): what the mount needs at every change, kept up to
 * date incrementally. (Which entries hold each blob, for ls and du, is countHolders, on demand.)
 */
export interface Census {
  views: Map<Digest, number>;
  /** Roots whose closure lacks blobs or documents: a blob arriving later can change them. */
  incomplete: Set<Digest>;
}

const CONCURRENCY = 16;

/** Bytes of `closure` that no other index.json entry holds: what removing its one holder frees. */
export function exclusiveBytes(closure: Pick<Closure, 'blobs'>, holders: ReadonlyMap<Digest, number>): number {
  let bytes = 0;
  for (const [digest, blob] of closure.blobs) if (holders.get(digest) === 1) bytes += blob.size;
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

/** Adds `views` paths to every blob of each root's closure; returns the blobs touched. */
async function apply(census: Census, changes: { root: Descriptor; views: number }[],
  closureOf: (root: Descriptor) => Promise<Closure>): Promise<Set<Digest>> {
  const touched = new Set<Digest>();
  await eachConcurrently(changes, async (c) => {
    const closure = await closureOf(c.root);
    if (c.views > 0 && (closure.missing.length > 0 || closure.problems.length > 0)) census.incomplete.add(c.root.digest);
    for (const digest of closure.blobs.keys()) {
      const now = (census.views.get(digest) ?? 0) + c.views;
      if (now === 0) census.views.delete(digest);
      else census.views.set(digest, now);
      touched.add(digest);
    }
  });
  return touched;
}

/**
 * Walks every root's closure once. Only the counts stay in memory; the closures go to the LRU
 * cache and are recomputed on demand when evicted.
 */
export async function takeCensus(snapshot: Snapshot, closureOf: (root: Descriptor) => Promise<Closure>): Promise<Census> {
  const census: Census = { views: new Map(), incomplete: new Set() };
  await apply(census, [...rootCounts(snapshot).values()], closureOf);
  return census;
}

/**
 * Moves `census` from `before` to `after` in place, walking only the roots whose counts changed
 * (a tag, an rm, an import of a few images), plus the roots in `recount` (incomplete closures
 * that blobs arriving may have completed): `closureBefore` for what leaves, `closureAfter` for
 * what comes. Returns the blobs whose counts moved.
 */
export async function updateCensus(census: Census, before: Snapshot, after: Snapshot, recount: ReadonlySet<Digest>,
  closureBefore: (root: Descriptor) => Promise<Closure>, closureAfter: (root: Descriptor) => Promise<Closure>): Promise<Set<Digest>> {
  const old = rootCounts(before);
  const now = rootCounts(after);
  const leaving: { root: Descriptor; views: number }[] = [];
  const coming: { root: Descriptor; views: number }[] = [];
  for (const [digest, o] of old) {
    const n = now.get(digest);
    if (!n || recount.has(digest)) {
      leaving.push({ root: o.root, views: -o.views });
      census.incomplete.delete(digest);
      if (n) coming.push(n);
    } else if (n.views !== o.views) {
      coming.push({ root: n.root, views: n.views - o.views });
    }
  }
  for (const [digest, n] of now) if (!old.has(digest)) coming.push(n);
  const touched = await apply(census, leaving, closureBefore);
  for (const digest of await apply(census, coming, closureAfter)) touched.add(digest);
  return touched;
}

/**
 * Entries holding each blob: named references (a platform view is part of its reference, no
 * holder of its own), plus unnamed and duplicate entries (gc keeps what they reach). A referrer
 * (an unnamed artifact about an image) is no holder of its own: its blobs count for each holder
 * of its subject, as gc keeps them. A blob with 1 is what `rm` of its one reference frees.
 */
export async function countHolders(snapshot: Snapshot, referrers: ReadonlyMap<Digest, readonly ViewEntry[]>,
  closureOf: (v: ViewEntry) => Promise<Closure>): Promise<Map<Digest, number>> {
  const referrerRoots = new Set<Digest>();
  for (const list of referrers.values()) for (const r of list) referrerRoots.add(r.root.digest);
  const roots = new Map<Digest, { view: ViewEntry; holders: number }>();
  for (const v of snapshot.views.values()) {
    const holder = v.name === undefined || v.platform !== undefined ? 0 : 1;
    const r = roots.get(v.root.digest);
    if (r) r.holders += holder;
    else roots.set(v.root.digest, { view: v, holders: holder });
  }
  // Every other entry's digest has a view under _digests/, so its root is in the map.
  for (const digest of snapshot.otherRoots) if (!referrerRoots.has(digest)) roots.get(digest)!.holders++;
  const holders = new Map<Digest, number>();
  await eachConcurrently([...roots.values()].filter((r) => r.holders > 0), async (r) => {
    const held = new Map((await closureOf(r.view)).blobs);
    await attachReferrers(held, referrers, closureOf);
    for (const digest of held.keys()) holders.set(digest, (holders.get(digest) ?? 0) + r.holders);
  });
  return holders;
}
