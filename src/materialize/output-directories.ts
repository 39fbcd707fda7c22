import { lstatSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoOf, LayoutfsError } from '../errors.js';

/**
 * How many checked store files, and how many output directories, a run remembers; past that it
 * starts afresh. A first run of 50,000 views would otherwise hold some 500,000 and 200,000.
 */
export const REMEMBERED = 65_536;

/** Splits a relative path into its components, or undefined when one is empty, `.` or `..`. */
function components(rel: string): string[] | undefined {
  const parts = rel.split('/');
  return parts.some((p) => p === '' || p === '.' || p === '..') ? undefined : parts;
}

/**
 * The directories materialize owns under OUTDIR: only real ones (lstat, never followed). A
 * symlink anywhere from OUTDIR down means the path is not ours, and nothing under it is written
 * or removed. Directories made or checked while writing are remembered (up to REMEMBERED): 50,000
 * views share a few thousand repositories.
 */
export class OutputDirectories {
  private readonly known = new Set<string>();

  /** `changed` collects the directories whose entries this run changed, for makeDurable. */
  constructor(readonly out: string, private readonly changed: Set<string>) {}

  /** Whether every component from OUTDIR down to `rel` is a real directory (checked now, not remembered). */
  isOwn(rel: string): boolean {
    const parts = components(rel);
    if (!parts) return false;
    let d = this.out;
    for (const part of parts) {
      d = join(d, part);
      let isDir: boolean;
      try {
        isDir = lstatSync(d).isDirectory();
      } catch {
        return false;
      }
      if (!isDir) return false;
    }
    return true;
  }

  /**
   * Makes `rel` and the directories on the way to it, refusing to go through anything that is
   * not a real directory. Returns whether `rel` itself was made (it held nothing before).
   */
  make(rel: string): boolean {
    const parts = components(rel);
    if (!parts) throw new LayoutfsError('INVALID_ARGUMENT', `not a path under the output directory: ${JSON.stringify(rel)}`, { path: this.out });
    let d = this.out;
    let made = false;
    for (const part of parts) {
      d = join(d, part);
      if (this.known.has(d)) continue;
      try {
        mkdirSync(d);
        made = true;
        this.changed.add(dirname(d));
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
        made = false;
        if (!lstatSync(d).isDirectory()) {
          throw new LayoutfsError('FAILED_PRECONDITION', 'is a symlink or not a directory: materialize never writes through one', { path: d });
        }
      }
      if (this.known.size >= REMEMBERED) this.known.clear();
      this.known.add(d);
    }
    return made;
  }
}
