import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { Closure } from '../store/blobs/closure.js';
import type { Snapshot } from './snapshot.js';

/** How many view paths show each blob (nlink), and how many index.json entries hold it. */
export interface Census {
  views: Map<Digest, number>;
  /**
   * Entries reaching each blob: named references, plus unnamed and duplicate entries (gc keeps
   * what they reach). A blob with 1 is what `rm` of its one reference frees.
   */
  refs: Map<Digest, number>;
  /** Roots whose closure lacks blobs or documents: a blob arriving later can change them. */
  incomplete: Set<Digest>;
}

const CONCURRENCY = 16;

/** Bytes of `closure` that no other index.json entry holds: what removing its one holder frees. */
export function exclusiveBytes(closure: Closure, census: Census): number {
  let bytes = 0;
  for (const [digest, blob] of closure.blobs) if (census.refs.get(digest) === 1) bytes += blob.size;
  return bytes;
}

interface RootCount {
  root: Descriptor;
  views: number;
  refs: number;
}

/** Views sharing a root share a closure: each root once, with how many views show it and entries hold it. */
function rootCounts(snapshot: Snapshot): Map<Digest, RootCount> {
  const roots = new Map<Digest, RootCount>();
  for (const v of snapshot.views.values()) {
    const r = roots.get(v.root.digest);
    const named = v.name === undefined ? 0 : 1;
    if (r) {
      r.views++;
      r.refs += named;
    } else {
      roots.set(v.root.digest, { root: v.root, views: 1, refs: named });
    }
  }
  // Every other entry's digest has a view under _digests/, so its root is in the map.
  for (const digest of snapshot.otherRoots) roots.get(digest)!.refs++;
  return roots;
}

/** Adds `by` views and `refsBy` holders to every blob of each root's closure; returns the blobs touched. */
async function apply(census: Census, changes: { root: Descriptor; views: number; refs: number }[],
  closureOf: (root: Descriptor) => Promise<Closure>): Promise<Set<Digest>> {
  const touched = new Set<Digest>();
  const add = (map: Map<Digest, number>, digest: Digest, n: number) => {
    if (n === 0) return;
    const now = (map.get(digest) ?? 0) + n;
    if (now === 0) map.delete(digest);
    else map.set(digest, now);
  };
  let next = 0;
  const worker = async () => {
    while (next < changes.length) {
      const c = changes[next++]!;
      const closure = await closureOf(c.root);
      if (c.views > 0 && (closure.missing.length > 0 || closure.problems.length > 0)) census.incomplete.add(c.root.digest);
      for (const digest of closure.blobs.keys()) {
        add(census.views, digest, c.views);
        add(census.refs, digest, c.refs);
        touched.add(digest);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return touched;
}

/**
 * Walks every root's closure once. Only the counts stay in memory; the closures go to the LRU
 * cache and are recomputed on demand when evicted.
 */
export async function takeCensus(snapshot: Snapshot, closureOf: (root: Descriptor) => Promise<Closure>): Promise<Census> {
  const census: Census = { views: new Map(), refs: new Map(), incomplete: new Set() };
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
  const leaving: RootCount[] = [];
  const coming: RootCount[] = [];
  for (const [digest, o] of old) {
    const n = now.get(digest);
    if (!n || recount.has(digest)) {
      leaving.push({ root: o.root, views: -o.views, refs: -o.refs });
      census.incomplete.delete(digest);
      if (n) coming.push(n);
    } else if (n.views !== o.views || n.refs !== o.refs) {
      coming.push({ root: n.root, views: n.views - o.views, refs: n.refs - o.refs });
    }
  }
  for (const [digest, n] of now) if (!old.has(digest)) coming.push(n);
  const touched = await apply(census, leaving, closureBefore);
  for (const digest of await apply(census, coming, closureAfter)) touched.add(digest);
  return touched;
}
