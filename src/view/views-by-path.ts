import type { Descriptor } from '../oci/descriptor.js';
import { digestAlgorithm, digestEncoded, isDigestAlgorithm, isEncodedDigest, type Digest } from '../oci/digest.js';
import { ViewEntry } from './view-entry.js';

export const DIGESTS_DIR = '_digests';
const DIGESTS_PREFIX = `${DIGESTS_DIR}/`;

/** Where the view of index.json entry `digest` lives: `_digests/<alg>/<hex>`. */
export function digestViewPath(digest: Digest): string {
  return `${DIGESTS_PREFIX}${digestAlgorithm(digest)}/${digestEncoded(digest)}`;
}

/** The view of the entries of `digest` under `_digests/`: `root` (its first entry's descriptor), less the name. */
export function digestView(digest: Digest, root: Descriptor): ViewEntry {
  return new ViewEntry(digestViewPath(digest), undefined, root);
}

/** The digest whose `_digests/` view would live at `path`; undefined for any other path. */
function digestAt(path: string): Digest | undefined {
  if (!path.startsWith(DIGESTS_PREFIX)) return undefined;
  const slash = path.indexOf('/', DIGESTS_PREFIX.length);
  const alg = path.slice(DIGESTS_PREFIX.length, slash);
  const hex = path.slice(slash + 1);
  return slash >= 0 && isDigestAlgorithm(alg) && isEncodedDigest(alg, hex) ? (`${alg}:${hex}` as Digest) : undefined;
}

/**
 * Every view of one store state, by path. Named and platform views are kept; a `_digests/` view
 * is made when asked for, from its digest's descriptor, since most readers never look at one: ls
 * and du count roots, not views, and a mount is asked for the few a walk reaches. Keeping them
 * was half the views (one per distinct index.json digest), each with its path string. The map of
 * kept views by path is built on the first lookup (ls never looks one up).
 * Iteration gives named views, then `_digests/` views, then platform views (the order they were
 * kept in before: the closures file lists roots in it).
 */
export class ViewsByPath implements ReadonlyMap<string, ViewEntry> {
  private keptByPath: Map<string, ViewEntry> | undefined;
  private readonly platformCount: number;

  constructor(
    /** Named views, in index.json order. */
    private readonly named: readonly ViewEntry[],
    /** Platform views, by the path of their named view. */
    private readonly platforms: ReadonlyMap<string, readonly ViewEntry[]>,
    /** For each digest of a valid index.json entry, its first entry's descriptor: what its `_digests/` view shows. */
    readonly digestRoots: ReadonlyMap<Digest, Descriptor>,
    /** The named and platform views by path, when the caller made that map already. */
    kept?: Map<string, ViewEntry>,
  ) {
    this.keptByPath = kept;
    let count = 0;
    for (const list of platforms.values()) count += list.length;
    this.platformCount = count;
  }

  /** Named and platform views by path. */
  get kept(): ReadonlyMap<string, ViewEntry> {
    if (!this.keptByPath) {
      this.keptByPath = new Map();
      for (const v of this.named) this.keptByPath.set(v.path, v);
      for (const list of this.platforms.values()) for (const v of list) this.keptByPath.set(v.path, v);
    }
    return this.keptByPath;
  }

  get size(): number {
    return this.named.length + this.platformCount + this.digestRoots.size;
  }

  get(path: string): ViewEntry | undefined {
    const kept = this.kept.get(path);
    if (kept) return kept;
    const digest = digestAt(path);
    const root = digest && this.digestRoots.get(digest);
    return root ? digestView(digest, root) : undefined;
  }

  has(path: string): boolean {
    if (this.kept.has(path)) return true;
    const digest = digestAt(path);
    return digest !== undefined && this.digestRoots.has(digest);
  }

  *values(): MapIterator<ViewEntry> {
    yield* this.named;
    for (const [digest, root] of this.digestRoots) yield digestView(digest, root);
    for (const list of this.platforms.values()) yield* list;
  }

  *keys(): MapIterator<string> {
    for (const v of this.values()) yield v.path;
  }

  *entries(): MapIterator<[string, ViewEntry]> {
    for (const v of this.values()) yield [v.path, v];
  }

  [Symbol.iterator](): MapIterator<[string, ViewEntry]> {
    return this.entries();
  }

  forEach(callback: (value: ViewEntry, key: string, map: ReadonlyMap<string, ViewEntry>) => void, thisArg?: unknown): void {
    for (const v of this.values()) callback.call(thisArg, v, v.path, this);
  }
}
