import type { Descriptor } from '../../oci/descriptor.js';
import { DIGEST_ALGORITHMS } from '../../oci/digest.js';
import type { BlobTable } from '../blobs/blob-table.js';
import { DIGEST_BYTES } from '../blobs/sorted-digests.js';
import { readBeneath, type SafeRoot } from '../safe-open.js';
import { saveSealed, sealed, unseal } from '../sealed-file.js';

/**
 * Where ls, du and a mount's census keep the closures they computed, beside index.json. A
 * COMPLETE closure (no blob missing, every document read) is a fact of content: the same root
 * reaches the same descriptors for ever, since blobs are immutable. So the file needs no lock and
 * no tie to one index.json: writers race atomic renames and any winner is right; a record is used
 * only while every blob it lists is present, and a file that fails its checksum or any bound is
 * ignored and written anew. Only accounting reads it (sizes, nlink, platforms): what a view
 * serves always comes from the documents themselves. No other reader of the store looks at it
 * (gc, fsck and import see only index.json and blobs/); its temp files carry the usual temp names.
 *
 * Format: a sealed file (sealed-file.ts) of kind `layoutfs closures 1`, its body little-endian:
 * - u32 string count, each a u32 byte length and UTF-8 (media types and platforms);
 * - the blob dictionary, a blob many closures share written once: for sha256 then sha512, a u32
 *   count and as many binary digests each with its f64 size, in ascending digest order (the blob
 *   table's, so one walk in step with it finds them all); numbered across both in that order;
 * - u32 record count, each: u32 string index of the root's media type; u32 member count and the
 *   members as u32 blob numbers in walk order, the root first (a record is found by its root);
 *   u32 platform count (0xffffffff: not recorded) and as many u32 string indices.
 * Binary because at 50,000 references (500,000 blobs) it is 23 MB, read, hashed and mapped onto
 * the blob table in a few hundred ms, its blobs left in the file's buffer (no string per digest);
 * JSON of the same records, with the same dictionary, was 44 MB, and JSON.parse alone took 0.7 s
 * and 130 MiB of heap (measured on the 50k bench store, scripts/bench/README.md).
 */
export const CLOSURES_NAME = '.layoutfs-closures';

const MAGIC = 'layoutfs closures 1';
const NOT_RECORDED = 0xffffffff;

/** A closure as a record gives it, in one blob table's terms. */
export interface RecordedClosure {
  /** Table positions of the closure's blobs in walk order, the root first. */
  positions: Uint32Array;
  /** The size each blob's descriptor gives, by the same index. */
  sizes: Float64Array;
  /** What ls shows as the root's platforms, when recorded. */
  platforms: readonly string[] | undefined;
}

/**
 * The largest file read for a store of `blobs` blobs and `roots` roots: generous (a blob costs at
 * most 73 bytes in the dictionary, a member 4), yet a planted huge file is not read whole. A store
 * whose records would not fit keeps computing (the writer does not write past it either).
 */
export function closureFileBound(blobs: number, roots: number): number {
  return 16 * 1024 * 1024 + 256 * (blobs + roots);
}

/** Reads the body, refusing anything out of bounds (every error is "malformed"). */
class BodyReader {
  at = 0;
  constructor(readonly buf: Buffer) {}

