import type { Finding } from '../store/findings.js';
import { exclusiveBytes } from './census.js';
import type { View } from './view.js';
import { digestViewPath } from './views-by-path.js';

/** One line of `layoutfs ls`. */
export interface ReferenceReport {
  name: string;
  viewPath: string;
  digest: string;
  mediaType: string;
  platforms: string[];
  blobs: number;
  /** Unnamed artifacts about the image (signatures, SBOMs): counted with it in blobs and bytes. */
  referrers: number;
  totalBytes: number;
  /** Bytes of blobs other index.json entries (named or not) hold too. */
  sharedBytes: number;
  /** Bytes of blobs nothing else holds: what removing this one would free at the next gc. */
  uniqueBytes: number;
  missing: string[];
}

export interface Inventory {
  store: string;
  references: ReferenceReport[];
  unnamed: { digest: string; viewPath: string }[];
  findings: Finding[];
}

/** What `layoutfs ls` prints: every reference with its view path, sizes and sharing, and findings. */
export async function inventory(view: View): Promise<Inventory> {
  const snapshot = view.snapshot;
  const findings: Finding[] = [...snapshot.findings];
  const references: ReferenceReport[] = [];
  const holders = await view.holders();
  for (const v of snapshot.named) {
    const holding = await view.holdingOf(v);
    const unique = exclusiveBytes(holding, holders);
    const missing = holding.missing.map((d) => d.digest);
    for (const d of holding.missing) {
      findings.push({ kind: 'MISSING_BLOB', file: view.store.blobFile(d.digest), ref: v.name, digest: d.digest,
        message: `${v.name} reaches ${d.digest} (${d.mediaType}), which the store does not have` });
    }
    for (const p of holding.problems) findings.push({ ...p, ref: v.name });
    references.push({
      name: v.name, viewPath: v.path, digest: v.root.digest, mediaType: v.root.mediaType,
      platforms: await view.platformsOf(v), blobs: holding.positions.length, referrers: holding.referrers.length, totalBytes: holding.bytes,
      sharedBytes: holding.bytes - unique, uniqueBytes: unique, missing,
    });
  }
  const namedRoots = new Set(snapshot.named.map((n) => n.root.digest));
  const referrerRoots = new Set([...view.referrers.values()].flat().map((r) => r.root.digest));
  // The views with no name are those under _digests/: one per digest.
  const unnamed = [...snapshot.views.digestRoots.keys()]
    .filter((digest) => !namedRoots.has(digest) && !referrerRoots.has(digest))
    .map((digest) => ({ digest, viewPath: digestViewPath(digest) }));
  await view.saveClosures();
  return { store: view.store.root, references, unnamed, findings };
}
