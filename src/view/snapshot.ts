import type { Descriptor } from '../oci/descriptor.js';
import { digestAlgorithm, digestEncoded, type Digest } from '../oci/digest.js';
import { parseReference, type Reference } from '../oci/reference.js';
import type { Finding } from '../store/findings.js';
import { referenceTable } from '../store/index/reference-table.js';
import type { BlobListing } from '../store/blobs/blob-reader.js';
import type { BlobTable } from '../store/blobs/blob-table.js';
import type { DocumentReader } from '../store/graph/closure.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import { isRealPlatform, normalizePlatform, platformDirName } from '../oci/platform.js';
import type { StoreReader } from '../store/store-reader.js';
import { viewIndexJson } from './index-json.js';
import { parentPath } from './view-paths.js';

export const DIGESTS_DIR = '_digests';
/** `_platforms/<os-arch[-variant]>/<view path>/`: one single-manifest view per platform of each multi-platform reference. */
export const PLATFORMS_DIR = '_platforms';
const PLATFORM_CONCURRENCY = 16;

/** One view directory: a named reference, or an entry by digest under `_digests/`. */
export class ViewEntry {
  constructor(
    /** View path, no leading `/`. */
    readonly path: string,
    /** The reference name; undefined for `_digests/` views. */
    readonly name: string | undefined,
    readonly reference: Reference | undefined,
    readonly root: Descriptor,
    /** For a view under `_platforms/`: the platform directory (`linux-arm64-v8`); its reference is held by its named view. */
    readonly platform?: string,
  ) {}

  /**
   * The view's index.json, built each time it is asked for (a few microseconds; see
   * scripts/bench/README.md). Not kept: after a crawl of 50,000 references, 100,000 kept buffers of
   * ~600 bytes held 28,000 of Buffer's 8 KiB pool slabs (each shared with buffers long gone),
   * 246 MiB, a fifth of the mount's RSS.
   */
  get indexJson(): Buffer {
    return viewIndexJson(this.root, this.reference);
  }
}

/** A view of a named reference: its name and parsed reference are always there. */
export type NamedView = ViewEntry & { readonly name: string; readonly reference: Reference };

/** A directory that exists because of view paths (the root, repositories, `_digests/...`). */
export interface DirEntry {
  /** Sorted child names. */
  children: string[];
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
  indexMtimeMs: number;
  indexIno: number;
  views: Map<string, ViewEntry>;
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
  dirs(): Map<string, DirEntry>;
  /** The directories if built already (a refresh moves them; no one was shown any otherwise). */
  builtDirs(): Map<string, DirEntry> | undefined;
  /** Blobs in the store, by digest (one readdir per algorithm, when a blobs/ directory changed). */
  present: BlobTable;
  blobListing: BlobListing;
  findings: Finding[];
  /** Platform views by the path of their named view (only multi-platform references have any). */
  platformsOf: Map<string, ViewEntry[]>;
  /** What changed since the snapshot this one was loaded after; everything, for a first load. */
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
  /** How many blobs this listing has that the previous one did not. */
  blobsAdded: number;
}

function emptyDelta(): SnapshotDelta {
  return { gone: [], came: [], dirsGone: [], dirsCame: [], blobsGone: [], blobsAdded: 0 };
}

