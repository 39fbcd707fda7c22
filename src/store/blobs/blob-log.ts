import { DIGEST_ALGORITHMS, type DigestAlgorithm } from '../../oci/digest.js';
import { decodeHex, DIGEST_BYTES, prefix52 } from './sorted-digests.js';

/** Bytes of one entry's slot: the widest digest. */
const SLOT = 64;

/**
 * What the tables of one lineage share past their sorted base: the blobs that came since (each
 * at the next position) and the generation each position was removed in. Only appended to, so a
 * table of an older generation still reads its own state from it: an entry is its when its
 * position is below the table's extent, a removal when its generation is not above the table's.
 */
export class BlobLog {
  /** The generation of the lineage's newest table: only it may be changed in place. */
  generation = 1;
  /** Entries appended; entry `e` is at position `baseSize + e`. */
  count = 0;
  /** Positions removed. */
  holes = 0;
  /** By table position: the generation its blob was removed in, 0 while it is there. */
  readonly removedAt: Uint32Array;
  /**
   * 52-bit prefixes an entry shares with the base or an earlier entry, noted as it is appended:
   * the only candidates for a shared prefix a table of the lineage checks besides the base's.
   */
  readonly sharedPrefixes = new Set<number>();
  /** Each entry's digest string to its entry; a digest appended again points to its newest entry. */
  private readonly byDigest = new Map<string, number>();
  /** Entries by their digest's first 52 bits. */
  private readonly byPrefix = new Map<number, number[]>();
  private algs = new Uint8Array(16);
  private records = new Uint8Array(16 * SLOT);
  private prefixes = new Float64Array(16);
  /** Each entry's earlier entry of the same digest, -1 for none. */
  private previous = new Int32Array(16);

  /** `capacity`: positions the lineage may reach before it is compacted into a new base. */
  constructor(readonly baseSize: number, readonly capacity: number) {
    this.removedAt = new Uint32Array(capacity);
  }

  /**
   * Appends the blob named `name` (hex) of `alg` as the newest entry of `digest`; false when the
   * name is no digest's encoding or the lineage is full.
   */
  append(alg: DigestAlgorithm, name: string, digest: string): boolean {
    const width = DIGEST_BYTES[alg];
    if (name.length !== width * 2 || this.baseSize + this.count >= this.capacity) return false;
    const e = this.count;
    if (e === this.algs.length) this.grow();
    if (!decodeHex(name, 0, width, this.records, e * SLOT)) return false;
    this.algs[e] = DIGEST_ALGORITHMS.indexOf(alg);
    const prefix = prefix52(this.records, e * SLOT);
    this.prefixes[e] = prefix;
    this.previous[e] = this.byDigest.get(digest) ?? -1;
    this.byDigest.set(digest, e);
    const same = this.byPrefix.get(prefix);
    if (same) same.push(e);
    else this.byPrefix.set(prefix, [e]);
    this.count++;
    return true;
  }

  /** The newest entry of `digest`, or -1. */
  newest(digest: string): number {
    return this.byDigest.get(digest) ?? -1;
  }

  /** The entry of the same digest before `e`, or -1. */
  before(e: number): number {
    return this.previous[e]!;
  }

  /** The entries whose digests start with the 52 bits `prefix`. */
  withPrefix52(prefix: number): readonly number[] {
    return this.byPrefix.get(prefix) ?? [];
  }

  alg(e: number): DigestAlgorithm {
    return DIGEST_ALGORITHMS[this.algs[e]!]!;
  }

  /** Entry `e`'s binary digest (a view of the log, not a copy). */
  bytes(e: number): Uint8Array {
    return this.records.subarray(e * SLOT, e * SLOT + DIGEST_BYTES[this.alg(e)]);
  }

  prefix52(e: number): number {
    return this.prefixes[e]!;
  }

  private grow(): void {
    const n = this.algs.length * 2;
    const copy = <T extends Uint8Array | Float64Array | Int32Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.algs = copy(this.algs, new Uint8Array(n));
    this.records = copy(this.records, new Uint8Array(n * SLOT));
    this.prefixes = copy(this.prefixes, new Float64Array(n));
    this.previous = copy(this.previous, new Int32Array(n));
  }
}
