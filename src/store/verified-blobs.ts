import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { digestOfBlobFile, isDigestAlgorithm, type Digest } from '../oci/digest.js';
import { writeFileAtomic } from './atomic-file.js';
import { STAT } from './blobs/file-batch.js';
import { readBeneath, type SafeRoot } from './safe-open.js';

/**
 * Where `fsck --verify` records the blobs it hashed correctly, beside index.json. No reader of
 * the store looks at it (views, gc and import see only index.json and blobs/); its temp files
 * carry the usual temp names, so one left by a killed fsck is reported and collected like any.
 */
export const VERIFIED_NAME = '.layoutfs-verified';

const HEADER = 'layoutfs verified blobs 1';
/** The longest line: a sha512 digest and four 20-digit numbers, spaces and newline. */
const MAX_LINE = 'sha512:'.length + 128 + 4 * 21;
const LINE = /^(sha256|sha512):([0-9a-f]+) (\d+ \d+ \d+ \d+)$/;

/**
 * What identifies the file a blob was hashed from: inode, size, mtime and ctime (ns). Writing the
 * file in place moves its ctime, which no user can set back, so a record that still matches means
 * the bytes hashed are the bytes there.
 */
export function fileStamp(st: BigIntStats): string {
  return `${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}`;
}

/** fileStamp of the file whose lstatIn numbers start at `at` of `stats`. */
export function batchStamp(stats: Float64Array, at: number): string {
  const ns = (sec: number, nsec: number) => BigInt(sec) * 1_000_000_000n + BigInt(nsec);
  return `${stats[at + STAT.ino]} ${stats[at + STAT.size]} ${ns(stats[at + STAT.mtimeSec]!, stats[at + STAT.mtimeNsec]!)} ${ns(stats[at + STAT.ctimeSec]!, stats[at + STAT.ctimeNsec]!)}`;
}

/**
 * The records of earlier runs, digest -> fileStamp. Read the safe way and bounded by what `blobs`
 * present blobs can need; a file that is missing, over that bound or malformed in any line gives
 * no records (never an error: the file only saves work, and the next run writes it anew).
 */
export async function loadVerifiedStamps(root: SafeRoot, blobs: number): Promise<Map<Digest, string>> {
  const out = new Map<Digest, string>();
  let text: string;
  try {
    text = (await readBeneath(root, VERIFIED_NAME, 'verified-blobs file', (blobs + 1) * (MAX_LINE + 1))).bytes.toString('utf8');
  } catch {
    return out;
  }
  if (!text.startsWith(`${HEADER}\n`)) return out;
  // Line by line, every one ending in a newline (a file cut short is malformed).
  for (let start = HEADER.length + 1, end; start < text.length; start = end + 1) {
    end = text.indexOf('\n', start);
    const m = end < 0 ? null : LINE.exec(text.slice(start, end));
    const digest = m && isDigestAlgorithm(m[1]!) ? digestOfBlobFile(m[1], m[2]!) : undefined;
    if (!digest) return new Map();
    out.set(digest, m![3]!);
  }
  return out;
}

/**
 * Replaces the file with `stamps` (temp file, fsync, rename: concurrent runs each leave a whole
 * file, the last one wins). A store this process cannot write keeps the file it had: the records
 * only save work, and a read-only store is still checked in full.
 */
export async function saveVerifiedStamps(storeRoot: string, stamps: ReadonlyMap<Digest, string>): Promise<void> {
  const lines = [HEADER];
  for (const [digest, stamp] of stamps) lines.push(`${digest} ${stamp}`);
  lines.push('');
  await writeFileAtomic(join(storeRoot, VERIFIED_NAME), Buffer.from(lines.join('\n'))).catch(() => undefined);
}
