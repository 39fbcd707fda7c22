import type { Descriptor } from '../oci/descriptor.js';
import { digestAlgorithm, digestEncoded, type Digest } from '../oci/digest.js';
import type { Finding } from '../store/findings.js';
import type { IndexFile } from '../store/index/index-model.js';
import { DirChildren } from './dir-children.js';
import { LayeredMap } from './layered-map.js';
import { referenceTable, referenceTableAfter, type ReferenceTable, type TableChange } from '../store/index/reference-table.js';
import { spliced } from '../store/index/spliced.js';
import type { BlobListing } from '../store/blobs/blob-reader.js';
import type { BlobTable } from '../store/blobs/blob-table.js';
import type { DocumentReader } from '../store/graph/closure.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import { isRealPlatform, normalizePlatform, platformDirName } from '../oci/platform.js';
import type { StoreReader } from '../store/store-reader.js';
import { viewIndexJson } from './index-json.js';
import { ViewEntry, type NamedView } from './view-entry.js';
import { parentPath } from './view-paths.js';
import { DIGESTS_DIR, digestView, ViewsByPath } from './views-by-path.js';

/** `_platforms/<os-arch[-variant]>/<view path>/`: one single-manifest view per platform of each multi-platform reference. */
export const PLATFORMS_DIR = '_platforms';
const PLATFORM_CONCURRENCY = 16;

/** A directory that exists because of view paths (the root, repositories, `_digests/...`). */
export interface DirEntry {
  /** Sorted child names. */
  children: readonly string[];
  /** Subdirectory count, for nlink. */
  subdirs: number;
}

/**
 * Everything the view knows about one state of the store, built whole and then swapped in, so a
 * reader sees the old state or the new one, never a mix.
 */
export interface Snapshot {
  generation: number;
  loadedAt: number;
  /** index.json as read: the next refresh parses only the entries that differ from it. */
  index: IndexFile;
  /** Its entries named (reference-table.ts): the next refresh names only the entries that changed. */
  table: ReferenceTable;
  /**
   * How many valid entries have each digest as their root, for the digests more than one has (a
   * `_digests/` view goes with the last); the others have one, their `views.digestRoots` entry.
   */
  repeatedRoots: Map<Digest, number>;
  /** Every view by path (`_digests/` ones made when asked for). */
  views: ViewsByPath;
  /** Named views in index.json order. */
  named: NamedView[];
  /** Named views by reference name. */
  byName: Map<string, NamedView>;
  /**
   * index.json entries that are no named view (unnamed, unmappable, later duplicates of a
   * name): gc keeps what they reach, so they hold blobs like references do.
   */
  otherRoots: Digest[];
  /**
   * Directories made by view paths, by path ('' is the root): repositories, `_digests/...`, and
   * view directories that are also parents of other views (`foo` and `foo/bar:1`). Built on first
   * use: ls, du and materialize never walk the tree.
   */
  dirs(): ReadonlyMap<string, DirEntry>;
  /** The directories if built already (a refresh moves them; no one was shown any otherwise). */
  builtDirs(): ReadonlyMap<string, DirEntry> | undefined;
  /** Blobs in the store, by digest (one readdir per algorithm, when a blobs/ directory changed). */
  present: BlobTable;
  blobListing: BlobListing;
  findings: Finding[];
  /** Platform views by the path of their named view (only multi-platform references have any). */
  platformsOf: Map<string, ViewEntry[]>;
  /** What changed since the snapshot this one was loaded after; nothing, for a first load (no one compares with it). */
  delta: SnapshotDelta;
}

/** Views, directories and blobs that came or went between two snapshots (a view pointing elsewhere is both). */
export interface SnapshotDelta {
  /** Views of the previous snapshot no longer here as they were. */
  gone: ViewEntry[];
  /** Views new in this snapshot (or pointing at another root). */
  came: ViewEntry[];
  dirsGone: string[];
  dirsCame: string[];
  /** Blobs of the previous snapshot's listing not in this one. */
  blobsGone: Digest[];
  /** Blobs of this listing not in the previous one. */
  blobsCame: Digest[];
}

