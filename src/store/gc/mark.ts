import type { Descriptor } from '../../oci/descriptor.js';
import type { Digest } from '../../oci/digest.js';
import { isWalkableType } from '../../oci/media-types.js';
import { reachable } from '../graph/reachable.js';
import type { Finding } from '../findings.js';
import type { BlobReader } from '../blobs/blob-reader.js';
import { storeDocuments } from '../blobs/store-documents.js';
import { prefetchFiles } from '../blobs/file-batch.js';
import type { BlobPositions } from '../blobs/blob-positions.js';

export interface Marking {
  /**
   * By blob position (BlobScan.present): for each blob reachable from index.json entries, or from
   * referrers whose subject is reachable, the size the first descriptor reaching it gives (fsck
   * compares it with the file); -1 for the rest. An array, not a map of digests: a map of 500,000
   * strings cost more to fill and collect than the walk's own work.
   */
  sizes: Float64Array;
  /** How many blobs are marked. */
  marked: number;
  /** Whether the blob is present and marked. */
  has(digest: Digest): boolean;
  /**
   * The present blobs nothing reaches (what gc deletes and fsck calls orphans), so callers need
   * not go over `present` again; each with its file's size and mtime from the probe for referrers,
   * unless the safe open refused the file (a FIFO, a symlink).
   */
  unmarked: UnmarkedBlob[];
  /** One finding per blob reached but not in the store, naming the first root found to reach it. */
  missing: Finding[];
  problems: Finding[];
  referrers: number;
}

export interface UnmarkedBlob {
  digest: Digest;
  stat?: { size: number; mtimeMs: number };
}

/** The manifest in `bytes`, when it is one that names a subject (a referrer). */
function referrerSubject(digest: Digest, bytes: Buffer): { descriptor: Descriptor; subject: Digest } | undefined {
  try {
    const json = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; subject?: { digest?: unknown } };
    if (typeof json.mediaType !== 'string' || !isWalkableType(json.mediaType) || typeof json.subject?.digest !== 'string') return undefined;
    return { descriptor: { mediaType: json.mediaType, digest, size: bytes.length, raw: {} }, subject: json.subject.digest as Digest };
  } catch {
    return undefined;
  }
}

/** A document as the walk meets it: the descriptor that first named it, and the root it came from. */
interface DocumentNode {
  descriptor: Descriptor;
  root: Digest;
}

/**
 * Marks what must be kept: everything reachable from every index.json entry (named or not), then,
 * until nothing changes, every referrer (a manifest with a `subject`) whose subject is marked.
 * One walk for all the roots: each document is read and parsed once however many roots reach it,
 * and each other blob costs a few lookups, so the cost is O(unique documents + blobs). What is
 * read as a document follows the closure's rule (graph/closure.ts): the roots and the children of
 * an index, when their media type is walkable. `listing`: the store's (scanBlobs' `present`). The
 * documents are read one at a time, synchronously or not as `store` does, each wave of them
 * prefetched on worker threads in the order the walk reads them: when the page cache does not
 * hold them, the disk serves several at once instead of one after the other.
 */
