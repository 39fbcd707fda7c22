import { statfs } from 'node:fs';
import type { Logger } from 'pino';
import { ROOT_ID } from '../view/node-ids.js';
import type { DirEntry, DirNode, Node } from '../view/nodes.js';
import type { View } from '../view/view.js';
import { ATTR_LEN, writeAttrs, writeDotAttrs, type Owner } from './attrs.js';
import { EBADF, EISDIR, ENOENT, ENOSYS, ENOTDIR, EROFS, toErrno } from './errno.js';
import { KernelNodes } from './kernel-nodes.js';
import type { FuseSession, Ops } from './native-core.js';
import { OpenFiles } from './open-files.js';

/**
 * Calls per FUSE request kind that reached JavaScript; readdirplus_native: replies the core
 * wrote from listings handed over (announced by COUNTED); listed_ahead: listings handed over
 * ahead of a walk (listAhead). For the metrics endpoint.
 */
export type FuseCounters = Record<string, number>;

/** What the kernel granted at INIT. */
export interface Grants {
  minor: number;
  maxPages: number;
  passthrough: boolean;
}

/** The smallest readdirplus record (entry_out + dirent + an 8-byte name): bounds the entries offered per reply. */
const MIN_DIRENTPLUS = 160;
const O_ACCMODE = 3;
/** Plain directories listed ahead whose children wait for the walk to read them (see listAhead). */
const MAX_UNREAD = 4096;

/**
 * The JavaScript side of the mount: every request the native core does not answer itself
 * (lookups, attributes, directory listings, opens, reads of synthetic files and archives),
 * answered by node id from the view. Blob data never comes here.
 */
export class FuseRequests {
  readonly counters: FuseCounters = {};
  readonly ready: Promise<Grants>;
  /** Resolves with the errno the session ended with (0: unmounted). */
  readonly ended: Promise<number>;
  private session: FuseSession | undefined;
  private readonly nodes = new KernelNodes();
  /**
   * Entries of listings handed to the core, not yet announced as served (COUNTED) or handed back:
   * the kernel may hold them already (an announcement still queued), so a refresh invalidates
   * them too. Counted apart from `nodes`, which stays what the kernel was given.
   */
  private readonly ahead = new KernelNodes();
  private readonly files = new OpenFiles();
  private readonly attrs = new Float64Array(ATTR_LEN);
  /** Refreshes that changed the tree: a listing made ahead across one is not handed over. */
  private treeChanges = 0;
  /** Listings of plain directories handed to the core ahead and not read yet, by directory id (see listAhead). */
  private readonly unread = new Map<number, readonly DirEntry[]>();
  /** The last listings, by directory id and state: the kernel reads a big directory in several replies. */
  private readonly listings = new Map<string, DirEntry[]>();
  private granted!: (g: Grants) => void;
  private finished!: (errno: number) => void;

  constructor(private readonly view: View, private readonly op: Ops, private readonly owner: Owner, private readonly log: Logger,
    private readonly traced: boolean) {
    this.ready = new Promise((resolve) => (this.granted = resolve));
    this.ended = new Promise((resolve) => (this.finished = resolve));
    view.onChange((change) => {
      const s = this.session;
      // A refresh that changed nothing a listing shows (the one at start, say) leaves them be.
      if (!s || change.entries.length + change.dirs.length + change.nodes.length === 0) return;
      this.treeChanges++;
      // Listings handed to the core are of the old state: dropped, with any reply being written
      // from one, before the invalidations go out.
      for (const id of s.dropListings()) this.ahead.forget(id, 1);
      // Only what the kernel may have cached: ids it holds.
      const held = (id: number) => id === ROOT_ID || this.nodes.has(id) || this.ahead.has(id);
      for (const { parent, name } of change.entries) if (held(parent)) s.notifyInvalEntry(parent, name);
      // A directory's cached listing goes with its attributes; a blob keeps its pages (only nlink moved).
      for (const id of change.dirs) if (held(id)) s.notifyInvalInode(id, 0, 0);
      for (const id of change.nodes) if (held(id)) s.notifyInvalInode(id, -1, 0);
      this.listings.clear();
      this.unread.clear();
    });
  }

