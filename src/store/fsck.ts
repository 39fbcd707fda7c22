import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isLayoutfsError } from '../errors.js';
import { leftoverTemps } from './atomic-file.js';
import { digestAlgorithm, digestEncoded } from '../oci/digest.js';
import { DAMAGE, type Finding } from './findings.js';
import { markReachable } from './gc/mark.js';
import { isImageSpecRefName } from '../oci/reference.js';
import { referenceTable } from './index/reference-table.js';
import { openStore } from './store-reader.js';

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
  for (const file of await leftoverTemps(store.root)) {
    findings.push({ kind: 'TEMP_FILE', file, message: 'leftover temp file of an interrupted write (gc removes it)' });
  }
  if (options.verify) {
    for (const digest of marking.present) {
      const hash = createHash(digestAlgorithm(digest));
      for await (const chunk of createReadStream(store.blobFile(digest))) {
        hash.update(chunk as Buffer);
        options.onVerify?.((chunk as Buffer).length);
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

/** Total bytes of the blobs in a store (what `fsck --verify` reads), for progress. */
export async function storeBytes(storeDir: string): Promise<number> {
  const store = await openStore(storeDir);
  let total = 0;
  for (const d of await store.listAllBlobs()) total += (await stat(store.blobFile(d)).catch(() => ({ size: 0 }))).size;
  return total;
}
