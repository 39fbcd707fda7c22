import { createHash } from 'node:crypto';
import { closeSync, fstatSync, readSync, type BigIntStats } from 'node:fs';
import { isLayoutfsError } from '../errors.js';
import { digestAlgorithm, digestEncoded, type Digest } from '../oci/digest.js';
import { lstatIn, STAT, STAT_FIELDS, TYPE_FILE, typeName } from './blobs/file-batch.js';
import { scanBlobs } from './blobs/scan-blobs.js';
import { DAMAGE, type Finding } from './findings.js';
import { markReachable } from './gc/mark.js';
import { isImageSpecRefName } from '../oci/reference.js';
import { referenceTable } from './index/reference-table.js';
import { openStore, type StoreReader } from './store-reader.js';
import { batchStamp, fileStamp, loadVerifiedStamps, saveVerifiedStamps } from './verified-blobs.js';

export interface FsckOptions {
  /** Re-hash the blobs, except those hashed correctly by an earlier run whose file has not changed since (verified-blobs.ts). */
  verify?: boolean;
  /** With `verify`: re-hash every blob, whatever earlier runs recorded. */
  full?: boolean;
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
  /** With `verify`: blobs hashed by this run, and blobs skipped as hashed correctly earlier and unchanged since. */
  verified?: { hashed: number; skipped: number };
}

/**
 * The blob's bytes hashed through the safe open, with the fstat taken before reading (the stamp
 * an unchanged file keeps); undefined when the open is refused (a symlink or FIFO swapped in
 * since the listing). Blocking reads through one buffer: fsck serves nothing meanwhile.
 */
function hashBlob(store: StoreReader, digest: Digest, buf: Buffer, onBytes?: (n: number) => void): { hex: string; stat: BigIntStats } | undefined {
  let fd: number;
  try {
    fd = store.openBlobSync(digest);
  } catch (err) {
    if (isLayoutfsError(err)) return undefined;
    throw err;
  }
  try {
    const stat = fstatSync(fd, { bigint: true });
    const size = Number(stat.size);
    const hash = createHash(digestAlgorithm(digest));
    // The bytes the stamp describes: a file cut short meanwhile hashes to something else, one
    // growing is not followed.
    for (let n = -1, pos = 0; n !== 0 && pos < size; pos += n) {
      n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      hash.update(buf.subarray(0, n));
      onBytes?.(n);
    }
    return { hex: hash.digest('hex'), stat };
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks a store: the layout files, every index.json entry, duplicate and missing names, every
 * manifest and index against its digest, blobs reachable but missing or of the wrong size, orphans,
 * odd entries and leftover temp files; with `verify`, re-hashes the blobs. Costs one listing of
 * each blob directory, one read of each manifest and index, and one lstat of each blob it checks
 * by size or hash. Changes nothing in the store but, with `verify`, its record of verified blobs.
 */
export async function fsck(storeDir: string, options: FsckOptions = {}): Promise<FsckReport> {
  let store;
  let index;
  let scanning;
  try {
    store = await openStore(storeDir, { syncReads: true });
    // The blob directories are listed while index.json is read and named.
    scanning = scanBlobs(store.root);
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
  // Every blob is stat'ed on a worker thread while this thread reads the documents: it tells odd
  // entries (readers refuse them), the sizes, and with `verify` whether a record holds. Only the
  // blobs listed through real directories: the rest cannot be checked by path.
  const stats = scanning.then((scan) => Promise.all(scan.dirs.map((d) => (d.real ? lstatIn(d.path, d.names) : Promise.resolve(undefined)))));
  const marking = await markReachable(store, index.valid.map((e) => e.descriptor), scanning.then((s) => s.present));
  const scan = await scanning;
  findings.push(...marking.missing, ...marking.problems);
  for (const { digest } of marking.unmarked) {
    findings.push({ kind: 'ORPHAN_BLOB', file: store.blobFile(digest), digest, message: `${digest} is not reachable from index.json (gc removes it)` });
  }
  findings.push(...scan.findings);
  // With `verify`: the records of earlier runs that still hold (their blobs are skipped), and the blobs to hash.
  const earlier = options.verify && !options.full ? await loadVerifiedStamps(store.safeRoot, scan.present.size) : new Map<Digest, string>();
  const holding = new Map<Digest, string>();
  const toHash: Digest[] = [];
  let hashBytes = 0;
  const dirStats = await stats;
  for (const [k, dir] of scan.dirs.entries()) {
    const st = dirStats[k];
    if (!st) continue;
    for (let j = 0; j < dir.names.length; j++) {
      const at = j * STAT_FIELDS;
      const type = st[at + STAT.type]!;
      if (type < 0) continue;
      const digest = `${dir.alg}:${dir.names[j]!}` as Digest;
      if (type !== TYPE_FILE) {
        findings.push({ kind: 'NOT_REGULAR', file: store.blobFile(digest), digest, message: `${digest} is ${typeName(type)}; readers refuse it (replace it with the blob, or remove it)` });
        continue;
      }
      const size = st[at + STAT.size]!;
      const described = marking.sizes[dir.first + j]!;
      if (described >= 0 && described !== size) {
        findings.push({ kind: 'SIZE_MISMATCH', file: store.blobFile(digest), digest, message: `${digest}: the file has ${size} bytes, its descriptor says ${described} (reads of it fail)` });
      }
      if (!options.verify) continue;
      const record = earlier.get(digest);
      if (record !== undefined && record === batchStamp(st, at)) {
        holding.set(digest, record);
      } else {
        toHash.push(digest);
        hashBytes += size;
      }
    }
  }
  for (const file of scan.temps) {
    findings.push({ kind: 'TEMP_FILE', file, message: 'leftover temp file of an interrupted write (gc removes it)' });
  }
  let verified: FsckReport['verified'];
  if (options.verify) {
    const result = await verifyBlobs(store, { digests: toHash, bytes: hashBytes }, { holding, earlier: earlier.size }, options);
    findings.push(...result.findings);
    verified = { hashed: result.hashed, skipped: result.skipped };
  }
  return { store: store.root, references: table.named.length, blobs: scan.present.size, findings,
    clean: findings.length === 0, damaged: findings.some((f) => DAMAGE.has(f.kind)), ...(verified && { verified }) };
}

/**
 * Hashes the blobs of `toHash`, then records every blob that hashed correctly, now or in an
 * earlier run whose record still `holding`, in place of the `earlier` records: the file lists
 * only blobs present, and is left alone when that changes nothing.
 */
async function verifyBlobs(store: StoreReader, toHash: { digests: readonly Digest[]; bytes: number },
  records: { holding: Map<Digest, string>; earlier: number }, options: FsckOptions) {
  const verified = records.holding;
  const skipped = verified.size;
  options.onVerifyStart?.(toHash.bytes);
  const findings: Finding[] = [];
  const buf = Buffer.allocUnsafe(1024 * 1024);
  for (const digest of toHash.digests) {
    const r = hashBlob(store, digest, buf, options.onVerify);
    if (!r) continue;
    if (r.hex === digestEncoded(digest)) {
      verified.set(digest, fileStamp(r.stat));
    } else {
      findings.push({ kind: 'DIGEST_MISMATCH', file: store.blobFile(digest), digest, message: `${digest} hashes to ${digestAlgorithm(digest)}:${r.hex}` });
    }
  }
  if (verified.size !== skipped || records.earlier !== skipped) await saveVerifiedStamps(store.root, verified);
  return { findings, hashed: toHash.digests.length, skipped };
}
