import { LRUCache } from 'lru-cache';
import { planArchive, type ArchivePlan } from '../archive/archive-plan.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Closure, DocumentReader } from '../store/graph/closure.js';

/**
 * The archive of each view, as a read-only file beside it: view `a/b/c` has `a/b/_c.tar`. View
 * path components never start with `_` (the path mapping encodes it), so the name cannot clash
 * with a view or another archive. Reading them costs no temp space.
 */

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

/** Archive plans of views, by view path and root digest: a moved reference gets a new plan. */
export class VirtualArchives {
  private readonly plans = new LRUCache<string, Promise<ArchivePlan>>({ max: 256 });

  constructor(private readonly docs: DocumentReader, private readonly closureOf: (root: Descriptor) => Promise<Closure>) {}

  plan(viewPath: string, name: string, root: Descriptor): Promise<ArchivePlan> {
    const key = `${viewPath}\0${root.digest}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = planArchive([{ name, root }], this.docs, this.closureOf);
      plan.catch(() => this.plans.delete(key));
      this.plans.set(key, plan);
    }
    return plan;
  }
}
