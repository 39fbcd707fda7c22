import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { errnoOf, fileError, isLayoutfsError, LayoutfsError, parseJson } from '../../errors.js';
import { readBeneath, safeRoot, type SafeRoot } from '../safe-open.js';
import type { Finding } from '../findings.js';
import { entriesChange, manifestsSeparators } from './entry-spans.js';
import { spliced } from './spliced.js';
import { countBefore, invalidEntry, isValidEntry, movedEntry, validEntry, type IndexEntry, type IndexFile, type IndexJson } from './index-model.js';

export const DEFAULT_MAX_INDEX_BYTES = 64 * 1024 * 1024;

/** Reads the store's index. */
export interface IndexReader {
  readonly root: string;
  /** index.json now; with `previous` (an earlier read), only the entries a write changed are parsed. */
  readIndex(previous?: IndexFile): Promise<IndexFile>;
}

/**
 * Reads index.json through one open descriptor, so a concurrent rename by a writer gives the
 * old file or the new one, never a mix; checks the size limit before reading and the shape of
 * the top level. Errors name the file and the rule.
 */
async function readIndexBytes(storeRoot: string | SafeRoot, maxBytes: number): Promise<{ file: string; bytes: Buffer; stat: Stats }> {
  const root = typeof storeRoot === 'string' ? await safeRoot(storeRoot) : storeRoot;
  const file = join(root.path, 'index.json');
  try {
    // Bounded while reading: a FIFO, a device or a file growing under us never exceeds maxBytes + 1.
    return { file, ...await readBeneath(root, 'index.json', 'index.json', maxBytes) };
  } catch (err) {
    if (isLayoutfsError(err, 'RESOURCE_EXHAUSTED')) {
      throw new LayoutfsError('RESOURCE_EXHAUSTED', `${err.rule} for an index.json`, { path: file });
    }
    if (errnoOf((err as Error).cause) === 'ENOENT') throw new LayoutfsError('NOT_FOUND', 'missing: an OCI image layout needs an index.json', { path: file, cause: err });
    if (err instanceof LayoutfsError) throw err;
    throw fileError(err, file, {}, (why) => `cannot read (${why})`);
  }
}

/** The document in `bytes`, its top level checked. */
function parseIndexDocument(file: string, bytes: Buffer): IndexJson {
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
  return json as IndexJson;
}

/** The entry of `value` at `position`; its finding goes to `findings` when it is no valid descriptor. */
function entryAt(file: string, value: unknown, position: number, findings?: Finding[]): IndexEntry {
  try {
    return validEntry(value, position);
  } catch (err) {
    findings?.push({ kind: 'INVALID_ENTRY', file, message: (err as Error).message });
    return invalidEntry(value, position);
  }
}

/**
 * The entries of `bytes` from those of `previous`: the values a write left alone keep their
 * entry objects (moved to their new position when entries before them came or went), and only
 * the values between are parsed. Undefined when the change is not one of entries only.
 */
function entriesAfter(previous: IndexFile, file: string, bytes: Buffer): Pick<IndexFile, 'json' | 'entries' | 'valid' | 'findings' | 'changed'> | undefined {
  const separators = manifestsSeparators(previous.bytes);
  const change = separators && entriesChange(previous.bytes, separators, bytes);
  if (!change) return undefined;
  const { from, to, values } = change;
  const old = previous.entries;
  const moved = values.length - (to - from);
  const came = values.map((value, k) => entryAt(file, value, from + k));
  // The entries before and after the change are the old ones, moved when the count changed and
  // entries follow it (an append moves none).
  const shifts = moved !== 0 && to < old.length;
  const entries = spliced(old, from, to, came, shifts ? (e) => movedEntry(e, e.position + moved) : undefined);
  const validFrom = countBefore(previous.valid, from);
  // A moved entry is a new object: valid takes those, by position.
  const valid = shifts ? spliced(previous.valid, validFrom, previous.valid.length, entries.slice(from).filter(isValidEntry))
    : spliced(previous.valid, validFrom, countBefore(previous.valid, to), came.filter(isValidEntry));
  // Findings name positions: those of invalid entries are made again, in order (a store has few, if any).
  const findings: Finding[] = [];
  if (previous.findings.length > 0 || valid.length < entries.length) {
    for (const e of entries) if (!isValidEntry(e)) entryAt(file, e.json, e.position, findings);
  }
  return { json: previous.json, entries, valid, findings, changed: { from, to, count: values.length } };
}

/**
 * Reads index.json into the one model: every entry, parsed and named; invalid ones are findings,
 * not failures. After `previous` (the store's index.json read earlier), a file that differs only
 * in some entries costs a parse of those (a tag in 50,000 entries parses one).
 */
export async function readIndexFile(storeRoot: string | SafeRoot, maxBytes = DEFAULT_MAX_INDEX_BYTES, previous?: IndexFile): Promise<IndexFile> {
  const { file, bytes, stat } = await readIndexBytes(storeRoot, maxBytes);
  const identity = { file, bytes, mtimeMs: stat.mtimeMs, size: stat.size, ino: stat.ino };
  const reused = previous?.file === file ? entriesAfter(previous, file, bytes) : undefined;
  if (reused) return { ...identity, ...reused };
  const json = parseIndexDocument(file, bytes);
  const findings: Finding[] = [];
  const entries = json.manifests.map((value: unknown, position: number) => entryAt(file, value, position, findings));
  // The values live on in `entries` only: a refresh splices one array, not two.
  return { ...identity, json: { ...json, manifests: [] }, entries, valid: entries.filter(isValidEntry), findings };
}
