import { LayoutfsError } from '../../errors.js';
import type { Descriptor } from '../../oci/descriptor.js';
import { isForeignLayerType } from '../../oci/media-types.js';
import { ingestBlob } from '../blobs/blob-ingest.js';
import { findReference, referenceTable } from '../index/reference-table.js';
import type { NameChange } from '../index/name-changes.js';
import { assertWritable } from '../lock.js';
import { openStore } from '../store-reader.js';
import { descriptorChunks } from '../safe-open.js';
import { commitNames } from './commit-names.js';
import { completeImages } from './complete-images.js';

export interface ImportOptions {
  /** Names in the source to import (default: every named reference). */
  select?: string[];
  /** The name to give the one imported image (`--ref`). */
  rename?: string;
  /** Move names that already point at other images. */
  force?: boolean;
  /** Progress: the bytes to go through, once known, then each step's bytes. */
  onStart?: (totalBytes: number) => void;
  onProgress?: (bytes: number) => void;
}

export interface ImportReport {
  source: string;
  references: NameChange[];
  blobs: number;
  bytesWritten: number;
  bytesSkipped: number;
}

/**
 * Imports references of an OCI image layout directory. Blobs are ingested first, without the
 * lock (each verified, deduplicated); then, under the lock, index.json gains the names, after a
 * check that every blob is still there (a gc may have swept a reused orphan meanwhile).
 */
export async function importLayout(storeRoot: string, sourceDir: string, options: ImportOptions = {}): Promise<ImportReport> {
  await assertWritable(storeRoot);
  const source = await openStore(sourceDir);
  const index = await source.readIndex();
  const table = referenceTable(index);
  let chosen: { name: string; descriptor: Descriptor }[];
  if (options.select?.length) {
    chosen = options.select.map((name) => findReference(table.named, name, { path: index.file, in: 'the source' }));
  } else if (table.named.length === 0 && index.valid.length === 1 && options.rename) {
    chosen = [{ name: options.rename, descriptor: index.valid[0]!.descriptor }];
  } else {
    chosen = table.named;
  }
  if (chosen.length === 0) throw new LayoutfsError('NOT_FOUND', 'no named reference to import (name one with --ref)', { path: index.file });
  if (options.rename !== undefined) {
    if (chosen.length !== 1) throw new LayoutfsError('INVALID_ARGUMENT', `--ref names one image, but ${chosen.length} are selected (use --select)`);
    chosen = [{ name: options.rename, descriptor: chosen[0]!.descriptor }];
  }

  // Non-distributable layers are often absent from a layout on purpose.
  const blobs = await completeImages(source, chosen, { lacking: 'the source does not have', mayLack: isForeignLayerType });

  let bytesWritten = 0;
  let bytesSkipped = 0;
  options.onStart?.([...blobs.values()].reduce((a, b) => a + b, 0));
  const ingestAll = async (): Promise<void> => {
    for (const [digest, size] of blobs) {
      const r = await ingestBlob(storeRoot, { digest, size }, async () => descriptorChunks(await source.openBlob(digest, size), size, source.blobFile(digest)));
      bytesWritten += r.written;
      options.onProgress?.(size);
    }
  };
  await ingestAll();
  for (const size of blobs.values()) bytesSkipped += size;
  bytesSkipped -= bytesWritten;
  const references = await commitNames(storeRoot, blobs, chosen, options.force ?? false, ingestAll);
  return { source: source.root, references, blobs: blobs.size, bytesWritten, bytesSkipped };
}
