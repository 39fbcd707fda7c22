import { stat } from 'node:fs/promises';
import { digestAlgorithm, digestEncoded, isDigestAlgorithm, isEncodedDigest, type Digest } from '../oci/digest.js';
import { computeClosure, type Closure } from '../store/closure.js';
import type { StoreReader } from '../store/store-reader.js';
import { takeCensus, type Census } from './census.js';
import { OCI_LAYOUT_BYTES } from '../oci/layout-bytes.js';
import { InodeTable, ROOT_INO } from './inode-table.js';
import { MetadataCache } from './metadata-cache.js';
import type { BlobNode, DirNode, FileNode, Node } from './nodes.js';
import { loadSnapshot, type Snapshot, type ViewEntry } from './snapshot.js';

export interface ViewOptions {
  /** Byte bound of the LRU metadata cache. */
  cacheBytes?: number;
}

/** A loaded snapshot and the counts that go with it; swapped in as one value. */
interface State {
  snapshot: Snapshot;
  census: Census;
}

/** A directory entry: enough for d_ino and d_type without a lookup. */
export interface DirEntryInfo {
  name: string;
  ino: number;
  dir: boolean;
}

/**
 * The synthetic tree of a store: path -> node. Knows nothing of FUSE or HTTP. Paths have no
 * leading `/`; '' is the root.
 */
export class View {
  readonly cache: MetadataCache;
  readonly inodes = new InodeTable();
  private state!: State;
  private refreshing: Promise<boolean> | undefined;
  private refreshAgain = false;
  private readonly refreshListeners: ((before: Snapshot, after: Snapshot) => void)[] = [];
  /** Store file mtimes of blobs, looked up once: blobs are immutable. */
  private readonly blobMtimes = new Map<Digest, number>();

  private constructor(readonly store: StoreReader, options: ViewOptions) {
    this.cache = new MetadataCache(store, options.cacheBytes);
  }

  static async open(store: StoreReader, options: ViewOptions = {}): Promise<View> {
    const view = new View(store, options);
    view.state = await view.load(1);
    return view;
  }

  get snapshot(): Snapshot {
    return this.state.snapshot;
  }

  get census(): Census {
    return this.state.census;
  }

  private async load(generation: number): Promise<State> {
    const snapshot = await loadSnapshot(this.store, generation);
    const census = await takeCensus(snapshot, (v) => this.closureIn(snapshot, v));
    return { snapshot, census };
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
        const before = this.state.snapshot;
        const next = await this.load(before.generation + 1);
        changed ||= next.snapshot.indexIno !== before.indexIno || next.snapshot.indexMtimeMs !== before.indexMtimeMs;
        this.state = next;
        for (const listener of this.refreshListeners) listener(before, next.snapshot);
      } while (this.refreshAgain);
      return changed;
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /**
   * Calls `listener` each time a refresh swaps a new state in (adapters that cache, like FUSE's
   * kernel side). It runs inside refresh and must not throw.
   */
  onRefresh(listener: (before: Snapshot, after: Snapshot) => void): void {
    this.refreshListeners.push(listener);
  }

  /** The closure a view shows, from the cache or computed against the current snapshot. */
  closureOf(v: ViewEntry): Promise<Closure> {
    return this.closureIn(this.state.snapshot, v);
  }

  private closureIn(snapshot: Snapshot, v: ViewEntry): Promise<Closure> {
    return this.cache.closure(`${snapshot.generation}:${v.root.digest}`, () =>
      computeClosure(v.root, this.cache, snapshot.present, this.store));
  }

  private dirNode(snapshot: Snapshot, ino: number, subdirs: number): DirNode {
    return { type: 'dir', ino, nlink: 2 + subdirs, mtimeMs: snapshot.indexMtimeMs };
  }

  private fileNode(snapshot: Snapshot, path: string, content: Buffer): FileNode {
    return { type: 'file', ino: this.inodes.get('f:' + path), nlink: 1, size: content.length, content,
      mtimeMs: snapshot.indexMtimeMs };
  }

  /** The node at `path`, or undefined when the tree has none. */
  lookup(path: string): Promise<Node | undefined> {
    return this.lookupIn(this.state, path);
  }

  /** Child names of a directory, or undefined when `path` is not one. */
  async readdir(path: string): Promise<string[] | undefined> {
    return (await this.readdirIn(this.state, path))?.map((e) => e.name);
  }

  /** Children with their inode numbers and kinds, without a lookup each (what FUSE readdir wants). */
  entries(path: string): Promise<DirEntryInfo[] | undefined> {
    return this.readdirIn(this.state, path);
  }

