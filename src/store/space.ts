import { LayoutfsError } from '../errors.js';
import { REF_NAME_ANNOTATION } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { computeClosure } from './closure.js';
import { openStore } from './store-reader.js';
import { storeDocuments } from './store-documents.js';

export interface SpaceReport {
  references: { name: string; totalBytes: number; uniqueBytes: number }[];
  /** Bytes `layoutfs rm` of `removing` would free at the next gc (blobs nothing else reaches). */
  removing: string[];
  freedByRemoving: number;
}

/**
 * Per reference, the bytes it reaches and the bytes only it reaches; and for a set of names, the
 * bytes their removal would free: blobs reachable from those entries and from no other entry.
 */
export async function spaceReport(storeDir: string, removing: string[] = []): Promise<SpaceReport> {
  const store = await openStore(storeDir, { syncReads: true });
  const index = await store.readIndex();
  const present = await store.listAllBlobs();
  const documents = storeDocuments(store);
  const names = new Set(removing);
  const sizes = new Map<Digest, number>();
  /** How many entries reach each blob, and how many of those are being removed. */
  const reach = new Map<Digest, { all: number; removed: number }>();
  const perEntry: { name: string | undefined; blobs: Digest[] }[] = [];
  for (const { descriptor } of index.entries) {
    const name = descriptor.annotations?.[REF_NAME_ANNOTATION];
    const closure = await computeClosure(descriptor, documents, (d) => present.has(d), (d) => store.blobFile(d));
    const blobs = [...closure.blobs.keys()];
    for (const [d, b] of closure.blobs) sizes.set(d, b.size);
    for (const d of blobs) {
      const r = reach.get(d) ?? { all: 0, removed: 0 };
      r.all++;
      if (name !== undefined && names.has(name)) r.removed++;
      reach.set(d, r);
    }
    perEntry.push({ name, blobs });
  }
  const known = new Set(perEntry.map((e) => e.name));
  const unknown = removing.find((n) => !known.has(n));
  if (unknown) throw new LayoutfsError('NOT_FOUND', `no reference named ${JSON.stringify(unknown)}`, { path: index.file });
  const seen = new Set<string>();
  const references = perEntry.filter((e): e is { name: string; blobs: Digest[] } => e.name !== undefined && !seen.has(e.name) && !!seen.add(e.name))
    .map((e) => ({
      name: e.name,
      totalBytes: e.blobs.reduce((s, d) => s + sizes.get(d)!, 0),
      uniqueBytes: e.blobs.reduce((s, d) => s + (reach.get(d)!.all === 1 ? sizes.get(d)! : 0), 0),
    }));
  let freed = 0;
  for (const [d, r] of reach) if (r.removed > 0 && r.removed === r.all) freed += sizes.get(d)!;
  return { references, removing, freedByRemoving: freed };
}