function emptyDelta(): SnapshotDelta {
  return { gone: [], came: [], dirsGone: [], dirsCame: [], blobsGone: [], blobsCame: [] };
}

/**
 * The platform views of the named multi-platform references: for each index root, each of its
 * manifests with a real platform (not `unknown/unknown` attestations) under
 * `_platforms/<platform>/<view path>`, with the reference's names. The indexes are read through
 * `docs` (the view's metadata cache), 16 at a time; references whose root is a manifest cost nothing.
 */
async function platformViews(named: readonly ViewEntry[], present: ReadonlySet<Digest>, docs: DocumentReader): Promise<Map<string, ViewEntry[]>> {
  const indexes = named.filter((v) => isIndexType(v.root.mediaType) && present.has(v.root.digest));
  const out: ViewEntry[][] = [];
  let next = 0;
  const worker = async () => {
    while (next < indexes.length) {
      const i = next++;
      const v = indexes[i]!;
      const doc = await docs.readDocument(v.root).catch(() => undefined);
      const seen = new Set<string>();
      out[i] = [];
      for (const child of doc?.children ?? []) {
        if (!isRealPlatform(child.platform) || !isManifestType(child.mediaType)) continue;
        const dir = platformDirName(normalizePlatform(child.platform));
        // The first manifest of a platform wins, as containerd picks it.
        if (!/^[a-z0-9._-]+$/.test(dir) || seen.has(dir)) continue;
        seen.add(dir);
        out[i].push(new ViewEntry(`${PLATFORMS_DIR}/${dir}/${v.path}`, v.name, child, dir));
      }
    }
  };
  await Promise.all(Array.from({ length: PLATFORM_CONCURRENCY }, worker));
  const byView = new Map<string, ViewEntry[]>();
  out.forEach((list, i) => list.length > 0 && byView.set(indexes[i]!.path, list));
  return byView;
}

/** Whether two parsed JSON values are equal (no prototypes or symbols to weigh, unlike util.isDeepStrictEqual, 3x slower here). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

/** Whether `root` shows as `old` does (same digest, same descriptor fields). */
function sameRoot(old: Descriptor, root: Descriptor): boolean {
  return old === root || (old.digest === root.digest && sameJson(old.raw, root.raw));
}

/** A kept view of `previous` still right for `name` and `root`, or a new one: unchanged entries keep their objects. */
function viewFor(previous: Snapshot | undefined, path: string, name: string, root: Descriptor): NamedView {
  const old = previous?.views.kept.get(path);
  if (old?.name === name && sameRoot(old.root, root)) return old as NamedView;
  return new ViewEntry(path, name, root) as NamedView;
}

/**
 * The directories of `views`: every ancestor of a view path. After `previous`, only the parents
 * of paths that came or went are touched (one tag in 50,000 does not rebuild 50,000 listings).
 */
function directories(views: ViewsByPath, previous: ReadonlyMap<string, DirEntry> | undefined, delta: SnapshotDelta): Map<string, DirEntry> {
  const touched = new Map<string, DirChildren>();
  // Layered over the previous snapshot's, which nothing changes any more: a copy was 30-60 ms at 100k.
  const dirs: Map<string, DirEntry> = previous ? new LayeredMap(previous) : new Map([['', { children: [], subdirs: 0 }]]);
  const childrenOf = (path: string) => {
    let set = touched.get(path);
    if (!set) {
      const d = dirs.get(path);
      if (!d) return undefined;
      touched.set(path, (set = new DirChildren(d.children)));
    }
    return set;
  };
  for (const v of delta.gone) {
    for (let child = v.path; child !== '' && !views.has(child) && !(childrenOf(child)?.size);) {
      const parent = parentPath(child);
      childrenOf(parent)!.delete(child.slice(parent === '' ? 0 : parent.length + 1));
      child = parent;
    }
  }
  for (const v of delta.came) {
    for (let child = v.path; child !== '';) {
      const parent = parentPath(child);
      let set = childrenOf(parent);
      // A directory emptied above was unlinked from its own parent: link it again too.
      const linked = parent === '' || (set !== undefined && set.size > 0);
      if (!set) touched.set(parent, (set = new DirChildren()));
      set.add(child.slice(parent === '' ? 0 : parent.length + 1));
      if (linked) break;
      child = parent;
    }
  }
  for (const [path, set] of touched) {
    if (set.size === 0 && path !== '') {
      if (dirs.delete(path)) delta.dirsGone.push(path);
      continue;
    }
    if (!dirs.has(path)) delta.dirsCame.push(path);
    const children = set.sorted();
    dirs.set(path, { children, subdirs: children.length });
  }
  return dirs;
}

