import { createHash } from 'node:crypto';
import { futimes } from 'node:fs';
import { chmod, mkdir, rename, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { LayoutfsError } from '../../errors.js';
import { digestAlgorithm, digestEncoded, type Digest, type DigestAlgorithm } from '../../oci/digest.js';
import { syncDirectory, writeTempFile } from '../atomic-file.js';
import { blobPath, blobRelPath } from './blob-path.js';
import { closeFd } from './fd-io.js';
import { openBeneath, safeRoot } from '../safe-open.js';

const futimesFd = promisify(futimes);

/** Bytes to ingest: a file stream, a tar entry, a list of buffers. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

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
export async function touchBlob(storeRoot: string, digest: Digest, size: number): Promise<boolean> {
  const fd = await openPresent(storeRoot, digest, size);
  if (fd === undefined) return false;
  const now = new Date();
  // futimes on the descriptor the safe open checked: a symlink planted at the path is never followed.
  return futimesFd(fd, now, now).then(() => true, () => false).finally(() => closeFd(fd));
}

/** The blob's descriptor when the store has it: a regular file of the right size, opened the safe way. */
async function openPresent(storeRoot: string, digest: Digest, size: number): Promise<number | undefined> {
  try {
    return (await openBeneath(await safeRoot(storeRoot), blobRelPath(digest), `blob ${digest}`, size)).fd;
  } catch {
    return undefined;
  }
}

/** True when the store has the blob (a regular file of the right size, no symlink: safe-open.ts). */
export async function hasBlob(storeRoot: string, digest: Digest, size: number): Promise<boolean> {
  const fd = await openPresent(storeRoot, digest, size);
  if (fd !== undefined) await closeFd(fd);
  return fd !== undefined;
}

/**
 * Streams `source` into a temp file in blobs/<algorithm>/, hashing as it goes, fsynced. The temp
 * name cannot be mistaken for a blob (it starts with a dot), so a crash leaves only garbage.
 */
async function writeTemp(storeRoot: string, algorithm: DigestAlgorithm, source: ByteSource, maxSize: number, what: string) {
  const dir = join(storeRoot, 'blobs', algorithm);
  await mkdir(dir, { recursive: true });
  const hash = createHash(algorithm);
  let size = 0;
  const temp = await writeTempFile(join(dir, 'blob'), async (handle) => {
    for await (const buf of source) {
      size += buf.length;
      if (size > maxSize) throw new LayoutfsError('DATA_LOSS', `${what}: more than the ${maxSize} bytes expected`);
      hash.update(buf);
      await handle.write(buf);
    }
  });
  return { temp, hex: hash.digest('hex'), size };
}

/** Gives a verified temp file its final, read-only name, durably. */
async function commitTemp(temp: string, final: string): Promise<void> {
  await chmod(temp, 0o444);
  await rename(temp, final);
  await syncDirectory(dirname(final));
}

/**
 * Writes one blob whose digest is known: hashed while written, checked against the expected
 * size and digest, fsynced, made read-only, renamed, the directory fsynced. A crash leaves at
 * most a temp file; a wrong byte never gets the final name. A blob already present is not
 * written again, and `source` is then not read at all.
 */
export async function ingestBlob(storeRoot: string, expected: { digest: Digest; size: number }, source: () => ByteSource | Promise<ByteSource>): Promise<Ingested> {
  const { digest, size } = expected;
  // A file of the wrong size under the name (damage) is replaced, not trusted.
  if (await touchBlob(storeRoot, digest, size)) return { digest, size, written: 0 };
  const final = blobPath(storeRoot, digest);
  const t = await writeTemp(storeRoot, digestAlgorithm(digest), await source(), size, `blob ${digest}`);
  if (t.size !== size || t.hex !== digestEncoded(digest)) {
    await unlink(t.temp).catch(() => undefined);
    const rule = t.size !== size ? `size ${t.size}, descriptor says ${size}` : `content hashes to ${digestAlgorithm(digest)}:${t.hex}`;
    throw new LayoutfsError('DATA_LOSS', `blob ${digest}: ${rule}`, { path: final });
  }
  await commitTemp(t.temp, final);
  return { digest, size, written: size };
}

/** Writes a blob whose digest is only known once read (legacy `docker save` layers). */
export async function ingestStream(storeRoot: string, source: ByteSource, maxSize: number, what: string): Promise<Ingested> {
  const t = await writeTemp(storeRoot, 'sha256', source, maxSize, what);
  const digest = `sha256:${t.hex}` as Digest;
  if (await touchBlob(storeRoot, digest, t.size)) {
    await unlink(t.temp);
    return { digest, size: t.size, written: 0 };
  }
  await commitTemp(t.temp, blobPath(storeRoot, digest));
  return { digest, size: t.size, written: t.size };
}
