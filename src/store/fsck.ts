import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, readSync, type Stats } from 'node:fs';
import { isLayoutfsError } from '../errors.js';
import { digestAlgorithm, digestEncoded, type Digest } from '../oci/digest.js';
import { scanBlobs, type BlobScan } from './blobs/scan-blobs.js';
import { DAMAGE, type Finding } from './findings.js';
import { markReachable } from './gc/mark.js';
import { isImageSpecRefName } from '../oci/reference.js';
import { referenceTable } from './index/reference-table.js';
import { openStore, type StoreReader } from './store-reader.js';

export interface FsckOptions {
  /** Re-hash every blob. */
  verify?: boolean;
  /** With `verify`, before hashing: the bytes to hash (for progress). */
  onVerifyStart?: (bytes: number) => void;
  onVerify?: (bytes: number) => void;
}

export interface FsckReport {
  store: string;
  references: number;
  blobs: number;
  findings: Finding[];
  /** No finding at all. */
  clean: boolean;
  /** A finding that means lost or wrong data (not just garbage for gc). */
  damaged: boolean;
}

/** lstat, or undefined when the path cannot be stat'ed (gone, no permission). */
function lstatIf(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The blob's bytes hashed through the safe open; undefined when the open is refused (a symlink or
 * FIFO swapped in since the listing). Blocking reads through one buffer: fsck serves nothing meanwhile.
 */
function hashBlob(store: StoreReader, digest: Digest, buf: Buffer, onBytes?: (n: number) => void): string | undefined {
  let fd: number;
  try {
    fd = store.openBlobSync(digest);
  } catch (err) {
    if (isLayoutfsError(err)) return undefined;
    throw err;
  }
  try {
    const { size } = fstatSync(fd);
    const hash = createHash(digestAlgorithm(digest));
    // The bytes fstat saw: a file cut short meanwhile hashes to something else, one growing is not followed.
    for (let n = -1, pos = 0; n !== 0 && pos < size; pos += n) {
      n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      hash.update(buf.subarray(0, n));
      onBytes?.(n);
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks a store: the layout files, every index.json entry, duplicate and missing names, every
 * manifest and index against its digest, blobs reachable but missing or of the wrong size, orphans,
 * odd entries and leftover temp files; with `verify`, re-hashes the blobs. Costs one listing of
 * each blob directory, one read of each manifest and index, and one lstat of each blob it checks
 * by size or hash. Never changes anything.
 */
export async function fsck(storeDir: string, options: FsckOptions = {}): Promise<FsckReport> {
  let store;
  let index;
  try {
    store = await openStore(storeDir, { syncReads: true });
    index = await store.readIndex();
  } catch (err) {
    if (!isLayoutfsError(err)) throw err;
    const findings: Finding[] = [{ kind: 'BAD_LAYOUT', file: err.path ?? storeDir, message: err.message }];
    return { store: storeDir, references: 0, blobs: 0, findings, clean: false, damaged: true };
  }
  const table = referenceTable(index);
  const findings: Finding[] = [...index.findings, ...table.findings.filter((f) => f.kind !== 'UNNAMED_ENTRY')];
  for (const n of table.named) {
    if (!isImageSpecRefName(n.name)) {
      findings.push({ kind: 'NONCONFORMING_NAME', file: index.file, ref: n.name, digest: n.descriptor.digest,
        message: `${JSON.stringify(n.name)} is outside the image-spec ref.name grammar (tools may refuse it; layoutfs tag gives the image a conforming name)` });
    }
  }
  const scan = await scanBlobs(store.root);
  const marking = await markReachable(store, index.valid.map((e) => e.descriptor), scan.present);
  findings.push(...marking.missing, ...marking.problems);
  for (const digest of scan.present) {
    if (!marking.marked.has(digest)) findings.push({ kind: 'ORPHAN_BLOB', file: store.blobFile(digest), digest, message: `${digest} is not reachable from index.json (gc removes it)` });
  }
  findings.push(...scan.findings);
  // One blocking lstat per marked blob: fsck serves nothing meanwhile, and the safe open per
  // blob this replaces cost four awaited calls each. A file no longer regular was swapped in
  // since the listing.
  const sizes = new Map<Digest, number>();
  for (const digest of marking.marked.keys()) {
    if (scan.unchecked.has(digest)) continue;
    const st = lstatIf(store.blobFile(digest));
    if (st?.isFile()) sizes.set(digest, st.size);
  }
  for (const [digest, size] of marking.marked) {
    const actual = sizes.get(digest);
    if (actual !== undefined && actual !== size) {
      findings.push({ kind: 'SIZE_MISMATCH', file: store.blobFile(digest), digest, message: `${digest}: the file has ${actual} bytes, its descriptor says ${size} (reads of it fail)` });
    }
  }
  for (const file of scan.temps) {
    findings.push({ kind: 'TEMP_FILE', file, message: 'leftover temp file of an interrupted write (gc removes it)' });
  }
  if (options.verify) findings.push(...verifyBlobs(store, scan, sizes, options));
  return { store: store.root, references: table.named.length, blobs: marking.present.size, findings,
    clean: findings.length === 0, damaged: findings.some((f) => DAMAGE.has(f.kind)) };
}

/** Hashes every blob that is a regular file. */
function verifyBlobs(store: StoreReader, scan: BlobScan, sizes: ReadonlyMap<Digest, number>, options: FsckOptions): Finding[] {
  const toHash = [...scan.present].filter((d) => !scan.unchecked.has(d));
  options.onVerifyStart?.(toHash.reduce((sum, d) => sum + (sizes.get(d) ?? lstatIf(store.blobFile(d))?.size ?? 0), 0));
  const findings: Finding[] = [];
  const buf = Buffer.allocUnsafe(1024 * 1024);
  for (const digest of toHash) {
    const hex = hashBlob(store, digest, buf, options.onVerify);
    if (hex !== undefined && hex !== digestEncoded(digest)) {
      findings.push({ kind: 'DIGEST_MISMATCH', file: store.blobFile(digest), digest, message: `${digest} hashes to ${digestAlgorithm(digest)}:${hex}` });
    }
  }
  return findings;
}
