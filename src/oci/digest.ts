import { LayoutfsError } from '../errors.js';

/** A digest string that passed `parseDigest`: `sha256:<64 hex>` or `sha512:<128 hex>`, lowercase. */
export type Digest = string & { readonly __brand: 'Digest' };

export type DigestAlgorithm = 'sha256' | 'sha512';

/** Every algorithm a store may keep blobs under (`blobs/<alg>/`), in the order listings and tables take them. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512'];

/** Encoded lengths of the algorithms we support; anything else is refused before it names a path. */
const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const LOWER_HEX = /^[0-9a-f]+$/;

export function isDigestAlgorithm(s: string): s is DigestAlgorithm {
  return s === 'sha256' || s === 'sha512';
}

/** True when `hex` is a valid encoded part for `algorithm` (used for blob file names). */
export function isEncodedDigest(algorithm: DigestAlgorithm, hex: string): boolean {
  return hex.length === HEX_LENGTH[algorithm] && LOWER_HEX.test(hex);
}

export function isDigest(s: unknown): s is Digest {
  if (typeof s !== 'string') return false;
  const colon = s.indexOf(':');
  if (colon < 0) return false;
  const algorithm = s.slice(0, colon);
  return isDigestAlgorithm(algorithm) && isEncodedDigest(algorithm, s.slice(colon + 1));
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
