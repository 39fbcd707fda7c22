import { LRUCache } from 'lru-cache';
import type { View } from '../view/view.js';
import type { ArchivePlan } from './archive-plan.js';
import { planViewArchive } from './view-archive.js';

/**
 * The archive of each view, as a read-only file beside it: view `a/b/c` has `a/b/_c.tar`. View
 * path components never start with `_` (the path mapping encodes it), so the name cannot clash
 * with a view or another archive. Archives are not listed by readdir: `du`, `find` and `tar` of
 * the whole mount would otherwise count every blob again. Reading them costs no temp space.
 */
export interface VirtualArchive {
  ino: number;
  mtimeMs: number;
  plan: ArchivePlan;
}

/** The view path whose archive `path` names, or undefined. */
export function archivedViewPath(path: string): string | undefined {
  const slash = path.lastIndexOf('/');
  const last = path.slice(slash + 1);
  if (!last.startsWith('_') || !last.endsWith('.tar') || last.length < 6) return undefined;
  return (slash < 0 ? '' : path.slice(0, slash + 1)) + last.slice(1, -4);
}

/** Where the archive of view `viewPath` lives. */
export function archivePathOf(viewPath: string): string {
  const slash = viewPath.lastIndexOf('/');
  return `${viewPath.slice(0, slash + 1)}_${viewPath.slice(slash + 1)}.tar`;
}

export class VirtualArchives {
  /** Plans by view path and root digest: a moved reference gets a new plan (and inode). */
  private readonly plans = new LRUCache<string, Promise<ArchivePlan>>({ max: 256 });

  constructor(private readonly view: View) {}

  async lookup(path: string): Promise<VirtualArchive | undefined> {
    const viewPath = archivedViewPath(path);
    const entry = viewPath === undefined ? undefined : this.view.snapshot.views.get(viewPath);
    if (!entry?.name) return undefined;
    const key = `${viewPath}\0${entry.root.digest}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = planViewArchive(this.view, [entry.name]);
      plan.catch(() => this.plans.delete(key));
      this.plans.set(key, plan);
    }
    return { ino: this.view.inodes.get('a:' + key), mtimeMs: this.view.snapshot.indexMtimeMs, plan: await plan };
  }
}
