import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, lstatSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errnoOf, LayoutfsError } from '../errors.js';
import { digestAlgorithm, digestEncoded, isDigestAlgorithm, type Digest } from '../oci/digest.js';
import { OCI_LAYOUT_BYTES } from '../oci/layout-bytes.js';
import { tempName, writeTempFile } from '../store/atomic-file.js';
import { blobRelPath } from '../store/blobs/blob-path.js';
import { descriptorChunks, openBeneathSync } from '../store/safe-open.js';
import type { Closure } from '../store/graph/closure.js';
import type { StoreReader } from '../store/store-reader.js';
import type { NamedView } from '../view/view-entry.js';
import { makeDurable } from './make-durable.js';
import { readState, writeState } from './materialize-state.js';
import { OutputDirectories, REMEMBERED } from './output-directories.js';
import { planViews } from './plan-views.js';
import { removeView } from './remove-view.js';
import { viewClosures } from './view-closures.js';

export interface MaterializeReport {
  out: string;
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: number;
  linked: number;
  copied: number;
  copiedBytes: number;
}

export interface MaterializeOptions {
  /** Check every view file by file, also those the state file says are as made (repairs hand edits). */
  full?: boolean;
}

/** A store file as checked through the safe open: what a link of it must be. */
interface StoreFile {
  path: string;
  ino: number;
  dev: number;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw err;
  }
}

function isStoreFile(source: StoreFile, st: Stats | undefined): boolean {
  return !!st && st.isFile() && st.ino === source.ino && st.dev === source.dev;
}

/** Whether `path` is a regular file holding exactly `bytes` (never followed; a FIFO never waited on). */
function holds(path: string, bytes: Buffer): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size !== bytes.length) return false;
    const current = Buffer.allocUnsafe(bytes.length);
    return readSync(fd, current, 0, bytes.length, 0) === bytes.length && current.equals(bytes);
  } finally {
    closeSync(fd);
  }
}

/**
 * One run: writes views with blocking calls. materialize serves nothing meanwhile, and a
 * first run makes millions of small file calls, where one awaited call each costs more than the
 * call itself (ls and gc measured 2-3x faster sync, scripts/bench/README.md).
 */
class Run {
  readonly dirs: OutputDirectories;
  /** Directories whose entries changed and files written, made durable before the state is. */
  readonly changed = new Set<string>();
  /** Store files already checked: a shared base layer is opened once, not once per view. */
  private readonly sources = new Map<Digest, StoreFile>();
  private warned = false;

  constructor(private readonly store: StoreReader, readonly out: string, private readonly warn: (msg: string) => void, readonly report: MaterializeReport) {
    this.dirs = new OutputDirectories(out, this.changed);
  }

  /**
   * Makes view `v` hold `closure` and its index.json: links what is missing, replaces what is
   * another file, writes index.json, and only then drops the blobs it no longer names (a reader
   * of the old index.json finds its blobs until the new one is in).
   */
  async syncView(v: NamedView, closure: Closure): Promise<'added' | 'updated' | 'unchanged'> {
    const fresh = this.dirs.make(v.path);
    const dir = join(this.out, v.path);
    const existed = !fresh && lstatOrUndefined(join(dir, 'index.json')) !== undefined;
    let changed = false;
    const algs = new Set<string>();
    for (const [digest, blob] of closure.blobs) {
      const alg = digestAlgorithm(digest);
      if (!algs.has(alg)) {
        this.dirs.make(`${v.path}/blobs/${alg}`);
        algs.add(alg);
      }
      const target = join(dir, 'blobs', alg, digestEncoded(digest));
      // In a directory made just now nothing is there yet: no lstat first.
      if (await this.placeBlob(digest, blob.size, target, fresh ? undefined : lstatOrUndefined(target), v, closure)) changed = true;
    }
    if (this.syncFile(join(dir, 'oci-layout'), OCI_LAYOUT_BYTES, fresh)) changed = true;
    if (this.syncFile(join(dir, 'index.json'), v.indexJson, fresh)) changed = true;
    if (!fresh && this.dropUnnamedBlobs(v.path, closure)) changed = true;
    return !existed ? 'added' : changed ? 'updated' : 'unchanged';
  }

  /** Puts blob `digest` at `target` (whose lstat is `current`) unless it is there; whether it was not. */
  private async placeBlob(digest: Digest, size: number, target: string, current: Stats | undefined, v: NamedView, closure: Closure): Promise<boolean> {
    const source = this.storeFile(digest);
    if (current) {
      if (isStoreFile(source, current)) return false;
      // A copy made across filesystems stays: no link can replace it.
      if (current.isFile() && current.size === size && current.dev !== source.dev) return false;
      const temp = tempName(target);
      await this.put(digest, size, source, temp, v, closure);
      renameSync(temp, target);
    } else {
      await this.put(digest, size, source, target, v, closure);
    }
    this.changed.add(dirname(target));
    return true;
  }

  /**
   * A hard link of the store file at `at` (which does not exist), or across filesystems a
   * verified copy. The link goes straight to its name (a temp name and rename took 153 µs per
   * blob against 66): should it not be the checked store file, it is removed at once and the run fails.
   */
  private async put(digest: Digest, size: number, source: StoreFile, at: string, v: NamedView, closure: Closure): Promise<void> {
    try {
      linkSync(source.path, at);
    } catch (err) {
      if (errnoOf(err) !== 'EXDEV') throw err;
      if (!this.warned) {
        this.warn(`${this.out} is on another filesystem than the store: copying blobs instead of hard-linking (about ${closure.bytes} bytes for ${v.name})`);
        this.warned = true;
      }
      renameSync(await copyVerified(this.store, source.path, at, digest, size), at);
      this.report.copied++;
      this.report.copiedBytes += size;
      return;
    }
    // link(2) does not follow a symlink: had the store file been swapped since it was checked, the
    // link would be a symlink or another file. Only the checked regular file stays.
    if (!isStoreFile(source, lstatOrUndefined(at))) {
      unlinkSync(at);
      throw new LayoutfsError('FAILED_PRECONDITION', `blob ${digest} changed in the store while being linked`, { path: source.path });
    }
    this.report.linked++;
  }

