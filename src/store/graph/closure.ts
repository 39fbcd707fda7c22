import type { Descriptor } from '../../oci/descriptor.js';
import type { Digest } from '../../oci/digest.js';
import type { ParsedDocument } from '../../oci/manifest.js';
import { isWalkableType } from '../../oci/media-types.js';
import { reachable } from './reachable.js';
import type { Finding } from '../findings.js';

/** Reads and parses a manifest or index (the view puts its LRU cache in front of the store). */
export interface DocumentReader {
  readDocument(descriptor: Descriptor): Promise<ParsedDocument>;
}

/** Where a store keeps a blob's file, for findings that name it. */
export interface BlobFiles {
  blobFile(digest: Digest): string;
}

export interface ClosureBlob {
  size: number;
  mediaType: string;
}

/** Everything reachable from one root that a view of it shows. Immutable once built. */
export interface Closure {
  root: Descriptor;
  /** Reachable blobs the store has, root included, in walk order. */
  blobs: Map<Digest, ClosureBlob>;
  /** Reachable descriptors whose blob is not in the store (foreign layers, sparse copies). */
  missing: Descriptor[];
  /** Manifests or indexes that could not be read or parsed. */
  problems: Finding[];
  /** Sum of the sizes in `blobs`. */
  bytes: number;
}

/**
 * The closure of `root` among the `present` blobs: index -> manifests (nested indexes too) -> config and layers. Missing
 * blobs and unreadable documents are recorded, never thrown, so one broken image cannot hide the
 * rest of the store.
 */
export async function computeClosure(
  root: Descriptor,
  documents: DocumentReader,
  present: Pick<ReadonlySet<Digest>, 'has'>,
  files: BlobFiles,
): Promise<Closure> {
  const descriptors = new Map<Digest, Descriptor>([[root.digest, root]]);
  const walk = new Set<Digest>([root.digest]);
  const missing: Descriptor[] = [];
  const problems: Finding[] = [];
  const blobs = new Map<Digest, ClosureBlob>();
  let bytes = 0;

  await reachable<Digest>([root.digest], async (digest) => {
    const descriptor = descriptors.get(digest)!;
    if (!present.has(digest)) {
      missing.push(descriptor);
      return undefined;
    }
    blobs.set(digest, { size: descriptor.size, mediaType: descriptor.mediaType });
    bytes += descriptor.size;
    if (!walk.has(digest) || !isWalkableType(descriptor.mediaType)) return undefined;
    let doc: ParsedDocument;
    try {
      doc = await documents.readDocument(descriptor);
    } catch (err) {
      problems.push({ kind: 'BAD_DOCUMENT', file: files.blobFile(digest), digest, message: (err as Error).message });
      return undefined;
    }
    for (const child of doc.children) {
      if (!descriptors.has(child.digest)) descriptors.set(child.digest, child);
      if (doc.childrenAreManifests) walk.add(child.digest);
    }
    return doc.children.map((c) => c.digest);
  });
  return { root, blobs, missing, problems, bytes };
}
