import { createHash } from 'node:crypto';
import { isLayoutfsError } from '../errors.js';
import { leftoverTemps } from './atomic-file.js';
import { digestAlgorithm, digestEncoded, digestOfBlobFile } from '../oci/digest.js';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DAMAGE, type Finding } from './findings.js';
import { markReachable } from './gc/mark.js';
import { isImageSpecRefName } from '../oci/reference.js';
import { referenceTable } from './index/reference-table.js';
import { openStore } from './store-reader.js';
import { fstatFd } from './blobs/fd-io.js';
import { descriptorChunks } from './safe-open.js';

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

/**
 * Checks a store: the layout files, every index.json entry, duplicate and missing names, every
 * manifest and index against its digest, blobs reachable but missing, orphans and leftover temp
 * files; with `verify`, re-hashes every blob. Never changes anything.
 */
export async function fsck(storeDir: string, options: { verify?: boolean; onVerify?: (bytes: number) => void } = {}): Promise<FsckReport> {
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
  const marking = await markReachable(store, index.valid.map((e) => e.descriptor));
  findings.push(...marking.missing, ...marking.problems);
  for (const digest of marking.present) {
    if (!marking.marked.has(digest)) findings.push({ kind: 'ORPHAN_BLOB', file: store.blobFile(digest), digest, message: `${digest} is not reachable from index.json (gc removes it)` });
  }
  findings.push(...(await oddEntries(store.root)));
  for (const [digest, size] of marking.sizes) {
    if (!marking.present.has(digest)) continue;
    // The safe open's fstat: a symlink or FIFO is reported by oddEntries, never followed here.
    const st = await store.statBlob(digest).catch(() => undefined);
    if (st && st.size !== size) {
      findings.push({ kind: 'SIZE_MISMATCH', file: store.blobFile(digest), digest, message: `${digest}: the file has ${st.size} bytes, its descriptor says ${size} (reads of it fail)` });
    }
  }
  for (const file of await leftoverTemps(store.root)) {
    findings.push({ kind: 'TEMP_FILE', file, message: 'leftover temp file of an interrupted write (gc removes it)' });
  }
  if (options.verify) {
    for (const digest of marking.present) {
      const hash = createHash(digestAlgorithm(digest));
      let fd: number;
      let size: number;
      try {
        fd = await store.openBlob(digest);
        size = (await fstatFd(fd)).size;
      } catch (err) {
        // Not regular, or through a symlink: reported by the scan of blobs/ above.
        if (isLayoutfsError(err)) continue;
        throw err;
      }
      for await (const chunk of descriptorChunks(fd, size, store.blobFile(digest))) {
        hash.update(chunk);
        options.onVerify?.(chunk.length);
      }
      const actual = hash.digest('hex');
      if (actual !== digestEncoded(digest)) {
        findings.push({ kind: 'DIGEST_MISMATCH', file: store.blobFile(digest), digest, message: `${digest} hashes to ${digestAlgorithm(digest)}:${actual}` });
      }
    }
  }
  return { store: store.root, references: table.named.length, blobs: marking.present.size, findings,
    clean: findings.length === 0, damaged: findings.some((f) => DAMAGE.has(f.kind)) };
}

/**
 * Entries of blobs/ that are not what a store holds: blobs/ or blobs/<alg> as symlinks, and,
 * under them, blob names that are symlinks, FIFOs, devices or directories (readers refuse them).
 */
async function oddEntries(root: string): Promise<Finding[]> {
  const out: Finding[] = [];
  const blobs = join(root, 'blobs');
  const top = await lstat(blobs).catch(() => undefined);
  if (top && !top.isDirectory()) {
    out.push({ kind: 'NOT_REGULAR', file: blobs, message: `blobs is ${top.isSymbolicLink() ? 'a symlink' : 'not a directory'}; it must be a real directory` });
    return out;
  }
  for (const alg of ['sha256', 'sha512'] as const) {
    const dir = join(blobs, alg);
    const st = await lstat(dir).catch(() => undefined);
    if (!st) continue;
    if (!st.isDirectory()) {
      out.push({ kind: 'NOT_REGULAR', file: dir, message: `blobs/${alg} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}; it must be a real directory` });
      continue;
    }
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const digest = digestOfBlobFile(alg, e.name);
      if (!digest || e.isFile()) continue;
      const kind = e.isSymbolicLink() ? 'a symlink' : e.isFIFO() ? 'a FIFO' : e.isDirectory() ? 'a directory' : 'not a regular file';
      out.push({ kind: 'NOT_REGULAR', file: join(dir, e.name), digest, message: `${digest} is ${kind}; readers refuse it (replace it with the blob, or remove it)` });
    }
  }
  return out;
}

/** Total bytes of the blobs in a store (what `fsck --verify` reads), for progress. */
export async function storeBytes(storeDir: string): Promise<number> {
  const store = await openStore(storeDir);
  let total = 0;
  for (const d of await store.listAllBlobs()) total += (await store.statBlob(d).catch(() => ({ size: 0 }))).size;
  return total;
}