  u32(): number {
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  bytes(n: number): Buffer {
    if (this.at + n > this.buf.length) throw new RangeError('cut short');
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** `count` u32 indices, each below `limit`, into `out` from `to`. */
  indices(count: number, limit: number, out: Uint32Array, to: number): void {
    if (this.at + 4 * count > this.buf.length) throw new RangeError('cut short');
    for (let k = 0; k < count; k++) {
      const i = this.u32();
      if (i >= limit) throw new RangeError('index out of range');
      out[to + k] = i;
    }
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The records of a file, flat: record r's members are `members[starts[r]]` to
 * `members[starts[r + 1]]` (blob numbers in the dictionary, the root first). One array for all,
 * where an array per record cost an allocation each (100,000 at 100,000 references).
 */
interface FileRecords {
  mediaTypes: Uint32Array;
  starts: Uint32Array;
  members: Uint32Array;
  /** Each record's platforms (lists shared by the records that have the same), undefined when not recorded. */
  platforms: (readonly string[] | undefined)[];
}

/**
 * Where a file's records sit in one blob table, worked out for all of them at once: every member's
 * table position and size by the same index as `members`, one walk over the dictionary and one
 * over the members, so finding a record afterwards touches none of its blobs. Measured at 100,000
 * references (1.2M members): finding each record's members one by one in the file's bytes (random
 * reads into 40 MB) and copying them out took 1.6-2 s.
 */
interface Mapped {
  table: BlobTable;
  /** By table position, the record whose root is there, -1 for none. */
  recordAt: Int32Array;
  positions: Uint32Array;
  sizes: Float64Array;
  /** Each record's bytes; NaN when the record does not hold among the table's blobs (a member missing, a bad size). */
  bytes: Float64Array;
}

/** The records of a closure file, checked for form only; `find` checks one against a blob table. */
export class ClosureRecords {
  private mapped: Mapped | undefined;

  private constructor(
    private readonly strings: readonly string[],
    private readonly bytes: Buffer,
    /** Per algorithm, its dictionary section: where it starts in `bytes`, how many blobs, the number of its first. */
    private readonly sections: readonly { start: number; count: number; first: number }[],
    private readonly records: FileRecords,
  ) {}

  static readonly none = new ClosureRecords([], Buffer.alloc(0), DIGEST_ALGORITHMS.map(() => ({ start: 0, count: 0, first: 0 })),
    { mediaTypes: new Uint32Array(0), starts: new Uint32Array(1), members: new Uint32Array(0), platforms: [] });

  /** How many records the file holds. */
  get size(): number {
    return this.records.mediaTypes.length;
  }

  /**
   * The store's records, read the safe way and bounded (closureFileBound). A file that is
   * missing, too large, fails its checksum or is malformed anywhere gives none: never an error,
   * the file only saves work.
   */
  static async load(root: SafeRoot, maxBytes: number): Promise<ClosureRecords> {
    try {
      return ClosureRecords.parse((await readBeneath(root, CLOSURES_NAME, 'closures file', maxBytes)).bytes);
    } catch {
      return ClosureRecords.none;
    }
  }

  /** Parses a whole file; throws on any flaw (the dictionary's order is checked against a table, in `find`). */
  static parse(file: Buffer): ClosureRecords {
    const body = unseal(MAGIC, file);
    if (!body) throw new RangeError('not a closures file, or its checksum fails');
    const r = new BodyReader(body);
    const strings: string[] = [];
    for (let n = r.u32(); n > 0; n--) strings.push(UTF8.decode(r.bytes(r.u32())));
    // Blobs are read where used (mappedTo): a blob's digest and size lie at a fixed stride in its section.
    const sections = DIGEST_ALGORITHMS.map((alg) => {
      const count = r.u32();
      const start = r.at;
      r.bytes(count * (DIGEST_BYTES[alg] + 8));
      return { start, count, first: 0 };
    });
    sections[1]!.first = sections[0]!.count;
    const blobs = sections[0]!.count + sections[1]!.count;
    const count = r.u32();
    // Every record takes at least 12 bytes: a count beyond what is left is malformed, not an allocation.
    if (count * 12 > body.length - r.at) throw new RangeError('cut short');
    const mediaTypes = new Uint32Array(count);
    const starts = new Uint32Array(count + 1);
    // Members are 4 bytes each in what is left: room for all of them.
    const members = new Uint32Array((body.length - r.at) >>> 2);
    const platforms: (readonly string[] | undefined)[] = [];
    const lists = new Map<string, readonly string[]>();
    let listIndices = new Uint32Array(16);
    for (let i = 0; i < count; i++) {
      mediaTypes[i] = r.u32();
      if (mediaTypes[i]! >= strings.length) throw new RangeError('media type');
      const n = r.u32();
      if (n === 0) throw new RangeError('no root');
      r.indices(n, blobs, members, starts[i]!);
      starts[i + 1] = starts[i]! + n;
      const platformCount = r.u32();
      if (platformCount === NOT_RECORDED) {
        platforms.push(undefined);
        continue;
      }
      if (4 * platformCount > body.length - r.at) throw new RangeError('cut short');
      if (platformCount > listIndices.length) listIndices = new Uint32Array(platformCount);
      r.indices(platformCount, strings.length, listIndices, 0);
      const key = listIndices.subarray(0, platformCount).join(',');
      let list = lists.get(key);
      if (!list) lists.set(key, (list = Object.freeze(Array.from(listIndices.subarray(0, platformCount), (k) => strings[k]!))));
      platforms.push(list);
    }
    if (r.at !== body.length) throw new RangeError('trailing bytes');
    return new ClosureRecords(strings, body, sections, { mediaTypes, starts, members: members.subarray(0, starts[count]), platforms });
  }

  /**
   * The record of `root` as a closure among `table`'s blobs, or undefined when there is none or
   * it does not hold now: a listed blob is not in the table, or the root's media type or size is
   * not the descriptor's (a closure depends on both). Its arrays are views of arrays shared by all
   * records: read only.
   */
  find(root: Pick<Descriptor, 'digest' | 'size' | 'mediaType'>, table: BlobTable): (RecordedClosure & { bytes: number }) | undefined {
    // No records (no file, or a bad one): nothing to map, and no table to hold on to.
    if (this.size === 0) return undefined;
    const mapped = this.mappedTo(table);
    const at = table.indexOf(root.digest);
    const i = at < 0 ? -1 : mapped.recordAt[at]!;
    if (i < 0 || this.strings[this.records.mediaTypes[i]!] !== root.mediaType || Number.isNaN(mapped.bytes[i])) return undefined;
    const from = this.records.starts[i]!;
    const to = this.records.starts[i + 1]!;
    if (mapped.sizes[from] !== root.size) return undefined;
    return { positions: mapped.positions.subarray(from, to), sizes: mapped.sizes.subarray(from, to), bytes: mapped.bytes[i]!,
      platforms: this.records.platforms[i] };
  }

  /** The dictionary and the records in `table`'s terms, worked out once per table; a dictionary out of order maps nothing. */
  private mappedTo(table: BlobTable): Mapped {
    if (this.mapped?.table === table) return this.mapped;
    const found = DIGEST_ALGORITHMS.map((alg, a) => {
      const { start, count } = this.sections[a]!;
      return table.indexOfSorted(alg, this.bytes, start, DIGEST_BYTES[alg] + 8, count);
    });
    const blobPositions = new Int32Array(this.sections[0]!.count + this.sections[1]!.count).fill(-1);
    if (found.every((f) => f !== undefined)) found.forEach((f, a) => blobPositions.set(f, this.sections[a]!.first));
    const blobSizes = this.dictionarySizes();
    const { starts, members } = this.records;
    const positions = new Uint32Array(members.length);
    const sizes = new Float64Array(members.length);
    const bytes = new Float64Array(this.size);
    const recordAt = new Int32Array(table.extent).fill(-1);
    for (let i = 0; i < this.size; i++) {
      let sum = 0;
      for (let k = starts[i]!; k < starts[i + 1]!; k++) {
        const p = blobPositions[members[k]!]!;
        const size = blobSizes[members[k]!]!;
        // NaN poisons the sum: a record with a blob not in the table, or a bad size, holds nowhere.
        sum += p < 0 ? NaN : size;
        positions[k] = p;
        sizes[k] = size;
      }
      bytes[i] = sum;
      const root = blobPositions[members[starts[i]!]!]!;
      if (root >= 0) recordAt[root] = i;
    }
    return (this.mapped = { table, recordAt, positions, sizes, bytes });
  }

  /** The size of every dictionary blob, in one walk over the dictionary; NaN for one that is no size (negative, fractional, huge). */
  private dictionarySizes(): Float64Array {
    const out = new Float64Array(this.sections[0]!.count + this.sections[1]!.count);
    DIGEST_ALGORITHMS.forEach((alg, a) => {
      const { start, count, first } = this.sections[a]!;
      const stride = DIGEST_BYTES[alg] + 8;
      for (let m = 0; m < count; m++) {
        const size = this.bytes.readDoubleLE(start + m * stride + stride - 8);
        out[first + m] = Number.isSafeInteger(size) && size >= 0 ? size : NaN;
      }
    });
    return out;
  }
}

/**
 * Builds a closures file from closures over one blob table. A blob that several closures share
 * (same position, same size) is one dictionary entry; a root added twice keeps the last record.
 */
export class ClosureRecordsWriter {
  private readonly strings = new Map<string, number>();
  /** The first dictionary entry of each table position (-1: none); one listed with another size gets its own (`others`). */
  private readonly firstEntry: Int32Array;
  private readonly others = new Map<number, number[]>();
  private readonly entryPositions: number[] = [];
  private readonly entrySizes: number[] = [];
  /** By root position. */
  private readonly records = new Map<number, { mediaType: number; members: number[]; platforms: number[] | undefined }>();

  constructor(private readonly table: BlobTable) {
    this.firstEntry = new Int32Array(table.extent).fill(-1);
  }

  /** Records `closure` (complete, over this writer's table) as the closure of a root of media type `mediaType`. */
  add(mediaType: string, closure: RecordedClosure): void {
    const members = Array.from(closure.positions, (p, k) => this.entry(p, closure.sizes[k]!));
    this.records.set(closure.positions[0]!, {
      mediaType: this.string(mediaType), members, platforms: closure.platforms?.map((p) => this.string(p)),
    });
  }

  get size(): number {
    return this.records.size;
  }

  /** The file's bytes. */
  encode(): Buffer {
    // The dictionary in digest order within each algorithm.
    const used: number[] = [];
    for (let p = 0; p < this.firstEntry.length; p++) if (this.firstEntry[p]! >= 0) used.push(p);
    const order: number[] = [];
    for (const p of this.table.inDigestOrder(used)) order.push(this.firstEntry[p]!, ...(this.others.get(p) ?? []));
    const number = new Uint32Array(order.length);
    order.forEach((entry, i) => (number[entry] = i));
    const strings = [...this.strings.keys()].map((s) => Buffer.from(s, 'utf8'));
    const blobs = order.map((entry) => this.table.binaryAt(this.entryPositions[entry]!));
    let length = 4 + strings.reduce((n, s) => n + 4 + s.length, 0) + 4 * DIGEST_ALGORITHMS.length + 4;
    for (const b of blobs) length += b.bytes.length + 8;
    for (const r of this.records.values()) length += 12 + 4 * r.members.length + 4 * (r.platforms?.length ?? 0);
    const body = Buffer.alloc(length);
    let at = body.writeUInt32LE(strings.length, 0);
    for (const s of strings) {
      at = body.writeUInt32LE(s.length, at);
      at += s.copy(body, at);
    }
    for (const alg of DIGEST_ALGORITHMS) {
      at = body.writeUInt32LE(blobs.filter((b) => b.alg === alg).length, at);
      blobs.forEach((b, i) => {
        if (b.alg !== alg) return;
        body.set(b.bytes, at);
        at = body.writeDoubleLE(this.entrySizes[order[i]!]!, at + b.bytes.length);
      });
    }
    at = body.writeUInt32LE(this.records.size, at);
    for (const r of this.records.values()) {
      at = body.writeUInt32LE(r.mediaType, at);
      at = body.writeUInt32LE(r.members.length, at);
      for (const m of r.members) at = body.writeUInt32LE(number[m]!, at);
      at = body.writeUInt32LE(r.platforms?.length ?? NOT_RECORDED, at);
      for (const p of r.platforms ?? []) at = body.writeUInt32LE(p, at);
    }
    return sealed(MAGIC, [body]);
  }

  private string(s: string): number {
    let i = this.strings.get(s);
    if (i === undefined) this.strings.set(s, (i = this.strings.size));
    return i;
  }

  private entry(position: number, size: number): number {
    const first = this.firstEntry[position]!;
    if (first >= 0 && this.entrySizes[first] === size) return first;
    const other = this.others.get(position)?.find((i) => this.entrySizes[i] === size);
    if (other !== undefined) return other;
    const i = this.entryPositions.push(position) - 1;
    this.entrySizes.push(size);
    if (first < 0) this.firstEntry[position] = i;
    else this.others.set(position, [...(this.others.get(position) ?? []), i]);
    return i;
  }
}

/**
 * Replaces the store's closures file with `bytes` (temp file, fsync, rename: concurrent writers
 * each leave a whole file, the last one wins, and every one is true). Resolves false when the
 * store could not be written (read-only, full): the records only save work.
 */
export function saveClosureRecords(storeRoot: string, bytes: Buffer): Promise<boolean> {
  return saveSealed(storeRoot, CLOSURES_NAME, bytes);
}
