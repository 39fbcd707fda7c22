import { lstatSync } from 'node:fs';
import { errnoOf } from '../errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { computeClosure, type Closure } from '../store/graph/closure.js';
import { storeFileError } from '../store/safe-open.js';
import type { StoreReader } from '../store/store-reader.js';
import { MetadataCache } from '../view/metadata-cache.js';

/** Above this many views to sync, the store's blob listing is read; up to it, each blob is looked up. */
const LOOKUPS_UP_TO = 1_000;

/**
 * Presence of each blob asked of the file system (one lstat, any kind of file, as a listing
 * shows it); the safe open that links it refuses what is not a regular file.
 */
function lookedUp(store: StoreReader): Pick<ReadonlySet<Digest>, 'has'> {
  return {
    has: (digest) => {
      const file = store.blobFile(digest);
      try {
        lstatSync(file);
        return true;
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') return false;
        throw storeFileError(err, file, `blob ${digest}`);
      }
    },
  };
}

/**
 * The closure of each root a run syncs. For a few views, each blob is looked up: listing a store
 * of 500,000 blobs costs tens of ms from its saved listing, and seconds after an import (the
 * listing must be read again); a view has some ten blobs. For many, the listing, once.
 */
export async function viewClosures(store: StoreReader, views: number): Promise<(root: Descriptor) => Promise<Closure>> {
  const present = views > LOOKUPS_UP_TO ? (await store.listAllBlobsSince(undefined)).blobs : lookedUp(store);
  const documents = new MetadataCache(store);
  return (root) => computeClosure(root, documents, present, store);
}