/** Where the view of index.json entry `digest` lives: `_digests/<alg>/<hex>`. */
export function digestViewPath(digest: Digest): string {
  return `${DIGESTS_DIR}/${digestAlgorithm(digest)}/${digestEncoded(digest)}`;
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
        out[i].push(new ViewEntry(`${PLATFORMS_DIR}/${dir}/${v.path}`, v.name, v.reference, child, dir));
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

/** A view of `previous` still right for `name` and `root`, or a new one: unchanged entries keep their objects (and built index.json). */
function viewFor(previous: Snapshot | undefined, path: string, name: string | undefined, root: Descriptor): ViewEntry {
  const old = previous?.views.get(path);
  if (old && old.name === name && old.root.digest === root.digest && sameJson(old.root.raw, root.raw)) return old;
  return new ViewEntry(path, name, name === undefined ? undefined : parseReference(name), root);
}

/**
 * The directories of `views`: every ancestor of a view path. After `previous`, only the parents
 * of paths that came or went are touched (one tag in 50,000 does not rebuild 50,000 listings).
 */
function directories(views: Map<string, ViewEntry>, previous: Map<string, DirEntry> | undefined, delta: SnapshotDelta): Map<string, DirEntry> {
  const touched = new Map<string, Set<string>>();
  const dirs = new Map(previous ?? []);
  if (!previous) dirs.set('', { children: [], subdirs: 0 });
  const childrenOf = (path: string) => {
    let set = touched.get(path);
    if (!set) {
      const d = dirs.get(path);
      if (!d) return undefined;
      touched.set(path, (set = new Set(d.children)));
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
      if (!set) touched.set(parent, (set = new Set()));
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
    const children = [...set].sort();
    dirs.set(path, { children, subdirs: children.length });
  }
  return dirs;
}

/**
 * The directories of `views`, `built` or built whole on first use. Its own function, so the
 * closures hold only these two (one made inside loadSnapshot would keep the previous snapshot alive).
 */
function lazyDirectories(views: Map<string, ViewEntry>, built: Map<string, DirEntry> | undefined): Pick<Snapshot, 'dirs' | 'builtDirs'> {
  let dirs = built;
  return {
    dirs: () => (dirs ??= directories(views, undefined, { ...emptyDelta(), came: [...views.values()] })),
    builtDirs: () => dirs,
  };
}

/**
 * The store's state now. `docs` reads multi-platform indexes for the platform views; `previous`
 * lends what did not change: its blob listing when no blobs/ directory changed since, the views of
 * unchanged entries, and its directories.
 */
export async function loadSnapshot(store: StoreReader, generation: number, docs?: DocumentReader, previous?: Snapshot): Promise<Snapshot> {
  const index = await store.readIndex();
  const table = referenceTable(index, previous?.byName);
  const blobListing = await store.listAllBlobsSince(previous?.blobListing);
  const present = blobListing.blobs;

  const delta = emptyDelta();
  if (previous && previous.present !== present) {
    previous.present.diff(present, { gone: (i) => delta.blobsGone.push(previous.present.digestAt(i)), added: () => delta.blobsAdded++ });
  }
  const views = new Map<string, ViewEntry>();
  const named: NamedView[] = [];
  const byName = new Map<string, NamedView>();
  // Views kept from `previous`, counted as they are placed: when all of them are, none went.
  let kept = 0;
  const place = (v: ViewEntry) => {
    views.set(v.path, v);
    if (previous?.views.get(v.path) === v) kept++;
  };
  for (const n of table.named) {
    const v = viewFor(previous, n.viewPath, n.name, n.descriptor) as NamedView;
    named.push(v);
    byName.set(n.name, v);
    place(v);
  }
  for (const { descriptor } of index.valid) {
    const path = digestViewPath(descriptor.digest);
    if (!views.has(path)) place(viewFor(previous, path, undefined, descriptor));
  }

  // Platform views of unchanged references are kept while the store's blobs are (an index root arriving adds some).
  const platformsOf = new Map<string, ViewEntry[]>();
  const samePresence = previous?.present === present;
  const fresh = named.filter((v) => !samePresence || previous.views.get(v.path) !== v);
  if (docs) for (const [path, list] of await platformViews(fresh, present, docs)) platformsOf.set(path, list);
  if (samePresence) {
    for (const v of named) {
      const kept = previous.platformsOf.get(v.path);
      if (kept && previous.views.get(v.path) === v) platformsOf.set(v.path, kept);
    }
  }
  for (const list of platformsOf.values()) for (const v of list) place(v);

  if (previous && kept < previous.views.size) for (const [path, v] of previous.views) if (views.get(path) !== v) delta.gone.push(v);
  if (kept < views.size) for (const [path, v] of views) if (previous?.views.get(path) !== v) delta.came.push(v);
  // Moved with the change when the previous state's were built; else built whole when first asked for.
  const before = previous?.builtDirs();
  const tree = lazyDirectories(views, before && directories(views, before, delta));
  const findings = [...index.findings, ...table.findings];
  const winners = new Set(table.named.map((n) => n.position));
  const otherRoots = index.valid.filter((e) => !winners.has(e.position)).map((e) => e.descriptor.digest);
  return { generation, loadedAt: Date.now(), indexMtimeMs: index.mtimeMs, indexIno: index.ino, otherRoots,
    views, named, byName, dirs: tree.dirs, builtDirs: tree.builtDirs, present, blobListing, findings, platformsOf, delta };
}
