import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DIGEST_ALGORITHMS, type DigestAlgorithm } from '../../oci/digest.js';
import { writeFileAtomic } from '../atomic-file.js';
import { readBeneath, type SafeRoot } from '../safe-open.js';
import { BlobTable, DIGEST_BYTES } from './blob-table.js';

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

const HEADER = 'layoutfs blob listing 1';
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

function checksum(stamp: string, records: readonly Uint8Array[]): string {
  const hash = createHash('sha256').update(stamp);
  for (const r of records) hash.update(r);
  return hash.digest('hex');
}

/**
 * The listing saved for directories in state `stamp`, or undefined when there is none, it names
 * another state, or anything in it is off (size, checksum, order): never an error, the caller
 * lists blobs/ instead.
 */
export async function loadListing(root: SafeRoot, stamp: string, dirSizes: Record<DigestAlgorithm, number>): Promise<BlobTable | undefined> {
  let bytes: Buffer;
  try {
    bytes = (await readBeneath(root, LISTING_NAME, 'blob listing file', maxFileBytes(dirSizes))).bytes;
  } catch {
    return undefined;
  }
  const first = bytes.indexOf(0x0a);
  const second = first < 0 ? -1 : bytes.indexOf(0x0a, first + 1);
  if (second < 0 || bytes.toString('latin1', 0, first) !== HEADER) return undefined;
  const [savedStamp, n256, n512, sum] = bytes.toString('latin1', first + 1, second).split(' ');
  if (savedStamp !== stamp || !/^\d+$/.test(n256 ?? '') || !/^\d+$/.test(n512 ?? '')) return undefined;
  const start = second + 1;
  const mid = start + Number(n256) * DIGEST_BYTES.sha256;
  const end = mid + Number(n512) * DIGEST_BYTES.sha512;
  if (end !== bytes.length) return undefined;
  const sha256 = bytes.subarray(start, mid);
  const sha512 = bytes.subarray(mid, end);
  if (checksum(stamp, [sha256, sha512]) !== sum) return undefined;
  return BlobTable.fromRecords({ sha256, sha512 });
}

/**
 * Saves `table` as the listing of directories in state `stamp` (temp file, fsync, rename).
 * Concurrent openers each leave a whole file; a store this process cannot write keeps what it
 * had (the file only saves work).
 */
export async function saveListing(storeRoot: string, stamp: string, table: BlobTable): Promise<void> {
  const records = [table.records('sha256'), table.records('sha512')];
  const head = `${HEADER}\n${stamp} ${records[0]!.length / DIGEST_BYTES.sha256} ${records[1]!.length / DIGEST_BYTES.sha512} ${checksum(stamp, records)}\n`;
  await writeFileAtomic(join(storeRoot, LISTING_NAME), Buffer.concat([Buffer.from(head, 'latin1'), ...records])).catch(() => undefined);
}
