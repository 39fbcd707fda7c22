import { DIGEST_ALGORITHMS, hexByteAt, type Digest, type DigestAlgorithm } from '../../oci/digest.js';

/** Bytes of a binary digest, by algorithm. */
export const DIGEST_BYTES: Record<DigestAlgorithm, number> = { sha256: 32, sha512: 64 };
const BUCKETS = 65536;

interface Part {
  readonly alg: DigestAlgorithm;
  readonly width: number;
  /** `count` binary digests of `width` bytes, sorted, no duplicates. */
  readonly records: Uint8Array;
  /** The first 52 bits of each record, as exact numbers: searches compare these, not bytes. */
  readonly prefixes: Float64Array;
  readonly count: number;
  /** Position of this part's first record in the whole table. */
  readonly base: number;
  /**
   * Where the records of each 16-bit prefix start (BUCKETS + 1 entries): a search starts in its
   * bucket, a handful of records, where a binary search over a million prefixes took 2-3 µs of
   * cache misses (measured at 100,000 references, a million blobs).
   */
  readonly buckets: Uint32Array;
}

/** 2^36: the 52-bit prefix over this is its first 16 bits, its bucket. */
const BUCKET_DIVISOR = 2 ** 36;

/** The start of each bucket's records among `count` sorted `prefixes`. */
function bucketStarts(prefixes: Float64Array, count: number): Uint32Array {
  const starts = new Uint32Array(BUCKETS + 1);
  for (let i = 0; i < count; i++) starts[Math.floor(prefixes[i]! / BUCKET_DIVISOR) + 1]!++;
  for (let b = 0; b < BUCKETS; b++) starts[b + 1]! += starts[b]!;
  return starts;
}

/** Decodes `width` bytes of lowercase hex from `hex` at `from` into `out` at `at`; false on a non-hex character. */
function decodeHex(hex: string, from: number, width: number, out: Uint8Array, at: number): boolean {
  for (let k = 0; k < width; k++) {
    const b = hexByteAt(hex, from + 2 * k);
    if (b < 0) return false;
    out[at + k] = b;
  }
  return true;
}

function prefix52(bytes: Uint8Array, at: number): number {
  return ((((((bytes[at]! * 256 + bytes[at + 1]!) * 256 + bytes[at + 2]!) * 256 + bytes[at + 3]!) * 256 + bytes[at + 4]!) * 256
    + bytes[at + 5]!) * 16) + (bytes[at + 6]! >> 4);
}

