import type { ArchivePlan } from '../archive/archive-plan.js';
import type { Digest } from '../oci/digest.js';

interface NodeBase {
  /** st_ino and the FUSE node id (src/view/node-ids.ts). */
  id: number;
  nlink: number;
  mtimeMs: number;
}

/** A directory; `path` has no leading `/`, '' is the root. */
export interface DirNode extends NodeBase {
  type: 'dir';
  path: string;
}

/** A file made by layoutfs (a view's oci-layout or index.json). */
export interface FileNode extends NodeBase {
  type: 'file';
  path: string;
  size: number;
  content: Buffer;
}

/** A blob of the store shown in a view: same id in every view, read from the store file. */
export interface BlobNode extends NodeBase {
  type: 'blob';
  size: number;
  digest: Digest;
}

/**
 * The archive of a view, beside it (`a/b/_c.tar` for view `a/b/c`), made on the fly from its plan.
 * Not listed by readdir: `du`, `find` and `tar` of the whole tree would count every blob again.
 */
export interface ArchiveNode extends NodeBase {
  type: 'archive';
  path: string;
  size: number;
  plan: ArchivePlan;
}

export type Node = DirNode | FileNode | BlobNode | ArchiveNode;
export type FileLikeNode = FileNode | BlobNode | ArchiveNode;

/** A child of a directory, as readdir lists it. */
export interface DirEntry {
  name: string;
  node: Node;
  /**
   * For a view a listing showed: settles when the view's warming is done (its documents read and
   * blob mtimes learned, a group of views in one read); none when it was not queued.
   */
  warmed?: Promise<void>;
}

export const DIR_MODE = 0o040555;
export const FILE_MODE = 0o100444;

export function modeOf(node: Node): number {
  return node.type === 'dir' ? DIR_MODE : FILE_MODE;
}

/** Bytes a stat reports: directories 4096, files their size. */
export function sizeOf(node: Node): number {
  return node.type === 'dir' ? 4096 : node.size;
}
