import { planArchive, type ArchivePlan, type PlanOptions } from '../archive/archive-plan.js';
import { formatPlatform, type Descriptor, type Platform } from '../oci/descriptor.js';
import { digestAlgorithm, digestEncoded, isDigestAlgorithm, isEncodedDigest, type Digest } from '../oci/digest.js';
import type { ParsedDocument } from '../oci/manifest.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import { OCI_LAYOUT_BYTES } from '../oci/layout-bytes.js';
import { LayoutfsError } from '../errors.js';
import { computeClosure, type Closure } from '../store/graph/closure.js';
import type { StoreReader } from '../store/store-reader.js';
import type { BlobTable } from '../store/blobs/blob-table.js';
import { fstatFd, closeFd } from '../store/blobs/fd-io.js';
import { fileMtimes } from '../store/blobs/file-batch.js';
import { AccountingClosures } from './accounting-closures.js';
import { BackgroundQueue } from './background-queue.js';
import { countHolders, takeCensus, updateCensus, type BlobCounts, type Census, type Holding } from './census.js';
import { MetadataCache } from './metadata-cache.js';
import { blobIdPrefix, blobSpaceId, isBlobSpace, parseSlotKey, Part, ROOT_ID, SlotTable, slotId, slotKey, splitSlotId } from './node-ids.js';
import type { ArchiveNode, BlobNode, DirEntry, DirNode, FileLikeNode, FileNode, Node } from './nodes.js';
import { openReader, type ByteReader } from './open-file.js';
import { attachReferrers, attachReferrersTo, loadReferrers } from './referrers.js';
import { loadSnapshot, type DirEntry as TreeDir, type Snapshot } from './snapshot.js';
import type { NamedView, ViewEntry } from './view-entry.js';
import { treeChange, type TreeChange } from './tree-change.js';
import { childPath, parentPath } from './view-paths.js';
import { VirtualArchives, archivedViewPath, archivePathOf } from './virtual-archives.js';

export type { Closure, ClosureBlob } from '../store/graph/closure.js';

export interface ViewOptions {
  /** Byte bound of the LRU metadata cache. */
  cacheBytes?: number;
}

/** A loaded snapshot and the counts that go with it; swapped in as one value. */
interface State {
  snapshot: Snapshot;
  /** nlink of every blob, taken when first asked for (serve never asks), then moved with each change. */
  census?: Promise<Census>;
  /** Blobs whose computed id another blob of the store has already: they get slot ids. */
  blobIdOverrides: Map<Digest, number>;
  /** Unnamed referrer entries by subject digest (see referrers.ts). */
  referrers: Map<Digest, ViewEntry[]>;
  /** Entries holding each blob (countHolders), computed when first asked for. */
  holders?: Promise<BlobCounts>;
  /** The closures ls, du and the census count with (the closures file where it holds), opened when first asked for. */
  accounting?: Promise<AccountingClosures>;
}

const ALGORITHM_PARTS = { sha256: Part.sha256, sha512: Part.sha512 } as const;
/** Where each part of a slot lies under its directory (archives and blobs are found otherwise). */
const PART_SUFFIX: Record<Exclude<Part, typeof Part.archive | typeof Part.blob>, string> = {
  [Part.dir]: '', [Part.blobs]: '/blobs', [Part.sha256]: '/blobs/sha256', [Part.sha512]: '/blobs/sha512',
  [Part.indexJson]: '/index.json', [Part.ociLayout]: '/oci-layout',
};

/** Sorted digest algorithms of closures, by their joined names: shared, never changed. */
const ALGORITHM_SETS = new Map<string, readonly string[]>();

/** Views warmed together: one read of their roots, one batch of their blobs' mtimes. */
const WARM_GROUP = 16;

/** What a directory path of the tree is (the root aside), found once for its node or its listing. */
type DirPlace = { kind: 'view'; view: ViewEntry; nested: TreeDir | undefined } | { kind: 'plain'; dir: TreeDir }
  | { kind: 'blobs'; owner: ViewEntry } | { kind: 'algorithm'; owner: ViewEntry; alg: keyof typeof ALGORITHM_PARTS };

/** Store file mtimes and sizes of blobs, by position in the blob table they were learned for; NaN until learned. */
interface BlobStats {
  table: BlobTable;
  mtimes: Float64Array;
  sizes: Float64Array;
}

/** `digest`'s position in `stats` when they continue `snapshot`'s blob table (its lineage); -1 otherwise or when it has no such blob. */
function statPosition(stats: BlobStats | undefined, snapshot: Snapshot, digest: Digest): number {
  return stats?.table.continues(snapshot.present) ? snapshot.present.indexOf(digest) : -1;
}

