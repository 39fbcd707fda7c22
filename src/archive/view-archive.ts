import { LayoutfsError } from '../errors.js';
import { computeClosure } from '../store/closure.js';
import type { View } from '../view/view.js';
import { planArchive, type ArchivePlan, type PlanOptions } from './archive-plan.js';

/** The archive plan of named references of a view's store (one or several: the air-gap bundle). */
export async function planViewArchive(view: View, names: string[], options: PlanOptions = {}): Promise<ArchivePlan> {
  const snapshot = view.snapshot;
  const images = names.map((name) => {
    const v = snapshot.named.find((n) => n.name === name);
    if (!v) throw new LayoutfsError('NOT_FOUND', `no reference named ${JSON.stringify(name)} in the store (see layoutfs ls)`, { path: view.store.root });
    return { name, root: v.root };
  });
  return planArchive(images, view.cache, (root) => computeClosure(root, view.cache, snapshot.present, view.store), options);
}
