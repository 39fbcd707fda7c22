import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, rename, stat, unlink, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { LayoutfsError } from '../errors.js';
import { digestAlgorithm, digestEncoded, type Digest } from '../oci/digest.js';
import { syncDirectory, tempName } from './atomic-file.js';
import { blobPath } from './blob-path.js';

export interface Ingested {
  digest: Digest;
  size: number;
  /** Bytes written to the store: 0 when the blob was there already (deduplication). */
  written: number;
}

/**
 * Marks a blob already in the store as just used: gc keeps unreferenced blobs younger than its
 * grace period, so an import that reuses an old orphan is not swept before its index entry lands.
 */
export async function touchBlob(storeRoot: string, digest: Digest): Promise<boolean> {
  const now = new Date();
  return utimes(blobPath(storeRoot, digest), now, now).then(() => true, () => false);
}

/**
 * Writes one blob: into a temp file beside its final name, hashed while written, fsynced,
 * checked against the expected size and digest, made read-only, renamed, and the directory
 * fsynced. A crash at any point leaves at most a temp file; a wrong byte never gets the final
 * name. A blob already present is not written again; `source` is then not read at all.
 */
export async function ingestBlob(storeRoot: string, expected: { digest: Digest; size: number }, source: () => Readable | Promise<Readable>): Promise<Ingested> {
  const { digest, size } = expected;
  if (await touchBlob(storeRoot, digest)) return { digest, size, written: 0 };
  const final = blobPath(storeRoot, digest);
  await mkdir(dirname(final), { recursive: true });
  const temp = tempName(final);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  const hash = createHash(digestAlgorithm(digest));
  let written = 0;
  try {
    for await (const chunk of await source()) {
      const buf = chunk as Buffer;
      written += buf.length;
      if (written > size) throw new LayoutfsError('DATA_LOSS', `blob ${digest}: more than the ${size} bytes its descriptor says`, { path: final });
      hash.update(buf);
      await handle.write(buf);
    }
    if (written !== size) throw new LayoutfsError('DATA_LOSS', `blob ${digest}: size ${written}, descriptor says ${size}`, { path: final });
    const actual = hash.digest('hex');
    if (actual !== digestEncoded(digest)) {
      throw new LayoutfsError('DATA_LOSS', `blob ${digest}: content hashes to ${digestAlgorithm(digest)}:${actual}`, { path: final });
    }
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await chmod(temp, 0o444);
  await rename(temp, final);
  await syncDirectory(dirname(final));
  return { digest, size, written };
}

/** True when the store has the blob (a regular file of the right size). */
export async function hasBlob(storeRoot: string, digest: Digest, size: number): Promise<boolean> {
  return stat(blobPath(storeRoot, digest)).then((s) => s.isFile() && s.size === size, () => false);
}