  /** How many node ids the kernel holds (its lookups not all forgotten), the root aside. */
  get kernelNodes(): number {
    return this.nodes.size;
  }

  attach(session: FuseSession): void {
    this.session = session;
  }

  readonly handle = (op: number, unique: number, nodeid: number, a: number, b: number, c: number, name: string, ids?: Float64Array): void => {
    const O = this.op;
    if (this.traced) this.log.info({ op, unique, nodeid, a, b, c, name }, 'fuse request');
    switch (op) {
      case O.LOOKUP: return this.answer('lookup', unique, () => this.lookup(unique, nodeid, name));
      case O.FORGET: return this.nodes.forget(nodeid, a);
      case O.GETATTR: return this.answer('getattr', unique, () => this.getattr(unique, nodeid));
      case O.READDIRPLUS: return this.answer('readdirplus', unique, () => this.readdir(unique, nodeid, b, c, true));
      case O.READDIR: return this.answer('readdir', unique, () => this.readdir(unique, nodeid, b, c, false));
      case O.OPEN: return this.answer('open', unique, () => this.open(unique, nodeid, a));
      case O.READ: return this.answer('read', unique, () => this.read(unique, a, b, c));
      case O.RELEASE: return this.release(a);
      case O.STATFS: return this.answer('statfs', unique, () => this.statfs(unique));
      case O.INIT: return this.granted({ minor: nodeid, maxPages: a, passthrough: b === 1 });
      case O.END: return this.finished(a);
      case O.COUNTED: return this.counted(nodeid, ids);
      default: return this.session!.error(unique, ENOSYS);
    }
  };

  /** Counts the request, runs it, and answers a failure with its errno: exactly one reply. */
  private answer(op: string, unique: number, work: () => Promise<void>): void {
    this.counters[op] = (this.counters[op] ?? 0) + 1;
    work().catch((err: unknown) => {
      this.log.debug({ op, err }, 'fuse request failed');
      this.session!.error(unique, toErrno(err));
    });
  }

  /**
   * The node behind a kernel id, made again from the id as the current state has it (nlink moves
   * with refreshes); undefined when it is gone. Ids the kernel had forgotten (a file handle) are
   * counted apart.
   */
  private node(id: number): Promise<Node | undefined> {
    // The kernel holds the root from the mount on, without a lookup.
    if (id === ROOT_ID) return this.view.lookup('');
    if (!this.nodes.has(id)) this.counters.by_id = (this.counters.by_id ?? 0) + 1;
    return this.view.byId(id);
  }

  private async dir(id: number): Promise<DirNode | 'gone' | 'not-dir'> {
    const node = await this.node(id);
    if (!node) return 'gone';
    return node.type === 'dir' ? node : 'not-dir';
  }

  /**
   * Runs `find` against one state and answers from it in the same turn: an answer the kernel may
   * cache must not come from a state a refresh replaced meanwhile (the refresh's invalidations
   * went out before it), and a refresh can land between two turns, after `find` resolved.
   */
  private async stable<T>(find: () => Promise<T>, answer: (found: T) => void): Promise<void> {
    for (;;) {
      const generation = this.view.generation;
      const found = await find();
      if (generation === this.view.generation) return answer(found);
    }
  }

  private lookup(unique: number, parentId: number, name: string): Promise<void> {
    const s = this.session!;
    return this.stable(async () => {
      // "." of any node is the node itself: the kernel asks so to turn a file handle back into a node.
      if (name === '.') return (await this.node(parentId)) ?? 'gone';
      const parent = await this.dir(parentId);
      return typeof parent === 'string' ? parent : this.view.child(parent, name);
    }, (node) => {
      if (node === 'not-dir') return s.error(unique, ENOTDIR);
      if (node === undefined || node === 'gone') return s.error(unique, ENOENT);
      writeAttrs(this.attrs, 0, node, this.owner);
      this.nodes.remember(node.id);
      s.entry(unique, this.attrs);
    });
  }

