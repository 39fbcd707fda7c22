import type { ArchivePlan } from '../archive/archive-plan.js';
import { readArchiveInto } from '../archive/archive-reader.js';
import { LayoutfsError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { closeFd, readFd } from '../store/blobs/fd-io.js';
import type { BlobReader } from '../store/blobs/blob-reader.js';
import type { FileLikeNode } from './nodes.js';

/**
 * An open file of the tree, read at any offset: a blob's store file, synthetic bytes, or a
 * virtual archive. What the adapters read through; they never touch store files themselves.
 */
export interface ByteReader {
  readonly size: number;
  /** Fills `buf[offset, offset + length)` from file position `pos`; fewer bytes only at the end of the file. */
  read(buf: Buffer, offset: number, length: number, pos: number): Promise<number>;
  close(): Promise<void>;
}

function bytesReader(bytes: Buffer): ByteReader {
  return {
    size: bytes.length,
    read: (buf, offset, length, pos) => Promise.resolve(pos >= bytes.length ? 0 : bytes.copy(buf, offset, pos, Math.min(bytes.length, pos + length))),
    close: () => Promise.resolve(),
  };
}

function blobReader(fd: number, size: number, digest: Digest, file: string): ByteReader {
  return {
    size,
    async read(buf, offset, length, pos) {
      const want = Math.min(length, size - pos);
      let n = 0;
      while (n < want) {
        const { bytesRead } = await readFd(fd, buf, offset + n, want - n, pos + n);
        if (bytesRead === 0) throw new LayoutfsError('DATA_LOSS', `blob ${digest} ended at byte ${pos + n}, before ${size}`, { path: file });
        n += bytesRead;
      }
      return n;
    },
    close: () => closeFd(fd),
  };
}

/**
 * A virtual archive. Blob descriptors stay open between reads (the kernel reads a file in pieces,
 * several at once with readahead) and are closed once reading has passed their entry, when no
 * read is in flight: an archive of 50 layers never holds 50 descriptors.
 */
function archiveReader(plan: ArchivePlan, blobs: BlobReader): ByteReader {
  const fds = new Map<Digest, number>();
  const entryEnd = new Map(plan.entries.flatMap((e) => (e.content.kind === 'blob' ? [[e.content.digest, e.end] as const] : [])));
  let inFlight = 0;
  let closed = false;
  const closeAll = async (keep: (digest: Digest) => boolean) => {
    const closing: Promise<void>[] = [];
    for (const [digest, fd] of fds) {
      if (keep(digest)) continue;
      fds.delete(digest);
      closing.push(closeFd(fd).catch(() => undefined));
    }
    await Promise.all(closing);
  };
  return {
    size: plan.size,
    async read(buf, offset, length, pos) {
      if (closed) throw new LayoutfsError('FAILED_PRECONDITION', 'read of a closed archive');
      inFlight++;
      let n: number;
      try {
        n = await readArchiveInto(plan, pos, offset === 0 ? buf : buf.subarray(offset), length, blobs, fds);
      } finally {
        inFlight--;
      }
      const reached = pos + n;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may have run during the await
      if (closed) await closeAll(() => false);
      else if (inFlight === 0) await closeAll((digest) => entryEnd.get(digest)! > reached);
      return n;
    },
    async close() {
      closed = true;
      await closeAll(() => false);
    },
  };
}

export async function openReader(node: FileLikeNode, store: BlobReader): Promise<ByteReader> {
  switch (node.type) {
    case 'file':
      return bytesReader(node.content);
    case 'archive':
      return archiveReader(node.plan, store);
    case 'blob':
      return blobReader(await store.openBlob(node.digest, node.size), node.size, node.digest, store.blobFile(node.digest));
  }
}
