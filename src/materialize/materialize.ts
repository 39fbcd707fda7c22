import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, lstat, mkdir, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { LayoutfsError, parseJson } from '../errors.js';
import { digestAlgorithm, digestEncoded, type Digest } from '../oci/digest.js';
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

async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return !!x && !!y && x.ino === y.ino && x.dev === y.dev;
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
  return views.filter((p): p is string => typeof p === 'string' && (pathToRef(p) !== undefined || p.startsWith('_digests/')));
}

/** Removes a view's own entries (not views nested under it), then empty parents up to `out`. */
async function removeView(out: string, viewPath: string): Promise<void> {
  const dir = join(out, viewPath);
  for (const alg of await readdir(join(dir, 'blobs')).catch(() => [] as string[])) {
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
      if (await sameFile(source, target)) continue;
      if (await stat(target).then((s) => s.size === blob.size, () => false) && !(await canLink(source, dir))) continue;
      await mkdir(dirname(target), { recursive: true });
      let temp = tempName(target);
      try {
        await link(source, temp);
        report.linked++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        if (!warned) {
          const bytes = [...closure.blobs.values()].reduce((s, b) => s + b.size, 0);
          warn(`${out} is on another filesystem than the store: copying blobs instead of hard-linking (about ${bytes} bytes for ${v.name})`);
          warned = true;
        }
        temp = await copyVerified(source, target, digest);
        report.copied++;
        report.copiedBytes += blob.size;
      }
      await rename(temp, target);
      touchedDirs.add(dirname(target));
      changed = true;
    }
    for (const alg of await readdir(join(dir, 'blobs')).catch(() => [] as string[])) {
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
async function copyVerified(source: string, target: string, digest: Digest): Promise<string> {
  const hash = createHash(digestAlgorithm(digest));
  const temp = await writeTempFile(target, async (handle) => {
    for await (const chunk of createReadStream(source)) {
      hash.update(chunk as Buffer);
      await handle.write(chunk as Buffer);
    }
  }, 0o444);
  if (hash.digest('hex') !== digestEncoded(digest)) {
    await unlink(temp).catch(() => undefined);
    throw new LayoutfsError('DATA_LOSS', `blob ${digest} changed while being copied`, { path: source });
  }
  return temp;
}

/** Whether `dir` is on the store's filesystem (a copy there may be replaced by a link). */
async function canLink(storeFile: string, dir: string): Promise<boolean> {
  const [a, b] = await Promise.all([stat(storeFile), stat(dir).catch(() => undefined)]);
  return !!b && a.dev === b.dev;
}
