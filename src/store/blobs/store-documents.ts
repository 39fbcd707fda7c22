import type { Descriptor } from '../../oci/descriptor.js';
import { parseDocument, type ParsedDocument } from '../../oci/manifest.js';
import type { DocumentReader } from '../graph/closure.js';
import type { BlobReader } from './blob-reader.js';

/** Documents straight from a store, verified and parsed, not cached. */
export interface StoreDocuments extends DocumentReader {
  /** Many documents in one read of the store (BlobReader.readVerifiedMany), each parsed or its error. */
  readDocuments(descriptors: readonly Descriptor[]): Promise<(ParsedDocument | Error)[]>;
}

/** Documents read straight from a store, verified, not cached: for one-shot walks (import, gc, fsck) and behind the view's cache. */
export function storeDocuments(blobs: BlobReader): StoreDocuments {
  const parse = (descriptor: Descriptor, bytes: Buffer) => parseDocument(descriptor.mediaType, bytes, blobs.blobFile(descriptor.digest));
  return {
    async readDocument(descriptor: Descriptor): Promise<ParsedDocument> {
      return parse(descriptor, await blobs.readVerified(descriptor));
    },
    async readDocuments(descriptors: readonly Descriptor[]): Promise<(ParsedDocument | Error)[]> {
      const read = await blobs.readVerifiedMany(descriptors);
      return read.map((got, i) => {
        if (got instanceof Error) return got;
        try {
          return parse(descriptors[i]!, got);
        } catch (err) {
          return err as Error;
        }
      });
    },
  };
}
