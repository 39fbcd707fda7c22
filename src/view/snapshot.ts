import type { Descriptor } from '../oci/descriptor.js';
import { digestAlgorithm, digestEncoded, type Digest } from '../oci/digest.js';
import { parseReference, type Reference } from '../oci/reference.js';
import type { Finding } from '../store/findings.js';
import { referenceTable } from '../store/index/reference-table.js';
import type { BlobListing } from '../store/blobs/blob-reader.js';
import type { DocumentReader } from '../store/graph/closure.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import { isRealPlatform, normalizePlatform, platformDirName } from '../oci/platform.js';
import type { StoreReader } from '../store/store-reader.js';
import { viewIndexJson } from './index-json.js';

export const DIGESTS_DIR = '_digests';
/** `_platforms/<os-arch[-variant]>/<view path>/`: one single-manifest view per platform of each multi-platform reference. */
export const PLATFORMS_DIR = '_platforms';
const PLATFORM_CONCURRENCY = 16;

/** One view directory: a named reference, or an entry by digest under `_digests/`. */
export class ViewEntry {
  private indexJsonBytes: Buffer | undefined;

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

  /** The view's index.json, built on first use (not at load: most of 10,000 views are never read). */
  get indexJson(): Buffer {
    return (this.indexJsonBytes ??= viewIndexJson(this.root, this.reference));
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
 * Directories made by view paths, by path ('' is the root): repositories, `_digests/...`, and view
 * directories that are also parents of other views (`foo` and `foo/bar:1`).
 */
  dirs: Map<string, DirEntry>;
  /** Blobs in the store, by digest (one readdir per algorithm, when a blobs/ directory changed). */
  present: ReadonlySet<Digest>;
  blobListing: BlobListing;
  findings: Finding[];
}

/** Where the view of index.json entry `digest` lives: `_digests/<alg>/<hex>`. */
export function digestViewPath(digest: Digest): string {
  return `${DIGESTS_DIR}/${digestAlgorithm(digest)}/${digestEncoded(digest)}`;
}

function addChild(children: Map<string, Set<string>>, dir: string, name: string): void {
  let set = children.get(dir);
  if (!set) children.set(dir, (set = new Set()));
  set.add(name);
}

/** Links `viewPath` and each of its ancestors into the tree, stopping at one already linked. */
function addAncestors(children: Map<string, Set<string>>, viewPath: string): void {
  let child = viewPath;
  while (child !== '') {
    const slash = child.lastIndexOf('/');
    const parent = slash < 0 ? '' : child.slice(0, slash);
    const known = children.has(parent);
    addChild(children, parent, child.slice(slash + 1));
    if (known) return;
    child = parent;
  }
}

/**
 * The platform views of the named multi-platform references: for each index root, each of its
 * manifests with a real platform (not `unknown/unknown` attestations) under
 * `_platforms/<platform>/<view path>`, with the reference's names. The indexes are read through
 * `docs` (the view's metadata cache), 16 at a time; references whose root is a manifest cost nothing.
 */
async function platformViews(named: readonly ViewEntry[], present: ReadonlySet<Digest>, docs: DocumentReader): Promise<ViewEntry[]> {
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
  return out.flat();
}

/**
 * The store's state now. `docs` reads multi-platform indexes for the platform views; `previous`
 * lends its blob listing when no blobs/ directory changed since.
 */
export async function loadSnapshot(store: StoreReader, generation: number, docs?: DocumentReader, previous?: Snapshot): Promise<Snapshot> {
  const index = await store.readIndex();
  const table = referenceTable(index);
  const blobListing = await store.listAllBlobsSince(previous?.blobListing);
  const present = blobListing.blobs;

  const views = new Map<string, ViewEntry>();
  const named: NamedView[] = [];
  const byName = new Map<string, NamedView>();
  for (const n of table.named) {
    const v = new ViewEntry(n.viewPath, n.name, parseReference(n.name), n.descriptor) as NamedView;
    named.push(v);
    byName.set(n.name, v);
    views.set(v.path, v);
  }
  for (const { descriptor } of index.valid) {
    const path = digestViewPath(descriptor.digest);
    if (!views.has(path)) views.set(path, new ViewEntry(path, undefined, undefined, descriptor));
  }

  if (docs) for (const v of await platformViews(named, present, docs)) views.set(v.path, v);

  const children = new Map<string, Set<string>>([['', new Set()]]);
  for (const path of views.keys()) addAncestors(children, path);
  const dirs = new Map<string, DirEntry>();
  for (const [path, set] of children) {
    const names = [...set].sort();
    dirs.set(path, { children: names, subdirs: names.length });
  }
  const findings = [...index.findings, ...table.findings];
  const winners = new Set(table.named.map((n) => n.position));
  const otherRoots = index.valid.filter((e) => !winners.has(e.position)).map((e) => e.descriptor.digest);
  return { generation, loadedAt: Date.now(), indexMtimeMs: index.mtimeMs, indexIno: index.ino, otherRoots,
    views, named, byName, dirs, present, blobListing, findings };
}
