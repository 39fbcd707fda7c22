import type { Descriptor } from '../../oci/descriptor.js';
import { DIGEST_ALGORITHMS } from '../../oci/digest.js';
import { DIGEST_BYTES, type BlobTable } from '../blobs/blob-table.js';
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

interface FileRecord {
  mediaType: number;
  /** Blob numbers in the dictionary, the root first. */
  members: Uint32Array;
  platforms: Uint32Array | undefined;
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

  /** `count` u32 indices, each below `limit`. */
  indices(count: number, limit: number): Uint32Array {
    if (this.at + 4 * count > this.buf.length) throw new RangeError('cut short');
    const out = new Uint32Array(count);
    for (let k = 0; k < count; k++) {
      const i = this.u32();
      if (i >= limit) throw new RangeError('index out of range');
      out[k] = i;
    }
    return out;
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Where a file's blobs and record roots sit in one blob table. */
interface Mapped {
  table: BlobTable;
  /** Each dictionary blob's position in the table, -1 when not there. */
  positions: Int32Array;
  /** By table position, the record whose root is there, -1 for none. */
  recordAt: Int32Array;
}

/** The records of a closure file, checked for form only; `find` checks one against a blob table. */
export class ClosureRecords {
  private mapped: Mapped | undefined;

  private constructor(
    private readonly strings: readonly string[],
    private readonly bytes: Buffer,
    /** Per algorithm, its dictionary section: where it starts in `bytes`, how many blobs, the number of its first. */
    private readonly sections: readonly { start: number; count: number; first: number }[],
    private readonly records: readonly FileRecord[],
  ) {}

  static readonly none = new ClosureRecords([], Buffer.alloc(0), DIGEST_ALGORITHMS.map(() => ({ start: 0, count: 0, first: 0 })), []);

  /** How many records the file holds. */
  get size(): number {
    return this.records.length;
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
    // Blobs are read where used (find): a blob's digest and size lie at a fixed stride in its section.
    const sections = DIGEST_ALGORITHMS.map((alg) => {
      const count = r.u32();
      const start = r.at;
      r.bytes(count * (DIGEST_BYTES[alg] + 8));
      return { start, count, first: 0 };
    });
    sections[1]!.first = sections[0]!.count;
    const blobs = sections[0]!.count + sections[1]!.count;
    const records: FileRecord[] = [];
    for (let n = r.u32(); n > 0; n--) {
      const mediaType = r.u32();
      if (mediaType >= strings.length) throw new RangeError('media type');
      const members = r.indices(r.u32(), blobs);
      if (members.length === 0) throw new RangeError('no root');
      const platformCount = r.u32();
      const platforms = platformCount === NOT_RECORDED ? undefined : r.indices(platformCount, strings.length);
      records.push({ mediaType, members, platforms });
    }
    if (r.at !== body.length) throw new RangeError('trailing bytes');
    return new ClosureRecords(strings, body, sections, records);
  }

  /**
   * The record of `root` as a closure among `table`'s blobs, or undefined when there is none or
   * it does not hold now: a listed blob is not in the table, or the root's media type or size is
   * not the descriptor's (a closure depends on both).
   */
  find(root: Pick<Descriptor, 'digest' | 'size' | 'mediaType'>, table: BlobTable): RecordedClosure | undefined {
    const mapped = this.mappedTo(table);
    const at = table.indexOf(root.digest);
    const record = at < 0 ? undefined : this.records[mapped.recordAt[at]!];
    if (!record || this.strings[record.mediaType] !== root.mediaType) return undefined;
    const positions = new Uint32Array(record.members.length);
    const sizes = new Float64Array(record.members.length);
    for (let k = 0; k < record.members.length; k++) {
      const m = record.members[k]!;
      const p = mapped.positions[m]!;
      const size = this.sizeOf(m);
      if (p < 0 || !Number.isSafeInteger(size) || size < 0) return undefined;
      positions[k] = p;
      sizes[k] = size;
    }
    if (sizes[0] !== root.size) return undefined;
    return { positions, sizes, platforms: record.platforms && Array.from(record.platforms, (i) => this.strings[i]!) };
  }

  /** The size recorded for dictionary blob `m`. */
  private sizeOf(m: number): number {
    const a = m < this.sections[1]!.first ? 0 : 1;
    const { start, first } = this.sections[a]!;
    const stride = DIGEST_BYTES[DIGEST_ALGORITHMS[a]!] + 8;
    return this.bytes.readDoubleLE(start + (m - first) * stride + stride - 8);
  }

  /** The dictionary and the roots in `table`'s terms, worked out once per table; a dictionary out of order maps nothing. */
  private mappedTo(table: BlobTable): Mapped {
    if (this.mapped?.table === table) return this.mapped;
    const found = DIGEST_ALGORITHMS.map((alg, a) => {
      const { start, count } = this.sections[a]!;
      return table.indexOfSorted(alg, this.bytes, start, DIGEST_BYTES[alg] + 8, count);
    });
    const positions = new Int32Array(this.sections[0]!.count + this.sections[1]!.count).fill(-1);
    if (found.every((f) => f !== undefined)) found.forEach((f, a) => positions.set(f, this.sections[a]!.first));
    const recordAt = new Int32Array(table.size).fill(-1);
    this.records.forEach((record, i) => {
      const p = positions[record.members[0]!]!;
      if (p >= 0) recordAt[p] = i;
    });
    return (this.mapped = { table, positions, recordAt });
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
    this.firstEntry = new Int32Array(table.size).fill(-1);
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
    // The dictionary in table order, which is digest order within each algorithm.
    const order: number[] = [];
    for (let p = 0; p < this.firstEntry.length; p++) {
      if (this.firstEntry[p]! < 0) continue;
      order.push(this.firstEntry[p]!, ...(this.others.get(p) ?? []));
    }
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
