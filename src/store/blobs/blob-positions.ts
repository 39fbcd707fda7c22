import { randomInt } from 'node:crypto';
import { hexByteAt, type Digest, type DigestAlgorithm } from '../../oci/digest.js';
import { DIGEST_BYTES } from './sorted-digests.js';

/** Odd multipliers, one per 32-bit word of the widest digest (sha512), drawn per process. */
const MULTIPLIERS = Int32Array.from({ length: 16 }, () => randomInt(2 ** 30) * 2 + 1);

/** Decodes `count` 32-bit words of lowercase hex from `s` at `from` into `out` at `at`; false on a non-hex character. */
function decodeWords(s: string, from: number, count: number, out: Int32Array, at: number): boolean {
  for (let w = 0; w < count; w++) {
    const k = from + w * 8;
    const b0 = hexByteAt(s, k);
    const b1 = hexByteAt(s, k + 2);
    const b2 = hexByteAt(s, k + 4);
    const b3 = hexByteAt(s, k + 6);
    if ((b0 | b1 | b2 | b3) < 0) return false;
    out[at + w] = b0 << 24 | b1 << 16 | b2 << 8 | b3;
  }
  return true;
}

/**
 * A seeded hash of `count` words: a sum of the words times random odd multipliers, then mixed.
 * The seed is drawn per process, so blob names made to collide (a hostile store) cannot be chosen
 * in advance to make one long probe chain.
 */
function hashWords(words: Int32Array, at: number, count: number): number {
  let h = 0;
  for (let w = 0; w < count; w++) h = (h + Math.imul(words[at + w]!, MULTIPLIERS[w]!)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** One directory's blobs: positions `first` .. `first + names.length - 1`. */
interface Range {
  alg: DigestAlgorithm;
  /** 32-bit words per digest. */
  width: number;
  names: readonly string[];
  /** The names decoded, `width` words each, in the names' order. */
  words: Int32Array;
  first: number;
}

/**
 * The blobs of one listing of blobs/<alg>/ directories, each with its position (listing order),
 * found by digest: gc and fsck look up every descriptor of the store here. An open-addressing
 * table of positions over the digests decoded to binary (40-48 bytes a sha256 blob, outside the JS
 * heap), keyed by a seeded hash: a Map of a million digest strings cost 2.3x its time at half the
 * size (cache misses) and most of the collector's work.
 */
export class BlobPositions {
  private readonly ranges: Range[] = [];
  /** Position + 1 per slot (0 is empty). */
  private slots = new Int32Array(0);
  private mask = 0;
  /** One digest decoded for a lookup (the widest algorithm's size). */
  private readonly probe = new Int32Array(16);
  size = 0;

  /**
   * Adds the names of one directory listing that are a digest's encoding, at the next positions
   * in listing order; each name is decoded once, and that decoding is the check. Returns those
   * names, and the others (temp files, junk).
   */
  add(alg: DigestAlgorithm, listed: readonly string[]): { names: string[]; others: string[] } {
    const width = DIGEST_BYTES[alg] / 4;
    const words = new Int32Array(listed.length * width);
    const names: string[] = [];
    const others: string[] = [];
    for (const name of listed) {
      if (name.length === width * 8 && decodeWords(name, 0, width, words, names.length * width)) names.push(name);
      else others.push(name);
    }
    this.ranges.push({ alg, width, names, words: words.subarray(0, names.length * width), first: this.size });
    this.size += names.length;
    if (this.size * 2 > this.slots.length) this.rehash();
    else this.insert(this.ranges[this.ranges.length - 1]!);
    return { names, others };
  }

  /** The position of `digest`, or -1. */
  get(digest: Digest | string): number {
    const colon = digest.indexOf(':');
    for (const r of this.ranges) {
      if (colon !== r.alg.length || !digest.startsWith(r.alg) || digest.length !== colon + 1 + r.width * 8) continue;
      if (!decodeWords(digest, colon + 1, r.width, this.probe, 0)) return -1;
      for (let s = hashWords(this.probe, 0, r.width) & this.mask; ; s = (s + 1) & this.mask) {
        const at = this.slots[s]! - 1 - r.first;
        if (at < -r.first) break;
        if (at < 0 || at >= r.names.length) continue;
        let w = 0;
        while (w < r.width && r.words[at * r.width + w] === this.probe[w]) w++;
        if (w === r.width) return r.first + at;
      }
    }
    return -1;
  }

  /** The digest at position `at`. */
  digestAt(at: number): Digest {
    let i = this.ranges.length - 1;
    while (this.ranges[i]!.first > at) i--;
    const r = this.ranges[i]!;
    return `${r.alg}:${r.names[at - r.first]!}` as Digest;
  }

  private rehash(): void {
    let capacity = 16;
    while (capacity < this.size * 2) capacity *= 2;
    this.slots = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (const r of this.ranges) this.insert(r);
  }

  private insert(r: Range): void {
    for (let j = 0; j < r.names.length; j++) {
      let s = hashWords(r.words, j * r.width, r.width) & this.mask;
      while (this.slots[s] !== 0) s = (s + 1) & this.mask;
      this.slots[s] = r.first + j + 1;
    }
  }
}