/**
 * Every directory of `views`: those of the named and platform views by their paths, and
 * `_digests/<alg>/` listed straight from the digests (a path and a view made for each to be taken
 * apart again made the first listing of a 50,000-reference mount 0.27 s slower).
 */
function allDirectories(views: ViewsByPath): Map<string, DirEntry> {
  const dirs = directories(views, undefined, { ...emptyDelta(), came: [...views.kept.values()] });
  const byAlgorithm = new Map<string, string[]>();
  for (const digest of views.digestRoots.keys()) {
    const alg = digestAlgorithm(digest);
    let list = byAlgorithm.get(alg);
    if (!list) byAlgorithm.set(alg, (list = []));
    list.push(digestEncoded(digest));
  }
  if (byAlgorithm.size === 0) return dirs;
  for (const [alg, children] of byAlgorithm) dirs.set(`${DIGESTS_DIR}/${alg}`, { children: children.sort(), subdirs: children.length });
  const algorithms = [...byAlgorithm.keys()].sort();
  dirs.set(DIGESTS_DIR, { children: algorithms, subdirs: algorithms.length });
  const root = [...dirs.get('')!.children, DIGESTS_DIR].sort();
  dirs.set('', { children: root, subdirs: root.length });
  return dirs;
}

/**
 * The directories of `views`, `built` or built whole on first use. Its own function, so the
 * closures hold only these two (one made inside loadSnapshot would keep the previous snapshot alive).
 */
function lazyDirectories(views: ViewsByPath, built: Map<string, DirEntry> | undefined): Pick<Snapshot, 'dirs' | 'builtDirs'> {
  let dirs = built;
  return {
    dirs: () => (dirs ??= allDirectories(views)),
    builtDirs: () => dirs,
  };
}

/** What loadSnapshot builds of the views, either way. */
type Views = Pick<Snapshot, 'views' | 'named' | 'byName' | 'platformsOf' | 'repeatedRoots' | 'otherRoots'>;

/**
 * Every view of `table`, each kept from `previous` when its entry did not change; what came and
 * went goes to `delta` (a first load has nothing before it). Platform views of unchanged
 * references are kept while the store's blobs are (an index root arriving adds some).
 */
