import { LayoutfsError } from '../../errors.js';
import type { Descriptor } from '../../oci/descriptor.js';
import type { Digest } from '../../oci/digest.js';
import { computeClosure } from '../graph/closure.js';
import { storeDocuments } from '../blobs/store-documents.js';
import type { BlobReader } from '../blobs/blob-reader.js';

/**
 * The blobs (digest -> size) of `images` in `store`, after checking each image is whole: no
 * unreadable manifest, no missing blob but those `mayLack` allows. Errors name the image, and
 * `path` when given (else the file at fault).
 */
export async function completeImages(store: BlobReader, images: { name: string | undefined; descriptor: Descriptor }[],
  how: { lacking: string; mayLack?: (mediaType: string) => boolean; path?: string }): Promise<Map<Digest, number>> {
  const present = await store.listAllBlobs();
  const documents = storeDocuments(store);
  const blobs = new Map<Digest, number>();
  for (const { name, descriptor } of images) {
    const closure = await computeClosure(descriptor, documents, present, store);
    const problem = closure.problems[0];
    if (problem) throw new LayoutfsError('DATA_LOSS', `${name}: ${problem.message}`, { path: how.path ?? problem.file });
    const lost = closure.missing.find((d) => !how.mayLack?.(d.mediaType));
    if (lost) throw new LayoutfsError('NOT_FOUND', `${name} needs blob ${lost.digest}, which ${how.lacking}`, { path: how.path ?? store.blobFile(lost.digest) });
    for (const [digest, blob] of closure.blobs) blobs.set(digest, blob.size);
  }
  return blobs;
}
