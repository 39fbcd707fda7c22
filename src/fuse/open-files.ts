import type { ArchivePlan } from '../archive/archive-plan.js';
import type { Digest } from '../oci/digest.js';
import { DIRECT_FD_FLAG } from './patched-binding.js';

/** Counted handles stay below the direct-read bit, so the two kinds never collide. */
const LAST_COUNTED = 0x3fffffff;

/**
 * What an open FUSE file handle reads from: a store blob's descriptor (read by fuse-native's
 * threads with the patched binding; otherwise by the read operation, with readSync while reads
 * stay fast, `sync`), or synthetic bytes. `stat` is the file's stat at open: the kernel
 * asks for it (fgetattr) near EOF, and the path may be gone from the view by then.
 */
export type OpenFile = ({ kind: 'blob'; fd: number; sync: boolean } | { kind: 'content'; content: Buffer }
  | { kind: 'archive'; plan: ArchivePlan; fds: Map<Digest, number> }) & { stat: Uint32Array };

/**
 * The handle table. Synthetic files keep the bytes they had at open, and blobs keep their store
 * descriptor, so a reader finishes with the bytes it started with even if a refresh (or a gc)
 * happens meanwhile.
 */
export class OpenFiles {
  private readonly files = new Map<number, OpenFile>();
  private next = 1;

  add(file: OpenFile): number {
    while (this.files.has(this.next)) this.next = (this.next % LAST_COUNTED) + 1;
    const fh = this.next;
    this.next = (this.next % LAST_COUNTED) + 1;
    this.files.set(fh, file);
    return fh;
  }

  /**
   * A store blob. With direct reads its handle is the descriptor plus the direct bit, and
   * fuse-native reads it without asking us; otherwise it is a counted handle the read operation
   * serves. Either way release and fgetattr find it here.
   */
  addBlob(fd: number, stat: Uint32Array): number {
    const file: OpenFile = { kind: 'blob', fd, sync: true, stat };
    if (DIRECT_FD_FLAG === 0 || fd >= DIRECT_FD_FLAG) return this.add(file);
    const fh = fd | DIRECT_FD_FLAG;
    this.files.set(fh, file);
    return fh;
  }

  get(fh: number): OpenFile | undefined {
    return this.files.get(fh);
  }

  remove(fh: number): OpenFile | undefined {
    const f = this.files.get(fh);
    this.files.delete(fh);
    return f;
  }
}