/** Record `i` of `a` against record `j` of `b` (same width): negative, 0 or positive. */
function compareRecords(a: Uint8Array, ap: Float64Array, i: number, b: Uint8Array, bp: Float64Array, j: number, width: number): number {
  if (ap[i] !== bp[j]) return ap[i]! < bp[j]! ? -1 : 1;
  for (let k = 0; k < width; k++) {
    const d = a[i * width + k]! - b[j * width + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Sorts fixed-width records and drops duplicates. Digests are uniform, so bucketing by the first
 * two bytes leaves a handful per bucket, which insertion sort on the 52-bit prefixes finishes: O(n)
 * and no call out of JavaScript per record.
 */
function sortRecords(input: Uint8Array, keys: Float64Array, count: number, width: number): Omit<Part, 'alg' | 'width' | 'base' | 'buckets'> {
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
    for (let k = 0; k < width; k++) records[kept * width + k] = input[from * width + k]!;
    prefixes[kept++] = keys[from]!;
  }
  return { records: records.subarray(0, kept * width), prefixes: prefixes.subarray(0, kept), count: kept };
}

/** A table part from file names; names that are not a digest's encoding are skipped. */
function partFromNames(alg: DigestAlgorithm, list: readonly string[]): Omit<Part, 'base' | 'buckets'> {
  const width = DIGEST_BYTES[alg];
  const input = new Uint8Array(list.length * width);
  const keys = new Float64Array(list.length);
  let count = 0;
  for (const name of list) {
    if (name.length !== width * 2 || !decodeHex(name, 0, width, input, count * width)) continue;
    keys[count] = prefix52(input, count * width);
    count++;
  }
  return { alg, width, ...sortRecords(input, keys, count, width) };
}

/** A table part from binary records; undefined unless they are whole and strictly increasing. */
function partFromRecords(alg: DigestAlgorithm, bytes: Uint8Array): Omit<Part, 'base' | 'buckets'> | undefined {
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

/**
 * The blobs of a store as one compact sorted table of binary digests: 40 bytes per sha256 blob
 * (digest and its 52-bit prefix) where a Set of digest strings costs about 150, built without a string per digest, and each blob
 * has a position (0..size-1) that parallel typed arrays index (the view's link counts and
 * mtimes). Lookups are a binary search. Read-only once built.
 */
export class BlobTable implements ReadonlySet<Digest> {
  private readonly parts: Part[];
  /** One digest decoded for a lookup (the widest algorithm's size). */
  private readonly probe = new Uint8Array(64);
  private readonly probePrefix = new Float64Array(1);
  /**
   * The last sharedRuns asked of this table. Weakly: an old table someone still holds (a closure
   * file mapped onto it) would otherwise keep every table made after it alive, 19 MiB each at 50k.
   */
  private runs?: { next: WeakRef<BlobTable>; triples: Uint32Array };
  readonly size: number;

  private constructor(parts: Omit<Part, 'base' | 'buckets'>[]) {
    let base = 0;
    this.parts = parts.map((p) => {
      const part = { ...p, base, buckets: bucketStarts(p.prefixes, p.count) };
      base += p.count;
      return part;
    });
    this.size = base;
  }

  /** From blob file names per algorithm; names that are not a digest's encoding (temp files, junk) are skipped. */
  static fromNames(names: Partial<Record<DigestAlgorithm, readonly string[]>>): BlobTable {
    return new BlobTable(DIGEST_ALGORITHMS.map((alg) => partFromNames(alg, names[alg] ?? [])));
  }

  /**
   * From the binary records `records()` gave (a saved listing): undefined unless each part is
   * whole records in strictly increasing order, so a damaged file can never break a search.
   */
  static fromRecords(records: Partial<Record<DigestAlgorithm, Uint8Array>>): BlobTable | undefined {
    const parts = DIGEST_ALGORITHMS.map((alg) => partFromRecords(alg, records[alg] ?? new Uint8Array(0)));
    return parts.every((p) => p !== undefined) ? new BlobTable(parts) : undefined;
  }

  /** From a listing per algorithm: file names, or sorted binary records (file-batch.ts listDigests); undefined as fromRecords. */
  static fromListings(lists: Record<DigestAlgorithm, readonly string[] | Uint8Array>): BlobTable | undefined {
    const parts = DIGEST_ALGORITHMS.map((alg) => {
      const list = lists[alg];
      return list instanceof Uint8Array ? partFromRecords(alg, list) : partFromNames(alg, list);
    });
    return parts.every((p) => p !== undefined) ? new BlobTable(parts) : undefined;
  }

  /**
   * This table with the blobs of `came` added and those of `went` removed (names of blobs/<alg>/
   * entries; junk names are ignored, as by fromNames): the kept records are copied in runs, so a
   * change of a few blobs costs a copy of the table, not a sort of it. Those runs are the tables'
   * shared runs: sharedRuns has them without comparing a record.
   */
  withChanges(came: Partial<Record<DigestAlgorithm, readonly string[]>>, went: Partial<Record<DigestAlgorithm, readonly string[]>>): BlobTable {
    const runs: number[] = [];
    let base = 0;
    const next = new BlobTable(this.parts.map((p) => {
      const w = p.width;
      const added = partFromNames(p.alg, (came[p.alg] ?? []).filter((n) => this.indexOf(`${p.alg}:${n}`) < 0));
      const gone = new Set<number>();
      for (const n of went[p.alg] ?? []) {
        const i = this.indexOf(`${p.alg}:${n}`);
        if (i >= 0) gone.add(i - p.base);
      }
      const stops = [...gone];
      // Where each added record goes among the kept ones: before the first record above it.
      const inserts = new Uint32Array(added.count);
      for (let a = 0; a < added.count; a++) {
        let at = this.firstWithPrefix(p, added.prefixes[a]!);
        while (at < p.count && compareRecords(p.records, p.prefixes, at, added.records, added.prefixes, a, w) < 0) at++;
        inserts[a] = at;
        stops.push(at);
      }
      stops.sort((x, y) => x - y);
      const count = p.count - gone.size + added.count;
      const records = new Uint8Array(count * w);
      const prefixes = new Float64Array(count);
      let out = 0;
      let from = 0;
      let a = 0;
      const copyKept = (to: number) => {
        if (to > from) runs.push(p.base + from, base + out, to - from);
        records.set(p.records.subarray(from * w, to * w), out * w);
        prefixes.set(p.prefixes.subarray(from, to), out);
        out += to - from;
        from = to;
      };
      for (const stop of [...stops, p.count]) {
        if (stop < from) continue;
        copyKept(stop);
        for (; a < added.count && inserts[a] === stop; a++, out++) {
          records.set(added.records.subarray(a * w, (a + 1) * w), out * w);
          prefixes[out] = added.prefixes[a]!;
        }
        if (gone.has(stop)) from = stop + 1;
      }
      base += count;
      return { alg: p.alg, width: w, records, prefixes, count };
    }));
    this.runs = { next: new WeakRef(next), triples: Uint32Array.from(runs) };
    return next;
  }

  /** The sorted binary digests of one algorithm, `width` bytes each (what fromRecords takes back). */
  records(alg: DigestAlgorithm): Uint8Array {
    return this.partNamed(alg)!.records;
  }

  /** The position of `digest` in the table, or -1. */
  indexOf(digest: Digest | string): number {
    const colon = digest.indexOf(':');
    const part = this.partNamed(digest.slice(0, colon));
    if (!part || digest.length - colon - 1 !== part.width * 2 || !decodeHex(digest, colon + 1, part.width, this.probe, 0)) return -1;
    this.probePrefix[0] = prefix52(this.probe, 0);
    for (let at = this.firstWithPrefix(part, this.probePrefix[0]); at < part.count && part.prefixes[at] === this.probePrefix[0]; at++) {
      if (compareRecords(part.records, part.prefixes, at, this.probe, this.probePrefix, 0, part.width) === 0) return part.base + at;
    }
    return -1;
  }

  /**
   * The positions of `count` binary digests of `alg` laid out in `bytes` from `start`, one every
   * `stride` bytes, in ascending order (this table's): one walk in step with the table, no search,
   * no string; -1 for a digest not here. Undefined when they are not in ascending order.
   */
  indexOfSorted(alg: DigestAlgorithm, bytes: Uint8Array, start: number, stride: number, count: number): Int32Array | undefined {
    const part = this.partNamed(alg)!;
    const w = part.width;
    if (stride < w || start + (count - 1) * stride + w > bytes.length) return undefined;
    const out = new Int32Array(count);
    const compare = (a: Uint8Array, ai: number, b: Uint8Array, bi: number) => {
      for (let k = 0; k < w; k++) if (a[ai + k] !== b[bi + k]) return a[ai + k]! - b[bi + k]!;
      return 0;
    };
    // The 52-bit prefixes are compared first (numbers), bytes only where they tie.
    let j = 0;
    let previous = -1;
    for (let i = 0, at = start; i < count; i++, at += stride) {
      const prefix = prefix52(bytes, at);
      if (prefix < previous || (prefix === previous && compare(bytes, at - stride, bytes, at) > 0)) return undefined;
      previous = prefix;
      while (j < part.count && part.prefixes[j]! < prefix) j++;
      let c = -1;
      while (j < part.count && part.prefixes[j] === prefix && (c = compare(part.records, j * w, bytes, at)) < 0) j++;
      out[i] = j < part.count && part.prefixes[j] === prefix && c === 0 ? part.base + j : -1;
    }
    return out;
  }

  /** The algorithm and binary digest at position `i` (a view of the table, not a copy). */
  binaryAt(i: number): { alg: DigestAlgorithm; bytes: Uint8Array } {
    const part = this.partAt(i);
    const at = (i - part.base) * part.width;
    return { alg: part.alg, bytes: part.records.subarray(at, at + part.width) };
  }

  has(digest: Digest): boolean {
    return this.indexOf(digest) >= 0;
  }

  /** The digest at position `i`. */
  digestAt(i: number): Digest {
    const part = this.partAt(i);
    const at = i - part.base;
    return `${part.alg}:${Buffer.from(part.records.buffer, part.records.byteOffset + at * part.width, part.width).toString('hex')}` as Digest;
  }

  /** The first 52 bits of the digest at position `i` (what a blob's node id is made of). */
  prefix52At(i: number): number {
    const part = this.partAt(i);
    return part.prefixes[i - part.base]!;
  }

  /** Positions of the digests whose first 52 bits are `prefix`, in order. */
  withPrefix52(prefix: number): number[] {
    const out: number[] = [];
    for (const part of this.parts) {
      for (let i = this.firstWithPrefix(part, prefix); i < part.count && part.prefixes[i] === prefix; i++) out.push(part.base + i);
    }
    return out;
  }

  /**
   * The digests this table shares with `next`, as runs of consecutive positions: triples (position
   * here, position in `next`, length), in order. One walk of both tables for a pair, kept for the
   * next call: a refresh moves several arrays by position (link counts, mtimes, sizes) from one
   * table to the next, and each copies whole runs instead of calling back per blob.
   */
  sharedRuns(next: BlobTable): Uint32Array {
    if (this.runs?.next.deref() === next) return this.runs.triples;
    const out: number[] = [];
    for (const alg of DIGEST_ALGORITHMS) {
      const a = this.partNamed(alg)!;
      const b = next.partNamed(alg)!;
      const w = a.width;
      let i = 0;
      let j = 0;
      while (i < a.count && j < b.count) {
        const c = compareRecords(a.records, a.prefixes, i, b.records, b.prefixes, j, w);
        if (c < 0) i++;
        else if (c > 0) j++;
        else {
          const from = i;
          const to = j;
          for (i++, j++; i < a.count && j < b.count && compareRecords(a.records, a.prefixes, i, b.records, b.prefixes, j, w) === 0; i++, j++);
          out.push(a.base + from, b.base + to, i - from);
        }
      }
    }
    const triples = Uint32Array.from(out);
    this.runs = { next: new WeakRef(next), triples };
    return triples;
  }

  /**
   * Walks this table and `next` together in order: `same(i, j)` for a digest in both, `gone(i)`
   * for one only here, `added(j)` for one only in `next`. O(size of both).
   */
  diff(next: BlobTable, on: { same?: (i: number, j: number) => void; gone?: (i: number) => void; added?: (j: number) => void }): void {
    const runs = this.sharedRuns(next);
    let i = 0;
    let j = 0;
    for (let r = 0; r <= runs.length; r += 3) {
      // Past the last run, the gaps reach the ends of both tables.
      const from = r < runs.length ? runs[r]! : this.size;
      const to = r < runs.length ? runs[r + 1]! : next.size;
      for (; i < from; i++) on.gone?.(i);
      for (; j < to; j++) on.added?.(j);
      if (r === runs.length) break;
      const length = runs[r + 2]!;
      if (on.same) for (let k = 0; k < length; k++) on.same(from + k, to + k);
      i = from + length;
      j = to + length;
    }
  }

  /** `values` (one per position here) at the positions of `next` in `fresh`; blobs only in `next` keep what `fresh` holds. */
  carry<T extends Uint32Array | Float64Array>(values: T, next: BlobTable, fresh: T): T {
    const runs = this.sharedRuns(next);
    for (let r = 0; r < runs.length; r += 3) fresh.set(values.subarray(runs[r], runs[r]! + runs[r + 2]!), runs[r + 1]);
    return fresh;
  }

  /** The 52-bit prefixes that more than one digest of the table starts with (node ids would collide). */
  sharedPrefixes52(): number[] {
    const shared = new Set<number>();
    const first = this.parts[0]!;
    for (let i = 1; i < first.count; i++) if (first.prefixes[i] === first.prefixes[i - 1]) shared.add(first.prefixes[i]!);
    // Other algorithms are rare: each is looked up whole.
    for (let i = first.count; i < this.size; i++) {
      const p = this.prefix52At(i);
      if (this.withPrefix52(p).length > 1) shared.add(p);
    }
    return [...shared];
  }

  *values(): SetIterator<Digest> {
    for (let i = 0; i < this.size; i++) yield this.digestAt(i);
  }

  keys(): SetIterator<Digest> {
    return this.values();
  }

  *entries(): SetIterator<[Digest, Digest]> {
    for (const d of this.values()) yield [d, d];
  }

  [Symbol.iterator](): SetIterator<Digest> {
    return this.values();
  }

  forEach(callback: (value: Digest, key: Digest, set: ReadonlySet<Digest>) => void, thisArg?: unknown): void {
    for (const d of this.values()) callback.call(thisArg, d, d, this);
  }

  private partNamed(alg: string): Part | undefined {
    return this.parts.find((p) => p.alg === alg);
  }

  private partAt(i: number): Part {
    for (let p = this.parts.length - 1; p >= 0; p--) if (i >= this.parts[p]!.base) return this.parts[p]!;
    throw new RangeError(`blob position ${i} is outside the table`);
  }

  /** The first record of `part` whose prefix is not below `prefix`. */
  private firstWithPrefix(part: Part, prefix: number): number {
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
}
