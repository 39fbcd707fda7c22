import { createHash } from 'node:crypto';
import { link, lstat, mkdir, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { LayoutfsError, parseJson } from '../errors.js';
import { digestAlgorithm, digestEncoded, isDigestAlgorithm, type Digest } from '../oci/digest.js';
import { descriptorChunks } from '../store/safe-open.js';
import { syncDirectory, tempName, writeFileAtomic, writeTempFile } from '../store/atomic-file.js';
import { OCI_LAYOUT_BYTES } from '../oci/layout-bytes.js';
import { pathToRef } from '../oci/path-mapping.js';
import type { NamedView } from '../view/snapshot.js';
import type { View } from '../view/view.js';

/** What a previous run made, so a re-run can remove views whose reference is gone. */
const STATE_FILE = '.layoutfs-materialized.json';

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

/** Whether `target` (never followed: lstat) is the store file `source` already. */
async function sameFile(source: { ino: number; dev: number }, target: string): Promise<boolean> {
  const y = await lstat(target).catch(() => undefined);
  return !!y && y.isFile() && source.ino === y.ino && source.dev === y.dev;
}

/** The paths a state file may name: what the path mapping produces, or `_digests/<alg>/<hex>`. */
const DIGEST_VIEW = /^_digests\/(sha256\/[0-9a-f]{64}|sha512\/[0-9a-f]{128})$/;

function isViewPath(p: unknown): p is string {
  return typeof p === 'string' && (DIGEST_VIEW.test(p) || pathToRef(p) !== undefined);
}

/**
 * Whether every component from `out` down to `out/rel` is a real directory (lstat: a symlink
 * anywhere means the path is not ours, and nothing under it is touched).
 */
async function ownDirectory(out: string, rel: string): Promise<boolean> {
  let d = out;
  for (const part of rel.split('/')) {
    if (part === '' || part === '.' || part === '..') return false;
    d = join(d, part);
    const st = await lstat(d).catch(() => undefined);
    if (!st?.isDirectory()) return false;
  }
  return true;
}

/** Writes `bytes` at `path` unless it already holds exactly them. */
async function syncFile(path: string, bytes: Buffer): Promise<boolean> {
  const current = await readFile(path).catch(() => undefined);
  if (current?.equals(bytes)) return false;
  await writeFileAtomic(path, bytes, 0o444);
  return true;
}

/**
 * The view paths a previous run made. Only paths the mapping could have produced are taken: an
 * edited state file must not make a re-run delete outside `out`.
 */
async function readState(out: string): Promise<string[]> {
  const file = join(out, STATE_FILE);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  const views = (parseJson(text, { path: file, hint: 'remove it to start over' }) as { views?: unknown } | null)?.views;
  if (!Array.isArray(views)) throw new LayoutfsError('FAILED_PRECONDITION', '"views" must be an array; remove the file to start over', { path: file });
  return views.filter(isViewPath);
}

/** Removes a view's own entries (not views nested under it), then empty parents up to `out`. */
async function removeView(out: string, viewPath: string): Promise<void> {
  // Only a real directory tree under `out` is ours: a symlink on the way is left alone.
  if (!isViewPath(viewPath) || !(await ownDirectory(out, viewPath))) return;
  const dir = join(out, viewPath);
  const algs = (await ownDirectory(dir, 'blobs')) ? await readdir(join(dir, 'blobs')).catch(() => [] as string[]) : [];
  for (const alg of algs) {
    if (!isDigestAlgorithm(alg) || !(await ownDirectory(dir, `blobs/${alg}`))) continue;
    for (const name of await readdir(join(dir, 'blobs', alg))) await unlink(join(dir, 'blobs', alg, name));
    await rmdir(join(dir, 'blobs', alg));
  }
  await rmdir(join(dir, 'blobs')).catch(() => undefined);
  for (const f of ['index.json', 'oci-layout']) await unlink(join(dir, f)).catch(() => undefined);
  for (let d = dir; relative(out, d) !== '' && !relative(out, d).startsWith('..'); d = dirname(d)) {
    if (await rmdir(d).then(() => false, () => true)) break;
  }
}

/**
 * Real directories, one standalone layout per reference, under `out`: blobs hard-linked to the
 * store's files (copied, with a warning, across filesystems). A re-run syncs: new references
 * added, moved ones updated, removed ones deleted, nothing present re-linked or re-copied.
 * Every file appears under its final name whole (link or copy to a temp name, then rename).
 */
export async function materialize(view: View, out: string, names: string[] | undefined, warn: (msg: string) => void): Promise<MaterializeReport> {
  const chosen: NamedView[] = names?.length ? names.map((n) => view.referenceNamed(n)) : view.snapshot.named;
  await mkdir(out, { recursive: true }).catch((err: unknown) => {
    throw new LayoutfsError('PERMISSION_DENIED', `cannot create the output directory (${String((err as NodeJS.ErrnoException).code)})`, { path: out, cause: err });
  });
  const previous = await readState(out);
  const report: MaterializeReport = { out, added: [], updated: [], removed: [], unchanged: 0, linked: 0, copied: 0, copiedBytes: 0 };
  let warned = false;
  for (const v of chosen) {
    const dir = join(out, v.path);
    const existed = await lstat(join(dir, 'index.json')).then(() => true, () => false);
    let changed = false;
    const closure = await view.closureOf(v);
    const wanted = new Set<string>();
    const touchedDirs = new Set<string>();
    for (const [digest, blob] of closure.blobs) {
      const target = join(dir, 'blobs', digestAlgorithm(digest), digestEncoded(digest));
      wanted.add(target);
      const source = view.blobFile(digest);
      // The store file, opened the safe way: a symlink or FIFO planted in the store is refused here.
      const sourceStat = await view.store.statBlob(digest);
      if (await sameFile(sourceStat, target)) continue;
      if (await lstat(target).then((s) => s.isFile() && s.size === blob.size, () => false) && !(await canLink(sourceStat, dir))) continue;
      await mkdir(dirname(target), { recursive: true });
      let temp = tempName(target);
      try {
        await link(source, temp);
        // link(2) does not follow a symlink: had the store file been swapped since the check, the
        // link would be a symlink or another file. Only the checked regular file goes in.
        if (!(await sameFile(sourceStat, temp))) {
          await unlink(temp).catch(() => undefined);
          throw new LayoutfsError('FAILED_PRECONDITION', `blob ${digest} changed in the store while being linked`, { path: source });
        }
        report.linked++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        if (!warned) {
          const bytes = [...closure.blobs.values()].reduce((s, b) => s + b.size, 0);
          warn(`${out} is on another filesystem than the store: copying blobs instead of hard-linking (about ${bytes} bytes for ${v.name})`);
          warned = true;
        }
        temp = await copyVerified(view, source, target, digest, blob.size);
        report.copied++;
        report.copiedBytes += blob.size;
      }
      await rename(temp, target);
      touchedDirs.add(dirname(target));
      changed = true;
    }
    for (const alg of await readdir(join(dir, 'blobs')).catch(() => [] as string[])) {
      if (!(await ownDirectory(out, `${v.path}/blobs/${alg}`))) continue;
      for (const name of await readdir(join(dir, 'blobs', alg))) {
        if (!wanted.has(join(dir, 'blobs', alg, name))) {
          await unlink(join(dir, 'blobs', alg, name));
          changed = true;
        }
      }
    }
    changed = (await syncFile(join(dir, 'oci-layout'), OCI_LAYOUT_BYTES)) || changed;
    changed = (await syncFile(join(dir, 'index.json'), v.indexJson)) || changed;
    for (const d of [...touchedDirs, join(dir, 'blobs'), dir]) await syncDirectory(d).catch(() => undefined);
    if (!existed) report.added.push(v.name);
    else if (changed) report.updated.push(v.name);
    else report.unchanged++;
  }
  const now = new Set(chosen.map((v) => v.path));
  if (!names?.length) {
    for (const p of previous.filter((p) => !now.has(p))) {
      await removeView(out, p);
      report.removed.push(p);
    }
  }
  const kept = names?.length ? [...new Set([...previous, ...now])] : [...now];
  await writeFileAtomic(join(out, STATE_FILE), Buffer.from(JSON.stringify({ store: view.storeRoot, views: kept.sort() })));
  return report;
}

/** A copy of a store blob in a temp file beside `target`, checked against its digest on the way. */
async function copyVerified(view: View, source: string, target: string, digest: Digest, size: number): Promise<string> {
  const hash = createHash(digestAlgorithm(digest));
  const fd = await view.store.openBlob(digest, size);
  const temp = await writeTempFile(target, async (handle) => {
    for await (const chunk of descriptorChunks(fd, size, source)) {
      hash.update(chunk);
      await handle.write(chunk);
    }
  }, 0o444);
  if (hash.digest('hex') !== digestEncoded(digest)) {
    await unlink(temp).catch(() => undefined);
    throw new LayoutfsError('DATA_LOSS', `blob ${digest} changed while being copied`, { path: source });
  }
  return temp;
}

/** Whether `dir` is on the store's filesystem (a copy there may be replaced by a link). */
async function canLink(storeFile: { dev: number }, dir: string): Promise<boolean> {
  const b = await stat(dir).catch(() => undefined);
  return !!b && storeFile.dev === b.dev;
}
