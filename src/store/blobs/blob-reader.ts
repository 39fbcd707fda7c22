import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoOf, fileError, LayoutfsError } from '../../errors.js';
import { digestAlgorithm, digestEncoded, digestOfBlobFile, type Digest, type DigestAlgorithm } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/descriptor.js';
import { blobPath } from './blob-path.js';
import { closeFd, fstatFd, openFd, readFd } from './fd-io.js';

/** Manifests and indexes larger than this are refused (the distribution registry's own limit). */
export const DEFAULT_MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** Reads blobs by digest. Every path comes from `blobPath`, every open refuses symlinks. */
export interface BlobReader {
  readonly root: string;
  /**
   * A read-only file descriptor on the blob; the caller closes it. With `size`, a file of
   * another size is refused (a truncated store file must not become a short read).
   */
  openBlob(digest: Digest, size?: number): Promise<number>;
  /** Every blob present, all algorithms. */
  listAllBlobs(): Promise<Set<Digest>>;
  /** Every blob present, reusing `previous` when no blobs/ directory changed since it was listed. */
  listAllBlobsSince(previous: BlobListing | undefined): Promise<BlobListing>;
  /** The blob's bytes, checked against the descriptor's size and digest. */
  readVerified(descriptor: Descriptor, maxBytes?: number): Promise<Buffer>;
  /** The blobs present under blobs/<algorithm>/ (temp files and odd names skipped). */
  listBlobs(algorithm: DigestAlgorithm): Promise<Digest[]>;
  blobFile(digest: Digest): string;
}

/** A listing of the store's blobs and the state of the directories it was read from. */
export interface BlobListing {
  blobs: ReadonlySet<Digest>;
  /** Inode and mtime (ns) of each blobs/<alg>/ directory when listed. */
  stamp: string;
  /** Whether no directory had changed within the last second: only then can the stamp vouch for the listing. */
  settled: boolean;
}

/**
 * A directory whose mtime is this recent may change again inside one timestamp tick (ext4's are
 * coarse, a few ms) without its mtime moving: its listing is not reused.
 */
const SETTLED_NS = 1_000_000_000n;
const ALGORITHMS = ['sha256', 'sha512'] as const;

// O_NONBLOCK: a FIFO planted in blobs/ must not block a libuv thread in open(); it is then
// refused as not a regular file. Regular files ignore the flag.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The error for a failed call on a store file or directory (`what` names it in the rule). */
export function storeFileError(err: unknown, file: string, what: string): LayoutfsError {
  const denied = `${what}: permission denied`;
  return fileError(err, file, {
    ENOENT: `${what} is missing`,
    ELOOP: `${what} is a symlink; blobs must be regular files`,
    EACCES: denied,
    EPERM: denied,
  }, (why) => `${what}: ${why}`);
}

async function openBlobFd(file: string, digest: Digest, size: number | undefined): Promise<number> {
  const fd = await openFd(file, OPEN_FLAGS).catch((err: unknown) => { throw storeFileError(err, file, 'blob'); });
  try {
    const st = await fstatFd(fd);
    if (!st.isFile()) throw new LayoutfsError('FAILED_PRECONDITION', 'blob is not a regular file', { path: file });
    if (size !== undefined && st.size !== size) {
      throw new LayoutfsError('DATA_LOSS', `blob ${digest}: file has ${st.size} bytes, descriptor says ${size}`, { path: file });
    }
    return fd;
  } catch (err) {
    await closeFd(fd);
    throw err;
  }
}

async function readSmall(file: string, into: Buffer): Promise<number> {
  const fd = await openFd(file, OPEN_FLAGS);
  try {
    let off = 0;
    for (let n = -1; n !== 0 && off < into.length; off += n) n = (await readFd(fd, into, off, into.length - off, off)).bytesRead;
    return off;
  } finally {
    await closeFd(fd);
  }
}

