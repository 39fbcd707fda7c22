import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { LayoutfsError } from '../errors.js';
import { parseDescriptor, type Descriptor } from '../oci/descriptor.js';
import type { Finding } from './findings.js';

export const DEFAULT_MAX_INDEX_BYTES = 64 * 1024 * 1024;

export interface IndexEntry {
  /** Position in index.json's manifests array, for messages. */
  position: number;
  descriptor: Descriptor;
}

export interface IndexFile {
  file: string;
  mtimeMs: number;
  size: number;
  /** Identity of the file read: writers replace index.json by rename, so a new inode means new content. */
  ino: number;
  entries: IndexEntry[];
  findings: Finding[];
}

/**
 * Reads and parses index.json. The file is opened once and read through that descriptor, so a
 * concurrent rename by a writer gives us the old or the new file, never a mix. Invalid entries are
 * findings, not failures; an unreadable or malformed file is an error naming the file and rule.
 */
export async function readIndexFile(storeRoot: string, maxBytes = DEFAULT_MAX_INDEX_BYTES): Promise<IndexFile> {
  const file = join(storeRoot, 'index.json');
  let bytes: Buffer;
  let stat;
  try {
    const handle = await open(file, 'r');
    try {
      stat = await handle.stat();
      if (!stat.isFile()) throw new LayoutfsError('FAILED_PRECONDITION', 'must be a regular file', { path: file });
      if (stat.size > maxBytes) {
        throw new LayoutfsError('RESOURCE_EXHAUSTED',
          `${stat.size} bytes is over the limit of ${maxBytes} bytes (see --max-index-bytes)`, { path: file });
      }
      bytes = Buffer.allocUnsafe(stat.size);
      let off = 0;
      while (off < bytes.length) {
        const { bytesRead } = await handle.read(bytes, off, bytes.length - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      bytes = bytes.subarray(0, off);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof LayoutfsError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new LayoutfsError(code === 'ENOENT' ? 'NOT_FOUND' : 'UNAVAILABLE',
      code === 'ENOENT' ? 'missing: an OCI image layout needs an index.json' : `cannot read (${code})`,
      { path: file, cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new LayoutfsError('FAILED_PRECONDITION', `not valid JSON (${(err as Error).message})`, { path: file, cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new LayoutfsError('FAILED_PRECONDITION', 'must be a JSON object (an image index)', { path: file });
  }
  const { schemaVersion, manifests } = json as { schemaVersion?: unknown; manifests?: unknown };
  if (schemaVersion !== 2) {
    throw new LayoutfsError('FAILED_PRECONDITION', `schemaVersion must be 2, found ${JSON.stringify(schemaVersion)}`, { path: file });
  }
  if (manifests !== undefined && !Array.isArray(manifests)) {
    throw new LayoutfsError('FAILED_PRECONDITION', '"manifests" must be an array', { path: file });
  }
  const entries: IndexEntry[] = [];
  const findings: Finding[] = [];
  (manifests ?? []).forEach((value: unknown, position: number) => {
    try {
      entries.push({ position, descriptor: parseDescriptor(value, `manifests[${position}]`) });
    } catch (err) {
      findings.push({ kind: 'INVALID_ENTRY', file, message: (err as Error).message });
    }
  });
  return { file, mtimeMs: stat.mtimeMs, size: stat.size, ino: stat.ino, entries, findings };
}
