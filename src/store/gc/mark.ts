import type { Descriptor } from '../../oci/descriptor.js';
import type { Digest } from '../../oci/digest.js';
import { isWalkableType } from '../../oci/media-types.js';
import { computeClosure } from '../graph/closure.js';
import type { Finding } from '../findings.js';
import { DEFAULT_MAX_DOCUMENT_BYTES, type BlobReader } from '../blobs/blob-reader.js';
import { storeDocuments } from '../blobs/store-documents.js';
import { closeFd, fstatFd, readFd } from '../blobs/fd-io.js';
import { readInto } from '../safe-open.js';

export interface Marking {
  /** Blobs reachable from index.json entries, or from referrers whose subject is reachable. */
  marked: Set<Digest>;
  present: ReadonlySet<Digest>;
  missing: Finding[];
  problems: Finding[];
  referrers: number;
  /** The size the first descriptor reaching each marked blob gives it (fsck compares it with the file). */
  sizes: Map<Digest, number>;
}

/** The manifest in `digest`'s file, when it is one that names a subject (a referrer). */
async function referrerSubject(store: BlobReader, digest: Digest): Promise<{ descriptor: Descriptor; subject: Digest } | undefined> {
  let fd: number | undefined;
  try {
    // The safe open (safe-open.ts): a FIFO or symlink named like a blob is skipped, never read.
    fd = await store.openBlob(digest);
    const { size } = await fstatFd(fd);
    if (size > DEFAULT_MAX_DOCUMENT_BYTES || size < 2) return undefined;
    const first = Buffer.alloc(1);
    await readFd(fd, first, 0, 1, 0);
    if (first[0] !== 0x7b /* { */) return undefined;
    const bytes = Buffer.allocUnsafe(size + 1);
    const n = await readInto(fd, bytes);
    if (n !== size) return undefined;
    const json = JSON.parse(bytes.subarray(0, n).toString('utf8')) as { mediaType?: unknown; subject?: { digest?: unknown } };
    if (typeof json.mediaType !== 'string' || !isWalkableType(json.mediaType) || typeof json.subject?.digest !== 'string') return undefined;
    return { descriptor: { mediaType: json.mediaType, digest, size, raw: {} }, subject: json.subject.digest as Digest };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) await closeFd(fd).catch(() => undefined);
  }
}

/**
 * Marks what must be kept: the closure of every index.json entry (named or not), then, until
 * nothing changes, every referrer (a manifest with a `subject`) whose subject is marked.
 */
export async function markReachable(store: BlobReader, roots: Descriptor[]): Promise<Marking> {
  const present = await store.listAllBlobs();
  const documents = storeDocuments(store);
  const marked = new Set<Digest>();
  const sizes = new Map<Digest, number>();
  const missing: Finding[] = [];
  const problems: Finding[] = [];
  // Many names often point at one digest: its closure is walked (and its findings reported) once
  // per media type (an entry with an unwalkable type must not hide a proper one).
  const walked = new Set<string>();
  const markFrom = async (root: Descriptor) => {
    const key = `${root.mediaType} ${root.digest}`;
    if (walked.has(key)) return;
    walked.add(key);
    const c = await computeClosure(root, documents, present, store);
    for (const [d, b] of c.blobs) {
      marked.add(d);
      if (!sizes.has(d)) sizes.set(d, b.size);
    }
    for (const d of c.missing) missing.push({ kind: 'MISSING_BLOB', file: store.blobFile(d.digest), digest: d.digest, message: `${root.digest} reaches ${d.digest} (${d.mediaType}), which the store does not have` });
    problems.push(...c.problems);
  };
  for (const root of roots) await markFrom(root);

  // Each unmarked blob is read once; referrers of referrers are found by looping over the few found.
  const candidates: { descriptor: Descriptor; subject: Digest }[] = [];
  for (const digest of present) {
    if (marked.has(digest)) continue;
    const r = await referrerSubject(store, digest);
    if (r) candidates.push(r);
  }
  let referrers = 0;
  for (let changed = true; changed;) {
    changed = false;
    for (const r of candidates) {
      if (!marked.has(r.descriptor.digest) && marked.has(r.subject)) {
        await markFrom(r.descriptor);
        referrers++;
        changed = true;
      }
    }
  }
  return { marked, present, missing, problems, referrers, sizes };
}