  // Each call works on one state throughout: a refresh landing meanwhile must not mix two stores.
  private async lookupIn(state: State, path: string): Promise<Node | undefined> {
    const { snapshot, census } = state;
    if (path === '') return this.dirNode(snapshot, ROOT_INO, snapshot.dirs.get('')!.subdirs);
    const view = snapshot.views.get(path);
    if (view) return this.dirNode(snapshot, this.inodes.get('d:' + path), 1 + (snapshot.dirs.get(path)?.subdirs ?? 0));
    const dir = snapshot.dirs.get(path);
    if (dir) return this.dirNode(snapshot, this.inodes.get('d:' + path), dir.subdirs);

    const parts = path.split('/');
    const n = parts.length;
    if (n < 2) return undefined;
    const last = parts[n - 1]!;
    if (last === 'index.json' || last === 'oci-layout' || last === 'blobs') {
      const owner = snapshot.views.get(parts.slice(0, n - 1).join('/'));
      if (!owner) return undefined;
      if (last === 'index.json') return this.fileNode(snapshot, path, owner.indexJson);
      if (last === 'oci-layout') return this.fileNode(snapshot, path, OCI_LAYOUT_BYTES);
      return this.dirNode(snapshot, this.inodes.get('d:' + path), (await this.algorithms(snapshot, owner)).length);
    }
    if (n >= 3 && parts[n - 2] === 'blobs') {
      const owner = snapshot.views.get(parts.slice(0, n - 2).join('/'));
      if (!owner || !(await this.algorithms(snapshot, owner)).includes(last)) return undefined;
      return this.dirNode(snapshot, this.inodes.get('d:' + path), 0);
    }
    if (n >= 4 && parts[n - 3] === 'blobs') {
      const alg = parts[n - 2]!;
      const owner = snapshot.views.get(parts.slice(0, n - 3).join('/'));
      if (!owner || !isDigestAlgorithm(alg) || !isEncodedDigest(alg, last)) return undefined;
      const digest = `${alg}:${last}` as Digest;
      const blob = (await this.closureIn(snapshot, owner)).blobs.get(digest);
      if (!blob) return undefined;
      const node: BlobNode = { type: 'blob', ino: this.inodes.get('b:' + digest), nlink: census.views.get(digest) ?? 1,
        size: blob.size, digest, mtimeMs: await this.blobMtime(snapshot, digest) };
      return node;
    }
    return undefined;
  }

  private async readdirIn(state: State, path: string): Promise<DirEntryInfo[] | undefined> {
    const { snapshot } = state;
    const prefix = path === '' ? '' : path + '/';
    const dirs = (names: readonly string[]) => names.map((name) => this.dirEntry(prefix + name, name));
    const view = snapshot.views.get(path);
    const nested = snapshot.dirs.get(path)?.children;
    if (view) {
      const own: DirEntryInfo[] = [
        this.dirEntry(prefix + 'blobs', 'blobs'),
        { name: 'index.json', ino: this.inodes.get('f:' + prefix + 'index.json'), dir: false },
        { name: 'oci-layout', ino: this.inodes.get('f:' + prefix + 'oci-layout'), dir: false },
      ];
      return nested ? [...own, ...dirs(nested)].sort((x, y) => (x.name < y.name ? -1 : 1)) : own;
    }
    if (nested) return dirs(nested);
    const node = await this.lookupIn(state, path);
    if (node?.type !== 'dir') return undefined;
    const parts = path.split('/');
    const n = parts.length;
    if (parts[n - 1] === 'blobs') return dirs(await this.algorithms(snapshot, snapshot.views.get(parts.slice(0, n - 1).join('/'))!));
    const owner = snapshot.views.get(parts.slice(0, n - 2).join('/'))!;
    const alg = parts[n - 1]!;
    const out: DirEntryInfo[] = [];
    for (const digest of (await this.closureIn(snapshot, owner)).blobs.keys()) {
      if (digestAlgorithm(digest) === alg) out.push({ name: digestEncoded(digest), ino: this.inodes.get('b:' + digest), dir: false });
    }
    return out.sort((x, y) => (x.name < y.name ? -1 : 1));
  }

  private dirEntry(path: string, name: string): DirEntryInfo {
    return { name, ino: this.inodes.get('d:' + path), dir: true };
  }

  /** Digest algorithms used by the blobs a view shows (its blobs/ subdirectories). */
  private async algorithms(snapshot: Snapshot, v: ViewEntry): Promise<string[]> {
    const algs = new Set<string>();
    for (const digest of (await this.closureIn(snapshot, v)).blobs.keys()) algs.add(digestAlgorithm(digest));
    return [...algs].sort();
  }

  private async blobMtime(snapshot: Snapshot, digest: Digest): Promise<number> {
    let m = this.blobMtimes.get(digest);
    if (m === undefined) {
      try {
        m = (await stat(this.store.blobFile(digest))).mtimeMs;
      } catch {
        m = snapshot.indexMtimeMs;
      }
      this.blobMtimes.set(digest, m);
    }
    return m;
  }
}
