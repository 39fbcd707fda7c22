import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileError, LayoutfsError, parseJson } from '../../errors.js';
import type { Finding } from '../findings.js';
import { invalidEntry, validEntry, type IndexEntry, type IndexFile, type IndexJson, type ValidEntry } from './index-model.js';

export const DEFAULT_MAX_INDEX_BYTES = 64 * 1024 * 1024;

/** Reads the store's index. */
export interface IndexReader {
  readonly root: string;
  readIndex(): Promise<IndexFile>;
}

/**
 * Reads index.json through one open descriptor, so a concurrent rename by a writer gives the
 * old file or the new one, never a mix; checks the size limit before reading and the shape of
 * the top level. Errors name the file and the rule.
 */
async function loadIndexDocument(storeRoot: string, maxBytes: number): Promise<Pick<IndexFile, 'file' | 'mtimeMs' | 'size' | 'ino' | 'json'>> {
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
          `${stat.size} bytes is over the limit of ${maxBytes} bytes for an index.json`, { path: file });
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
    throw fileError(err, file, { ENOENT: 'missing: an OCI image layout needs an index.json' }, (why) => `cannot read (${why})`);
  }
  const json = parseJson(bytes, { path: file });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new LayoutfsError('FAILED_PRECONDITION', 'must be a JSON object (an image index)', { path: file });
  }
  const doc = json as { schemaVersion?: unknown; manifests?: unknown };
  if (doc.schemaVersion !== 2) {
    throw new LayoutfsError('FAILED_PRECONDITION', `schemaVersion must be 2, found ${JSON.stringify(doc.schemaVersion)}`, { path: file });
  }
  if (doc.manifests !== undefined && !Array.isArray(doc.manifests)) {
    throw new LayoutfsError('FAILED_PRECONDITION', '"manifests" must be an array', { path: file });
  }
  doc.manifests ??= [];
  return { file, mtimeMs: stat.mtimeMs, size: stat.size, ino: stat.ino, json: json as IndexJson };
}

/** Reads index.json into the one model: every entry, parsed and named; invalid ones are findings, not failures. */
export async function readIndexFile(storeRoot: string, maxBytes = DEFAULT_MAX_INDEX_BYTES): Promise<IndexFile> {
  const { file, mtimeMs, size, ino, json } = await loadIndexDocument(storeRoot, maxBytes);
  const entries: IndexEntry[] = [];
  const valid: ValidEntry[] = [];
  const findings: Finding[] = [];
  json.manifests.forEach((value: unknown, position: number) => {
    try {
      const entry = validEntry(value, position);
      entries.push(entry);
      valid.push(entry);
    } catch (err) {
      entries.push(invalidEntry(value, position));
      findings.push({ kind: 'INVALID_ENTRY', file, message: (err as Error).message });
    }
  });
  return { file, mtimeMs, size, ino, json, entries, valid, findings };
}
