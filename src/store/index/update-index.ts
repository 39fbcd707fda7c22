import { writeFileAtomic } from '../atomic-file.js';
import { withStoreLock } from '../lock.js';
import { indexBytes, type IndexEntry, type IndexFile } from './index-model.js';
import { readIndexFile } from './read-index.js';

/** What a write decides: the entries index.json is to hold, in order, and what it reports. */
export interface IndexChange<T> {
  entries: readonly IndexEntry[];
  result: T;
}

/**
 * The read-modify-write of index.json, under the store lock, replaced atomically (temp file,
 * fsync, rename, fsync of the directory). `change` gets the file as it is now, so concurrent
 * writers all land, and returns the entries to keep: those it leaves alone are returned as the
 * same objects and written back as read, unknown fields and invalid entries too. When the entries
 * are those read, in order, the file is not rewritten:
 * a new index.json makes every mount and server reload and drops their caches.
 */
export async function updateIndex<T>(storeRoot: string, change: (index: IndexFile) => IndexChange<T> | Promise<IndexChange<T>>): Promise<T> {
  return withStoreLock(storeRoot, async (stillHeld) => {
    const index = await readIndexFile(storeRoot);
    const { entries, result } = await change(index);
    // Changes keep the entries they leave alone as read (the same objects), so comparing them
    // finds a no-op without serializing index.json a second time just to compare.
    if (entries.length === index.entries.length && entries.every((e, i) => e === index.entries[i])) return result;
    stillHeld();
    await writeFileAtomic(index.file, indexBytes(index, entries));
    return result;
  });
}
