import { DIGEST_ALGORITHMS, type DigestAlgorithm } from '../../oci/digest.js';
import type { SafeRoot } from '../safe-open.js';
import { readSealed, saveSealed, sealed } from '../sealed-file.js';
import { BlobTable } from './blob-table.js';
import { DIGEST_BYTES } from './sorted-digests.js';

/**
 * The store's blob listing as last read, beside index.json, so opening a store of 500,000 blobs
 * does not list blobs/ again when nothing was added or removed since (a readdir of 500,000 names
 * is about 2 s in Node; this file loads in tens of ms). It is used only for the directory state
 * it names: the blobs/<alg>/ directories' inode, mtime and ctime (any entry added or removed
 * moves both times, and no user can set a ctime back), checked against the directories now.
 */
export const LISTING_NAME = '.layoutfs-blobs';

/** Below this many blobs a listing is quick: no file is written. */
export const LISTING_MIN_BLOBS = 20_000;

/** A sealed file (sealed-file.ts); its body: `<stamp> <sha256 count> <sha512 count>\n`, then the binary digests of each, in order. */
const MAGIC = 'layoutfs blob listing 2';
/**
 * Directory sizes bound the file: every file system here spends at least 20 bytes of a
 * directory's st_size per entry (tmpfs's fixed figure; ext4 and xfs far more).
 */
const DIR_BYTES_PER_ENTRY = 20;

/** The most bytes a listing file of directories this size can hold. */
function maxFileBytes(dirSizes: Record<DigestAlgorithm, number>): number {
  return 1024 + DIGEST_ALGORITHMS
    .reduce((sum, alg) => sum + (Math.floor(dirSizes[alg] / DIR_BYTES_PER_ENTRY) + 16) * DIGEST_BYTES[alg], 0);
}

/**
 * The listing saved for directories in state `stamp`, or undefined when there is none, it names
 * another state, or anything in it is off (size, checksum, order): never an error, the caller
 * lists blobs/ instead.
 */
export async function loadListing(root: SafeRoot, stamp: string, dirSizes: Record<DigestAlgorithm, number>): Promise<BlobTable | undefined> {
  const body = await readSealed(root, LISTING_NAME, 'blob listing file', MAGIC, maxFileBytes(dirSizes));
  const line = body?.indexOf(0x0a) ?? -1;
  if (!body || line < 0) return undefined;
  const [savedStamp, n256, n512] = body.toString('latin1', 0, line).split(' ');
  if (savedStamp !== stamp || !/^\d+$/.test(n256 ?? '') || !/^\d+$/.test(n512 ?? '')) return undefined;
  const mid = line + 1 + Number(n256) * DIGEST_BYTES.sha256;
  if (mid + Number(n512) * DIGEST_BYTES.sha512 !== body.length) return undefined;
  return BlobTable.fromRecords({ sha256: body.subarray(line + 1, mid), sha512: body.subarray(mid) });
}

/**
 * Saves `table` as the listing of directories in state `stamp`. A store this process cannot
 * write keeps what it had (the file only saves work).
 */
export async function saveListing(storeRoot: string, stamp: string, table: BlobTable): Promise<void> {
  const records = [table.records('sha256'), table.records('sha512')];
  const head = Buffer.from(`${stamp} ${records[0]!.length / DIGEST_BYTES.sha256} ${records[1]!.length / DIGEST_BYTES.sha512}\n`, 'latin1');
  await saveSealed(storeRoot, LISTING_NAME, sealed(MAGIC, [head, ...records]));
}