function readSmallSync(file: string, into: Buffer): number {
  const fd = openSync(file, OPEN_FLAGS);
  try {
    let off = 0;
    for (let n = -1; n !== 0 && off < into.length; off += n) n = readSync(fd, into, off, into.length - off, off);
    return off;
  } finally {
    closeSync(fd);
  }
}

function verifyContent(descriptor: Descriptor, bytes: Buffer, file: string): Buffer {
  if (bytes.length !== descriptor.size) {
    const size = bytes.length > descriptor.size ? `more than ${descriptor.size}` : String(bytes.length);
    throw new LayoutfsError('DATA_LOSS', `blob ${descriptor.digest}: size ${size}, descriptor says ${descriptor.size}`, { path: file });
  }
  const actual = createHash(digestAlgorithm(descriptor.digest)).update(bytes).digest('hex');
  if (actual !== digestEncoded(descriptor.digest)) {
    throw new LayoutfsError('DATA_LOSS', `blob ${descriptor.digest}: content hashes to ${digestAlgorithm(descriptor.digest)}:${actual}`, { path: file });
  }
  return bytes;
}

/**
 * The blobs of the store at `root` (a real path, checked by openStore). `syncReads`: read
 * manifests and indexes with synchronous calls (see OpenStoreOptions).
 */
export function blobReader(root: string, options: { syncReads?: boolean } = {}): BlobReader {
  const listBlobs = async (algorithm: DigestAlgorithm): Promise<Digest[]> => {
    const dirPath = join(root, 'blobs', algorithm);
    let names: string[];
    try {
      names = await readdir(dirPath);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw storeFileError(err, dirPath, 'blob directory');
    }
    const digests: Digest[] = [];
    for (const name of names) {
      const d = digestOfBlobFile(algorithm, name);
      if (d) digests.push(d);
    }
    return digests;
  };

  const listAllBlobs = async (): Promise<Set<Digest>> => {
    const all = new Set<Digest>();
    for (const alg of ALGORITHMS) for (const d of await listBlobs(alg)) all.add(d);
    return all;
  };

  return {
    root,
    blobFile: (digest) => blobPath(root, digest),
    openBlob: (digest, size) => openBlobFd(blobPath(root, digest), digest, size),
    async readVerified(descriptor, maxBytes = DEFAULT_MAX_DOCUMENT_BYTES) {
      const file = blobPath(root, descriptor.digest);
      if (descriptor.size > maxBytes) {
        throw new LayoutfsError('RESOURCE_EXHAUSTED', `descriptor size ${descriptor.size} is over the limit of ${maxBytes} bytes for a manifest or index`, { path: file });
      }
      // One byte more than the descriptor says, so a longer file is caught without an fstat.
      const bytes = Buffer.allocUnsafe(descriptor.size + 1);
      let length: number;
      try {
        length = options.syncReads ? readSmallSync(file, bytes) : await readSmall(file, bytes);
      } catch (err) {
        throw storeFileError(err, file, 'blob');
      }
      return verifyContent(descriptor, bytes.subarray(0, length), file);
    },
    listBlobs,
    listAllBlobs,
    async listAllBlobsSince(previous) {
      // Adding or removing a blob (a rename into blobs/<alg>/, an unlink) moves the directory's
      // mtime; a tag or rm does not, so a refresh after one lists nothing.
      const now = BigInt(Date.now()) * 1_000_000n;
      const stats = await Promise.all(ALGORITHMS.map((alg) => lstat(join(root, 'blobs', alg), { bigint: true }).catch(() => undefined)));
      const stamp = stats.map((st) => (st ? `${st.ino}:${st.mtimeNs}` : '-')).join(',');
      const settled = stats.every((st) => !st || now - st.mtimeNs > SETTLED_NS);
      if (previous?.settled && previous.stamp === stamp) return previous;
      return { blobs: await listAllBlobs(), stamp, settled };
    },
  };
}