async function allViews(index: IndexFile, table: ReferenceTable, previous: Snapshot | undefined, present: BlobTable,
  docs: DocumentReader | undefined, delta: SnapshotDelta): Promise<Views> {
  const named: NamedView[] = [];
  const byName = new Map<string, NamedView>();
  const repeatedRoots = new Map<Digest, number>();
  const digestRoots = new Map<Digest, Descriptor>();
  const before = previous?.views;
  for (const n of table.named) {
    const v = viewFor(previous, n.viewPath, n.name, n.descriptor);
    named.push(v);
    byName.set(n.name, v);
  }
  for (const { descriptor } of index.valid) {
    const { digest } = descriptor;
    if (digestRoots.has(digest)) {
      repeatedRoots.set(digest, (repeatedRoots.get(digest) ?? 1) + 1);
      continue;
    }
    const old = before?.digestRoots.get(digest);
    digestRoots.set(digest, old && sameRoot(old, descriptor) ? old : descriptor);
  }
  const platformsOf = new Map<string, ViewEntry[]>();
  const samePresence = previous?.present === present;
  const fresh = named.filter((v) => !samePresence || before!.kept.get(v.path) !== v);
  if (docs) for (const [path, list] of await platformViews(fresh, present, docs)) platformsOf.set(path, list);
  if (samePresence) {
    for (const v of named) {
      const list = previous.platformsOf.get(v.path);
      if (list && before!.kept.get(v.path) === v) platformsOf.set(v.path, list);
    }
  }
  const views = new ViewsByPath(named, platformsOf, digestRoots);
  if (before) {
    const { kept } = views;
    for (const [path, v] of before.kept) if (kept.get(path) !== v) delta.gone.push(v);
    for (const [path, v] of kept) if (before.kept.get(path) !== v) delta.came.push(v);
    // A digest's root object is kept while it shows the same: another object is another view.
    for (const [digest, root] of before.digestRoots) if (digestRoots.get(digest) !== root) delta.gone.push(digestView(digest, root));
    for (const [digest, root] of digestRoots) if (before.digestRoots.get(digest) !== root) delta.came.push(digestView(digest, root));
  }
  // The named entries are some of the valid ones, both in index order: one walk finds the others.
  const otherRoots: Digest[] = [];
  let w = 0;
  for (const e of index.valid) {
    if (table.named[w]?.position === e.position) w++;
    else otherRoots.push(e.descriptor.digest);
  }
  return { views, named, byName, platformsOf, repeatedRoots, otherRoots };
}

/**
 * The views after `change` to `previous`'s entries, made from `previous`'s at the cost of the
 * change: the maps are copied, the views of the entries that went are dropped and those of the
 * entries that came are made. Undefined where that could differ from allViews: a `_digests/`
 * view whose first entry may now be another that shows differently (it shows its first entry's
 * descriptor, less the name).
 */
