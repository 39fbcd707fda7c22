import { LayoutfsError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { closeFd, readFd } from '../store/blobs/fd-io.js';
import type { BlobReader } from '../store/blobs/blob-reader.js';
import type { ArchivePlan, PlannedEntry } from './archive-plan.js';

/** Index of the first entry that ends after `pos` (entries are sorted and contiguous). */
function firstEntryAfter(entries: PlannedEntry[], pos: number): number {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid]!.end > pos) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Fills `buf[0, len)` with bytes [start, start + len) of the planned archive, fewer at its end,
 * and resolves with the count: headers and synthetic files from the plan, blob bytes read from
 * the store straight into `buf`, padding as zeros; nothing before `start` is produced. A store
 * file shorter than its size (vanished, truncated) is an error, never a short result. Blob
 * descriptors are kept in `fds` for the next call (a FUSE handle reads an archive in 128 KiB
 * pieces); the caller closes them.
 */
export async function readArchiveInto(plan: ArchivePlan, start: number, buf: Buffer, len: number, blobs: BlobReader,
  fds: Map<Digest, number>): Promise<number> {
  const end = Math.min(start + len, plan.size);
  let n = 0;
  for (let i = firstEntryAfter(plan.entries, start); i < plan.entries.length && plan.entries[i]!.offset < end; i++) {
    const e = plan.entries[i]!;
    const size = e.content.kind === 'blob' ? e.content.size : e.content.bytes.length;
    const contentStart = e.offset + e.header.length;
    const contentEnd = contentStart + size;
    const from = (a: number) => Math.max(a, start);
    const to = (b: number) => Math.min(b, end);
    if (from(e.offset) < to(contentStart)) n += e.header.copy(buf, n, from(e.offset) - e.offset, to(contentStart) - e.offset);
    if (from(contentStart) < to(contentEnd)) {
      if (e.content.kind === 'bytes') {
        n += e.content.bytes.copy(buf, n, from(contentStart) - contentStart, to(contentEnd) - contentStart);
      } else {
        const { digest } = e.content;
        let fd = fds.get(digest);
        if (fd === undefined) {
          const opened = await blobs.openBlob(digest, size);
          // The kernel reads one handle concurrently (readahead): another read may have opened it meanwhile.
          fd = fds.get(digest);
          if (fd === undefined) fds.set(digest, (fd = opened));
          else await closeFd(opened);
        }
        for (let pos = from(contentStart); pos < to(contentEnd);) {
          const { bytesRead } = await readFd(fd, buf, n, to(contentEnd) - pos, pos - contentStart);
          if (bytesRead === 0) {
            throw new LayoutfsError('DATA_LOSS', `blob ${digest} ended at ${pos - contentStart} of ${size} bytes while being archived`, { path: blobs.blobFile(digest) });
          }
          n += bytesRead;
          pos += bytesRead;
        }
      }
    }
    if (from(contentEnd) < to(e.end)) {
      buf.fill(0, n, n + to(e.end) - from(contentEnd));
      n += to(e.end) - from(contentEnd);
    }
  }
  return n;
}
