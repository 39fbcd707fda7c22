import type { Digest } from '../oci/digest.js';
import type { Closure } from '../store/blobs/closure.js';
import { attachReferrers } from './referrers.js';
import type { Snapshot, ViewEntry } from './snapshot.js';

/** How many view paths show each blob (nlink), and how many index.json entries hold it. */
export interface Census {
  views: Map<Digest, number>;
  /**
   * Entries reaching each blob: named references, plus unnamed and duplicate entries (gc keeps
   * what they reach). A referrer (an unnamed artifact about an image) is no holder of its own: its
   * blobs count for each holder of its subject, as gc keeps them. A blob with 1 is what `rm` of
   * its one reference frees.
   */
  refs: Map<Digest, number>;
}

const CONCURRENCY = 16;

/** Bytes of `closure` that no other index.json entry holds: what removing its one holder frees. */
export function exclusiveBytes(closure: Pick<Closure, 'blobs'>, census: Census): number {
  let bytes = 0;
  for (const [digest, blob] of closure.blobs) if (census.refs.get(digest) === 1) bytes += blob.size;
  return bytes;
}

/**
 * Walks every view's closure once per snapshot. Only the counts stay in memory; the closures go to
 * the LRU cache and are recomputed on demand when evicted.
 */
export async function takeCensus(snapshot: Snapshot, closureOf: (v: ViewEntry) => Promise<Closure>,
  referrers: ReadonlyMap<Digest, readonly ViewEntry[]> = new Map()): Promise<Census> {
  const referrerRoots = new Set<Digest>();
  for (const list of referrers.values()) for (const r of list) referrerRoots.add(r.root.digest);
  // Views sharing a root share a closure: walk each root once, counting how many views show it.
  const roots = new Map<Digest, { view: ViewEntry; views: number; refs: number }>();
  for (const v of snapshot.views.values()) {
    const r = roots.get(v.root.digest);
    // A platform view shows part of its reference's image: more paths (nlink), no other holder.
    const named = v.name === undefined || v.platform !== undefined ? 0 : 1;
    if (r) {
      r.views++;
      r.refs += named;
    } else {
      roots.set(v.root.digest, { view: v, views: 1, refs: named });
    }
  }
  // Every other entry's digest has a view under _digests/, so its root is in the map.
  for (const digest of snapshot.otherRoots) if (!referrerRoots.has(digest)) roots.get(digest)!.refs++;
  const views = new Map<Digest, number>();
  const refs = new Map<Digest, number>();
  const queue = [...roots.values()];
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const root = queue[next++]!;
      const closure = await closureOf(root.view);
      for (const digest of closure.blobs.keys()) views.set(digest, (views.get(digest) ?? 0) + root.views);
      if (root.refs === 0) continue;
      const held = new Map(closure.blobs);
      await attachReferrers(held, referrers, closureOf);
      for (const digest of held.keys()) refs.set(digest, (refs.get(digest) ?? 0) + root.refs);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { views, refs };
}
