/**
 * Where each value of index.json's `manifests` array lies in the file's bytes, so a reader that
 * read the file before can parse only the entries a write changed (read-index.ts). Scanned from
 * bytes JSON.parse already accepted, so the scan only has to follow strings and nesting.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
/** The array's depth: inside the top-level object (1), inside `manifests` (2). */
const ENTRY_DEPTH = 2;
const MANIFESTS_KEY = Buffer.from('"manifests"');

/** Where the string opening at `start` ends (the index after its closing quote). */
function stringEnd(bytes: Buffer, start: number): number {
  for (let q = bytes.indexOf(QUOTE, start + 1); q >= 0; q = bytes.indexOf(QUOTE, q + 1)) {
    let slashes = 0;
    while (bytes[q - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q + 1;
  }
  return bytes.length;
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Whether the string ending at `end` is an object's key (a colon follows). */
function isKey(bytes: Buffer, end: number): boolean {
  let i = end;
  while (WHITESPACE.has(bytes[i]!)) i++;
  return bytes[i] === 0x3a;
}

/**
 * The separators of the array values between `from` and `to` at `depth` ENTRY_DEPTH (commas,
 * and the closing bracket when `to` is the end of the file), appended to `out`; scanning starts
 * outside any string at depth `depth`.
 */
function scanSeparators(bytes: Buffer, from: number, to: number, depth: number, out: number[]): void {
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (c === QUOTE) i = stringEnd(bytes, i) - 1;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
    else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (depth-- === ENTRY_DEPTH) {
        out.push(i);
        return;
      }
    } else if (c === COMMA && depth === ENTRY_DEPTH) out.push(i);
  }
}

/**
 * The separators of `manifests` in a whole index.json that JSON.parse accepted: the opening
 * bracket, each comma between values and the closing bracket, so value k lies strictly between
 * separators k and k + 1. Undefined when `manifests` is not found exactly once, unescaped, as a
 * key of the top-level object (a reader then parses the whole file, as it must). Kept per buffer:
 * a file read once is scanned once, and one entriesChange made from another is not scanned at all.
 */
export function manifestsSeparators(bytes: Buffer): Uint32Array | undefined {
  let known = separatorsOf.get(bytes);
  if (known === undefined) separatorsOf.set(bytes, (known = scanManifests(bytes) ?? null));
  return known ?? undefined;
}

/** Separators found so far, by the buffer of the file they are of; null when it has none usable. */
const separatorsOf = new WeakMap<Buffer, Uint32Array | null>();

function scanManifests(bytes: Buffer): Uint32Array | undefined {
  let depth = 0;
  let lastKey = -1;
  let found: number[] | undefined;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      if (depth === 1) {
        // An escaped key could spell `manifests` where this scan cannot see it (values may escape).
        const slash = bytes.indexOf(BACKSLASH, i);
        if (slash >= 0 && slash < end && isKey(bytes, end)) return undefined;
        lastKey = i;
      }
      i = end - 1;
    } else if (c === OPEN_ARRAY && depth === 1 && bytes.compare(MANIFESTS_KEY, 0, MANIFESTS_KEY.length, lastKey, lastKey + MANIFESTS_KEY.length) === 0) {
      // JSON.parse keeps the last of repeated keys: with more than one, leave it to JSON.parse.
      if (found) return undefined;
      found = [i];
      scanSeparators(bytes, i + 1, bytes.length, ENTRY_DEPTH, found);
      i = found[found.length - 1]!;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
    else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return found && Uint32Array.from(found);
}

/** How many leading bytes `a` and `b` share (compared natively, 64 KiB at a time). */
function commonPrefix(a: Buffer, b: Buffer, limit: number): number {
  const CHUNK = 65536;
  let n = 0;
  while (n + CHUNK <= limit && a.compare(b, n, n + CHUNK, n, n + CHUNK) === 0) n += CHUNK;
  while (n < limit && a[n] === b[n]) n++;
  return n;
}

/** How many trailing bytes `a` and `b` share, at most `limit`. */
function commonSuffix(a: Buffer, b: Buffer, limit: number): number {
  const CHUNK = 65536;
  let n = 0;
  while (n + CHUNK <= limit && a.compare(b, b.length - n - CHUNK, b.length - n, a.length - n - CHUNK, a.length - n) === 0) n += CHUNK;
  while (n < limit && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/** What a write changed in `manifests`: values `from` to `to` (exclusive) of the old file are `values` in the new one. */
export interface EntriesChange {
  from: number;
  to: number;
  values: unknown[];
}

/**
 * The change from `old` (with its `separators`) to `bytes`, found from the bytes both share at
 * each end: the values wholly inside the shared ends are the same values, and what lies between
 * is parsed alone. Undefined when the change reaches outside `manifests` or the middle does not
 * parse as values: the caller parses the whole file. Sound because the bytes before the middle
 * are the same, so the middle starts where an old value started, and a middle of whole values
 * leaves the scan where the old one was, so the shared end means what it meant. The new file's
 * separators follow from the old ones and the middle's: manifestsSeparators gives them for `bytes`
 * without a scan, for the change after this one.
 */
export function entriesChange(old: Buffer, separators: Uint32Array, bytes: Buffer): EntriesChange | undefined {
  const limit = Math.min(old.length, bytes.length);
  const prefix = commonPrefix(old, bytes, limit);
  const suffix = commonSuffix(old, bytes, limit - prefix);
  const oldEnd = old.length - suffix;
  const last = separators.length - 1;
  if (prefix === old.length && prefix === bytes.length) {
    separatorsOf.set(bytes, separators);
    return { from: 0, to: 0, values: [] };
  }
  // Separator `from` is the last one inside the shared start, `to` the first inside the shared end.
  if (separators[0]! >= prefix || separators[last]! < oldEnd) return undefined;
  let from = 0;
  while (from < last && separators[from + 1]! < prefix) from++;
  let to = last;
  while (to > from + 1 && separators[to - 1]! >= oldEnd) to--;
  const shift = bytes.length - old.length;
  const start = separators[from]!;
  const end = separators[to]! + shift;
  if (end <= start) return undefined;
  let values: unknown;
  try {
    values = JSON.parse(`[${bytes.toString('utf8', start + 1, end)}]`);
  } catch {
    return undefined;
  }
  if (!Array.isArray(values)) return undefined;
  // With no value left between them, the two separators must be the array's own brackets.
  if (values.length === 0 && !(from === 0 && to === last)) return undefined;
  const middle: number[] = [];
  scanSeparators(bytes, start + 1, end, ENTRY_DEPTH, middle);
  if (middle.length !== Math.max(values.length - 1, 0)) return undefined;
  const next = new Uint32Array(from + 1 + middle.length + (last - to + 1));
  next.set(separators.subarray(0, from + 1));
  next.set(middle, from + 1);
  const tail = separators.subarray(to);
  for (let k = 0; k < tail.length; k++) next[from + 1 + middle.length + k] = tail[k]! + shift;
  // The values at either end of the middle that are byte for byte the old ones did not change (an
  // entry appended after the last one parses the last one again): they keep their entries.
  const same = (k: number, j: number) => old.compare(bytes, next[j]! + 1, next[j + 1], separators[k]! + 1, separators[k + 1]) === 0;
  let lo = 0;
  while (lo < values.length && from + lo < to && same(from + lo, from + lo)) lo++;
  let hi = 0;
  while (hi < values.length - lo && to - hi > from + lo && same(to - 1 - hi, from + values.length - 1 - hi)) hi++;
  separatorsOf.set(bytes, next);
  return { from: from + lo, to: to - hi, values: values.slice(lo, values.length - hi) };
}
