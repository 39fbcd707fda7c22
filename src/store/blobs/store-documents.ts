import type { Descriptor } from '../../oci/descriptor.js';
import { parseDocument, type ParsedDocument } from '../../oci/manifest.js';
import type { DocumentReader } from '../graph/closure.js';
import type { BlobReader } from './blob-reader.js';

/** Documents read straight from a store, verified, not cached: for one-shot walks (import, gc, fsck). */
export function storeDocuments(blobs: BlobReader): DocumentReader {
  return {
    async readDocument(descriptor: Descriptor): Promise<ParsedDocument> {
      const bytes = await blobs.readVerified(descriptor);
      return parseDocument(descriptor.mediaType, bytes, blobs.blobFile(descriptor.digest));
    },
  };
}