  private getattr(unique: number, id: number): Promise<void> {
    return this.stable(() => this.node(id), (found) => {
      // A file removed from the store while open answers from what it was opened as, as an unlinked file does.
      const node = found ?? this.files.nodeOf(id);
      if (!node) return this.session!.error(unique, ENOENT);
      writeAttrs(this.attrs, 0, node, this.owner);
      this.session!.attr(unique, this.attrs);
    });
  }

  private async listing(dir: DirNode): Promise<DirEntry[] | undefined> {
    const key = `${dir.id}:${this.view.generation}`;
    let entries = this.listings.get(key);
    if (!entries) {
      entries = await this.view.entries(dir);
      if (!entries) return undefined;
      if (this.listings.size >= 16) this.listings.delete(this.listings.keys().next().value!);
      this.listings.set(key, entries);
    }
    return entries;
  }

  private readdir(unique: number, id: number, offset: number, size: number, plus: boolean): Promise<void> {
    const s = this.session!;
    return this.stable(async () => {
      const dir = await this.dir(id);
      if (typeof dir === 'string') return dir;
      const entries = await this.listing(dir);
      // A view's first read: the listings a walk reads next (blobs, blobs/<alg>) go to the core
      // with it, one round trip where there were three.
      const ahead = entries && plus && offset === 0 ? await this.view.blobListings(dir) : [];
      return entries && { dir, entries, ahead };
    }, (found) => {
      if (found === 'not-dir') return s.error(unique, ENOTDIR);
      if (found === 'gone' || found === undefined) return s.error(unique, ENOENT);
      const { dir, entries, ahead } = found;
      for (const l of ahead) this.preList(l.dir, l.entries);
      // Offsets count `.` and `..` first, then the entries.
      const all = entries.length + 2;
      const count = Math.max(0, Math.min(all - offset, Math.ceil(size / MIN_DIRENTPLUS) + 1));
      const { names, attrs, ids } = this.records(dir, entries, offset, count);
      const packed = plus ? s.dirplus(unique, names, attrs, offset, size, dir.id, all) : s.dir(unique, names, attrs, offset, size);
      // Each readdirplus entry with a node id counts as a lookup in the kernel.
      if (plus) for (let i = 0; i < packed; i++) if (ids[i]) this.nodes.remember(ids[i]!);
      if (plus && offset === 0) {
        // Read here, not from a listing handed over ahead: that one will never be read.
        this.unread.delete(dir.id);
        this.startListingAhead(entries);
      }
    });
  }

  /**
   * Hands the core, ahead of a walk that has just read `entries`, the listings it reads next:
   * those of the plain directories among them, and of every view among them or in those
   * directories once the view's warming has read it (the view's own, its blobs and blobs/<alg>).
   * The walk then reads them without a round trip here; when it reads a plain directory's listing
   * (COUNTED), that directory's children are listed ahead in turn. Nothing is read for this
   * beyond the view's warming, whose bound it keeps, and the core keeps at most 8 MiB of listings.
   */
  private async listAhead(entries: readonly DirEntry[]): Promise<void> {
    const views: Promise<void>[] = [];
    for (const { node, warmed } of entries) {
      if (node.type !== 'dir') continue;
      if (warmed) {
        views.push(this.listViewAhead(node, warmed));
        continue;
      }
      const changes = this.treeChanges;
      const listed = await this.view.entries(node);
      if (!listed || changes !== this.treeChanges || !this.session) continue;
      this.preList(node, listed);
      this.countAhead(1);
      // The oldest unread leave first: the walk's own reads list ahead beyond them.
      if (this.unread.size >= MAX_UNREAD) this.unread.delete(this.unread.keys().next().value!);
      this.unread.set(node.id, listed);
      for (const e of listed) if (e.warmed && e.node.type === 'dir') views.push(this.listViewAhead(e.node, e.warmed));
    }
    await Promise.all(views);
  }

  private async listViewAhead(dir: DirNode, warmed: Promise<void>): Promise<void> {
    const changes = this.treeChanges;
    await warmed;
    const [own, below] = await Promise.all([this.view.entries(dir), this.view.blobListings(dir)]);
    if (!own || below.length === 0 || changes !== this.treeChanges || !this.session) return;
    this.preList(dir, own);
    for (const l of below) this.preList(l.dir, l.entries);
    this.countAhead(1 + below.length);
  }

