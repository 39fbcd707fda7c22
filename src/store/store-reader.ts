import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { errnoOf, LayoutfsError } from '../errors.js';
import { DIGEST_ALGORITHMS } from '../oci/digest.js';
import { blobReader, type BlobReader } from './blobs/blob-reader.js';
import { safeRoot, storeFileError } from './safe-open.js';
import { DEFAULT_MAX_INDEX_BYTES, readIndexFile, type IndexReader } from './index/read-index.js';
import { checkLayoutFile } from './layout/layout-file.js';

/**
 * A store opened for reading: its index and its blobs. Like containerd's content.Store, the union
 * of small capabilities; code that needs only one takes IndexReader or BlobReader.
 */
export type StoreReader = IndexReader & BlobReader;

export interface OpenStoreOptions {
  maxIndexBytes?: number;
  /**
   * Read manifests and indexes with synchronous calls. For one-shot commands that serve nothing
   * meanwhile (ls, fsck): much faster for thousands of small documents (scripts/bench/README.md,
   * ls-large-store). A mount or server keeps the default (async) so one slow disk cannot stall
   * every other request.
   */
  syncReads?: boolean;
}

/** A directory the store uses must resolve inside the store (a symlinked blobs/ may not escape). */
async function checkInside(storeReal: string, dir: string): Promise<void> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw storeFileError(err, dir, 'directory');
  }
  if (real !== storeReal && !real.startsWith(storeReal + sep)) {
    throw new LayoutfsError('FAILED_PRECONDITION', `resolves to ${real}, outside the store ${storeReal}`, { path: dir });
  }
}

/** Opens a store for reading: checks oci-layout, index.json and that blobs/ stays inside. */
export async function openStore(dir: string, options: OpenStoreOptions = {}): Promise<StoreReader> {
  let st;
  try {
    st = await stat(dir);
  } catch (err) {
    throw storeFileError(err, dir, 'store directory');
  }
  if (!st.isDirectory()) throw new LayoutfsError('FAILED_PRECONDITION', 'a store must be a directory', { path: dir });
  const safe = await safeRoot(dir);
  const root = safe.path;
  await checkLayoutFile(safe);
  // Said early and plainly; every open checks again (safe-open.ts), since blobs/ may be swapped later.
  await checkInside(root, join(root, 'blobs'));
  for (const alg of DIGEST_ALGORITHMS) await checkInside(root, join(root, 'blobs', alg));
  const maxIndexBytes = options.maxIndexBytes ?? DEFAULT_MAX_INDEX_BYTES;
  return { ...blobReader(safe, options), readIndex: (previous) => readIndexFile(safe, maxIndexBytes, previous) };
}
