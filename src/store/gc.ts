import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LayoutfsError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { leftoverTemps, syncDirectory, writerAlive } from './atomic-file.js';
import { markReachable } from './mark.js';
import { openStore, type StoreReader } from './store-reader.js';
import { withStoreLock } from './store-lock.js';

export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;

export interface GcCandidate {
  file: string;
  digest?: Digest;
  size: number;
  kind: 'blob' | 'temp';
}

export interface GcPlan {
  marked: number;
  referrers: number;
  delete: GcCandidate[];
  /** Unreferenced, but younger than the grace period (perhaps another process's import in flight). */
  young: number;
  bytes: number;
}

/**
 * What gc would delete: blobs no index.json entry (or referrer of a kept image) reaches, and
 * writers' leftover temp files, both only when older than `graceMs`. Refuses when index.json has
 * entries it cannot read or a manifest it cannot parse: their blobs would look unreferenced.
 */
export async function planGc(store: StoreReader, graceMs: number, now = Date.now()): Promise<GcPlan> {
  const index = await store.readIndex();
  if (index.findings.length > 0) {
    throw new LayoutfsError('FAILED_PRECONDITION', `gc refuses to run: ${index.findings[0]!.message} (fix index.json first; see layoutfs fsck)`, { path: index.file });
  }
  const marking = await markReachable(store, index.entries.map((e) => e.descriptor));
  if (marking.problems.length > 0) {
    const p = marking.problems[0]!;
    throw new LayoutfsError('FAILED_PRECONDITION', `gc refuses to run: ${p.message} (its blobs cannot be marked; see layoutfs fsck)`, { path: p.file });
  }
  const plan: GcPlan = { marked: marking.marked.size, referrers: marking.referrers, delete: [], young: 0, bytes: 0 };
  const consider = async (c: Omit<GcCandidate, 'size'>) => {
    const s = await stat(c.file).catch(() => undefined);
    if (!s) return;
    if (now - s.mtimeMs < graceMs) {
      plan.young++;
      return;
    }
    plan.delete.push({ ...c, size: s.size });
    plan.bytes += s.size;
  };
  for (const digest of marking.present) {
    if (!marking.marked.has(digest)) await consider({ file: store.blobFile(digest), digest, kind: 'blob' });
  }
  for (const file of await leftoverTemps(store.root)) {
    if (writerAlive(file)) plan.young++;
    else await consider({ file, kind: 'temp' });
  }
  return plan;
}

export interface GcResult extends GcPlan {
  deleted: number;
  freed: number;
}

/**
 * Plans and sweeps under the store lock: an import commits its index entry under the same lock
 * after checking its blobs are there, so a blob it reuses is either kept here or re-ingested
 * there, never lost. Each file's age is checked again right before it goes.
 */
export async function collectGarbage(storeDir: string, options: { graceMs: number; dryRun?: boolean;
  onStart?: (bytes: number) => void; onProgress?: (bytes: number) => void }): Promise<GcResult> {
  // A dry run holds no lock and serves nothing: sync reads of small documents are faster. Under
  // the lock, reads stay async so the lock's refresh timer keeps running.
  const store = await openStore(storeDir, { syncReads: options.dryRun });
  if (options.dryRun) return { ...(await planGc(store, options.graceMs)), deleted: 0, freed: 0 };
  return withStoreLock(store.root, async (stillHeld) => {
    const plan = await planGc(store, options.graceMs);
    options.onStart?.(plan.bytes);
    let deleted = 0;
    let freed = 0;
    const touched = new Set<string>();
    for (const c of plan.delete) {
      const s = await stat(c.file).catch(() => undefined);
      if (!s || Date.now() - s.mtimeMs < options.graceMs) continue;
      stillHeld();
      // A file gone meanwhile is not counted; any other failure stops gc with its error.
      const gone = await unlink(c.file).then(() => true, (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      });
      if (!gone) continue;
      deleted++;
      freed += s.size;
      options.onProgress?.(s.size);
      touched.add(join(c.file, '..'));
    }
    for (const dir of touched) await syncDirectory(dir);
    return { ...plan, deleted, freed };
  });
}
