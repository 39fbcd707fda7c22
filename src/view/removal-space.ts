import { exclusiveBytes } from './census.js';
import type { View } from './view.js';

export interface SpaceReport {
  references: { name: string; totalBytes: number; uniqueBytes: number }[];
  /** Bytes `layoutfs rm` of `removing` would free at the next gc (blobs nothing else holds). */
  removing: string[];
  freedByRemoving: number;
}

/**
 * Per reference, the bytes it reaches (with its referrers) and the bytes only it holds (the
 * holders count every index.json entry, as gc does); and for a set of names, the bytes their removal would free:
 * blobs whose every holder is in the set.
 */
export async function spaceReport(view: View, removing: string[] = []): Promise<SpaceReport> {
  const { named } = view.snapshot;
  const holders = await view.holders();
  const references = [];
  for (const v of named) {
    const holding = await view.holdingOf(v);
    references.push({ name: v.name, totalBytes: holding.bytes, uniqueBytes: exclusiveBytes(holding, holders) });
  }
  // By position in the store's blob table.
  const held = new Map<number, { size: number; bySet: number }>();
  for (const name of removing) {
    const { positions, sizes } = await view.holdingOf(view.referenceNamed(name));
    positions.forEach((p, k) => {
      const h = held.get(p) ?? { size: sizes[k]!, bySet: 0 };
      h.bySet++;
      held.set(p, h);
    });
  }
  let freed = 0;
  for (const [p, h] of held) if (h.bySet === holders.counts[p]) freed += h.size;
  await view.saveClosures();
  return { references, removing, freedByRemoving: freed };
}
