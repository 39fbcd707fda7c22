import { LayoutfsError } from '../../errors.js';
import type { Descriptor } from '../../oci/descriptor.js';
import type { Digest } from '../../oci/digest.js';
import { hasBlob } from '../blobs/blob-ingest.js';
import { setName, type NameChange } from '../index/name-changes.js';
import { updateIndex } from '../index/update-index.js';

/**
 * Adds the names under the store lock, after checking every blob is still there: a concurrent
 * gc (with a short grace) may have swept one between its ingest and now. Then `reingest` puts
 * back what is gone and the commit is tried again.
 */
export async function commitNames(storeRoot: string, blobs: ReadonlyMap<Digest, number>, names: { name: string; descriptor: Descriptor }[],
  force: boolean, reingest: () => Promise<void>): Promise<NameChange[]> {
  for (let attempt = 1; ; attempt++) {
    const references = await updateIndex(storeRoot, async (index) => {
      for (const [digest, size] of blobs) if (!(await hasBlob(storeRoot, digest, size))) return { entries: index.entries, result: undefined };
      let entries = index.entries;
      const changes: NameChange[] = [];
      for (const { name, descriptor } of names) {
        const set = setName(entries, name, descriptor, force, index.file);
        entries = set.entries;
        changes.push(set.change);
      }
      return { entries, result: changes };
    });
    if (references) return references;
    if (attempt === 3) throw new LayoutfsError('UNAVAILABLE', 'blobs keep vanishing during the import (a gc with a very short --grace?); try again');
    await reingest();
  }
}
