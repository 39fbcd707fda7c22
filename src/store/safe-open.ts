import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync, statSync, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { errnoOf, fileError, LayoutfsError } from '../errors.js';
import { closeFd, fstatFd, openFd, readFd } from './blobs/fd-io.js';
import { nativeStoreCalls } from './native-store-calls.js';

/**
 * The ONE way layoutfs opens a file it reads from a store, a source layout or an archive
 * (docs/architecture.md, "Opening store files"). Node has no openat2, so:
 *
 * - open with O_RDONLY | O_NOFOLLOW | O_NONBLOCK (libuv adds O_CLOEXEC): a symlink as the last
 *   component fails (ELOOP), a FIFO cannot block a thread;
 * - fstat the descriptor: anything but a regular file is refused (FIFO, device, directory);
 * - readlink(/proc/self/fd/N) must be exactly `<real root>/<relative path>`: a symlink at ANY
 *   component (blobs/ or blobs/sha256 swapped for a symlink after start-up) gives another path,
 *   and the check is on the descriptor that is then read, so there is no race;
 * - the root's (dev, ino), taken when the store was opened, is checked again at every open: a
 *   store directory renamed away and replaced is noticed;
 * - reads of whole files are bounded while reading (at most max + 1 bytes into one buffer).
 *
 * readWholeBeneath reads many files with these rules in one job of the native core
 * (native/fuse-core/src/file-batch.h, lfs_read_beneath), which reports what broke a rule and
 * reads nothing then; the errors are worded here, by the same functions as openBeneath's.
 *
 * Writers (temp file + rename) go through atomic-file.ts; this module is for reading.
 */

