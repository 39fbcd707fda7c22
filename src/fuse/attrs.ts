import { DIR_MODE, modeOf, sizeOf, type Node } from '../view/nodes.js';

export interface Owner {
  uid: number;
  gid: number;
}

/** Fields of one attribute record in the Float64Array the native core reads (native/fuse-core/API.md). */
export const ATTR = { nodeid: 0, generation: 1, entryValid: 2, attrValid: 3, ino: 4, size: 5, blocks: 6, mtimeS: 7,
  mtimeNs: 8, mode: 9, nlink: 10, uid: 11, gid: 12, blksize: 13 } as const;
export const ATTR_LEN = 14;

/**
 * How long the kernel may keep a name and its attributes, by kind of node. Blobs never change
 * (their id is their digest). A view's own files and directories get new ids when the reference
 * moves (node-ids.ts), and every refresh invalidates the names and attributes it changed, so
 * these could be as long; a minute bounds the harm of an invalidation the kernel drops.
 */
const VALID_S = { blob: 365 * 86400, file: 60, dir: 60, archive: 60 } as const;

/** Writes `node`'s attribute record at record `i` of `a`. */
export function writeAttrs(a: Float64Array, i: number, node: Node, owner: Owner): void {
  const o = i * ATTR_LEN;
  const size = sizeOf(node);
  const valid = VALID_S[node.type];
  a[o + ATTR.nodeid] = node.id;
  a[o + ATTR.generation] = 0;
  a[o + ATTR.entryValid] = valid;
  a[o + ATTR.attrValid] = valid;
  a[o + ATTR.ino] = node.id;
  a[o + ATTR.size] = size;
  a[o + ATTR.blocks] = Math.ceil(size / 512);
  a[o + ATTR.mtimeS] = Math.floor(node.mtimeMs / 1000);
  a[o + ATTR.mtimeNs] = Math.floor((node.mtimeMs % 1000) * 1e6);
  a[o + ATTR.mode] = modeOf(node);
  a[o + ATTR.nlink] = node.nlink;
  a[o + ATTR.uid] = owner.uid;
  a[o + ATTR.gid] = owner.gid;
  a[o + ATTR.blksize] = 4096;
}

/** A record for `.` and `..` in readdirplus: no node id, so the kernel takes only the name, inode and type. */
export function writeDotAttrs(a: Float64Array, i: number, id: number): void {
  const o = i * ATTR_LEN;
  a.fill(0, o, o + ATTR_LEN);
  a[o + ATTR.ino] = id;
  a[o + ATTR.mode] = DIR_MODE;
}
