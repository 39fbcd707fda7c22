import { join } from 'node:path';
import { errnoOf, fileError, isLayoutfsError, LayoutfsError, parseJson } from '../../errors.js';
import { readBeneath, safeRoot, type SafeRoot } from '../safe-open.js';
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
async function loadIndexDocument(storeRoot: string | SafeRoot, maxBytes: number): Promise<Pick<IndexFile, 'file' | 'mtimeMs' | 'size' | 'ino' | 'json'>> {
  const root = typeof storeRoot === 'string' ? await safeRoot(storeRoot) : storeRoot;
  const file = join(root.path, 'index.json');
  let bytes: Buffer;
  let stat;
  try {
    // Bounded while reading: a FIFO, a device or a file growing under us never exceeds maxBytes + 1.
    ({ bytes, stat } = await readBeneath(root, 'index.json', 'index.json', maxBytes));
  } catch (err) {
    if (isLayoutfsError(err, 'RESOURCE_EXHAUSTED')) {
      throw new LayoutfsError('RESOURCE_EXHAUSTED', `${err.rule} for an index.json`, { path: file });
    }
    if (errnoOf((err as Error).cause) === 'ENOENT') throw new LayoutfsError('NOT_FOUND', 'missing: an OCI image layout needs an index.json', { path: file, cause: err });
    if (err instanceof LayoutfsError) throw err;
    throw fileError(err, file, {}, (why) => `cannot read (${why})`);
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
export async function readIndexFile(storeRoot: string | SafeRoot, maxBytes = DEFAULT_MAX_INDEX_BYTES): Promise<IndexFile> {
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
