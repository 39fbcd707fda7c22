import { createHash } from 'node:crypto';
import { closeSync, readSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoOf, LayoutfsError } from '../../errors.js';
import { DIGEST_ALGORITHMS, digestAlgorithm, digestEncoded, type Digest, type DigestAlgorithm } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/descriptor.js';
import { blobPathIn, blobRelPath } from './blob-path.js';
import { BlobTable } from './blob-table.js';
import { DIGEST_BYTES } from './sorted-digests.js';
import { loadListing, LISTING_MIN_BLOBS, saveListing } from './listing-file.js';
import { closeFd, readFd } from './fd-io.js';
import { fileMtimes, listDigests } from './file-batch.js';
import { BlobWatch } from './blob-watch.js';
import { openBeneath, openBeneathSync, readInto, readIntoSync, readWholeBeneath, storeFileError, type SafeRoot } from '../safe-open.js';

export { storeFileError } from '../safe-open.js';

/** Manifests and indexes larger than this are refused (the distribution registry's own limit). */
export const DEFAULT_MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** Reads blobs by digest. Every path comes from blob-path.ts, every open refuses symlinks. */
export interface BlobReader {
  readonly root: string;
  /** The root's identity, checked again at every open (safe-open.ts). */
  readonly safeRoot: SafeRoot;
  /**
   * A read-only file descriptor on the blob; the caller closes it. With `size`, a file of
   * another size is refused (a truncated store file must not become a short read).
   */
  openBlob(digest: Digest, size?: number): Promise<number>;
  /** openBlob with blocking calls (export, which serves nothing meanwhile); the caller closes it. */
  openBlobSync(digest: Digest, size?: number): number;
  /** The blob's file size and mtime, through the same safe open (not a path stat that follows symlinks). */
  statBlob(digest: Digest): Promise<{ size: number; mtimeMs: number; ino: number; dev: number }>;
  /** Every blob present, all algorithms. */
  listAllBlobs(): Promise<BlobTable>;
  /** Every blob present, reusing `previous` when no blobs/ directory changed since it was listed. */
  listAllBlobsSince(previous: BlobListing | undefined): Promise<BlobListing>;
  /** The blob's bytes, checked against the descriptor's size and digest. */
  readVerified(descriptor: Descriptor, maxBytes?: number): Promise<Buffer>;
  /** readVerified of many documents at once, each its bytes or its error (a view warming the views a listing shows). */
  readVerifiedMany(descriptors: readonly Descriptor[], maxBytes?: number): Promise<(Buffer | LayoutfsError)[]>;
  /**
   * A blob no descriptor names yet, through one safe open: its file's size and mtime, and its
   * bytes when it may be a manifest or index (a file of at most DEFAULT_MAX_DOCUMENT_BYTES
   * starting with `{`; a layer is read no further than its first byte). Throws when the safe
   * open refuses the file.
   */
  probeBlob(digest: Digest): Promise<BlobProbe>;
  blobFile(digest: Digest): string;
}

export interface BlobProbe {
  size: number;
  mtimeMs: number;
  json: Buffer | undefined;
}

/** A listing of the store's blobs and the state of the directories it was read from. */
export interface BlobListing {
  blobs: BlobTable;
  /** Inode and mtime (ns) of each blobs/<alg>/ directory when listed. */
  stamp: string;
  /** Whether no directory had changed within the last second: only then can the stamp vouch for the listing. */
  settled: boolean;
  /** What came and went since (refreshes only; blob-watch.ts): the next listing applies that. */
  watch?: BlobWatch;
}

/**
 * A directory whose mtime is this recent may change again inside one timestamp tick (ext4's are
 * coarse, a few ms) without its mtime moving: its listing is not reused.
 */
const SETTLED_NS = 1_000_000_000n;
const JSON_OPEN = 0x7b; // `{`

