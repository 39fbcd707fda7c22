import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import { loadIndexDocument, type IndexDocument } from './read-index.js';
import { withStoreLock } from '../lock.js';

export type RawIndex = IndexDocument['json'];

/**
 * The read-modify-write of index.json, under the store lock, replaced atomically. `mutate`
 * changes `index.manifests` in place (entries it does not understand are kept as they are) and
 * returns its report; it runs against the file as it is now, so concurrent writers all land.
 * When nothing changed the file is not rewritten: a new index.json makes every mount and server
 * reload and drops their caches.
 */
export async function updateIndex<T>(storeRoot: string, mutate: (index: RawIndex) => T | Promise<T>): Promise<T> {
  return withStoreLock(storeRoot, async (stillHeld) => {
    const { json } = await loadIndexDocument(storeRoot);
    const before = JSON.stringify(json);
    const result = await mutate(json);
    const after = JSON.stringify(json);
    if (after !== before) {
      stillHeld();
      await writeFileAtomic(join(storeRoot, 'index.json'), Buffer.from(after));
    }
    return result;
  });
}
