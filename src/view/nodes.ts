import type { Digest } from '../oci/digest.js';

interface NodeBase {
  ino: number;
  nlink: number;
  mtimeMs: number;
}

export interface DirNode extends NodeBase {
  type: 'dir';
}

/** A file made by layoutfs (a view's oci-layout or index.json). */
export interface FileNode extends NodeBase {
  type: 'file';
  size: number;
  content: Buffer;
}

/** A blob of the store shown in a view: same inode in every view, read from the store file. */
export interface BlobNode extends NodeBase {
  type: 'blob';
  size: number;
  digest: Digest;
}

export type Node = DirNode | FileNode | BlobNode;

export const DIR_MODE = 0o040555;
export const FILE_MODE = 0o100444;