function overDocumentLimit(descriptor: Descriptor, maxBytes: number, file: string): LayoutfsError {
  return new LayoutfsError('RESOURCE_EXHAUSTED', `descriptor size ${descriptor.size} is over the limit of ${maxBytes} bytes for a manifest or index`, { path: file });
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
 * The blobs of the store at `root` (checked by openStore). Every open goes through safe-open.ts.
 * `syncReads`: read manifests and indexes with synchronous calls (see OpenStoreOptions).
 */
export function blobReader(safe: SafeRoot, options: { syncReads?: boolean } = {}): BlobReader {
  const root = safe.path;
  /** The digests under blobs/<algorithm>/ as sorted binary records, or the file names (BlobTable skips temp files and odd names). */
  const blobRecords = async (algorithm: DigestAlgorithm): Promise<Uint8Array | string[]> => {
    const dirPath = join(root, 'blobs', algorithm);
    try {
      return (await listDigests(dirPath, DIGEST_BYTES[algorithm])) ?? await readdir(dirPath);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw storeFileError(err, dirPath, 'blob directory');
    }
  };
  const what = (digest: Digest) => `blob ${digest}`;
  const blobFile = blobPathIn(root);

  /** `table` with the blobs that `names` (from a watch) made or removed: each name is lstat'ed, so what is there now counts. */
  const withNames = async (table: BlobTable, names: readonly { alg: DigestAlgorithm; name: string }[]): Promise<BlobTable> => {
    const came: Record<DigestAlgorithm, string[]> = { sha256: [], sha512: [] };
    const went: Record<DigestAlgorithm, string[]> = { sha256: [], sha512: [] };
    const unique = [...new Map(names.map((n) => [`${n.alg}/${n.name}`, n])).values()];
    const mtimes = await fileMtimes(unique.map((n) => join(root, 'blobs', n.alg, n.name)));
    unique.forEach((n, i) => (Number.isNaN(mtimes[i]) ? went : came)[n.alg].push(n.name));
    return table.withChanges(came, went);
  };

  const listAllBlobs = async (): Promise<BlobTable> => {
    const [sha256, sha512] = await Promise.all(DIGEST_ALGORITHMS.map(blobRecords));
    const table = BlobTable.fromListings({ sha256: sha256!, sha512: sha512! });
    if (!table) throw new LayoutfsError('INTERNAL', 'the native blob listing came back out of order', { path: join(root, 'blobs') });
    return table;
  };

  /** readVerifiedMany: every document in one read (safe-open.ts readWholeBeneath), each checked against its descriptor. */
  const readVerifiedMany = async (descriptors: readonly Descriptor[], maxBytes = DEFAULT_MAX_DOCUMENT_BYTES): Promise<(Buffer | LayoutfsError)[]> => {
    const fits = descriptors.filter((d) => d.size <= maxBytes);
    // One byte more than each descriptor says, so a longer file is caught without an fstat.
    const read = await readWholeBeneath(safe, fits.map((d) => ({ rel: blobRelPath(d.digest), what: what(d.digest), max: d.size + 1 })));
    let k = 0;
    return descriptors.map((d) => {
      const file = blobFile(d.digest);
      if (d.size > maxBytes) return overDocumentLimit(d, maxBytes, file);
      const got = read[k++]!;
      if (got instanceof Error) return got;
      try {
        return verifyContent(d, got, file);
      } catch (err) {
        return err as LayoutfsError;
      }
    });
  };

  return {
    root,
    safeRoot: safe,
    blobFile,
    openBlob: async (digest, size) => (await openBeneath(safe, blobRelPath(digest), what(digest), size)).fd,
    openBlobSync: (digest, size) => openBeneathSync(safe, blobRelPath(digest), what(digest), size).fd,
    async statBlob(digest) {
      const { fd, stat } = await openBeneath(safe, blobRelPath(digest), what(digest));
      await closeFd(fd);
      return stat;
    },
    async readVerified(descriptor, maxBytes = DEFAULT_MAX_DOCUMENT_BYTES) {
      if (!options.syncReads) {
        const [got] = await readVerifiedMany([descriptor], maxBytes);
        if (got instanceof Error) throw got;
        return got!;
      }
      const file = blobFile(descriptor.digest);
      if (descriptor.size > maxBytes) throw overDocumentLimit(descriptor, maxBytes, file);
      // One byte more than the descriptor says, so a longer file is caught without an fstat.
      const bytes = Buffer.allocUnsafe(descriptor.size + 1);
      const fd = openBeneathSync(safe, blobRelPath(descriptor.digest), what(descriptor.digest));
      let length: number;
      try {
        length = readIntoSync(fd.fd, bytes);
      } catch (err) {
        throw storeFileError(err, file, 'blob');
      } finally {
        closeSync(fd.fd);
      }
      return verifyContent(descriptor, bytes.subarray(0, length), file);
    },
    readVerifiedMany,
    async probeBlob(digest) {
      const first = Buffer.alloc(1);
      const fits = (size: number) => size >= 2 && size <= DEFAULT_MAX_DOCUMENT_BYTES;
      if (options.syncReads) {
        const { fd, stat } = openBeneathSync(safe, blobRelPath(digest), what(digest));
        try {
          const probe: BlobProbe = { size: stat.size, mtimeMs: stat.mtimeMs, json: undefined };
          if (!fits(stat.size) || readSync(fd, first, 0, 1, 0) !== 1 || first[0] !== JSON_OPEN) return probe;
          const bytes = Buffer.allocUnsafe(stat.size + 1);
          const n = readIntoSync(fd, bytes);
          return { ...probe, json: n === stat.size ? bytes.subarray(0, n) : undefined };
        } finally {
          closeSync(fd);
        }
      }
      const { fd, stat } = await openBeneath(safe, blobRelPath(digest), what(digest));
      try {
        const probe: BlobProbe = { size: stat.size, mtimeMs: stat.mtimeMs, json: undefined };
        if (!fits(stat.size) || (await readFd(fd, first, 0, 1, 0)).bytesRead !== 1 || first[0] !== JSON_OPEN) return probe;
        const bytes = Buffer.allocUnsafe(stat.size + 1);
        const n = await readInto(fd, bytes);
        return { ...probe, json: n === stat.size ? bytes.subarray(0, n) : undefined };
      } finally {
        await closeFd(fd);
      }
    },
    listAllBlobs,
    async listAllBlobsSince(previous) {
      if (previous?.watch) {
        const drained = previous.watch.drain();
        if (!drained.lost) return drained.names.length === 0 ? previous : { ...previous, blobs: await withNames(previous.blobs, drained.names) };
        previous.watch.close();
      }
      // A refresh watches from now on, from before the listing the watch brings up to date.
      const watch = previous ? BlobWatch.open(root) : undefined;
      // Adding or removing a blob (a rename into blobs/<alg>/, an unlink) moves the directory's
      // mtime; a tag or rm does not, so a refresh after one lists nothing.
      const now = BigInt(Date.now()) * 1_000_000n;
      const stats = await Promise.all(DIGEST_ALGORITHMS.map((alg) => lstat(join(root, 'blobs', alg), { bigint: true }).catch(() => undefined)));
      const stamp = stats.map((st) => (st ? `${st.ino}:${st.mtimeNs}:${st.ctimeNs}` : '-')).join(',');
      const settled = stats.every((st) => !st || (now - st.mtimeNs > SETTLED_NS && now - st.ctimeNs > SETTLED_NS));
      if (previous?.settled && previous.stamp === stamp) return { ...previous, watch };
      if (!previous && settled) {
        const saved = await loadListing(safe, stamp, { sha256: Number(stats[0]?.size ?? 0n), sha512: Number(stats[1]?.size ?? 0n) });
        if (saved) return { blobs: saved, stamp, settled };
      }
      const blobs = await listAllBlobs();
      if (!previous && settled && blobs.size >= LISTING_MIN_BLOBS) await saveListing(root, stamp, blobs);
      return { blobs, stamp, settled, watch };
    },
  };
}
