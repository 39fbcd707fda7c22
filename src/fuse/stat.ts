import type { Stat } from 'fuse-native';
import { DIR_MODE, FILE_MODE, type Node } from '../view/nodes.js';

export interface Owner {
  uid: number;
  gid: number;
}

/** The stat fuse-native reports for a view node: read-only modes, real sizes, `blocks` set. */
export function toStat(node: Node, owner: Owner): Stat {
  const size = node.type === 'dir' ? 4096 : node.size;
  const time = new Date(node.mtimeMs);
  return {
    mode: node.type === 'dir' ? DIR_MODE : FILE_MODE,
    uid: owner.uid,
    gid: owner.gid,
    size,
    nlink: node.nlink,
    ino: node.ino,
    blksize: 4096,
    blocks: Math.ceil(size / 512),
    atime: time,
    mtime: time,
    ctime: time,
  };
}
