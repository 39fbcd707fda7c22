import { join } from 'node:path';
import { digestAlgorithm, digestEncoded, type Digest } from '../../oci/digest.js';

/**
 * The only place a blob's file name is built. `Digest` values exist only after `parseDigest`
 * validated them, so no `..` or `/` can reach the path (CVE-2024-3727 class).
 */
export function blobPath(storeRoot: string, digest: Digest): string {
  return join(storeRoot, blobRelPath(digest));
}

/** A blob's path relative to the store root, for the safe opens beneath it (store/safe-open.ts). */
export function blobRelPath(digest: Digest): string {
  return `blobs/${digestAlgorithm(digest)}/${digestEncoded(digest)}`;
}

/**
 * blobPath for a root already normalized (a real path), without a `join` per blob: fsck and gc
 * name 500,000 of them, where join's normalizing cost seconds.
 */
export function blobPathIn(realRoot: string): (digest: Digest) => string {
  const prefix = realRoot.endsWith('/') ? realRoot : `${realRoot}/`;
  return (digest) => prefix + blobRelPath(digest);
}
