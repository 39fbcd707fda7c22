import { LayoutfsError } from '../../errors.js';
import type { Descriptor } from '../../oci/descriptor.js';
import type { Digest } from '../../oci/digest.js';
import { withNameAnnotations } from '../../oci/name-annotations.js';
import { hasBlob } from '../blobs/blob-ingest.js';
import { validEntry, type IndexEntry } from '../index/index-model.js';
import { setNames, type NameChange, type NameWanted } from '../index/name-changes.js';
import { updateIndex } from '../index/update-index.js';

/**
 * `entries` with an unnamed entry for each referrer (an artifact whose subject is imported) that
 * no unnamed entry holds yet: the descriptor as the source had it, its name annotations dropped.
 */
export function withReferrerEntries(entries: readonly IndexEntry[], referrers: readonly Descriptor[]): IndexEntry[] {
  const out = [...entries];
  const held = new Set(entries.filter((e) => e.name === undefined && e.descriptor).map((e) => e.descriptor!.digest));
  for (const r of referrers) {
    if (held.has(r.digest)) continue;
    held.add(r.digest);
    const annotations = withNameAnnotations(r.raw.annotations as Record<string, unknown> | undefined, {});
    const rest = Object.fromEntries(Object.entries(r.raw).filter(([key]) => key !== 'annotations'));
    out.push(validEntry(Object.keys(annotations).length > 0 ? { ...rest, annotations } : rest, out.length));
  }
  return out;
}

/**
 * Adds the names (and referrer entries) under the store lock, after checking every blob is still
 * there: a concurrent gc (with a short grace) may have swept one between its ingest and now.
 * Then `reingest` puts back what is gone and the commit is tried again.
 */
export async function commitNames(storeRoot: string, blobs: ReadonlyMap<Digest, number>, names: readonly NameWanted[],
  referrers: readonly Descriptor[], force: boolean, reingest: () => Promise<void>): Promise<NameChange[]> {
  for (let attempt = 1; ; attempt++) {
    const references = await updateIndex(storeRoot, async (index) => {
      for (const [digest, size] of blobs) if (!(await hasBlob(storeRoot, digest, size))) return { entries: index.entries, result: undefined };
      const { entries, changes } = setNames(index.entries, names, force, index.file);
      return { entries: withReferrerEntries(entries, referrers), result: changes };
    });
    if (references) return references;
    if (attempt === 3) throw new LayoutfsError('UNAVAILABLE', 'blobs keep vanishing during the import (a gc with a very short --grace?); try again');
    await reingest();
  }
}
