import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { readBeneath, type SafeRoot } from './safe-open.js';

/**
 * The frame of a file layoutfs keeps beside index.json only to save work (the blob listing, the
 * recorded closures): a magic line naming the kind and version, the sha256 of the body, the body.
 * Such a file that is missing, too large, of another kind or version, or fails its checksum reads
 * as nothing, never as an error, and the next run writes it anew.
 */
const HASH_BYTES = 32;

/** The file's bytes: `magic` (one line, no newline), the checksum, the body's parts. */
export function sealed(magic: string, body: readonly Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of body) hash.update(part);
  return Buffer.concat([Buffer.from(`${magic}\n`, 'latin1'), hash.digest(), ...body]);
}

/** The body of a sealed file's bytes, or undefined when the magic line or the checksum is not right. */
export function unseal(magic: string, file: Buffer): Buffer | undefined {
  const head = Buffer.from(`${magic}\n`, 'latin1');
  const start = head.length + HASH_BYTES;
  if (file.length < start || !file.subarray(0, head.length).equals(head)) return undefined;
  const body = file.subarray(start);
  return createHash('sha256').update(body).digest().equals(file.subarray(head.length, start)) ? body : undefined;
}

/** The body of the store's sealed file `name`, read the safe way and bounded; undefined for anything amiss. */
export async function readSealed(root: SafeRoot, name: string, what: string, magic: string, maxBytes: number): Promise<Buffer | undefined> {
  try {
    return unseal(magic, (await readBeneath(root, name, what, maxBytes)).bytes);
  } catch {
    return undefined;
  }
}

/**
 * Writes the store's sealed file `name` (temp file, fsync, rename): concurrent writers each leave
 * a whole file. False when the store cannot be written (it keeps what it had).
 */
export function saveSealed(storeRoot: string, name: string, bytes: Buffer): Promise<boolean> {
  return writeFileAtomic(join(storeRoot, name), bytes).then(() => true, () => false);
}
