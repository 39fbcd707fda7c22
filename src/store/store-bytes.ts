import { stat } from 'node:fs/promises';
import { openStore } from './store-reader.js';

/** Total bytes of the blobs in a store (what `fsck --verify` reads), for progress. */
export async function storeBytes(storeDir: string): Promise<number> {
  const store = await openStore(storeDir);
  let total = 0;
  for (const d of await store.listAllBlobs()) total += (await stat(store.blobFile(d)).catch(() => ({ size: 0 }))).size;
  return total;
}
