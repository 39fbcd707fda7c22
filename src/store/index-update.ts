import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { loadIndexDocument, type IndexDocument } from './index-file.js';
import { withStoreLock } from './store-lock.js';

export type RawIndex = IndexDocument['json'];

/**
 * The read-modify-write of index.json, under the store lock, replaced atomically. `mutate`
 * changes `index.manifests` in place (entries it does not understand are kept as they are) and
 * returns its report; it runs against the file as it is now, so concurrent writers all land.
 * A mutation that returns undefined changes nothing and the file is not written.
 */
export async function updateIndex<T>(storeRoot: string, mutate: (index: RawIndex) => T | Promise<T>): Promise<T> {
  return withStoreLock(storeRoot, async () => {
    const { json } = await loadIndexDocument(storeRoot);
    const result = await mutate(json);
    if (result !== undefined) await writeFileAtomic(join(storeRoot, 'index.json'), Buffer.from(JSON.stringify(json)));
    return result;
  });
}
