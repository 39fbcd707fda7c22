import type { Digest } from '../../oci/digest.js';
import { fullNameOf, refNameOf } from '../../oci/name-annotations.js';
import { ingestBlob } from '../blobs/blob-ingest.js';
import { descriptorChunks } from '../safe-open.js';
import { openStore } from '../store-reader.js';
import { runImport, type ImportOptions, type ImportReport, type ImportSource } from './import-pipeline.js';

export type { ImportOptions, ImportReport } from './import-pipeline.js';

/**
 * An OCI image layout directory as an import source: its index.json entries, named as in an
 * archive (io.containerd.image.name, else ref.name), and its blobs copied in on ingest.
 */
export async function layoutSource(sourceDir: string, storeRoot: string, options: Pick<ImportOptions, 'onStart' | 'onProgress'> = {}): Promise<ImportSource> {
  const source = await openStore(sourceDir);
  const index = await source.readIndex();
  let written = 0;
  let seen = 0;
  let started = false;
  return {
    path: source.root,
    noun: 'the source',
    images: index.valid.map((e) => {
      const name = fullNameOf(e.json);
      const alias = refNameOf(e.json);
      return { name, alias: alias !== name ? alias : undefined, descriptor: e.descriptor };
    }),
    blobs: source,
    errorsNameSource: false,
    async ingest(blobs: ReadonlyMap<Digest, number>) {
      if (!started) options.onStart?.([...blobs.values()].reduce((a, b) => a + b, 0));
      for (const [digest, size] of blobs) {
        const r = await ingestBlob(storeRoot, { digest, size }, async () => descriptorChunks(await source.openBlob(digest, size), size, source.blobFile(digest)));
        written += r.written;
        if (!started) {
          seen += size;
          options.onProgress?.(size);
        }
      }
      started = true;
    },
    counters: () => ({ written, seen }),
  };
}

/**
 * Imports references of an OCI image layout directory (see runImport). Blobs are ingested first,
 * without the lock (each verified, deduplicated); then, under the lock, index.json gains the names.
 */
export async function importLayout(storeRoot: string, sourceDir: string, options: ImportOptions = {}): Promise<ImportReport> {
  return runImport(storeRoot, await layoutSource(sourceDir, storeRoot, options), options);
}