async function viewsAfter(index: IndexFile, change: TableChange, previous: Snapshot, present: BlobTable, docs: DocumentReader | undefined,
  delta: SnapshotDelta): Promise<Views | undefined> {
  // Layers over the previous snapshot's maps, which nothing changes any more.
  const kept = new LayeredMap(previous.views.kept);
  const digestRoots = new LayeredMap(previous.views.digestRoots);
  const byName = new LayeredMap(previous.byName);
  const platformsOf = new LayeredMap(previous.platformsOf);
  const repeatedRoots = new LayeredMap(previous.repeatedRoots);
  const countOf = (digest: Digest) => repeatedRoots.get(digest) ?? (digestRoots.has(digest) ? 1 : 0);
  const setCount = (digest: Digest, count: number) => (count > 1 ? repeatedRoots.set(digest, count) : repeatedRoots.delete(digest));
  const gone = new Set<ViewEntry>();
  const came: ViewEntry[] = [];
  const drop = (v: ViewEntry) => {
    kept.delete(v.path);
    gone.add(v);
  };
  const place = (v: ViewEntry) => {
    kept.set(v.path, v);
    if (!gone.delete(v)) came.push(v);
  };
  // `_digests/` views whose digest lost its last entry, by the root they showed: one that comes back the same is no change.
  const digestsGone = new Map<Digest, Descriptor>();
  const digestsCame: Digest[] = [];
  const shows = (root: Descriptor) => viewIndexJson(root, undefined);
  for (const e of change.validGone) {
    const { digest } = e.descriptor;
    const count = countOf(digest) - 1;
    const root = previous.views.digestRoots.get(digest)!;
    setCount(digest, count);
    if (count > 0) {
      // Still shown, through its first entry: if the one that went showed the same, which is first now is unknown.
      if (shows(root).equals(shows(e.descriptor))) return undefined;
    } else {
      digestRoots.delete(digest);
      digestsGone.set(digest, root);
    }
  }
  for (const v of previous.named.slice(change.named.from, change.named.to)) {
    byName.delete(v.name);
    drop(v);
    for (const p of platformsOf.get(v.path) ?? []) drop(p);
    platformsOf.delete(v.path);
  }
  // Entries that came after all the others are never the first of their digest.
  const appended = index.changed!.to === previous.index.entries.length;
  for (const e of change.validCame) {
    const { digest } = e.descriptor;
    const count = countOf(digest);
    setCount(digest, count + 1);
    if (count === 0) {
      const was = digestsGone.get(digest);
      if (was && sameRoot(was, e.descriptor)) {
        digestsGone.delete(digest);
        digestRoots.set(digest, was);
      } else {
        digestRoots.set(digest, e.descriptor);
        digestsCame.push(digest);
      }
    } else if (!appended && !shows(digestRoots.get(digest)!).equals(shows(e.descriptor))) return undefined;
  }
  const cameNamed = change.table.named.slice(change.named.from, change.named.from + change.named.came)
    .map((n) => viewFor(previous, n.viewPath, n.name, n.descriptor));
  const fresh = new Set<NamedView>();
  for (const v of cameNamed) {
    byName.set(v.name, v);
    place(v);
    const list = previous.views.kept.get(v.path) === v ? previous.platformsOf.get(v.path) : undefined;
    if (list) {
      platformsOf.set(v.path, list);
      for (const p of list) place(p);
    } else fresh.add(v);
  }
  const named = spliced(previous.named, change.named.from, change.named.to, cameNamed);
  // Blobs only arrived (else the caller loads all): an index root that arrived brings platform
  // views. An import's blobs come with its entries, whose views are fresh already: the walk is
  // for a root that arrived after an entry of the previous state.
  if (delta.blobsCame.some((d) => previous.views.digestRoots.has(d))) {
    for (const v of named) if (isIndexType(v.root.mediaType) && !previous.present.has(v.root.digest) && present.has(v.root.digest)) fresh.add(v);
  }
  if (docs) {
    for (const [path, list] of await platformViews([...fresh], present, docs)) {
      platformsOf.set(path, list);
      for (const p of list) place(p);
    }
  }
  delta.gone.push(...gone, ...[...digestsGone].map(([digest, root]) => digestView(digest, root)));
  delta.came.push(...came, ...digestsCame.map((digest) => digestView(digest, digestRoots.get(digest)!)));
  return { views: new ViewsByPath(named, platformsOf, digestRoots, kept), named, byName, platformsOf, repeatedRoots,
    otherRoots: change.table.unnamed.map((e) => e.descriptor.digest) };
}

/**
 * The store's state now. `docs` reads multi-platform indexes for the platform views; `previous`
 * lends what did not change: its blob listing when no blobs/ directory changed since, the views of
 * unchanged entries, and its directories. When index.json changed in a few entries only and no
 * blob went, the views are made from the previous ones at the cost of the change.
 */
export async function loadSnapshot(store: StoreReader, generation: number, docs?: DocumentReader, previous?: Snapshot): Promise<Snapshot> {
  const index = await store.readIndex(previous?.index);
  const change = previous && referenceTableAfter(previous.table, previous.index, index, (name) => previous.byName.has(name));
  const table = change?.table ?? referenceTable(index, previous?.byName);
  const blobListing = await store.listAllBlobsSince(previous?.blobListing);
  const present = blobListing.blobs;

  const delta = emptyDelta();
  if (previous && previous.present !== present) {
    previous.present.diff(present, { gone: (i) => delta.blobsGone.push(previous.present.digestAt(i)), added: (j) => delta.blobsCame.push(present.digestAt(j)) });
  }
  const afterChange = change && delta.blobsGone.length === 0 ? await viewsAfter(index, change, previous, present, docs, delta) : undefined;
  const built = afterChange ?? await allViews(index, table, previous, present, docs, delta);
  // Moved with the change when the previous state's were built; else built whole when first asked for.
  const before = previous?.builtDirs();
  const tree = lazyDirectories(built.views, before && directories(built.views, before, delta));
  return { generation, loadedAt: Date.now(), index, table, ...built, dirs: tree.dirs, builtDirs: tree.builtDirs, present, blobListing,
    findings: [...index.findings, ...table.findings], delta };
}