function byName(a: DirEntry, b: DirEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The census of `snapshot`, counted with the accounting closures. */
async function censusWith(snapshot: Snapshot, accounting: Promise<AccountingClosures>): Promise<Census> {
  return takeCensus(snapshot, async (root) => (await accounting).tally(root));
}

/**
 * The synthetic tree of a store, and the one interface the adapters (FUSE, HTTP, materialize) use:
 * nodes by path and by id, directory entries, opening files, references by name, closures.
 * Knows nothing of FUSE or HTTP. Paths have no leading `/`; '' is the root.
 */
export class View {
  readonly cache: MetadataCache;
  private readonly slots = new SlotTable();
  private readonly archives: VirtualArchives;
  private state!: State;
  private refreshing: Promise<boolean> | undefined;
  private refreshAgain = false;
  private readonly changeListeners: ((change: TreeChange) => void)[] = [];
  /**
   * Store file mtimes and sizes of the current snapshot's blobs by table position, each learned
   * once (blobs are immutable); NaN until then. The sizes let a blob node be made again from its
   * id alone (the kernel keeps only ids, src/fuse/kernel-nodes.ts) without opening its file.
   */
  private blobStats: BlobStats | undefined;
  /** Each closure's blobs' positions in a blob table (positionsIn). */
  private readonly closurePositions = new WeakMap<Closure, { table: BlobTable; at: Int32Array }>();
  /** Each closure's digest algorithms, sorted (algorithms). */
  private readonly closureAlgorithms = new WeakMap<Closure, readonly string[]>();
  /** The batch learning each closure's blob mtimes (closureMtimes), so a listing and a warming share one. */
  private readonly mtimesLearned = new WeakMap<Closure, Promise<void>>();
  /**
   * Views listed in a directory, warmed ahead of the walk that follows a listing (find, du, ls -R):
   * their documents read and blob mtimes learned while the kernel and the walker work, not each
   * on the way of its own listing. A group of views at a time (their roots in one read, their
   * blobs' mtimes in one batch), two groups at once, the first 1,024 views waiting.
   */
  private readonly warming = new BackgroundQueue(2, 1024 / WARM_GROUP);

  private constructor(readonly store: StoreReader, options: ViewOptions) {
    this.cache = new MetadataCache(store, options.cacheBytes);
    this.archives = new VirtualArchives(this.cache, (root) => this.closureOfRoot(root));
  }

  static async open(store: StoreReader, options: ViewOptions = {}): Promise<View> {
    const view = new View(store, options);
    view.state = await view.load(1);
    view.moveBlobStats(view.state.snapshot.present);
    return view;
  }

  get snapshot(): Snapshot {
    return this.state.snapshot;
  }

  /** How many view paths show each blob (nlink), for checks. */
  async linkCounts(): Promise<Map<Digest, number>> {
    return (await this.censusNow()).toMap();
  }

  /**
   * The census of the current state, taken on first use: a lookup racing a refresh gets the newest
   * counts. What it computed goes to the closures file (not awaited: a lookup waits for no write),
   * and the accounting closures go with it, a mount needing them no more.
   */
  private censusNow(): Promise<Census> {
    const state = this.state;
    return (state.census ??= (async () => {
      const accounting = this.accountingIn(state);
      const census = await censusWith(state.snapshot, accounting);
      void (await accounting).save(this.store).catch(() => false).finally(() => {
        if (state.accounting === accounting && !state.holders) state.accounting = undefined;
      });
      return census;
    })());
  }

  /** Entries holding each blob (ls and du price removals with it), counted once per state when asked. */
  holders(): Promise<BlobCounts> {
    const state = this.state;
    return (state.holders ??= countHolders(state.snapshot, state.referrers, (v) => this.holdingIn(state, v)));
  }

  /**
   * Writes what ls or du computed to the store's closures file (closure-file.ts), when the store
   * can be written and anything was computed that the file lacked: the next run reads it instead
   * of every document. Resolves false when nothing was written.
   */
  async saveClosures(): Promise<boolean> {
    const accounting = this.state.accounting;
    return accounting ? (await accounting).save(this.store) : false;
  }

  /**
   * The closures accounting counts with: a record of the closures file where it holds among the
   * snapshot's blobs, else computed from the documents (through the cache, shared with what the
   * views serve). Deciding here: only accounting (nlink, sizes, ls's platforms) ever takes a
   * record, so a forged file can skew numbers, never a listing a view serves.
   */
  private accountingIn(state: State): Promise<AccountingClosures> {
    return (state.accounting ??= this.openAccounting(state.snapshot));
  }

  private openAccounting(snapshot: Snapshot): Promise<AccountingClosures> {
    return AccountingClosures.open(this.store, snapshot, (root) => this.closureIn(snapshot, root), (root) => this.readPlatforms(snapshot, root));
  }

  get storeRoot(): string {
    return this.store.root;
  }

  private async load(generation: number): Promise<State> {
    const snapshot = await loadSnapshot(this.store, generation, this.cache);
    return { snapshot, blobIdOverrides: this.blobIdOverrides(snapshot.present), referrers: await loadReferrers(snapshot, this.cache) };
  }

  /** The state after `before`, without its census (see moveCensus). */
  private async loadNext(before: State): Promise<State> {
    const snapshot = await loadSnapshot(this.store, before.snapshot.generation + 1, this.cache, before.snapshot);
    const { blobsGone, blobsCame } = snapshot.delta;
    if (blobsGone.length > 0 || blobsCame.length > 0) {
      // Census or not (serve never counts links), cached closures must follow the blobs: one still
      // listing a blob gone behind layoutfs's back would serve it (gc removes only what no closure
      // holds), and an incomplete one would keep hiding a blob that arrived.
      const gone = new Set(blobsGone);
      this.cache.dropClosures((c) => (blobsCame.length > 0 && (c.missing.length > 0 || c.problems.length > 0))
        || (gone.size > 0 && [...c.blobs.keys()].some((d) => gone.has(d))));
    }
    const referrers = await loadReferrers(snapshot, this.cache);
    const overrides = snapshot.present === before.snapshot.present ? before.blobIdOverrides : this.blobIdOverrides(snapshot.present);
    return { snapshot, blobIdOverrides: overrides, referrers };
  }

  /**
   * Moves `census` (of `before`) to `next`'s snapshot in time proportional to the change: closures
   * of unchanged roots are kept (blobs arriving can only complete an incomplete closure; gc
   * removes only blobs no closure holds), and the counts move by the roots whose counts changed.
   * Blobs that views showed and that vanished behind layoutfs's back (not gc) make it count
   * afresh. Returns the census and the blobs whose counts (nlink) moved.
   */
  private async moveCensus(census: Census, before: State, next: State): Promise<{ census: Census; changedBlobs: Iterable<Digest> }> {
    const { snapshot } = next;
    const was = before.snapshot.present;
    const { blobsGone, blobsCame } = snapshot.delta;
    // The closures that held a vanished blob went with it (loadNext); the rest are still right.
    if (blobsGone.some((d) => census.count(d) > 0)) {
      const fresh = await censusWith(snapshot, this.openAccounting(snapshot));
      const changed = new Set<Digest>();
      census.table.diff(fresh.table, {
        same: (i, j) => census.counts[i] !== fresh.counts[j] && changed.add(fresh.table.digestAt(j)),
        gone: (i) => census.counts[i]! > 0 && changed.add(census.table.digestAt(i)),
        added: (j) => fresh.counts[j]! > 0 && changed.add(fresh.table.digestAt(j)),
      });
      return { census: fresh, changedBlobs: changed };
    }
    // What each root showed before: the cached closure (still true of the old blobs), or one
    // computed against them.
    const closureBefore = (root: Descriptor) => Promise.resolve(this.cache.cachedClosure(root)
      ?? computeClosure(root, this.cache, was, this.store));
    const recount = new Map<Digest, Descriptor>();
    if (blobsCame.length > 0 && census.incomplete.size > 0) {
      for (const v of before.snapshot.views.values()) if (census.incomplete.has(v.root.digest)) recount.set(v.root.digest, v.root);
    }
    // Incomplete closures were dropped when the blobs arrived (loadNext): these are the old blobs' ones.
    const oldClosures = new Map<Digest, Closure>();
    for (const [digest, root] of recount) oldClosures.set(digest, await closureBefore(root));
    const changedBlobs = await updateCensus(census, snapshot, recount,
      (root) => oldClosures.has(root.digest) ? Promise.resolve(oldClosures.get(root.digest)!) : closureBefore(root),
      (root) => this.closureIn(snapshot, root));
    return { census, changedBlobs };
  }

  /**
   * Blobs that share a computed id with another blob of the store (see node-ids.ts): vanishingly
   * rare, so one pass over the ids finds the colliding ones, and only those are sorted (the
   * smallest digest keeps the computed id, the others get slot ids).
   */
  private blobIdOverrides(present: BlobTable): Map<Digest, number> {
    const overrides = new Map<Digest, number>();
    for (const prefix of present.sharedPrefixes52()) {
      // In digest order: the first keeps the computed id.
      for (const i of present.withPrefix52(prefix).slice(1)) {
        const digest = present.digestAt(i);
        overrides.set(digest, slotId(this.slots.slot('\0blob\0' + digest), Part.blob));
      }
    }
    return overrides;
  }

  /**
   * Reloads index.json and the blob list, and swaps the new state in whole. Concurrent calls share
   * one load; a call during a load schedules one more so the latest change is never missed.
   * Resolves true when index.json was a different file than before.
   */
  refresh(): Promise<boolean> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      let changed = false;
      do {
        this.refreshAgain = false;
        const before = this.state;
        const next = await this.loadNext(before);
        let changedBlobs: Iterable<Digest> = [];
        // Checked again after every await, so a census first asked for meanwhile is moved too.
        while (before.census && !next.census) {
          const moved = await this.moveCensus(await before.census, before, next);
          next.census = Promise.resolve(moved.census);
          changedBlobs = moved.changedBlobs;
        }
        changed ||= next.snapshot.index.ino !== before.snapshot.index.ino || next.snapshot.index.mtimeMs !== before.snapshot.index.mtimeMs;
        const change = treeChange(before.snapshot, next.snapshot, changedBlobs,
          (path, s) => this.peekDirId(path, s), (digest) => this.blobIdIn(before, digest));
        this.state = next;
        this.moveBlobStats(next.snapshot.present);
        for (const key of change.goneSlotKeys) this.slots.forget(key);
        for (const listener of this.changeListeners) listener(change);
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- refresh() calls during the await set it
      } while (this.refreshAgain);
      return changed;
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Whether a refresh is loading the store now. */
  get isRefreshing(): boolean {
    return this.refreshing !== undefined;
  }

  /**
   * Calls `listener` with what changed each time a refresh swaps a new state in (adapters that
   * cache, like the kernel's side of FUSE). It runs inside refresh and must not throw.
   */
  onChange(listener: (change: TreeChange) => void): void {
    this.changeListeners.push(listener);
  }

  /** The closure of a root among the current snapshot's blobs, always through the cache. */
  closureOfRoot(root: Descriptor): Promise<Closure> {
    return this.closureIn(this.state.snapshot, root);
  }

  /** The closure a view shows. */
  closureOf(v: ViewEntry): Promise<Closure> {
    return this.closureOfRoot(v.root);
  }

  private closureIn(snapshot: Snapshot, root: Descriptor): Promise<Closure> {
    return this.cache.closure(root, () => computeClosure(root, this.cache, snapshot.present, this.store));
  }

  /** Unnamed referrer entries (signatures, SBOMs) by subject digest, for the current state. */
  get referrers(): ReadonlyMap<Digest, readonly ViewEntry[]> {
    return this.state.referrers;
  }

  /**
   * What a view holds for space accounting and gc: its closure plus the referrers attached to it
   * (at any depth) and their closures; `rm` of its name and a gc free these. As positions in the
   * snapshot's blob table, counted with the accounting closures.
   */
  holdingOf(v: ViewEntry): Promise<Holding> {
    return this.holdingIn(this.state, v);
  }

  private async holdingIn(state: State, v: ViewEntry): Promise<Holding> {
    const accounting = await this.accountingIn(state);
    const tally = await accounting.tally(v.root);
    const { missing, problems } = tally;
    if (state.referrers.size === 0) return { positions: tally.positions, sizes: tally.sizes, bytes: tally.bytes, referrers: [], missing, problems };
    const table = state.snapshot.present;
    const positions = Array.from(tally.positions);
    const sizes = Array.from(tally.sizes);
    const held = new Set(positions);
    const referrers = await attachReferrersTo((d) => held.has(table.indexOf(d)), state.referrers, async (r) => {
      const t = await accounting.tally(r.root);
      t.positions.forEach((p, k) => {
        if (held.has(p)) return;
        held.add(p);
        positions.push(p);
        sizes.push(t.sizes[k]!);
      });
    });
    return { positions: Uint32Array.from(positions), sizes: Float64Array.from(sizes), bytes: sizes.reduce((a, b) => a + b, 0), referrers,
      missing, problems };
  }

  /**
   * What ls shows as the platforms of a view: its index.json entry's, else what its root's own
   * documents say (an index's manifests, a manifest's config), recorded in the closures file with
   * its closure.
   */
  async platformsOf(v: ViewEntry): Promise<string[]> {
    if (v.root.platform) return [formatPlatform(v.root.platform)];
    return [...await (await this.accountingIn(this.state)).platforms(v.root)];
  }

  /** The platforms `root`'s documents give: an index's manifests' (real ones), a manifest's config's. */
  private async readPlatforms(snapshot: Snapshot, root: Descriptor): Promise<string[]> {
    if (!snapshot.present.has(root.digest) || !(isIndexType(root.mediaType) || isManifestType(root.mediaType))) return [];
    try {
      const doc = await this.cache.readDocument(root);
      if (isIndexType(root.mediaType)) {
        return doc.children
          .map((c: Descriptor) => (c.platform ? formatPlatform(c.platform) : ''))
          .filter((p) => p !== '' && p !== 'unknown/unknown');
      }
      const p = await this.configPlatform(root);
      if (p) return [formatPlatform(p)];
    } catch {
      // Unreadable documents are reported as findings by the closure walk.
    }
    return [];
  }

  /** The platform a manifest's config records (os, architecture, variant), or undefined when it has none or cannot be read. */
  async configPlatform(manifest: Descriptor): Promise<Platform | undefined> {
    try {
      const doc = await this.cache.readDocument(manifest);
      if (!doc.config || !this.hasBlob(doc.config.digest)) return undefined;
      const config = JSON.parse((await this.store.readVerified(doc.config)).toString('utf8')) as { os?: unknown; architecture?: unknown; variant?: unknown };
      if (typeof config.os !== 'string' || typeof config.architecture !== 'string') return undefined;
      return { os: config.os, architecture: config.architecture, ...(typeof config.variant === 'string' ? { variant: config.variant } : {}) };
    } catch {
      return undefined;
    }
  }

  /** The named reference `name`, or NOT_FOUND naming the store. */
  referenceNamed(name: string): NamedView {
    const v = this.state.snapshot.byName.get(name);
    if (!v) throw new LayoutfsError('NOT_FOUND', `no reference named ${JSON.stringify(name)} in the store (see layoutfs ls)`, { path: this.store.root });
    return v;
  }

  /** Hits, misses and evictions of the metadata cache, and its bytes against its bound. */
  cacheStats(): { hits: number; misses: number; evictions: number; bytes: number; maxBytes: number } {
    const { hits, misses, evictions } = this.cache;
    return { hits, misses, evictions, bytes: this.cache.calculatedBytes, maxBytes: this.cache.maxBytes };
  }

  /**
   * The archive plan of named references: one, or several (the air-gap bundle). `referrers`
   * carries the referrers of what the archive holds as extra unnamed index.json entries; by
   * default only a bundle does (one image stays a single-entry layout, what `oci-archive:FILE`,
   * podman and buildah expect).
   */
  planArchive(names: string[], options: Omit<PlanOptions, 'referrers'> & { referrers?: boolean } = {}): Promise<ArchivePlan> {
    const images = names.map((name) => ({ name, root: this.referenceNamed(name).root }));
    const withReferrers = options.referrers ?? names.length > 1;
    return planArchive(images, this.cache, (root) => this.closureOfRoot(root), {
      platform: options.platform,
      configPlatform: (manifest) => this.configPlatform(manifest),
      referrers: withReferrers
        ? async (blobs) => (await attachReferrers(blobs, this.state.referrers, (r) => this.closureOf(r))).map((r) => r.root)
        : undefined,
    });
  }

  /** Whether the store has the blob now. */
  hasBlob(digest: Digest): boolean {
    return this.state.snapshot.present.has(digest);
  }

  readDocument(descriptor: Descriptor): Promise<ParsedDocument> {
    return this.cache.readDocument(descriptor);
  }

  /** A manifest's or index's bytes, checked against its digest once (cached). */
  documentBytes(descriptor: Descriptor): Promise<Buffer> {
    return this.cache.documentBytes(descriptor);
  }

  // ---- nodes ----

  /** The node at `path` (views, their files and blobs, and virtual archives), or undefined. */
  lookup(path: string): Promise<Node | undefined> {
    return this.lookupIn(this.state, path);
  }

  /** The child `name` of a directory node ("." and ".." included, as NFS file handles ask). */
  child(dir: DirNode, name: string): Promise<Node | undefined> {
    if (name === '.') return this.lookup(dir.path);
    if (name === '..') return this.lookup(parentPath(dir.path));
    if (name === '' || name.includes('/')) return Promise.resolve(undefined);
    return this.lookup(childPath(dir.path, name));
  }

  /**
   * The node with id `id` in the current state, whether or not anyone asked for it before (a file
   * handle kept across a restart of the kernel's caches); undefined when it is gone.
   */
  async byId(id: number): Promise<Node | undefined> {
    const state = this.state;
    if (id === ROOT_ID) return this.lookupIn(state, '');
    if (isBlobSpace(id)) {
      const present = state.snapshot.present;
      const digest = present.withPrefix52(blobIdPrefix(id)).map((i) => present.digestAt(i)).find((d) => !state.blobIdOverrides.has(d));
      return digest && this.blobNodeById(state, digest);
    }
    const { slot, part } = splitSlotId(id);
    const key = this.slots.keyOf(slot);
    if (key === undefined) return undefined;
    if (part === Part.blob) return this.blobNodeById(state, key.slice('\0blob\0'.length) as Digest);
    const { path, root } = parseSlotKey(key);
    if (root !== undefined && state.snapshot.views.get(path)?.root.digest !== root) return undefined;
    const node = await this.lookupIn(state, part === Part.archive ? archivePathOf(path) : path + PART_SUFFIX[part]);
    return node?.id === id ? node : undefined;
  }

  /** The generation of the current state: a caller that awaited across a refresh can tell. */
  get generation(): number {
    return this.state.snapshot.generation;
  }

  private async blobNodeById(state: State, digest: Digest): Promise<BlobNode | undefined> {
    const nlink = (await this.censusNow()).count(digest);
    if (nlink === 0) return undefined;
    const i = statPosition(this.blobStats, state.snapshot, digest);
    let size = i < 0 || Number.isNaN(this.blobStats!.sizes[i]) ? undefined : this.blobStats!.sizes[i];
    if (size === undefined) {
      // Never shown since the mount started (a file handle from before): its store file says.
      const fd = await this.store.openBlob(digest);
      try {
        size = (await fstatFd(fd)).size;
      } finally {
        await closeFd(fd);
      }
    }
    return { type: 'blob', id: this.blobIdIn(state, digest), nlink, size, digest, mtimeMs: await this.blobMtime(state.snapshot, digest, i) };
  }

  /** A directory's children with their nodes (what FUSE readdirplus wants), by name, or undefined when `dir` is gone. */
  async entries(dir: DirNode): Promise<DirEntry[] | undefined> {
    const state = this.state;
    const { snapshot } = state;
    const out = await this.childEntries(state, dir.path);
    const views: { entry: DirEntry; view: ViewEntry }[] = [];
    for (const entry of out ?? []) {
      const v = entry.node.type === 'dir' ? snapshot.views.get(entry.node.path) : undefined;
      if (v) views.push({ entry, view: v });
    }
    for (let i = 0; i < views.length; i += WARM_GROUP) {
      const group = views.slice(i, i + WARM_GROUP);
      const warmed = this.warming.add(async () => {
        await this.cache.preloadDocuments(group.map((g) => g.view.root));
        await this.closureMtimes(snapshot, await Promise.all(group.map((g) => this.closureIn(snapshot, g.view.root))));
      });
      if (!warmed) break;
      for (const g of group) g.entry.warmed = warmed;
    }
    return out;
  }

  /**
   * The listings under view directory `dir`: its `blobs`, then each `blobs/<alg>`, what a walk
   * that lists the view reads next (FUSE hands them to its native core ahead). None when `dir` is
   * not a view. The caller checks they are of one state (generation).
   */
  async blobListings(dir: DirNode): Promise<{ dir: DirNode; entries: DirEntry[] }[]> {
    if (!this.state.snapshot.views.has(dir.path)) return [];
    const blobs = await this.lookup(childPath(dir.path, 'blobs'));
    if (blobs?.type !== 'dir') return [];
    const entries = await this.entries(blobs);
    if (!entries) return [];
    const out = [{ dir: blobs, entries }];
    for (const { node } of entries) {
      if (node.type !== 'dir') continue;
      const listed = await this.entries(node);
      if (listed) out.push({ dir: node, entries: listed });
    }
    return out;
  }

  /** Child names of a directory, or undefined when `path` is not one. */
  async readdir(path: string): Promise<string[] | undefined> {
    return (await this.childNames(this.state, path))?.sort();
  }

  /** A reader of a file node's bytes (blob, synthetic file, or virtual archive); the caller closes it. */
  openReader(node: FileLikeNode): Promise<ByteReader> {
    return openReader(node, this.store);
  }

  /** A reader of the store blob `digest` of `size` bytes (a registry blob GET; reachability is the caller's rule). */
  async openBlob(digest: Digest, size: number): Promise<ByteReader> {
    return openReader({ type: 'blob', id: 0, nlink: 1, mtimeMs: 0, digest, size }, this.store);
  }

  /** The store file of a blob, for materialize's hard links (a link needs a path; reads go through openReader). */
  blobFile(digest: Digest): string {
    return this.store.blobFile(digest);
  }

  /**
   * A read-only descriptor on a blob node's store file, checked to be a regular file of the node's
   * size; the caller owns it (FUSE hands it to the kernel or its native threads).
   */
  openBlobFd(node: BlobNode): Promise<number> {
    return this.store.openBlob(node.digest, node.size);
  }

  // ---- the tree, for one state throughout: a refresh landing meanwhile must not mix two stores ----

  private blobIdIn(state: State, digest: Digest): number {
    return state.blobIdOverrides.get(digest) ?? blobSpaceId(digest);
  }

  /** The slot of a directory of `snapshot` (a view or a plain one). */
  private dirSlot(snapshot: Snapshot, path: string): number {
    return this.slots.slot(slotKey(path, snapshot.views.get(path)?.root.digest));
  }

  /** The id the kernel may know for directory `path` of `snapshot`, without making one. */
  private peekDirId(path: string, snapshot: Snapshot): number | undefined {
    if (path === '') return ROOT_ID;
    const slot = this.slots.peek(slotKey(path, snapshot.views.get(path)?.root.digest));
    return slot === undefined ? undefined : slotId(slot, Part.dir);
  }

  private dirNode(snapshot: Snapshot, path: string, id: number, subdirs: number): DirNode {
    return { type: 'dir', id, path, nlink: 2 + subdirs, mtimeMs: snapshot.index.mtimeMs };
  }

  private fileNode(snapshot: Snapshot, path: string, id: number, content: Buffer): FileNode {
    return { type: 'file', id, path, nlink: 1, size: content.length, content, mtimeMs: snapshot.index.mtimeMs };
  }

  private async lookupIn(state: State, path: string): Promise<Node | undefined> {
    const { snapshot } = state;
    if (path === '') return this.dirNode(snapshot, '', ROOT_ID, snapshot.dirs().get('')!.subdirs);
    const place = this.dirPlace(snapshot, path);
    if (place) return this.placeNode(snapshot, path, place);

    const parent = parentPath(path);
    const last = path.slice(parent.length === 0 ? 0 : parent.length + 1);
    const owner = snapshot.views.get(parent);
    if (owner && (last === 'index.json' || last === 'oci-layout')) return this.viewFileNode(snapshot, owner, last);
    if (last.startsWith('_')) return this.archiveNode(state, path);
    const grand = parentPath(parent);
    // Under a view's blobs/ only its algorithms' directories are (dirPlace), no file.
    if (parent.endsWith('/blobs') || parent === 'blobs') return undefined;
    const alg = parent.slice(grand.length === 0 ? 0 : grand.length + 1);
    if (!(grand.endsWith('/blobs') || grand === 'blobs') || !isDigestAlgorithm(alg) || !isEncodedDigest(alg, last)) return undefined;
    const blobOwner = snapshot.views.get(parentPath(grand));
    if (!blobOwner) return undefined;
    const digest = `${alg}:${last}` as Digest;
    const blob = (await this.closureIn(snapshot, blobOwner.root)).blobs.get(digest);
    if (!blob) return undefined;
    const i = statPosition(this.blobStats, snapshot, digest);
    return this.blobNode(state, await this.censusNow(), digest, blob.size, i, await this.blobMtime(snapshot, digest, i));
  }

  /** The node of directory `path`, of what dirPlace found it is; undefined for a blobs/<alg> the view shows no blob of. */
  private async placeNode(snapshot: Snapshot, path: string, place: DirPlace): Promise<DirNode | undefined> {
    switch (place.kind) {
      case 'view': return this.dirNode(snapshot, path, slotId(this.dirSlot(snapshot, path), Part.dir), 1 + (place.nested?.subdirs ?? 0));
      case 'plain': return this.dirNode(snapshot, path, slotId(this.dirSlot(snapshot, path), Part.dir), place.dir.subdirs);
      case 'blobs': return this.blobsDirNode(snapshot, place.owner);
      case 'algorithm': return (await this.algorithms(snapshot, place.owner)).includes(place.alg)
        ? this.algorithmDirNode(snapshot, place.owner, place.alg) : undefined;
    }
  }

  /** A view's own `index.json` or `oci-layout`. */
  private viewFileNode(snapshot: Snapshot, owner: ViewEntry, name: 'index.json' | 'oci-layout'): FileNode {
    const slot = this.dirSlot(snapshot, owner.path);
    return name === 'index.json' ? this.fileNode(snapshot, childPath(owner.path, name), slotId(slot, Part.indexJson), owner.indexJson)
      : this.fileNode(snapshot, childPath(owner.path, name), slotId(slot, Part.ociLayout), OCI_LAYOUT_BYTES);
  }

  /** A view's `blobs` directory. */
  private async blobsDirNode(snapshot: Snapshot, owner: ViewEntry): Promise<DirNode> {
    return this.dirNode(snapshot, childPath(owner.path, 'blobs'), slotId(this.dirSlot(snapshot, owner.path), Part.blobs),
      (await this.algorithms(snapshot, owner)).length);
  }

  /** A view's `blobs/<alg>` directory (the caller knows the view shows blobs of `alg`). */
  private algorithmDirNode(snapshot: Snapshot, owner: ViewEntry, alg: keyof typeof ALGORITHM_PARTS): DirNode {
    return this.dirNode(snapshot, childPath(childPath(owner.path, 'blobs'), alg), slotId(this.dirSlot(snapshot, owner.path), ALGORITHM_PARTS[alg]), 0);
  }

  /** A blob as a view shows it, `i` its position in the blob stats (statPosition). */
  private blobNode(state: State, census: Census, digest: Digest, size: number, i: number, mtimeMs: number): BlobNode {
    if (i >= 0) this.blobStats!.sizes[i] = size;
    return { type: 'blob', id: this.blobIdIn(state, digest), nlink: census.countAt(state.snapshot.present, i, digest) || 1, size, digest, mtimeMs };
  }

  private async archiveNode(state: State, path: string): Promise<ArchiveNode | undefined> {
    const viewPath = archivedViewPath(path);
    const entry = viewPath === undefined ? undefined : state.snapshot.views.get(viewPath);
    if (!entry?.name) return undefined;
    const plan = await this.archives.plan(viewPath!, entry.name, entry.root);
    return { type: 'archive', id: slotId(this.dirSlot(state.snapshot, viewPath!), Part.archive), nlink: 1, path, size: plan.size,
      plan, mtimeMs: state.snapshot.index.mtimeMs };
  }

  /** What directory `path` of `snapshot` is, found once for a listing; undefined when it is none. */
  private dirPlace(snapshot: Snapshot, path: string): DirPlace | undefined {
    const view = snapshot.views.get(path);
    const nested = snapshot.dirs().get(path);
    if (view) return { kind: 'view', view, nested };
    if (nested) return { kind: 'plain', dir: nested };
    const parent = parentPath(path);
    const last = path.slice(parent.length === 0 ? 0 : parent.length + 1);
    // A view's own blobs/ comes after its nested views and directories.
    if (last === 'blobs') {
      const owner = snapshot.views.get(parent);
      return owner && { kind: 'blobs', owner };
    }
    const grand = parentPath(parent);
    if (!Object.hasOwn(ALGORITHM_PARTS, last) || parent.slice(grand.length === 0 ? 0 : grand.length + 1) !== 'blobs') return undefined;
    const owner = snapshot.views.get(grand);
    return owner && { kind: 'algorithm', owner, alg: last as keyof typeof ALGORITHM_PARTS };
  }

  private async childNames(state: State, path: string): Promise<string[] | undefined> {
    const { snapshot } = state;
    const place = this.dirPlace(snapshot, path);
    switch (place?.kind) {
      case undefined: return undefined;
      case 'view': return ['blobs', 'index.json', 'oci-layout', ...place.nested?.children ?? []];
      case 'plain': return [...place.dir.children];
      case 'blobs': return [...await this.algorithms(snapshot, place.owner)];
      case 'algorithm': {
        const out: string[] = [];
        for (const digest of (await this.closureIn(snapshot, place.owner.root)).blobs.keys()) {
          if (digestAlgorithm(digest) === place.alg) out.push(digestEncoded(digest));
        }
        return out.length > 0 ? out : undefined;
      }
    }
  }

  /**
   * A directory's children with their nodes, by name, or undefined when `path` is not one. Each
   * kind of directory is listed straight from what it shows (a view's closure for its blobs), not
   * by a lookup of each child's path.
   */
  private async childEntries(state: State, path: string): Promise<DirEntry[] | undefined> {
    const { snapshot } = state;
    const place = this.dirPlace(snapshot, path);
    switch (place?.kind) {
      case undefined: return undefined;
      case 'view': {
        const own: DirEntry[] = [{ name: 'blobs', node: await this.blobsDirNode(snapshot, place.view) },
          { name: 'index.json', node: this.viewFileNode(snapshot, place.view, 'index.json') },
          { name: 'oci-layout', node: this.viewFileNode(snapshot, place.view, 'oci-layout') }];
        return place.nested === undefined ? own : [...own, ...await this.listedByPath(state, path, place.nested.children)].sort(byName);
      }
      case 'plain': return (await this.listedByPath(state, path, place.dir.children)).sort(byName);
      case 'blobs': return (await this.algorithms(snapshot, place.owner)).map((alg) =>
        ({ name: alg, node: this.algorithmDirNode(snapshot, place.owner, alg as keyof typeof ALGORITHM_PARTS) }));
      case 'algorithm': return this.blobEntries(state, place.owner, place.alg);
    }
  }

  /** Children of directory `path` by name, each looked up by its path; those gone meanwhile left out. */
  private async listedByPath(state: State, path: string, names: readonly string[]): Promise<DirEntry[]> {
    const nodes = await Promise.all(names.map((name) => this.lookupIn(state, childPath(path, name))));
    const out: DirEntry[] = [];
    nodes.forEach((node, i) => node && out.push({ name: names[i]!, node }));
    return out;
  }

  /** The blobs of `owner`'s `blobs/<alg>` from its closure, their mtimes learned in one batch; undefined when it shows none of `alg`. */
  private async blobEntries(state: State, owner: ViewEntry, alg: string): Promise<DirEntry[] | undefined> {
    const { snapshot } = state;
    const closure = await this.closureIn(snapshot, owner.root);
    await this.closureMtimes(snapshot, [closure]);
    const census = await this.censusNow();
    const positions = this.positionsIn(snapshot, closure);
    const out: DirEntry[] = [];
    let k = 0;
    for (const [digest, blob] of closure.blobs) {
      const i = positions[k++]!;
      if (digestAlgorithm(digest) !== alg) continue;
      const mtime = this.blobMtime(snapshot, digest, i);
      const mtimeMs = typeof mtime === 'number' ? mtime : await mtime;
      out.push({ name: digestEncoded(digest), node: this.blobNode(state, census, digest, blob.size, i, mtimeMs) });
    }
    return out.length > 0 ? out.sort(byName) : undefined;
  }

  /**
   * Where each blob of `closure` (walk order) is in the blob stats (statPosition), found once per
   * closure and table: a listing, its twin under _digests/ and the warming ask for the same. Kept
   * beside the cached closure (4 bytes a blob); the listings themselves are not: they would be
   * held beside every closure the cache holds (about 2 KiB each, outside its byte bound).
   */
  private positionsIn(snapshot: Snapshot, closure: Closure): Int32Array {
    const stats = this.blobStats;
    if (!stats?.table.continues(snapshot.present)) return new Int32Array(closure.blobs.size).fill(-1);
    const known = this.closurePositions.get(closure);
    if (known?.table === snapshot.present) return known.at;
    const at = Int32Array.from(closure.blobs.keys(), (d) => snapshot.present.indexOf(d));
    this.closurePositions.set(closure, { table: snapshot.present, at });
    return at;
  }

  /** Digest algorithms used by the blobs a view shows (its blobs/ subdirectories). */
  private async algorithms(snapshot: Snapshot, v: ViewEntry): Promise<readonly string[]> {
    const closure = await this.closureIn(snapshot, v.root);
    let algs = this.closureAlgorithms.get(closure);
    if (!algs) {
      const found = [...new Set(Array.from(closure.blobs.keys(), digestAlgorithm))].sort();
      // One array per set of algorithms (nearly always ['sha256']), not one per closure.
      const key = found.join();
      if (!ALGORITHM_SETS.has(key)) ALGORITHM_SETS.set(key, found);
      algs = ALGORITHM_SETS.get(key)!;
      this.closureAlgorithms.set(closure, algs);
    }
    return algs;
  }

  /**
   * The store file's mtime of a blob, the same in every view: at once when learned already (a
   * listing makes no promise per blob). `i`: its position in the blob stats (statPosition).
   */
  private blobMtime(snapshot: Snapshot, digest: Digest, i: number): number | Promise<number> {
    const stats = this.blobStats;
    if (i >= 0 && !Number.isNaN(stats!.mtimes[i])) return stats!.mtimes[i]!;
    return this.storeMtimes(snapshot, [digest]).then((m) => m[0]!);
  }

  /** Learns, in one batch shared by all who ask, the mtimes of the blobs of `closures` not known yet. */
  private closureMtimes(snapshot: Snapshot, closures: readonly Closure[]): Promise<void> {
    const waiting: Promise<void>[] = [];
    const fresh: Closure[] = [];
    for (const c of closures) {
      const learned = this.mtimesLearned.get(c);
      if (learned) waiting.push(learned);
      else if (!fresh.includes(c)) fresh.push(c);
    }
    if (fresh.length > 0) {
      const stats = this.blobStats;
      const unknown = new Set<Digest>();
      for (const c of fresh) {
        const positions = this.positionsIn(snapshot, c);
        let k = 0;
        for (const d of c.blobs.keys()) {
          const i = positions[k++]!;
          if (i < 0 || Number.isNaN(stats!.mtimes[i])) unknown.add(d);
        }
      }
      const learned = unknown.size === 0 ? Promise.resolve() : this.storeMtimes(snapshot, [...unknown]).then(() => undefined);
      for (const c of fresh) this.mtimesLearned.set(c, learned);
      waiting.push(learned);
    }
    return waiting.length === 1 ? waiting[0]! : Promise.all(waiting).then(() => undefined);
  }

  /**
   * The store files' mtimes of `digests`, kept for the blobs of the table they were asked for; a
   * file that cannot be stat'ed shows the index's mtime. lstat: a symlink planted at a blob path is
   * never followed (its own mtime is shown; opens refuse it).
   */
  private async storeMtimes(snapshot: Snapshot, digests: Digest[]): Promise<Float64Array> {
    // Held across the await: a refresh meanwhile moves the stats to other arrays and positions.
    const stats = this.blobStats;
    const mtimes = await fileMtimes(digests.map((d) => this.store.blobFile(d)));
    digests.forEach((d, k) => {
      if (Number.isNaN(mtimes[k])) mtimes[k] = snapshot.index.mtimeMs;
      const i = statPosition(stats, snapshot, d);
      if (i >= 0) stats!.mtimes[i] = mtimes[k]!;
    });
    return mtimes;
  }

  /** Keeps the mtimes and sizes learned so far across a change of the store's blobs (the same arrays within a lineage). */
  private moveBlobStats(table: BlobTable): void {
    const was = this.blobStats;
    if (was?.table === table) return;
    this.blobStats = was
      ? { table, mtimes: was.table.carry(was.mtimes, table, NaN), sizes: was.table.carry(was.sizes, table, NaN) }
      : { table, mtimes: new Float64Array(table.capacity).fill(NaN), sizes: new Float64Array(table.capacity).fill(NaN) };
  }
}
