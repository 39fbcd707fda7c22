import { DIR_MODE, FILE_MODE } from '../view/nodes.js';

export interface Owner {
  uid: number;
  gid: number;
}

/** What a stat needs of a node: view nodes and virtual archives both have it. */
export type StatSource = { type: 'dir'; ino: number; nlink: number; mtimeMs: number }
  | { type: 'file' | 'blob'; ino: number; nlink: number; mtimeMs: number; size: number };

const TWO_32 = 4294967296;

function setDouble(a: Uint32Array, i: number, n: number): void {
  a[i] = n % TWO_32;
  a[i + 1] = (n - a[i]!) / TWO_32;
}

/**
 * The stat of a view node in the wire layout fuse-native's native side reads (18 uint32: mode,
 * uid, gid, size lo/hi, dev, nlink, ino, rdev, blksize, blocks lo/hi, atime, mtime, ctime in ms
 * lo/hi; fuse-native 2.2.6 index.js getStatArray). Built directly, it skips fuse-native's
 * object-with-Dates conversion on the getattr hot path. Read-only modes, real sizes, `blocks` set.
 */
export function statArray(node: StatSource, owner: Owner): Uint32Array {
  const a = new Uint32Array(18);
  const size = node.type === 'dir' ? 4096 : node.size;
  a[0] = node.type === 'dir' ? DIR_MODE : FILE_MODE;
  a[1] = owner.uid;
  a[2] = owner.gid;
  setDouble(a, 3, size);
  a[6] = node.nlink;
  a[7] = node.ino;
  a[9] = 4096;
  setDouble(a, 10, Math.ceil(size / 512));
  setDouble(a, 12, node.mtimeMs);
  setDouble(a, 14, node.mtimeMs);
  setDouble(a, 16, node.mtimeMs);
  return a;
}
