/**
 * Reachability over a content graph, written once for view closures, gc marking, fsck and export.
 * `childrenOf` returns the children of a node (or undefined when the node is a leaf or cannot be
 * read); it is awaited so callers may read manifests lazily. Each node is visited once; a walk
 * that goes on from new roots later (gc's referrers) passes the `seen` of the earlier one.
 */
export async function reachable<K>(
  roots: Iterable<K>,
  childrenOf: (node: K) => Promise<Iterable<K> | undefined> | Iterable<K> | undefined,
  seen = new Set<K>(),
): Promise<Set<K>> {
  const stack: K[] = [];
  for (const r of roots) {
    if (!seen.has(r)) {
      seen.add(r);
      stack.push(r);
    }
  }
  while (stack.length > 0) {
    const node = stack.pop()!;
    const children = await childrenOf(node);
    if (!children) continue;
    for (const c of children) {
      if (!seen.has(c)) {
        seen.add(c);
        stack.push(c);
      }
    }
  }
  return seen;
}
