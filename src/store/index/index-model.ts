import { parseDescriptor, type Descriptor } from '../../oci/descriptor.js';
import { refNameOf } from '../../oci/name-annotations.js';
import { manifestsSeparators } from './entry-spans.js';
import type { Finding } from '../findings.js';

/** index.json's top level as read: schemaVersion 2, `manifests` an array (added when absent), other fields kept. */
export interface IndexJson {
  schemaVersion: 2;
  manifests: unknown[];
  [field: string]: unknown;
}

/**
 * One value of index.json's `manifests`: the one model of an entry. Readers take its descriptor
 * and name; writers keep, drop or add entries and write each one's `json` back.
 */
export interface IndexEntry {
  /** Position in `manifests` (messages name it); an entry a write adds takes the next free one. */
  position: number;
  /** The value as stored, every field kept: a write puts back each entry it does not change exactly as read. */
  json: unknown;
  /**
   * The descriptor; undefined when the value is not a valid one (an INVALID_ENTRY finding: the
   * root of nothing, but kept by writes).
   */
  descriptor: Descriptor | undefined;
  /** The reference the entry names, by the one rule (refNameOf). */
  name: string | undefined;
}

export type ValidEntry = IndexEntry & { descriptor: Descriptor };

/** index.json as read: the identity of the file, the document, and its entries. */
export interface IndexFile {
  file: string;
  mtimeMs: number;
  size: number;
  /** Identity of the file read: writers replace index.json by rename, so a new inode means new content. */
  ino: number;
  /** The bytes read: the next read of a view compares with them and parses only the entries that differ. */
  bytes: Buffer;
  /**
   * For a read made after an earlier one: `entries` [from, to) of the earlier read are `count`
   * entries from `from` here, the rest are the same entries (moved by the difference).
   */
  changed?: { from: number; to: number; count: number };
  /** The document's top level, its `manifests` left empty: their values are `entries`' `json`. */
  json: IndexJson;
  /** Every value of `manifests`, in order. */
  entries: IndexEntry[];
  /** The entries that are valid descriptors: the roots views and gc see. */
  valid: ValidEntry[];
  /** One INVALID_ENTRY finding per entry that is not valid. */
  findings: Finding[];
}

export function isValidEntry(entry: IndexEntry): entry is ValidEntry {
  return entry.descriptor !== undefined;
}

/** The entry of a valid descriptor value; an INVALID_ARGUMENT naming manifests[position] otherwise. */
export function validEntry(json: unknown, position: number): ValidEntry {
  return { position, json, descriptor: parseDescriptor(json, `manifests[${position}]`), name: refNameOf(json) };
}

/**
 * `entry` at another position (entries before it came or went), written out field by field: a
 * spread copy gives each object a hidden class of its own (V8), 200 bytes more each.
 */
export function movedEntry(entry: IndexEntry, position: number): IndexEntry {
  return { position, json: entry.json, descriptor: entry.descriptor, name: entry.name };
}

/** How many of `entries` (in index order) lie before `position`. */
export function countBefore(entries: readonly { position: number }[], position: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.position < position) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The entry of a value that is no valid descriptor (it keeps its name: `rm` of that name drops it). */
export function invalidEntry(json: unknown, position: number): IndexEntry {
  return { position, json, descriptor: undefined, name: refNameOf(json) };
}

/** The digest an entry records, as stored (for reports; valid or not). */
export function storedDigest(entry: IndexEntry): string {
  return entry.descriptor?.digest ?? String((entry.json as { digest?: unknown } | null)?.digest);
}

const COMMA = Buffer.from(',');

/**
 * The bytes of index.json holding `entries` (those kept are `index.entries` objects): each run of
 * entries kept in their order is copied as it was in the file read, the rest serialized, so a
 * write to 50,000 entries serializes only what it adds, and the entries it leaves alone (with
 * unknown fields, invalid values, their spacing) stay byte for byte. Deterministic: same input,
 * same bytes; for a file layoutfs wrote, the bytes JSON.stringify would give.
 */
export function indexBytes(index: IndexFile, entries: readonly IndexEntry[]): Buffer {
  const separators = manifestsSeparators(index.bytes);
  if (!separators) return Buffer.from(JSON.stringify({ ...index.json, manifests: entries.map((e) => e.json) }));
  const was = new Map(index.entries.map((e, k) => [e, k]));
  const parts = [index.bytes.subarray(0, separators[0]! + 1)];
  for (let i = 0; i < entries.length;) {
    if (i > 0) parts.push(COMMA);
    const k = was.get(entries[i]!);
    let j = i + 1;
    if (k === undefined) parts.push(Buffer.from(JSON.stringify(entries[i]!.json)));
    else {
      while (j < entries.length && was.get(entries[j]!) === k + (j - i)) j++;
      parts.push(index.bytes.subarray(separators[k]! + 1, separators[k + (j - i)]));
    }
    i = j;
  }
  parts.push(index.bytes.subarray(separators[separators.length - 1]));
  return Buffer.concat(parts);
}
