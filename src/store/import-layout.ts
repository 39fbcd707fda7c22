import { createReadStream } from 'node:fs';
import { LayoutfsError } from '../errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { isForeignLayerType } from '../oci/media-types.js';
import { ingestBlob, hasBlob } from './blob-ingest.js';
import { computeClosure } from './closure.js';
import { updateIndex } from './index-update.js';
import { referenceTable } from './references.js';
import { setName, type NameChange } from './reference-writes.js';
import { openStore, type StoreReader } from './store-reader.js';
import { assertWritable } from './store-lock.js';
import { storeDocuments } from './store-documents.js';

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
  const table = referenceTable(index.file, index.entries);
  let chosen: { name: string; descriptor: Descriptor }[];
  if (options.select?.length) {
    chosen = options.select.map((name) => {
      const n = table.named.find((x) => x.name === name);
      if (!n) throw new LayoutfsError('NOT_FOUND', `no reference named ${JSON.stringify(name)} in the source`, { path: index.file });
      return n;
    });
  } else if (table.named.length === 0 && index.entries.length === 1 && options.rename) {
    chosen = [{ name: options.rename, descriptor: index.entries[0]!.descriptor }];
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
      const r = await ingestBlob(storeRoot, { digest, size }, () => createReadStream(source.blobFile(digest)));
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

/**
 * The blobs (digest -> size) of `images` in `store`, after checking each image is whole: no
 * unreadable manifest, no missing blob but those `mayLack` allows. Errors name the image, and
 * `path` when given (else the file at fault).
 */
export async function completeImages(store: StoreReader, images: { name: string | undefined; descriptor: Descriptor }[],
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

/**
 * Adds the names under the store lock, after checking every blob is still there: a concurrent
 * gc (with a short grace) may have swept one between its ingest and now. Then `reingest` puts
 * back what is gone and the commit is tried again.
 */
export async function commitNames(storeRoot: string, blobs: ReadonlyMap<Digest, number>, names: { name: string; descriptor: Descriptor }[],
  force: boolean, reingest: () => Promise<void>): Promise<NameChange[]> {
  for (let attempt = 1; ; attempt++) {
    const references = await updateIndex(storeRoot, async (index) => {
      for (const [digest, size] of blobs) if (!(await hasBlob(storeRoot, digest, size))) return undefined;
      return names.map(({ name, descriptor }) => setName(index, name, { ...descriptor.raw }, force, `${storeRoot}/index.json`));
    });
    if (references) return references;
    if (attempt === 3) throw new LayoutfsError('UNAVAILABLE', 'blobs keep vanishing during the import (a gc with a very short --grace?); try again');
    await reingest();
  }
}
