import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { LayoutfsError } from '../errors.js';
import { digestAlgorithm, digestEncoded, type Digest } from '../oci/digest.js';

/** Copies a blob into `dest` (a new file), fsynced and checked against its digest on the way. */
export async function ingestStreamTo(source: Readable, dest: string, digest: Digest): Promise<void> {
  const handle = await open(dest, 'wx', 0o444);
  const hash = createHash(digestAlgorithm(digest));
  try {
    for await (const chunk of source) {
      hash.update(chunk as Buffer);
      await handle.write(chunk as Buffer);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (hash.digest('hex') !== digestEncoded(digest)) {
    throw new LayoutfsError('DATA_LOSS', `blob ${digest} changed while being copied`, { path: dest });
  }
}
