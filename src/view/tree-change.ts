import type { Digest } from '../oci/digest.js';
import { slotKey } from './node-ids.js';
import type { Snapshot } from './snapshot.js';
import { parentPath } from './view-paths.js';

/**
 * What a refresh changed, in the terms of a cache of the tree (the kernel's, behind FUSE): names
 * whose meaning changed under a directory, and nodes whose attributes changed. Ids are those the
 * old state gave out; a directory nobody was given an id for needs nothing.
 */
export interface TreeChange {
  /** `name` under directory `parent` now names something else, or nothing. */
  entries: { parent: number; name: string }[];
  /** Directories whose listing (and so nlink) changed. */
  dirs: number[];
  /** Nodes whose attributes (nlink) changed, content unchanged: blobs. */
  nodes: number[];
  /** Slot keys of directories that are gone: their ids are retired. */
  goneSlotKeys: string[];
}

/**
 * The change from `before` to `after` (the snapshot loaded after it; its delta): views added,
 * removed or pointing at another image, and directories appearing or vanishing with them, each
 * named under its parent (and its virtual archive beside it); `changedBlobs`, whose view count
 * (nlink) moved.
 */
export function treeChange(before: Snapshot, after: Snapshot, changedBlobs: Iterable<Digest>,
  dirIdIn: (path: string, s: Snapshot) => number | undefined, blobId: (digest: Digest) => number): TreeChange {
  const changed = new Set<string>();
  const goneSlotKeys: string[] = [];
  const { delta } = after;
  for (const v of delta.gone) {
    changed.add(v.path);
    goneSlotKeys.push(slotKey(v.path, v.root.digest));
  }
  for (const v of delta.came) changed.add(v.path);
  for (const path of delta.dirsGone) {
    changed.add(path);
    if (!before.views.has(path)) goneSlotKeys.push(slotKey(path, undefined));
  }
  for (const path of delta.dirsCame) changed.add(path);

  const entries: TreeChange['entries'] = [];
  const dirs = new Set<number>();
  const nodes = new Set<number>();
  for (const path of changed) {
    if (path === '') continue;
    const parent = parentPath(path);
    const parentId = dirIdIn(parent, before);
    if (parentId === undefined) continue;
    const name = path.slice(parent === '' ? 0 : parent.length + 1);
    entries.push({ parent: parentId, name }, { parent: parentId, name: `_${name}.tar` });
    dirs.add(parentId);
  }
  for (const digest of changedBlobs) nodes.add(blobId(digest));
  return { entries, dirs: [...dirs], nodes: [...nodes], goneSlotKeys };
}