export async function markReachable(store: BlobReader, roots: readonly Descriptor[], listing: Promise<BlobPositions>): Promise<Marking> {
  const prefetching: Promise<void>[] = [];
  const prefetch = (digests: Digest[]) => {
    if (digests.length > 1) prefetching.push(prefetchFiles(digests.map((d) => store.blobFile(d))).catch(() => undefined));
  };
  // The roots' documents come from the disk while the blob directories are still being listed.
  prefetch(roots.filter((r) => isWalkableType(r.mediaType)).map((r) => r.digest).reverse());
  const present = await listing;
  const documents = storeDocuments(store);
  const sizes = new Float64Array(present.size).fill(-1);
  let marked = 0;
  const has = (digest: Digest) => {
    const at = present.get(digest);
    return at >= 0 && sizes[at]! >= 0;
  };
  const missing: Finding[] = [];
  const reported = new Set<Digest>();
  const problems: Finding[] = [];
  /** Marks a blob; false when the store does not have it (reported once). */
  const mark = (descriptor: Descriptor, root: Digest): boolean => {
    const { digest } = descriptor;
    const at = present.get(digest);
    if (at >= 0) {
      if (sizes[at]! < 0) {
        sizes[at] = descriptor.size;
        marked++;
      }
      return true;
    }
    if (!reported.has(digest)) {
      reported.add(digest);
      missing.push({ kind: 'MISSING_BLOB', file: store.blobFile(digest), digest, message: `${root} reaches ${digest} (${descriptor.mediaType}), which the store does not have` });
    }
    return false;
  };
  // Documents go through the walk, keyed by media type and digest (an entry with an unwalkable
  // type must not hide a proper one); the leaves (config, layers) are marked where they are met.
  const nodes = new Map<string, DocumentNode>();
  const walk = (descriptor: Descriptor, root: Digest, into: string[]): void => {
    if (!isWalkableType(descriptor.mediaType)) {
      mark(descriptor, root);
      return;
    }
    const key = `${descriptor.mediaType} ${descriptor.digest}`;
    if (!nodes.has(key)) nodes.set(key, { descriptor, root });
    into.push(key);
  };
  const seen = new Set<string>();
  /** Prefetches the documents of `keys` not visited yet, last first: the walk pops them off a stack. */
  const prefetchKeys = (keys: readonly string[]) => {
    const digests: Digest[] = [];
    for (let i = keys.length - 1; i >= 0; i--) {
      if (!seen.has(keys[i]!)) digests.push(nodes.get(keys[i]!)!.descriptor.digest);
    }
    prefetch(digests);
  };
  const visit = async (key: string): Promise<string[] | undefined> => {
    const { descriptor, root } = nodes.get(key)!;
    if (!mark(descriptor, root)) return undefined;
    let doc;
    try {
      doc = await documents.readDocument(descriptor);
    } catch (err) {
      problems.push({ kind: 'BAD_DOCUMENT', file: store.blobFile(descriptor.digest), digest: descriptor.digest, message: (err as Error).message });
      return undefined;
    }
    const next: string[] = [];
    for (const c of doc.children) {
      if (doc.childrenAreManifests) walk(c, root, next);
      else mark(c, root);
    }
    prefetchKeys(next);
    return next;
  };
  const markFrom = (from: readonly Descriptor[]) => {
    const keys: string[] = [];
    for (const r of from) walk(r, r.digest, keys);
    return reachable(keys, visit, seen);
  };
  await markFrom(roots);

  // Each unmarked blob is opened once (the safe open: a FIFO or symlink named like a blob is
  // never read); referrers of referrers are found by looping over the few found.
  let unmarked: UnmarkedBlob[] = [];
  const candidates: { descriptor: Descriptor; subject: Digest }[] = [];
  for (let at = 0; at < present.size; at++) {
    if (sizes[at]! >= 0) continue;
    const digest = present.digestAt(at);
    const probe = await store.probeBlob(digest).catch(() => undefined);
    unmarked.push(probe ? { digest, stat: { size: probe.size, mtimeMs: probe.mtimeMs } } : { digest });
    const r = probe?.json && referrerSubject(digest, probe.json);
    if (r) candidates.push(r);
  }
  let referrers = 0;
  for (let changed = true; changed;) {
    changed = false;
    for (const r of candidates) {
      if (!has(r.descriptor.digest) && has(r.subject)) {
        await markFrom([r.descriptor]);
        referrers++;
        changed = true;
      }
    }
  }
  if (referrers > 0) unmarked = unmarked.filter((u) => !has(u.digest));
  await Promise.all(prefetching);
  return { sizes, marked, has, unmarked, missing, problems, referrers };
}
