import { LayoutfsError } from '../errors.js';

/** A digest string that passed `parseDigest`: `sha256:<64 hex>` or `sha512:<128 hex>`, lowercase. */
export type Digest = string & { readonly __brand: 'Digest' };

export type DigestAlgorithm = 'sha256' | 'sha512';

/** Every algorithm a store may keep blobs under (`blobs/<alg>/`), in the order listings and tables take them. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512'];

/** Encoded lengths of the algorithms we support; anything else is refused before it names a path. */
const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
/** Byte values of two lowercase hex characters by (first << 7 | second) char code; -1 for anything else. */
const HEX_PAIR = new Int16Array(1 << 14).fill(-1);
for (let a = 0; a < 16; a++) {
  for (let b = 0; b < 16; b++) HEX_PAIR['0123456789abcdef'.charCodeAt(a) << 7 | '0123456789abcdef'.charCodeAt(b)] = a * 16 + b;
}

/** The byte the two lowercase hex characters of `s` at `k` encode, or -1: one table lookup a byte, no slice. */
export function hexByteAt(s: string, k: number): number {
  const hi = s.charCodeAt(k);
  const lo = s.charCodeAt(k + 1);
  return (hi | lo) > 127 ? -1 : HEX_PAIR[hi << 7 | lo]!;
}

/** Whether the `length` (even) characters of `s` from `from` are lowercase hex: a byte at a time, no slice and no RegExp per digest (0.65-0.7x their time; a gc at 100k references checks millions). */
function isLowerHex(s: string, from: number, length: number): boolean {
  for (let k = from; k < from + length; k += 2) if (hexByteAt(s, k) < 0) return false;
  return true;
}

export function isDigestAlgorithm(s: string): s is DigestAlgorithm {
  return s === 'sha256' || s === 'sha512';
}

/** True when `hex` is a valid encoded part for `algorithm` (used for blob file names). */
export function isEncodedDigest(algorithm: DigestAlgorithm, hex: string): boolean {
  return hex.length === HEX_LENGTH[algorithm] && isLowerHex(hex, 0, hex.length);
}

export function isDigest(s: unknown): s is Digest {
  if (typeof s !== 'string') return false;
  const algorithm = s.startsWith('sha256:') ? 'sha256' : s.startsWith('sha512:') ? 'sha512' : undefined;
  return algorithm !== undefined && s.length === algorithm.length + 1 + HEX_LENGTH[algorithm] && isLowerHex(s, algorithm.length + 1, HEX_LENGTH[algorithm]);
}

/** Parses a digest; `where` names the file or field for the error message. */
export function parseDigest(s: unknown, where = 'digest'): Digest {
  if (isDigest(s)) return s;
  const shown = typeof s === 'string' ? JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s) : typeof s;
  throw new LayoutfsError(
    'INVALID_ARGUMENT',
    `${where}: ${shown} is not a supported digest (sha256 with 64 or sha512 with 128 lowercase hex digits)`,
  );
}

export function digestAlgorithm(d: Digest): DigestAlgorithm {
  return d.slice(0, d.indexOf(':')) as DigestAlgorithm;
}

export function digestEncoded(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}

/** The digest a file named `name` under blobs/<algorithm>/ stands for, or undefined (temp files, junk). */
export function digestOfBlobFile(algorithm: DigestAlgorithm, name: string): Digest | undefined {
  return isEncodedDigest(algorithm, name) ? (`${algorithm}:${name}` as Digest) : undefined;
}
