import { lstat } from 'node:fs/promises';
import { LayoutfsError } from '../../errors.js';
import type { Digest } from '../../oci/digest.js';
import { leftoverTemps, writerAlive } from '../atomic-file.js';
import type { StoreReader } from '../store-reader.js';
import { markReachable } from './mark.js';

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
  const marking = await markReachable(store, index.valid.map((e) => e.descriptor));
  if (marking.problems.length > 0) {
    const p = marking.problems[0]!;
    throw new LayoutfsError('FAILED_PRECONDITION', `gc refuses to run: ${p.message} (its blobs cannot be marked; see layoutfs fsck)`, { path: p.file });
  }
  const plan: GcPlan = { marked: marking.marked.size, referrers: marking.referrers, delete: [], young: 0, bytes: 0 };
  const consider = async (c: Omit<GcCandidate, 'size'>) => {
    const s = await lstat(c.file).catch(() => undefined);
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
