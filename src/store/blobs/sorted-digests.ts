import { hexByteAt, type DigestAlgorithm } from '../../oci/digest.js';

/** Bytes of a binary digest, by algorithm. */
export const DIGEST_BYTES: Record<DigestAlgorithm, number> = { sha256: 32, sha512: 64 };
const BUCKETS = 65536;
/** 2^36: the 52-bit prefix over this is its first 16 bits, its bucket. */
const BUCKET_DIVISOR = 2 ** 36;

/** One algorithm's digests, sorted and binary: immutable once made. */
export interface SortedPart {
  readonly alg: DigestAlgorithm;
  readonly width: number;
  /** `count` binary digests of `width` bytes, sorted, no duplicates. */
  readonly records: Uint8Array;
  /** The first 52 bits of each record, as exact numbers: searches compare these, not bytes. */
  readonly prefixes: Float64Array;
  readonly count: number;
}

/** A sorted part placed in a table: its first position there, and its buckets. */
export interface PlacedPart extends SortedPart {
  readonly base: number;
  /**
   * Where the records of each 16-bit prefix start (BUCKETS + 1 entries): a search starts in its
   * bucket, a handful of records, where a binary search over a million prefixes took 2-3 µs of
   * cache misses (measured at 100,000 references, a million blobs).
   */
  readonly buckets: Uint32Array;
}

/** `parts` placed one after the other from position 0. */
export function placeParts(parts: readonly SortedPart[]): PlacedPart[] {
  let base = 0;
  return parts.map((p) => {
    const starts = new Uint32Array(BUCKETS + 1);
    for (let i = 0; i < p.count; i++) starts[Math.floor(p.prefixes[i]! / BUCKET_DIVISOR) + 1]!++;
    for (let b = 0; b < BUCKETS; b++) starts[b + 1]! += starts[b]!;
    const placed = { ...p, base, buckets: starts };
    base += p.count;
    return placed;
  });
}

/** Decodes `width` bytes of lowercase hex from `hex` at `from` into `out` at `at`; false on a non-hex character. */
export function decodeHex(hex: string, from: number, width: number, out: Uint8Array, at: number): boolean {
  for (let k = 0; k < width; k++) {
    const b = hexByteAt(hex, from + 2 * k);
    if (b < 0) return false;
    out[at + k] = b;
  }
  return true;
}

export function prefix52(bytes: Uint8Array, at: number): number {
  return ((((((bytes[at]! * 256 + bytes[at + 1]!) * 256 + bytes[at + 2]!) * 256 + bytes[at + 3]!) * 256 + bytes[at + 4]!) * 256
    + bytes[at + 5]!) * 16) + (bytes[at + 6]! >> 4);
}

/** `width` bytes of `a` at `ai` against those of `b` at `bi`: negative, 0 or positive. */
export function compareBytes(a: Uint8Array, ai: number, b: Uint8Array, bi: number, width: number): number {
  for (let k = 0; k < width; k++) if (a[ai + k] !== b[bi + k]) return a[ai + k]! - b[bi + k]!;
  return 0;
}

/** Record `i` of `a` against record `j` of `b` (same width): negative, 0 or positive. */
export function compareRecords(a: Uint8Array, ap: Float64Array, i: number, b: Uint8Array, bp: Float64Array, j: number, width: number): number {
  if (ap[i] !== bp[j]) return ap[i]! < bp[j]! ? -1 : 1;
  return compareBytes(a, i * width, b, j * width, width);
}

/** The first record of `part` whose prefix is not below `prefix`. */
export function firstWithPrefix(part: PlacedPart, prefix: number): number {
  const bucket = Math.floor(prefix / BUCKET_DIVISOR);
  let lo = part.buckets[bucket]!;
  let hi = part.buckets[bucket + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (part.prefixes[mid]! < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Sorts `count` fixed-width records and drops duplicates; `sources` gives each kept record's
 * index in the input. Digests are uniform, so bucketing by the first two bytes leaves a handful
 * per bucket, which insertion sort on the 52-bit prefixes finishes: O(n) and no call out of
 * JavaScript per record.
 */
export function sortRecords(alg: DigestAlgorithm, input: Uint8Array, keys: Float64Array, count: number): SortedPart & { sources: Uint32Array } {
  const width = DIGEST_BYTES[alg];
  const starts = new Uint32Array(BUCKETS + 1);
  for (let i = 0; i < count; i++) starts[(input[i * width]! << 8 | input[i * width + 1]!) + 1]!++;
  for (let b = 0; b < BUCKETS; b++) starts[b + 1]! += starts[b]!;
  const fill = starts.slice(0, BUCKETS);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[fill[input[i * width]! << 8 | input[i * width + 1]!]!++] = i;
  for (let b = 0; b < BUCKETS; b++) {
    const first = starts[b]!;
    for (let i = first + 1; i < starts[b + 1]!; i++) {
      const held = order[i]!;
      let j = i;
      while (j > first && compareRecords(input, keys, order[j - 1]!, input, keys, held, width) > 0) order[j] = order[--j]!;
      order[j] = held;
    }
  }
  const records = new Uint8Array(count * width);
  const prefixes = new Float64Array(count);
  let kept = 0;
  for (let i = 0; i < count; i++) {
    const from = order[i]!;
    if (i > 0 && compareRecords(input, keys, order[i - 1]!, input, keys, from, width) === 0) continue;
    records.set(input.subarray(from * width, (from + 1) * width), kept * width);
    prefixes[kept] = keys[from]!;
    order[kept++] = from;
  }
  return { alg, width, records: records.subarray(0, kept * width), prefixes: prefixes.subarray(0, kept), count: kept, sources: order.subarray(0, kept) };
}

/** A sorted part from file names; names that are not a digest's encoding are skipped. */
export function partFromNames(alg: DigestAlgorithm, list: readonly string[]): SortedPart {
  const width = DIGEST_BYTES[alg];
  const input = new Uint8Array(list.length * width);
  const keys = new Float64Array(list.length);
  let count = 0;
  for (const name of list) {
    if (name.length !== width * 2 || !decodeHex(name, 0, width, input, count * width)) continue;
    keys[count] = prefix52(input, count * width);
    count++;
  }
  return sortRecords(alg, input, keys, count);
}

/** A sorted part from binary records; undefined unless they are whole and strictly increasing. */
export function partFromRecords(alg: DigestAlgorithm, bytes: Uint8Array): SortedPart | undefined {
  const width = DIGEST_BYTES[alg];
  if (bytes.length % width !== 0) return undefined;
  const count = bytes.length / width;
  const prefixes = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    prefixes[i] = prefix52(bytes, i * width);
    if (i > 0 && compareRecords(bytes, prefixes, i - 1, bytes, prefixes, i, width) >= 0) return undefined;
  }
  return { alg, width, records: bytes, prefixes, count };
}