  private countAhead(n: number): void {
    this.counters.listed_ahead = (this.counters.listed_ahead ?? 0) + n;
  }

  /** Records `offset` to `offset + count` of `dir`'s listing, `.` and `..` first, with the node id each gives the kernel (0: none). */
  private records(dir: DirNode, entries: DirEntry[], offset: number, count: number): { names: string[]; attrs: Float64Array; ids: Float64Array } {
    const names: string[] = new Array<string>(count);
    const attrs = new Float64Array(count * ATTR_LEN);
    const ids = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const at = offset + i;
      if (at < 2) {
        names[i] = at === 0 ? '.' : '..';
        writeDotAttrs(attrs, i, at === 0 ? dir.id : dir.id === ROOT_ID ? ROOT_ID : 0);
      } else {
        const e = entries[at - 2]!;
        names[i] = e.name;
        ids[i] = e.node.id;
        writeAttrs(attrs, i, e.node, this.owner);
      }
    }
    return { names, attrs, ids };
  }

  /**
   * Hands `dir`'s whole listing to the core, which answers the kernel's reads of it without a
   * round trip here; its entries are held ahead until the core announces them served or hands
   * them back (not kept, replaced, evicted unread).
   */
  private preList(dir: DirNode, entries: DirEntry[]): void {
    const { names, attrs, ids } = this.records(dir, entries, 0, entries.length + 2);
    for (const id of ids) if (id) this.ahead.remember(id);
    const back = this.session!.preList(dir.id, names, attrs);
    for (const id of back ?? ids) if (id) this.ahead.forget(id, 1);
  }

  private startListingAhead(entries: readonly DirEntry[]): void {
    this.listAhead(entries).catch((err: unknown) => this.log.debug({ err }, 'listing ahead'));
  }

  /**
   * The core is writing a reply from listing `dir` handed over: its entries become lookups the
   * kernel holds, and the walk reading it goes on to its children (listed ahead).
   */
  private counted(dir: number, ids: Float64Array | undefined): void {
    const unread = this.unread.get(dir);
    if (unread) {
      this.unread.delete(dir);
      this.startListingAhead(unread);
    }
    this.counters.readdirplus_native = (this.counters.readdirplus_native ?? 0) + 1;
    for (const id of ids ?? []) {
      this.ahead.forget(id, 1);
      this.nodes.remember(id);
    }
  }

  private async open(unique: number, id: number, flags: number): Promise<void> {
    const s = this.session!;
    if ((flags & O_ACCMODE) !== 0) return s.error(unique, EROFS);
    const node = await this.node(id);
    if (!node) return s.error(unique, ENOENT);
    if (node.type === 'dir') return s.error(unique, EISDIR);
    if (node.type === 'blob') {
      const how = s.openBlob(unique, node.id, await this.view.openBlobFd(node));
      this.counters[`open_${how}`] = (this.counters[`open_${how}`] ?? 0) + 1;
      return;
    }
    const fh = this.files.add(await this.view.openReader(node), node);
    // A synthetic file's or archive's bytes never change under one id (node-ids.ts): keep the page cache.
    s.open(unique, fh, 2 /* FOPEN_KEEP_CACHE */);
  }

  private async read(unique: number, fh: number, offset: number, size: number): Promise<void> {
    const file = this.files.get(fh);
    if (!file) return this.session!.error(unique, EBADF);
    const buf = Buffer.allocUnsafe(Math.min(size, Math.max(0, file.reader.size - offset)));
    const n = buf.length === 0 ? 0 : await file.reader.read(buf, 0, buf.length, offset);
    this.session!.data(unique, buf, n);
  }

  private release(fh: number): void {
    this.counters.release = (this.counters.release ?? 0) + 1;
    this.files.remove(fh)?.close().catch((err: unknown) => this.log.debug({ err }, 'closing a released file failed'));
  }

  private statfs(unique: number): Promise<void> {
    return new Promise((resolve, reject) => {
      statfs(this.view.storeRoot, (err, st) => {
        if (err) return reject(err);
        this.session!.statfs(unique, st.blocks, 0, 0, st.files, 0, st.bsize, 255, st.bsize);
        resolve();
      });
    });
  }
}
