import type { Digest } from '../oci/digest.js';
import { isWalkableType } from '../oci/media-types.js';
import type { Closure, ClosureBlob, DocumentReader } from '../store/graph/closure.js';
import type { Snapshot } from './snapshot.js';
import type { ViewEntry } from './view-entry.js';
import { digestViewPath } from './views-by-path.js';

/**
 * Unnamed index.json entries that are artifacts about something (a manifest with a `subject`:
 * signatures, SBOMs, attestations as oras and cosign lay them out, and as import brings them), by
 * subject digest. They travel with their subject: gc keeps them while it lives, export carries
 * them, ls and du count them with it. Only the unnamed entries are read (a store has few), once
 * per state, through the metadata cache.
 */
export async function loadReferrers(snapshot: Snapshot, docs: DocumentReader): Promise<Map<Digest, ViewEntry[]>> {
  const bySubject = new Map<Digest, ViewEntry[]>();
  // Most stores have no unnamed entry: no set of every named digest per refresh (50 ms at 100k).
  if (snapshot.otherRoots.length === 0) return bySubject;
  const named = new Set(snapshot.named.map((v) => v.root.digest));
  const candidates = [...new Set(snapshot.otherRoots)].filter((d) => !named.has(d));
  await Promise.all(candidates.map(async (digest) => {
    const v = snapshot.views.get(digestViewPath(digest));
    if (!v || !snapshot.present.has(digest) || !isWalkableType(v.root.mediaType)) return;
    const doc = await docs.readDocument(v.root).catch(() => undefined);
    if (!doc?.subject) return;
    const list = bySubject.get(doc.subject.digest);
    if (list) list.push(v);
    else bySubject.set(doc.subject.digest, [v]);
  }));
  for (const list of bySubject.values()) list.sort((a, b) => (a.path < b.path ? -1 : 1));
  return bySubject;
}

/**
 * The referrers attached to what `holds` says is held, at any depth (a signature of an SBOM of
 * the image), each passed to `add` (which makes its closure held). Deterministic order: by
 * subject as met, then path.
 */
export async function attachReferrersTo(holds: (digest: Digest) => boolean, referrers: ReadonlyMap<Digest, readonly ViewEntry[]>,
  add: (referrer: ViewEntry) => Promise<void>): Promise<ViewEntry[]> {
  const attached: ViewEntry[] = [];
  if (referrers.size === 0) return attached;
  const done = new Set<Digest>();
  for (let grew = true; grew;) {
    grew = false;
    for (const [subject, list] of referrers) {
      if (done.has(subject) || !holds(subject)) continue;
      done.add(subject);
      grew = true;
      for (const r of list) {
        if (attached.includes(r) || holds(r.root.digest)) continue;
        attached.push(r);
        await add(r);
      }
    }
  }
  return attached;
}

/** The referrers attached to what `blobs` holds (attachReferrersTo), their closures added to `blobs`. */
export function attachReferrers(blobs: Map<Digest, ClosureBlob>, referrers: ReadonlyMap<Digest, readonly ViewEntry[]>,
  closureOf: (v: ViewEntry) => Promise<Closure>): Promise<ViewEntry[]> {
  return attachReferrersTo((d) => blobs.has(d), referrers, async (r) => {
    for (const [d, b] of (await closureOf(r)).blobs) blobs.set(d, b);
  });
}
