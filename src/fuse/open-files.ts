import type { ByteReader } from '../view/open-file.js';
import type { Node } from '../view/nodes.js';

/** Handles below the native core's blob handles (which start at 2^52), so the two never collide. */
const LAST_HANDLE = 2 ** 52 - 1;

/**
 * Open files JavaScript reads (synthetic files and virtual archives; blobs are the native
 * side's). Each keeps the reader and the node it was opened from: a reader finishes with the
 * bytes it started with even if a refresh (or a gc) comes meanwhile, and the kernel's getattr of
 * an open file is answered from it.
 */
export class OpenFiles {
  private readonly files = new Map<number, { reader: ByteReader; node: Node }>();
  private next = 1;

  add(reader: ByteReader, node: Node): number {
    while (this.files.has(this.next)) this.next = (this.next % LAST_HANDLE) + 1;
    const fh = this.next;
    this.next = (this.next % LAST_HANDLE) + 1;
    this.files.set(fh, { reader, node });
    return fh;
  }

  get(fh: number): { reader: ByteReader; node: Node } | undefined {
    return this.files.get(fh);
  }

  /** The node an open file of id `id` was opened from (a getattr of a file gone from the store while open). */
  nodeOf(id: number): Node | undefined {
    for (const f of this.files.values()) if (f.node.id === id) return f.node;
    return undefined;
  }

  remove(fh: number): ByteReader | undefined {
    const f = this.files.get(fh);
    this.files.delete(fh);
    return f?.reader;
  }
}
