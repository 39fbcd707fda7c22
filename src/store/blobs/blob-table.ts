import { DIGEST_ALGORITHMS, type Digest, type DigestAlgorithm } from '../../oci/digest.js';
import { BlobLog } from './blob-log.js';
import {
  compareBytes, decodeHex, DIGEST_BYTES, firstWithPrefix, partFromNames, partFromRecords, placeParts, prefix52, sortRecords,
  type PlacedPart, type SortedPart,
} from './sorted-digests.js';

/** The sorted parts a lineage of tables starts from. */
interface Base {
  readonly parts: readonly PlacedPart[];
  readonly size: number;
  /** The 52-bit prefixes more than one base record starts with, found once per lineage. */
  sharedPrefixes?: number[];
}

/**
 * Changes a lineage takes before it is compacted: a small store's few, an eighth of a large
 * one's. Arrays by position are sized for them, so a change moves no array.
 */
function changeRoom(baseSize: number): number {
  return 1024 + (baseSize >>> 3);
}

type PositionArray = Uint32Array | Float64Array;

/** Records compared at once where two sorted tables are walked in step. */
const RUN = 64;

/**
 * The blobs of a store as compact binary digests, each at a position that parallel typed arrays
 * index (the view's link counts, mtimes, sizes): 40 bytes per sha256 blob where a Set of digest
 * strings costs about 150, built without a string per digest. Read-only once made.
 *
 * A table starts a lineage from sorted records; `withChanges` makes the next table of the
 * lineage, where a blob that came takes the next position and one that went leaves a hole, so
 * every other blob keeps its position and nothing is copied: a change costs time in proportion
 * to itself, not to the store (at 100,000 references, a million blobs, the table and the arrays
 * beside it were 60 MiB copied per import). After an eighth of the base in changes, the next
 * table is sorted afresh: a new lineage, whose positions `carry` and `diff` map.
 */
export class BlobTable implements ReadonlySet<Digest> {
  /** One digest decoded for a lookup (the widest algorithm's size). */
  private readonly probe = new Uint8Array(64);
  /** Where this table's blobs are in a table of another lineage, for the last one asked (weakly: see tablesAfter's test). */
  private moved?: { next: WeakRef<BlobTable>; to: Int32Array };

  private constructor(
    private readonly base: Base,
    private readonly log: BlobLog,
    private readonly generation: number,
    /** Every position of this table is below this. */
    readonly extent: number,
    readonly size: number,
    /** Positions of the table before that this one removed. */
    private readonly removedHere: Uint32Array,
  ) {}

  private static starting(parts: SortedPart[]): BlobTable {
    const placed = placeParts(parts);
    const size = placed.reduce((n, p) => n + p.count, 0);
    return new BlobTable({ parts: placed, size }, new BlobLog(size, size + changeRoom(size)), 1, size, size, new Uint32Array(0));
  }

  /** From blob file names per algorithm; names that are not a digest's encoding (temp files, junk) are skipped. */
  static fromNames(names: Partial<Record<DigestAlgorithm, readonly string[]>>): BlobTable {
    return BlobTable.starting(DIGEST_ALGORITHMS.map((alg) => partFromNames(alg, names[alg] ?? [])));
  }

  /**
   * From the binary records `records()` gave (a saved listing): undefined unless each part is
   * whole records in strictly increasing order, so a damaged file can never break a search.
   */
  static fromRecords(records: Partial<Record<DigestAlgorithm, Uint8Array>>): BlobTable | undefined {
    const parts = DIGEST_ALGORITHMS.map((alg) => partFromRecords(alg, records[alg] ?? new Uint8Array(0)));
    return parts.every((p) => p !== undefined) ? BlobTable.starting(parts) : undefined;
  }

  /** From a listing per algorithm: file names, or sorted binary records (file-batch.ts listDigests); undefined as fromRecords. */
  static fromListings(lists: Record<DigestAlgorithm, readonly string[] | Uint8Array>): BlobTable | undefined {
    const parts = DIGEST_ALGORITHMS.map((alg) => {
      const list = lists[alg];
      return list instanceof Uint8Array ? partFromRecords(alg, list) : partFromNames(alg, list);
    });
    return parts.every((p) => p !== undefined) ? BlobTable.starting(parts) : undefined;
  }

  /** How long an array by position should be: room for every position of this lineage, so `carry` keeps it. */
  get capacity(): number {
    return this.log.capacity;
  }