  /** The store file of `digest`, opened the safe way: a symlink or FIFO planted in the store is refused here. */
  private storeFile(digest: Digest): StoreFile {
    let source = this.sources.get(digest);
    if (!source) {
      const { fd, stat } = openBeneathSync(this.store.safeRoot, blobRelPath(digest), `blob ${digest}`);
      closeSync(fd);
      source = { path: this.store.blobFile(digest), ino: stat.ino, dev: stat.dev };
      if (this.sources.size >= REMEMBERED) this.sources.clear();
      this.sources.set(digest, source);
    }
    return source;
  }

  /** Writes `bytes` at `path` (temp, rename) unless it holds them already; whether it did. */
  private syncFile(path: string, bytes: Buffer, fresh: boolean): boolean {
    if (!fresh && holds(path, bytes)) return false;
    const temp = tempName(path);
    const fd = openSync(temp, 'wx', 0o444);
    try {
      writeSync(fd, bytes);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    this.changed.add(path);
    this.changed.add(dirname(path));
    return true;
  }

  /** Removes what `blobs/<alg>/` holds beyond the closure (blobs of an older root, hand-made files); whether anything went. */
  private dropUnnamedBlobs(viewPath: string, closure: Closure): boolean {
    if (!this.dirs.isOwn(`${viewPath}/blobs`)) return false;
    let dropped = false;
    for (const alg of readdirSync(join(this.out, viewPath, 'blobs'))) {
      if (!isDigestAlgorithm(alg) || !this.dirs.isOwn(`${viewPath}/blobs/${alg}`)) continue;
      const algDir = join(this.out, viewPath, 'blobs', alg);
      for (const name of readdirSync(algDir)) {
        if (closure.blobs.has(`${alg}:${name}` as Digest)) continue;
        unlinkSync(join(algDir, name));
        this.changed.add(algDir);
        dropped = true;
      }
    }
    return dropped;
  }
}

/**
 * Real directories, one standalone layout per reference, under `out`: blobs hard-linked to the
 * store's files (copied, with a warning, across filesystems). A re-run costs what changed: a
 * view whose store entry is the one the state file records is taken as made and not looked at
 * (`full` checks it file by file); new and re-tagged views are synced, removed ones deleted. No
 * view is built for an unchanged entry (planViews). Every file appears under its final name whole.
 */
export async function materialize(store: StoreReader, out: string, names: string[] | undefined, warn: (msg: string) => void,
  options: MaterializeOptions = {}): Promise<MaterializeReport> {
  const index = await store.readIndex();
  const previous = readState(out, store.root, warn);
  const { unchanged, todo, gone, made } = planViews(index, previous, names, options.full ?? false);
  await mkdir(out, { recursive: true }).catch((err: unknown) => {
    throw new LayoutfsError('PERMISSION_DENIED', `cannot create the output directory (${String(errnoOf(err))})`, { path: out, cause: err });
  });
  const report: MaterializeReport = { out, added: [], updated: [], removed: [], unchanged, linked: 0, copied: 0, copiedBytes: 0 };
  if (todo.length === 0 && gone.length === 0 && made.size === previous.size) return report;

  // Views about to change lose their record first: a run stopped half-way leaves them to be
  // checked, even should the store go back to what the record said.
  const touched = [...todo.map((t) => t.v.path), ...gone].filter((p) => typeof previous.get(p) === 'string');
  if (touched.length > 0) {
    for (const p of touched) made.set(p, null);
    await writeState(out, store.root, made);
  }

  const run = new Run(store, out, warn, report);
  const closureOf = await viewClosures(store, todo.length);
  for (const { v, identity } of todo) {
    const closure = await closureOf(v.root);
    const result = await run.syncView(v, closure);
    if (result === 'added') report.added.push(v.name);
    else if (result === 'updated') report.updated.push(v.name);
    else report.unchanged++;
    // An incomplete closure may grow when blobs arrive: such a view is checked on every run.
    made.set(v.path, closure.missing.length === 0 && closure.problems.length === 0 ? identity : null);
  }
  for (const p of gone) {
    removeView(run.dirs, p, run.changed);
    report.removed.push(p);
    made.delete(p);
  }
  await makeDurable(out, run.changed);
  await writeState(out, store.root, made);
  return report;
}

/** A copy of a store blob in a temp file beside `target`, checked against its digest on the way. */
async function copyVerified(store: StoreReader, source: string, target: string, digest: Digest, size: number): Promise<string> {
  const hash = createHash(digestAlgorithm(digest));
  const fd = await store.openBlob(digest, size);
  const temp = await writeTempFile(target, async (handle) => {
    for await (const chunk of descriptorChunks(fd, size, source)) {
      hash.update(chunk);
      await handle.write(chunk);
    }
  }, 0o444);
  if (hash.digest('hex') !== digestEncoded(digest)) {
    unlinkSync(temp);
    throw new LayoutfsError('DATA_LOSS', `blob ${digest} changed while being copied`, { path: source });
  }
  return temp;
}