/** A directory files are opened beneath: its real path and identity at open time. */
export interface SafeRoot {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

export interface OpenedFile {
  fd: number;
  stat: Stats;
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** An input the user named (an archive): it may be a symlink, but never a FIFO or a device. */
const INPUT_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** Whether /proc/self/fd can name a descriptor's path (Linux with /proc mounted). */
let procFd: boolean | undefined;

/** The identity of `dir` (a store, a source layout), taken once; every later open checks it again. */
export async function safeRoot(dir: string): Promise<SafeRoot> {
  const path = await realpath(dir);
  const st = await stat(path);
  if (!st.isDirectory()) throw new LayoutfsError('FAILED_PRECONDITION', 'a store must be a directory', { path: dir });
  return { path, dev: st.dev, ino: st.ino };
}

/** The error for a failed call on a store file or directory (`what` names it in the rule). */
export function storeFileError(err: unknown, file: string, what: string): LayoutfsError {
  if (err instanceof LayoutfsError) return err;
  const denied = `${what}: permission denied`;
  return fileError(err, file, {
    ENOENT: `${what} is missing`,
    ELOOP: `${what} is a symlink; ${what.startsWith('blob') ? 'blobs' : 'store files'} must be regular files`,
    ENXIO: `${what} is not a regular file (a socket or FIFO)`,
    EACCES: denied,
    EPERM: denied,
  }, (why) => `${what}: ${why}`);
}

/** What a file of type `mode` (st_mode) is, when it is not a regular file. */
function kindOf(mode: number): string {
  const type = mode & constants.S_IFMT;
  return type === constants.S_IFIFO ? 'a FIFO' : type === constants.S_IFDIR ? 'a directory'
    : type === constants.S_IFCHR || type === constants.S_IFBLK ? 'a device' : type === constants.S_IFSOCK ? 'a socket'
      : type === constants.S_IFLNK ? 'a symlink' : 'not a regular file';
}

function notRegular(mode: number, file: string, what: string): LayoutfsError {
  return new LayoutfsError('FAILED_PRECONDITION', `${what} is ${kindOf(mode)}, not a regular file`, { path: file });
}

function elsewhere(actual: string, file: string, what: string): LayoutfsError {
  return new LayoutfsError('FAILED_PRECONDITION', `${what} resolves to ${actual}: a path inside the store must not go through a symlink`, { path: file });
}

function rootReplaced(root: SafeRoot): LayoutfsError {
  return new LayoutfsError('FAILED_PRECONDITION', 'the store directory was replaced since it was opened; open it again', { path: root.path });
}

/** An error as Node's calls give it, from an errno the native core reported. */
function errnoError(errno: number, file: string): Error {
  const code = getSystemErrorName(-errno);
  return Object.assign(new Error(`${code}: ${file}`), { code, errno: -errno, path: file });
}

/** Throws unless the root still is the directory it was when the store was opened. */
export function checkRoot(root: SafeRoot): void {
  let st: Stats;
  try {
    st = statSync(root.path);
  } catch (err) {
    throw storeFileError(err, root.path, 'store directory');
  }
  if (st.dev !== root.dev || st.ino !== root.ino) throw rootReplaced(root);
}

/** The checks on a fresh descriptor; throws (the caller closes the fd). */
function checkOpened(fd: number, st: Stats, root: SafeRoot, file: string, what: string, size: number | undefined): void {
  if (!st.isFile()) throw notRegular(st.mode, file, what);
  if (procFd !== false) {
    let actual: string | undefined;
    try {
      actual = readlinkSync(`/proc/self/fd/${fd}`);
      procFd = true;
    } catch (err) {
      if (procFd === undefined && errnoOf(err) === 'ENOENT') procFd = false;
      else throw storeFileError(err, file, what);
    }
    if (actual !== undefined && actual !== file) throw elsewhere(actual, file, what);
  }
  checkRoot(root);
  if (size !== undefined && st.size !== size) {
    throw new LayoutfsError('DATA_LOSS', `${what}: file has ${st.size} bytes, descriptor says ${size}`, { path: file });
  }
}

/**
 * Opens `rel` (a relative path built by the caller from validated parts) beneath `root`, read-only.
 * With `size`, a file of another size is refused (DATA_LOSS): a truncated file never becomes a
 * short read. The caller closes the descriptor.
 */
export async function openBeneath(root: SafeRoot, rel: string, what: string, size?: number): Promise<OpenedFile> {
  const file = join(root.path, rel);
  const fd = await openFd(file, OPEN_FLAGS).catch((err: unknown) => { throw storeFileError(err, file, what); });
  try {
    const st = await fstatFd(fd);
    checkOpened(fd, st, root, file, what, size);
    return { fd, stat: st };
  } catch (err) {
    await closeFd(fd).catch(() => undefined);
    throw storeFileError(err, file, what);
  }
}

/** openBeneath with blocking calls, for one-shot commands that serve nothing meanwhile. */
export function openBeneathSync(root: SafeRoot, rel: string, what: string, size?: number): OpenedFile {
  const file = join(root.path, rel);
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (err) {
    throw storeFileError(err, file, what);
  }
  try {
    const st = fstatSync(fd);
    checkOpened(fd, st, root, file, what, size);
    return { fd, stat: st };
  } catch (err) {
    closeSync(fd);
    throw storeFileError(err, file, what);
  }
}

function overLimit(file: string, size: number | undefined, max: number): LayoutfsError {
  return new LayoutfsError('RESOURCE_EXHAUSTED', `${size ?? `more than ${max}`} bytes is over the limit of ${max} bytes`, { path: file });
}

/**
 * The whole of `rel` beneath `root`, read through one descriptor into one buffer of at most
 * `max` + 1 bytes: a file that grows, or a device that never ends, stops there (RESOURCE_EXHAUSTED).
 */
export async function readBeneath(root: SafeRoot, rel: string, what: string, max: number): Promise<{ bytes: Buffer; stat: Stats }> {
  const { fd, stat: st } = await openBeneath(root, rel, what);
  const file = join(root.path, rel);
  try {
    if (st.size > max) throw overLimit(file, st.size, max);
    const buf = Buffer.allocUnsafe(Math.min(st.size, max) + 1);
    let off = 0;
    for (let n = -1; n !== 0 && off < buf.length; off += n) n = (await readFd(fd, buf, off, buf.length - off, off)).bytesRead;
    if (off > max) throw overLimit(file, undefined, max);
    return { bytes: buf.subarray(0, off), stat: st };
  } catch (err) {
    throw storeFileError(err, file, what);
  } finally {
    await closeFd(fd).catch(() => undefined);
  }
}

/** A file to read whole beneath a root: `rel` and `what` as for openBeneath, at most `max` bytes of it. */
export interface WholeFile {
  rel: string;
  what: string;
  max: number;
}

/** The native core's read (null: Node's calls), for readWholeBeneath. */
export interface NativeRead {
  readBeneath(root: string, dev: number, ino: number, paths: string[], max: Float64Array): Promise<[Float64Array, Uint8Array, (string | undefined)[]]>;
}

/** What the native job found per file (file-batch.h, LFS_READ_*). */
const READ = { ok: 0, errno: 1, notRegular: 2, elsewhere: 3, rootErrno: 4, rootReplaced: 5 } as const;

/**
 * The first `max` bytes of each file (all of a shorter one), or the error its open met, with
 * openBeneath's checks. Where the native core is built, all of them in one job on a worker
 * thread: a manifest's open, fstat, read, read and close were five thread-pool requests, each
 * waking a thread, and its readlink and root stat two calls on this one.
 */
export async function readWholeBeneath(root: SafeRoot, files: readonly WholeFile[],
  native = nativeStoreCalls<NativeRead>(['readBeneath'])): Promise<(Buffer | LayoutfsError)[]> {
  const paths = files.map((f) => join(root.path, f.rel));
  if (!native) return Promise.all(files.map((f, i) => readWhole(root, f, paths[i]!)));
  const [found, bytes, links] = await native.readBeneath(root.path, root.dev, root.ino, paths, Float64Array.from(files, (f) => f.max));
  let offset = 0;
  return files.map((f, i) => {
    const file = paths[i]!;
    const [status, value] = [found[i * 2]!, found[i * 2 + 1]!];
    const at = offset;
    offset += f.max;
    switch (status) {
      case READ.ok: return Buffer.from(bytes.buffer, bytes.byteOffset + at, value);
      case READ.notRegular: return notRegular(value, file, f.what);
      case READ.elsewhere: return elsewhere(links[i]!, file, f.what);
      case READ.rootErrno: return storeFileError(errnoError(value, root.path), root.path, 'store directory');
      case READ.rootReplaced: return rootReplaced(root);
      default: return storeFileError(errnoError(value, file), file, f.what);
    }
  });
}

/** readWholeBeneath of one file with Node's calls. */
async function readWhole(root: SafeRoot, f: WholeFile, file: string): Promise<Buffer | LayoutfsError> {
  let fd: number;
  try {
    fd = (await openBeneath(root, f.rel, f.what)).fd;
  } catch (err) {
    return err as LayoutfsError;
  }
  try {
    const buf = Buffer.allocUnsafe(f.max);
    return buf.subarray(0, await readInto(fd, buf));
  } catch (err) {
    return storeFileError(err, file, f.what);
  } finally {
    await closeFd(fd).catch(() => undefined);
  }
}

/** Reads at most `into.length` bytes of an open descriptor from offset 0; returns the count. */
export function readIntoSync(fd: number, into: Buffer): number {
  let off = 0;
  for (let n = -1; n !== 0 && off < into.length; off += n) n = readSync(fd, into, off, into.length - off, off);
  return off;
}

/** Reads at most `into.length` bytes of an open descriptor from offset 0; returns the count. */
export async function readInto(fd: number, into: Buffer): Promise<number> {
  let off = 0;
  for (let n = -1; n !== 0 && off < into.length; off += n) n = (await readFd(fd, into, off, into.length - off, off)).bytesRead;
  return off;
}

/**
 * Opens a file the user named as input (an archive to import): symlinks in the user's own path
 * are theirs to use, but the file must be a regular file, so `/dev/zero` or a FIFO is refused at
 * once instead of read forever.
 */
export async function openInput(path: string, what: string): Promise<OpenedFile> {
  const fd = await openFd(path, INPUT_FLAGS).catch((err: unknown) => { throw storeFileError(err, path, what); });
  try {
    const st = await fstatFd(fd);
    if (!st.isFile()) throw notRegular(st.mode, path, what);
    return { fd, stat: st };
  } catch (err) {
    await closeFd(fd).catch(() => undefined);
    throw storeFileError(err, path, what);
  }
}

/** Where a descriptor's bytes come from, as a stream of chunks of at most `chunk` bytes, `size` bytes in all, then closed. */
export async function* descriptorChunks(fd: number, size: number, file: string, chunk = 1024 * 1024): AsyncGenerator<Buffer> {
  try {
    for (let pos = 0; pos < size;) {
      const buf = Buffer.allocUnsafe(Math.min(chunk, size - pos));
      const { bytesRead } = await readFd(fd, buf, 0, buf.length, pos);
      if (bytesRead === 0) throw new LayoutfsError('DATA_LOSS', `file ended at byte ${pos}, before ${size}`, { path: file });
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await closeFd(fd).catch(() => undefined);
  }
}