  /** Whether positions of `older` still name the same blobs here (the same lineage; a removed blob's position names none). */
  continues(older: BlobTable): boolean {
    return older.log === this.log && older.generation <= this.generation;
  }

  /** Whether a blob is at position `i`. */
  isPresent(i: number): boolean {
    if (i >= this.extent) return false;
    const removed = this.log.removedAt[i]!;
    return removed === 0 || removed > this.generation;
  }

  /**
   * This table with the blobs of `came` added and those of `went` removed (names of blobs/<alg>/
   * entries; junk names are ignored, as by fromNames). Of the newest table of a lineage with room
   * left, the next of the lineage; else a new lineage.
   */
  withChanges(came: Partial<Record<DigestAlgorithm, readonly string[]>>, went: Partial<Record<DigestAlgorithm, readonly string[]>>): BlobTable {
    const log = this.log;
    const incoming = DIGEST_ALGORITHMS.reduce((n, alg) => n + (came[alg]?.length ?? 0) + (went[alg]?.length ?? 0), 0);
    if (this.generation !== log.generation || this.base.size + log.count + log.holes + incoming > log.capacity) return this.compacted(came, went);
    const g = this.generation + 1;
    const removed: number[] = [];
    for (const alg of DIGEST_ALGORITHMS) {
      for (const name of went[alg] ?? []) {
        const i = this.indexOf(`${alg}:${name}`);
        if (i >= 0 && log.removedAt[i] === 0) {
          log.removedAt[i] = g;
          removed.push(i);
        }
      }
    }
    let added = 0;
    for (const alg of DIGEST_ALGORITHMS) {
      for (const name of came[alg] ?? []) {
        const digest = `${alg}:${name}`;
        // Here already, or came twice in this change.
        if (this.indexOf(digest) >= 0 || this.base.size + log.newest(digest) >= this.extent || !log.append(alg, name, digest)) continue;
        added++;
        const prefix = log.prefix52(log.count - 1);
        if (log.withPrefix52(prefix).length > 1 || this.base.parts.some((p) => p.prefixes[firstWithPrefix(p, prefix)] === prefix)) {
          log.sharedPrefixes.add(prefix);
        }
      }
    }
    log.generation = g;
    log.holes += removed.length;
    return new BlobTable(this.base, log, g, this.base.size + log.count, this.size - removed.length + added, Uint32Array.from(removed));
  }

  /** The sorted binary digests of one algorithm, `width` bytes each (what fromRecords takes back). */
  records(alg: DigestAlgorithm): Uint8Array {
    if (this.extent !== this.base.size || this.size !== this.base.size) return this.compacted({}, {}).records(alg);
    return this.partNamed(alg)!.records;
  }

  /** The position of `digest` in the table, or -1. */
  indexOf(digest: Digest | string): number {
    const colon = digest.indexOf(':');
    const part = this.partNamed(digest.slice(0, colon));
    if (!part || digest.length - colon - 1 !== part.width * 2 || !decodeHex(digest, colon + 1, part.width, this.probe, 0)) return -1;
    const at = this.inBase(part, this.probe, 0);
    return at >= 0 ? at : this.inLog(digest);
  }

  /**
   * The positions of `count` binary digests of `alg` laid out in `bytes` from `start`, one every
   * `stride` bytes, in ascending order: one walk in step with the sorted base, no search, no string
   * but for blobs that came since the base; -1 for a digest not here. Undefined when they are not
   * in ascending order.
   */
  indexOfSorted(alg: DigestAlgorithm, bytes: Uint8Array, start: number, stride: number, count: number): Int32Array | undefined {
    const part = this.partNamed(alg)!;
    const w = part.width;
    if (stride < w || start + (count - 1) * stride + w > bytes.length) return undefined;
    const out = new Int32Array(count);
    // The 52-bit prefixes are compared first (numbers), bytes only where they tie.
    let j = 0;
    let previous = -1;
    for (let i = 0, at = start; i < count; i++, at += stride) {
      const prefix = prefix52(bytes, at);
      if (prefix < previous || (prefix === previous && compareBytes(bytes, at - stride, bytes, at, w) > 0)) return undefined;
      previous = prefix;
      while (j < part.count && part.prefixes[j]! < prefix) j++;
      let c = -1;
      while (j < part.count && part.prefixes[j] === prefix && (c = compareBytes(part.records, j * w, bytes, at, w)) < 0) j++;
      const found = j < part.count && part.prefixes[j] === prefix && c === 0 ? part.base + j : -1;
      out[i] = found >= 0 && this.isPresent(found) ? found : this.inLogBinary(alg, bytes, at);
    }
    return out;
  }

