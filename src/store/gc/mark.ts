import type { Descriptor } from '../../oci/descriptor.js';
import type { Digest } from '../../oci/digest.js';
import { isWalkableType } from '../../oci/media-types.js';
import { reachable } from '../graph/reachable.js';
import type { Finding } from '../findings.js';
import type { BlobReader } from '../blobs/blob-reader.js';
import { storeDocuments } from '../blobs/store-documents.js';

export interface Marking {
  /**
   * Blobs reachable from index.json entries, or from referrers whose subject is reachable, each
   * with the size the first descriptor reaching it gives (fsck compares it with the file).
   */
  marked: Map<Digest, number>;
  present: ReadonlySet<Digest>;
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
 * an index, when their media type is walkable. `present`: the store's listing (scanBlobs).
 */
export async function markReachable(store: BlobReader, roots: readonly Descriptor[], present: ReadonlySet<Digest>): Promise<Marking> {
  const documents = storeDocuments(store);
  const marked = new Map<Digest, number>();
  const missing: Finding[] = [];
  const reported = new Set<Digest>();
  const problems: Finding[] = [];
  /** Marks a blob; false when the store does not have it (reported once). */
  const mark = (descriptor: Descriptor, root: Digest): boolean => {
    const { digest } = descriptor;
    if (marked.has(digest)) return true;
    if (present.has(digest)) {
      marked.set(digest, descriptor.size);
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
    return next;
  };
  const seen = new Set<string>();
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
  for (const digest of present) {
    if (marked.has(digest)) continue;
    const probe = await store.probeBlob(digest).catch(() => undefined);
    unmarked.push(probe ? { digest, stat: { size: probe.size, mtimeMs: probe.mtimeMs } } : { digest });
    const r = probe?.json && referrerSubject(digest, probe.json);
    if (r) candidates.push(r);
  }
  let referrers = 0;
  for (let changed = true; changed;) {
    changed = false;
    for (const r of candidates) {
      if (!marked.has(r.descriptor.digest) && marked.has(r.subject)) {
        await markFrom([r.descriptor]);
        referrers++;
        changed = true;
      }
    }
  }
  if (referrers > 0) unmarked = unmarked.filter((u) => !marked.has(u.digest));
  return { marked, present, unmarked, missing, problems, referrers };
}
