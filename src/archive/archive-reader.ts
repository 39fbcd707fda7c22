import { LayoutfsError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { closeFd, readFd } from '../store/fd-io.js';
import type { BlobReader } from '../store/store-reader.js';
import type { ArchivePlan, PlannedEntry } from './archive-plan.js';

const CHUNK = 1024 * 1024;

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
 * Bytes [start, end) of the planned archive, produced without producing what comes before:
 * headers and synthetic files from the plan, blob bytes read from the store at the right
 * offset, padding as zeros. A store file that is shorter than its size (vanished, truncated)
 * is an error, never silently short output. With `fds`, blob descriptors are kept there for
 * the next call (a FUSE handle reads an archive in 128 KiB pieces) and the caller closes them.
 */
export async function* readArchiveRange(plan: ArchivePlan, start: number, end: number, blobs: BlobReader,
  fds?: Map<Digest, number>): AsyncGenerator<Buffer> {
  end = Math.min(end, plan.size);
  for (let i = firstEntryAfter(plan.entries, start); i < plan.entries.length && plan.entries[i]!.offset < end; i++) {
    const e = plan.entries[i]!;
    const size = e.content.kind === 'blob' ? e.content.size : e.content.bytes.length;
    const contentStart = e.offset + e.header.length;
    const contentEnd = contentStart + size;
    const from = (a: number) => Math.max(a, start);
    const to = (b: number) => Math.min(b, end);
    if (from(e.offset) < to(contentStart)) yield e.header.subarray(from(e.offset) - e.offset, to(contentStart) - e.offset);
    if (from(contentStart) < to(contentEnd)) {
      if (e.content.kind === 'bytes') {
        yield e.content.bytes.subarray(from(contentStart) - contentStart, to(contentEnd) - contentStart);
      } else {
        const { digest } = e.content;
        let fd = fds?.get(digest);
        if (fd === undefined) {
          fd = await blobs.openBlob(digest, size);
          fds?.set(digest, fd);
        }
        try {
          for (let pos = from(contentStart); pos < to(contentEnd);) {
            const want = Math.min(CHUNK, to(contentEnd) - pos);
            const buf = Buffer.allocUnsafe(want);
            const { bytesRead } = await readFd(fd, buf, 0, want, pos - contentStart);
            if (bytesRead === 0) {
              throw new LayoutfsError('DATA_LOSS', `blob ${digest} ended at ${pos - contentStart} of ${size} bytes while being archived`, { path: blobs.blobFile(digest) });
            }
            yield buf.subarray(0, bytesRead);
            pos += bytesRead;
          }
        } finally {
          if (!fds) await closeFd(fd);
        }
      }
    }
    if (from(contentEnd) < to(e.end)) yield Buffer.alloc(to(e.end) - from(contentEnd));
  }
}