  /** The algorithm and binary digest at position `i` (a view of the table, not a copy). */
  binaryAt(i: number): { alg: DigestAlgorithm; bytes: Uint8Array } {
    if (i >= this.base.size) return { alg: this.log.alg(i - this.base.size), bytes: this.log.bytes(i - this.base.size) };
    const part = this.partAt(i);
    const at = (i - part.base) * part.width;
    return { alg: part.alg, bytes: part.records.subarray(at, at + part.width) };
  }

  has(digest: Digest): boolean {
    return this.indexOf(digest) >= 0;
  }

  /** The digest at position `i`. */
  digestAt(i: number): Digest {
    const { alg, bytes } = this.binaryAt(i);
    return `${alg}:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}` as Digest;
  }

  /** The first 52 bits of the digest at position `i` (what a blob's node id is made of). */
  prefix52At(i: number): number {
    if (i >= this.base.size) return this.log.prefix52(i - this.base.size);
    const part = this.partAt(i);
    return part.prefixes[i - part.base]!;
  }

  /** Positions of the digests whose first 52 bits are `prefix`, in digest order (algorithm, then bytes). */
  withPrefix52(prefix: number): number[] {
    const out: number[] = [];
    for (const part of this.base.parts) {
      for (let i = firstWithPrefix(part, prefix); i < part.count && part.prefixes[i] === prefix; i++) {
        if (this.isPresent(part.base + i)) out.push(part.base + i);
      }
    }
    const logged = this.log.withPrefix52(prefix);
    if (logged.length === 0) return out;
    for (const e of logged) if (this.isPresent(this.base.size + e)) out.push(this.base.size + e);
    return out.sort((a, b) => this.compareAt(a, b));
  }

  /**
   * The 52-bit prefixes that more than one digest of the table starts with (node ids would
   * collide): of the candidates the base and the log noted, those still shared here. A refresh
   * asks after every change of blobs; going over every entry that came since the base took
   * 85-110 ms a refresh after 100,000 of them (a million blobs).
   */
  sharedPrefixes52(): number[] {
    this.base.sharedPrefixes ??= this.baseSharedPrefixes();
    const shared = new Set<number>();
    for (const candidates of [this.base.sharedPrefixes, this.log.sharedPrefixes]) {
      for (const p of candidates) if (!shared.has(p) && this.withPrefix52(p).length > 1) shared.add(p);
    }
    return [...shared];
  }

  /** `positions` (ascending) in digest order: those of the base already are, those that came since are merged in. */
  inDigestOrder(positions: readonly number[]): number[] {
    const cut = positions.findIndex((p) => p >= this.base.size);
    if (cut < 0) return [...positions];
    const came = positions.slice(cut).sort((a, b) => this.compareAt(a, b));
    const out: number[] = [];
    let k = 0;
    for (let i = 0; i < cut; i++) {
      while (k < came.length && this.compareAt(came[k]!, positions[i]!) < 0) out.push(came[k++]!);
      out.push(positions[i]!);
    }
    return out.concat(came.slice(k));
  }

  /**
   * Walks this table and `next` together: `same(i, j)` for a digest in both, `gone(i)` for one
   * only here, `added(j)` for one only in `next`. Within a lineage, from one table to the next and
   * without `same`, in time proportional to the change.
   */
  diff(next: BlobTable, on: { same?: (i: number, j: number) => void; gone?: (i: number) => void; added?: (j: number) => void }): void {
    if (next.continues(this)) {
      // One change never removes a blob and adds it back; over several, one that went and came
      // back has a new position: the same blob, found by its digest.
      const back = new Set<number>();
      if (on.same || next.generation !== this.generation + 1) {
        const returns = next.generation > this.generation + 1 && next.extent > this.extent;
        for (let i = 0; i < this.extent; i++) {
          if (!this.isPresent(i)) continue;
          const j = next.isPresent(i) ? i : returns ? next.inLog(this.digestAt(i)) : -1;
          if (j < 0) on.gone?.(i);
          else {
            if (j !== i) back.add(j);
            on.same?.(i, j);
          }
        }
      } else {
        for (const i of next.removedHere) on.gone?.(i);
      }
      for (let j = this.extent; j < next.extent; j++) if (next.isPresent(j) && !back.has(j)) on.added?.(j);
      return;
    }
    const to = this.positionsIn(next);
    const seen = new Uint8Array(next.extent);
    for (let i = 0; i < this.extent; i++) {
      if (!this.isPresent(i)) continue;
      const j = to[i]!;
      if (j < 0) on.gone?.(i);
      else {
        seen[j] = 1;
        on.same?.(i, j);
      }
    }
    for (let j = 0; j < next.extent; j++) if (seen[j] === 0 && next.isPresent(j)) on.added?.(j);
  }

