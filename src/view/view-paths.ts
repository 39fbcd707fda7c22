/** Paths of the tree: no leading `/`, '' is the root. */

/** The directory holding `path` ('' for a top-level name). */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** `name` under directory `dir`. */
export function childPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
