import { join } from 'node:path';
import { digestAlgorithm, digestEncoded, type Digest } from '../../oci/digest.js';

/**
 * The only place a blob's file name is built. `Digest` values exist only after `parseDigest`
 * validated them, so no `..` or `/` can reach the path (CVE-2024-3727 class).
 */
export function blobPath(storeRoot: string, digest: Digest): string {
  return join(storeRoot, 'blobs', digestAlgorithm(digest), digestEncoded(digest));
}