  /**
   * `values` (one per position here) by `next`'s positions, `fill` where `next` has a blob this
   * table has not: `values` itself within a lineage where it is long enough.
   */
  carry<T extends PositionArray>(values: T, next: BlobTable, fill: number): T {
    const make = (length: number) => new (values.constructor as new (n: number) => T)(length).fill(fill) as T;
    if (next.continues(this)) {
      let out = values;
      if (values.length < next.extent) {
        out = make(next.capacity);
        out.set(values);
      }
      if (next.generation > this.generation + 1) this.diff(next, { same: (i, j) => i !== j && (out[j] = values[i]!) });
      return out;
    }
    const to = this.positionsIn(next);
    const out = make(next.capacity);
    for (let i = 0; i < to.length; i++) if (to[i]! >= 0) out[to[i]!] = values[i]!;
    return out;
  }

  *values(): SetIterator<Digest> {
    for (let i = 0; i < this.extent; i++) if (this.isPresent(i)) yield this.digestAt(i);
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

  /** The position of the binary digest at `bytes[at]` in the base when it is here, or -1. */
  private inBase(part: PlacedPart, bytes: Uint8Array, at: number): number {
    const prefix = prefix52(bytes, at);
    for (let i = firstWithPrefix(part, prefix); i < part.count && part.prefixes[i] === prefix; i++) {
      if (compareBytes(part.records, i * part.width, bytes, at, part.width) === 0) return this.isPresent(part.base + i) ? part.base + i : -1;
    }
    return -1;
  }

  /** The position of `digest` among the blobs that came since the base, or -1. */
  private inLog(digest: string): number {
    for (let e = this.log.newest(digest); e >= 0; e = this.log.before(e)) if (this.isPresent(this.base.size + e)) return this.base.size + e;
    return -1;
  }

  /** inLog for the binary digest at `bytes[at]`: its string is made only when blobs came since the base. */
  private inLogBinary(alg: DigestAlgorithm, bytes: Uint8Array, at: number): number {
    return this.log.count === 0 ? -1 : this.inLog(`${alg}:${Buffer.from(bytes.buffer, bytes.byteOffset + at, DIGEST_BYTES[alg]).toString('hex')}`);
  }

  /** Positions `a` and `b` in digest order: negative, 0 or positive. */
  private compareAt(a: number, b: number): number {
    const x = this.binaryAt(a);
    const y = this.binaryAt(b);
    if (x.alg !== y.alg) return DIGEST_ALGORITHMS.indexOf(x.alg) - DIGEST_ALGORITHMS.indexOf(y.alg);
    return compareBytes(x.bytes, 0, y.bytes, 0, x.bytes.length);
  }

  /**
   * Where each position here is in `next` (another lineage), -1 where it has no blob there; kept
   * for the next call. The sorted bases are walked in step, runs of records at once (a fresh
   * listing against the last one, a million blobs: 20-40 ms with a carry, where a lookup each
   * took 190 and a walk record by record 95); what is left is looked up.
   */
  private positionsIn(next: BlobTable): Int32Array {
    if (this.moved?.next.deref() === next) return this.moved.to;
    const to = new Int32Array(this.extent).fill(-1);
    const holes = this.log.holes > 0 || next.log.holes > 0;
    this.base.parts.forEach((a, p) => {
      const b = next.base.parts[p]!;
      const { width: w, records: ar, prefixes: ap, count: an, base: ab } = a;
      const { records: br, prefixes: bp, count: bn, base: bb } = b;
      const whole = Buffer.from(ar.buffer, ar.byteOffset, ar.byteLength);
      for (let i = 0, j = 0; i < an && j < bn;) {
        // Runs of records alike are the rule: a run is compared at once (memcmp), else one record.
        const run = Math.min(RUN, an - i, bn - j);
        if (run > 1 && whole.compare(br, j * w, (j + run) * w, i * w, (i + run) * w) === 0) {
          for (let k = 0; k < run; k++) if (!holes || (this.isPresent(ab + i + k) && next.isPresent(bb + j + k))) to[ab + i + k] = bb + j + k;
          i += run;
          j += run;
          continue;
        }
        const c = ap[i]! < bp[j]! ? -1 : ap[i]! > bp[j]! ? 1 : compareBytes(ar, i * w, br, j * w, w);
        if (c === 0 && (!holes || (this.isPresent(ab + i) && next.isPresent(bb + j)))) to[ab + i] = bb + j;
        if (c <= 0) i++;
        if (c >= 0) j++;
      }
    });
    for (let i = 0; i < this.extent; i++) {
      if (to[i]! >= 0 || !this.isPresent(i) || (i < this.base.size && next.log.count === 0)) continue;
      const { alg, bytes } = this.binaryAt(i);
      const at = next.inBase(next.partNamed(alg)!, bytes, 0);
      to[i] = at >= 0 ? at : next.inLogBinary(alg, bytes, 0);
    }
    this.moved = { next: new WeakRef(next), to };
    return to;
  }

  /**
   * A new lineage holding this table's blobs with `came` added and `went` removed, sorted afresh;
   * where each blob went is kept for `carry` and `diff`.
   */
  private compacted(came: Partial<Record<DigestAlgorithm, readonly string[]>>, went: Partial<Record<DigestAlgorithm, readonly string[]>>): BlobTable {
    const leaving = new Set<number>();
    for (const alg of DIGEST_ALGORITHMS) for (const name of went[alg] ?? []) leaving.add(this.indexOf(`${alg}:${name}`));
    const sources: Int32Array[] = [];
    const parts = DIGEST_ALGORITHMS.map((alg) => {
      const width = DIGEST_BYTES[alg];
      const arriving = (came[alg] ?? []).filter((name) => this.indexOf(`${alg}:${name}`) < 0);
      const room = this.size + arriving.length;
      const input = new Uint8Array(room * width);
      const keys = new Float64Array(room);
      const from = new Int32Array(room);
      let n = 0;
      for (let i = 0; i < this.extent; i++) {
        if (!this.isPresent(i) || leaving.has(i)) continue;
        const b = this.binaryAt(i);
        if (b.alg !== alg) continue;
        input.set(b.bytes, n * width);
        keys[n] = this.prefix52At(i);
        from[n++] = i;
      }
      for (const name of arriving) {
        if (name.length !== width * 2 || !decodeHex(name, 0, width, input, n * width)) continue;
        keys[n] = prefix52(input, n * width);
        from[n++] = -1;
      }
      const sorted = sortRecords(alg, input, keys, n);
      sources.push(Int32Array.from(sorted.sources, (s) => from[s]!));
      return sorted;
    });
    const next = BlobTable.starting(parts);
    const to = new Int32Array(this.extent).fill(-1);
    next.base.parts.forEach((part, p) => sources[p]!.forEach((old, k) => old >= 0 && (to[old] = part.base + k)));
    this.moved = { next: new WeakRef(next), to };
    return next;
  }

  /** The base's shared prefixes: neighbours in the first algorithm's part, any match for the others (rare). */
  private baseSharedPrefixes(): number[] {
    const [first, ...others] = this.base.parts;
    const shared = new Set<number>();
    for (let i = 1; i < first!.count; i++) if (first!.prefixes[i] === first!.prefixes[i - 1]) shared.add(first!.prefixes[i]!);
    for (const part of others) {
      for (let i = 0; i < part.count; i++) {
        const p = part.prefixes[i]!;
        const matches = this.base.parts.reduce((n, q) => {
          let m = 0;
          for (let k = firstWithPrefix(q, p); k < q.count && q.prefixes[k] === p; k++) m++;
          return n + m;
        }, 0);
        if (matches > 1) shared.add(p);
      }
    }
    return [...shared];
  }

  private partNamed(alg: string): PlacedPart | undefined {
    return this.base.parts.find((p) => p.alg === alg);
  }

  private partAt(i: number): PlacedPart {
    const parts = this.base.parts;
    for (let p = parts.length - 1; p >= 0; p--) if (i >= parts[p]!.base) return parts[p]!;
    throw new RangeError(`blob position ${i} is outside the table`);
  }
}
