import { lstatSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { nativeStoreCalls } from '../native-store-calls.js';

interface Batch {
  lstatMtimes(paths: string[]): Promise<Float64Array>;
  lstatIn(dir: string, names: string[]): Promise<Float64Array>;
  prefetch(paths: string[]): Promise<void>;
  listDigests(dir: string, width: number): Promise<Uint8Array | number>;
}

/**
 * The native core's batches, each one job on a worker thread for many files: one thread-pool
 * request per file cost more than the calls themselves, and the job runs beside the JavaScript
 * thread.
 */
function nativeBatch(): Batch | null {
  return nativeStoreCalls<Batch>(['lstatMtimes', 'lstatIn', 'prefetch', 'listDigests']);
}

/**
 * The mtime (ms) of each file, NaN where it cannot be had; lstat, so a symlink planted at a
 * blob path is never followed.
 */
export function fileMtimes(paths: string[]): Promise<Float64Array> {
  const batch = nativeBatch();
  if (batch) return batch.lstatMtimes(paths);
  return Promise.all(paths.map((p) => lstat(p).then((st) => st.mtimeMs, () => NaN))).then((ms) => Float64Array.from(ms));
}

/** Numbers `lstatIn` gives per name, from `at = i * STAT_FIELDS`. */
export const STAT_FIELDS = 7;
/** Offsets within a name's numbers. */
export const STAT = { type: 0, size: 1, ino: 2, mtimeSec: 3, mtimeNsec: 4, ctimeSec: 5, ctimeNsec: 6 } as const;
/** `type` of a regular file (S_IFREG >> 12); a negative type is -errno. */
export const TYPE_FILE = 8;
const TYPE_DIRECTORY = 4;
const TYPE_SYMLINK = 10;
const TYPE_FIFO = 1;

/** What a `type` other than TYPE_FILE is, for findings. */
export function typeName(type: number): string {
  return type === TYPE_SYMLINK ? 'a symlink' : type === TYPE_FIFO ? 'a FIFO' : type === TYPE_DIRECTORY ? 'a directory' : 'not a regular file';
}

/**
 * lstat of each name in `dir` (never following a symlink, the directory itself included):
 * STAT_FIELDS numbers per name (STAT). Native: one job on a worker thread, so a caller that
 * awaits it later works meanwhile (fsck reads the manifests while every blob is stat'ed).
 */
export function lstatIn(dir: string, names: string[]): Promise<Float64Array> {
  const batch = nativeBatch();
  if (batch) return batch.lstatIn(dir, names);
  const out = new Float64Array(names.length * STAT_FIELDS).fill(NaN);
  const top = lstatSync(dir, { throwIfNoEntry: false });
  for (let i = 0; i < names.length; i++) {
    const st = top?.isDirectory() ? lstatSync(join(dir, names[i]!), { bigint: true, throwIfNoEntry: false }) : undefined;
    const at = i * STAT_FIELDS;
    if (!st) {
      out[at] = -1;
      continue;
    }
    out[at + STAT.type] = Number(st.mode >> 12n);
    out[at + STAT.size] = Number(st.size);
    out[at + STAT.ino] = Number(st.ino);
    out[at + STAT.mtimeSec] = Number(st.mtimeNs / 1_000_000_000n);
    out[at + STAT.mtimeNsec] = Number(st.mtimeNs % 1_000_000_000n);
    out[at + STAT.ctimeSec] = Number(st.ctimeNs / 1_000_000_000n);
    out[at + STAT.ctimeNsec] = Number(st.ctimeNs % 1_000_000_000n);
  }
  return Promise.resolve(out);
}

/** Jobs a prefetch is split into: the thread pool has four threads, and a cold open waits on the disk. */
const PREFETCH_JOBS = 3;

/**
 * Starts the kernel reading `paths` (in that order) into the page cache, on worker threads,
 * reading nothing into JavaScript: a walk that then reads them one by one, synchronously, finds
 * them in memory or on their way instead of waiting on the disk for each in turn. Nothing
 * without the native core.
 */
export async function prefetchFiles(paths: string[]): Promise<void> {
  const batch = nativeBatch();
  if (!batch || paths.length === 0) return;
  const jobs = Array.from({ length: Math.min(PREFETCH_JOBS, paths.length) }, () => [] as string[]);
  // Interleaved, so the jobs move through the list together, just ahead of the reader.
  for (let i = 0; i < paths.length; i++) jobs[i % jobs.length]!.push(paths[i]!);
  await Promise.all(jobs.map((j) => batch.prefetch(j)));
}

/**
 * The names in `dir` that are a digest of `width` bytes in lowercase hex, decoded into sorted
 * binary records (BlobTable.fromRecords takes them), listed and sorted on a worker thread: no
 * JavaScript string per blob, where a listing of 500,000 names cost seconds of this thread and
 * its garbage collector. Undefined without the native core. Rejects like fs.readdir (with `code`).
 */
export async function listDigests(dir: string, width: number): Promise<Uint8Array | undefined> {
  const batch = nativeBatch();
  if (!batch) return undefined;
  const got = await batch.listDigests(dir, width);
  if (typeof got !== 'number') return got;
  const code = getSystemErrorName(got);
  throw Object.assign(new Error(`${code}: cannot list ${dir}`), { code, errno: got, path: dir });
}
