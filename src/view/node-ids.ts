import { digestEncoded, type Digest } from '../oci/digest.js';

/**
 * Node ids: one number per node of the tree, used as st_ino and as the FUSE node id. They are
 * computed, not handed out per request, so a file handle the kernel gave away (NFS re-export)
 * still names the same node after the kernel forgot it, and the tables behind them hold only
 * what the store holds. Every id is below 2^53, so it is an exact JavaScript number.
 *
 * - the root: 1.
 * - a blob: 2^52 + the first 52 bits of its digest, the same in every view (a hard link). The
 *   digest is already a uniform hash; two blobs of one store sharing 52 bits are detected at
 *   load and the later one gets a slot id instead (see BlobIds).
 * - everything else: slot * 8 + part. A slot is one directory of the tree (a repository
 *   directory, or a view) and the parts are the view's own files; a view's slot is keyed by its
 *   path AND its root digest, so a reference that moves to another image gets new ids, and
 *   nothing the kernel cached of the old image can be served for the new one.
 */
export const ROOT_ID = 1;
const BLOB_BASE = 2 ** 52;
const PARTS = 8;

export const Part = { dir: 0, blobs: 1, sha256: 2, sha512: 3, indexJson: 4, ociLayout: 5, archive: 6, blob: 7 } as const;
export type Part = (typeof Part)[keyof typeof Part];

export function isBlobSpace(id: number): boolean {
  return id >= BLOB_BASE;
}

/** The computed id of a blob (before collision handling; see BlobIds). */
export function blobSpaceId(digest: Digest): number {
  return BLOB_BASE + parseInt(digestEncoded(digest).slice(0, 13), 16);
}

/** The 52 digest bits a blob-space id is made of. */
export function blobIdPrefix(id: number): number {
  return id - BLOB_BASE;
}

export function slotId(slot: number, part: Part): number {
  return slot * PARTS + part;
}

export function splitSlotId(id: number): { slot: number; part: Part } {
  return { slot: Math.floor(id / PARTS), part: (id % PARTS) as Part };
}

/**
 * Slot numbers by key, stable for as long as the key stays in the store, never reused. Keys leave
 * with the entries that made them (forget), so the table is sized by the store, not by history.
 */
export class SlotTable {
  private readonly byKey = new Map<string, number>();
  private readonly keys = new Map<number, string>();
  private next = 1;

  slot(key: string): number {
    let slot = this.byKey.get(key);
    if (slot === undefined) {
      slot = this.next++;
      this.byKey.set(key, slot);
      this.keys.set(slot, key);
    }
    return slot;
  }

  /** The slot of `key` if it has one already. */
  peek(key: string): number | undefined {
    return this.byKey.get(key);
  }

  keyOf(slot: number): string | undefined {
    return this.keys.get(slot);
  }

  forget(key: string): void {
    const slot = this.byKey.get(key);
    if (slot === undefined) return;
    this.byKey.delete(key);
    this.keys.delete(slot);
  }
}

/** The slot key of a directory: a view's carries its root digest, a plain directory's only its path. */
export function slotKey(path: string, root: Digest | undefined): string {
  return root === undefined ? path : `${path}\0${root}`;
}

export function parseSlotKey(key: string): { path: string; root: Digest | undefined } {
  const nul = key.indexOf('\0');
  return nul < 0 ? { path: key, root: undefined } : { path: key.slice(0, nul), root: key.slice(nul + 1) as Digest };
}
