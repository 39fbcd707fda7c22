import { lstat } from 'node:fs/promises';
import { LayoutfsError } from '../../errors.js';
import type { Digest } from '../../oci/digest.js';
import { isWalkableType } from '../../oci/media-types.js';
import { storeDocuments } from '../blobs/store-documents.js';
import type { ValidEntry } from '../index/index-model.js';
import { writerAlive } from '../atomic-file.js';
import { scanBlobs } from '../blobs/scan-blobs.js';
import type { StoreReader } from '../store-reader.js';
import { markReachable } from './mark.js';
import { leasedBlobs } from '../leases.js';

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
  /** Unreferenced, but named by a live import's lease (leases.ts): kept whatever their age. */
  leased: number;
  bytes: number;
  /** Unnamed index.json entries of referrers whose subject is gone: gc removes them from index.json. */
  danglingReferrers: Digest[];
}

/**
 * The unnamed entries that are artifacts about something (a `subject`): what import brings along
 * with an image. They live as long as their subject; the rest of index.json are roots.
 */
export async function splitReferrerEntries(store: StoreReader, valid: readonly ValidEntry[]): Promise<{ roots: ValidEntry[]; referrers: Map<Digest, Digest> }> {
  const documents = storeDocuments(store);
  const roots: ValidEntry[] = [];
  const referrers = new Map<Digest, Digest>();
  for (const e of valid) {
    const doc = e.name === undefined && isWalkableType(e.descriptor.mediaType)
      ? await documents.readDocument(e.descriptor).catch(() => undefined) : undefined;
    if (doc?.subject) referrers.set(e.descriptor.digest, doc.subject.digest);
    else roots.push(e);
  }
  return { roots, referrers };
}

/**
 * What gc would delete: blobs no index.json entry (or referrer of a kept image) reaches, the
 * unnamed index.json entries of referrers whose subject is gone, and
 * writers' leftover temp files and leases, both only when older than `graceMs`; never a blob a
 * live import's lease names. Refuses when index.json has
 * entries it cannot read or a manifest it cannot parse: their blobs would look unreferenced.
 */
export async function planGc(store: StoreReader, graceMs: number, now = Date.now()): Promise<GcPlan> {
  // Listed while index.json is read and the roots' documents are prefetched: a blob written after
  // the listing is not in it, so it cannot be taken for garbage.
  const scanning = scanBlobs(store.root);
  const index = await store.readIndex();
  if (index.findings.length > 0) {
    throw new LayoutfsError('FAILED_PRECONDITION', `gc refuses to run: ${index.findings[0]!.message} (fix index.json first; see layoutfs fsck)`, { path: index.file });
  }
  const { roots, referrers } = await splitReferrerEntries(store, index.valid);
  const marking = await markReachable(store, roots.map((e) => e.descriptor), scanning.then((s) => s.present));
  const scan = await scanning;
  if (marking.problems.length > 0) {
    const p = marking.problems[0]!;
    throw new LayoutfsError('FAILED_PRECONDITION', `gc refuses to run: ${p.message} (its blobs cannot be marked; see layoutfs fsck)`, { path: p.file });
  }
  const danglingReferrers = [...referrers].filter(([digest, subject]) => !marking.has(digest) && !marking.has(subject)).map(([d]) => d);
  const plan: GcPlan = { marked: marking.marked, referrers: marking.referrers, delete: [], young: 0, leased: 0, bytes: 0, danglingReferrers };
  // Read after the listing: an import whose lease came later wrote no blob the listing has.
  const leases = await leasedBlobs(store.root, scan.leases);
  // A blob's size and age come from marking's probe of it; a file the safe open refused, and a temp file, are lstat'ed.
  const consider = async (c: Omit<GcCandidate, 'size'>, known?: { size: number; mtimeMs: number }) => {
    const s = known ?? (await lstat(c.file).catch(() => undefined));
    if (!s) return;
    if (now - s.mtimeMs < graceMs) {
      plan.young++;
      return;
    }
    plan.delete.push({ ...c, size: s.size });
    plan.bytes += s.size;
  };
  for (const { digest, stat } of marking.unmarked) {
    if (leases.held.has(digest)) plan.leased++;
    else await consider({ file: store.blobFile(digest), digest, kind: 'blob' }, stat);
  }
  for (const file of leases.stale) await consider({ file, kind: 'temp' });
  for (const file of scan.temps) {
    if (writerAlive(file)) plan.young++;
    else await consider({ file, kind: 'temp' });
  }
  return plan;
}
