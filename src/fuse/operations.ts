import { close, read, readSync, statfs } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Operations, Stat } from 'fuse-native';
import type { Logger } from 'pino';
import { DIR_MODE, FILE_MODE } from '../view/nodes.js';
import { readArchiveInto } from '../archive/archive-reader.js';
import type { VirtualArchive, VirtualArchives } from '../archive/virtual-archives.js';
import type { Node } from '../view/nodes.js';
import type { View } from '../view/view.js';
import { EBADF, EISDIR, ENOENT, ENOTDIR, EROFS, toErrno } from './errno.js';
import { OpenFiles } from './open-files.js';
import { statArray, type Owner, type StatSource } from './stat.js';

/** Every operation that would change the tree: the mount is read-only. */
const WRITE_OPS = ['write', 'create', 'mknod', 'mkdir', 'unlink', 'rmdir', 'rename', 'link', 'symlink',
  'truncate', 'ftruncate', 'chmod', 'chown', 'utimens', 'setxattr', 'removexattr'] as const;

/**
 * A blob read slower than this came from the disk, not the page cache: that open file switches
 * from readSync to fs.read so a slow disk cannot stall every other request again.
 */
const SLOW_SYNC_READ_MS = 2;

/** Calls per FUSE operation, for the metrics endpoint. */
export type FuseCounters = Record<string, number>;

/** FUSE paths start with `/`; view paths do not. */
function viewPath(path: string): string {
  return path.length === 1 ? '' : path.slice(1);
}

/**
 * fuse-native operations over a view: getattr, readdir, open, read, release, statfs. Each
 * callback is called exactly once and with an integer status: fuse-native crashes on a null
 * status, and a second call with its timeout off corrupts unrelated requests. xattr, access,
 * flush, fsync and opendir are left out on purpose: libfuse answers them itself or the kernel
 * remembers ENOSYS, so they cost no round trip into JavaScript.
 */
export function fuseOperations(view: View, archives: VirtualArchives, owner: Owner, log: Logger): { ops: Operations; counters: FuseCounters } {
  const files = new OpenFiles();
  const counters: FuseCounters = {};
  const count = (op: string) => {
    counters[op] = (counters[op] ?? 0) + 1;
  };
  /** Runs `work` and answers with its result, or with the errno of what it threw: once. */
  const answer = (op: string, path: string, cb: (err: number, ...result: any[]) => void,
    work: () => Promise<[number, ...unknown[]]>) => {
    count(op);
    work().then(
      (result) => cb(...result),
      (err) => {
        log.debug({ op, path, err }, 'fuse op failed');
        cb(toErrno(err));
      },
    );
  };

  /** A view node, else a virtual archive beside a view, as a stat source. */
  const find = async (path: string): Promise<{ node: StatSource; archive?: VirtualArchive; viewNode?: Node } | undefined> => {
    const node = await view.lookup(viewPath(path));
    if (node) return { node, viewNode: node };
    const archive = await archives.lookup(viewPath(path));
    return archive && { node: { type: 'file', ino: archive.ino, nlink: 1, mtimeMs: archive.mtimeMs, size: archive.plan.size }, archive };
  };

  // The kernel may cache this answer until the next refresh drops it (src/fuse/mount.ts), so it
  // must come from the state current when it is sent: a lookup that awaited across a refresh
  // (a closure read from disk) runs again.
  const getattr = (op: string) => (path: string, cb: (err: number, stat?: Uint32Array) => void) =>
    answer(op, path, cb, async () => {
      let generation: number;
      let found;
      do {
        generation = view.snapshot.generation;
        found = await find(path);
      } while (generation !== view.snapshot.generation);
      return found ? [0, statArray(found.node, owner)] : [ENOENT];
    });

  const ops: Operations = {
    getattr: getattr('getattr'),
    // The kernel asks near EOF of an open file; its path may have left the view since.
    fgetattr(path, fh, cb) {
      const file = files.get(fh);
      if (!file) return getattr('fgetattr')(path, cb);
      count('fgetattr');
      cb(0, file.stat);
    },

    readdir: (path, cb) =>
      answer('readdir', path, cb, async () => {
        const entries = await view.entries(viewPath(path));
        if (!entries) return [ENOTDIR];
        // Only st_ino and the type bits of st_mode are used: they become d_ino and d_type, so
        // `ls -i` and `find` agree with stat without a lookup per entry.
        const stats = entries.map((e) => ({ ino: e.ino, mode: e.dir ? DIR_MODE : FILE_MODE }) as Stat);
        return [0, entries.map((e) => e.name), stats];
      }),

    open: (path, flags, cb) =>
      answer('open', path, cb, async () => {
        // O_ACCMODE: anything but O_RDONLY wants to write.
        if ((flags & 3) !== 0) return [EROFS];
        const found = await find(path);
        if (!found) return [ENOENT];
        const stat = statArray(found.node, owner);
        if (found.archive) return [0, files.add({ kind: 'archive', plan: found.archive.plan, fds: new Map(), stat })];
        const node = found.viewNode!;
        if (node.type === 'dir') return [EISDIR];
        if (node.type === 'file') return [0, files.add({ kind: 'content', content: node.content, stat })];
        return [0, files.addBlob(await view.store.openBlob(node.digest, node.size), stat)];
      }),

    read(path, fh, buf, len, pos, cb) {
      counters.read = (counters.read ?? 0) + 1;
      const file = files.get(fh);
      if (!file) return cb(EBADF);
      if (file.kind === 'content') {
        return cb(pos >= file.content.length ? 0 : file.content.copy(buf, 0, pos, Math.min(file.content.length, pos + len)));
      }
      if (file.kind === 'archive') {
        readArchiveInto(file.plan, pos, buf, len, view.store, file.fds).then((n) => cb(n), (err) => {
          log.warn({ op: 'read', path, err }, 'archive read failed');
          cb(toErrno(err));
        });
        return;
      }
      // A blob here means direct reads are off (src/fuse/patched-binding.ts).
      if (file.sync) {
        // readSync of a page-cached blob: measured faster through fuse-native than fs.read
        // (see scripts/bench/fuse-read.ts); the timing check below bounds the risk.
        let n: number;
        const started = performance.now();
        try {
          n = readSync(file.fd, buf, 0, len, pos);
        } catch (err) {
          log.debug({ op: 'read', path, err }, 'fuse op failed');
          return cb(toErrno(err));
        }
        if (performance.now() - started > SLOW_SYNC_READ_MS) file.sync = false;
        return cb(n);
      }
      read(file.fd, buf, 0, len, pos, (err, n) => cb(err ? toErrno(err) : n));
    },

    release(_path, fh, cb) {
      count('release');
      const file = files.remove(fh);
      if (file?.kind === 'archive') for (const fd of file.fds.values()) close(fd, () => undefined);
      if (file?.kind === 'blob') close(file.fd, () => cb(0));
      else cb(0);
    },

    statfs: (path, cb) =>
      answer('statfs', path, cb, () => new Promise((resolve, reject) => {
        statfs(view.store.root, (err, s) => (err ? reject(err) : resolve([0, {
          bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: 0, bavail: 0, files: s.files,
          ffree: 0, favail: 0, fsid: 0, flag: 1 /* ST_RDONLY */, namemax: 255 }])));
      })),
  };
  for (const op of WRITE_OPS) {
    ops[op] = (...args: unknown[]) => {
      count(op);
      (args[args.length - 1] as (err: number) => void)(EROFS);
    };
  }
  return { ops, counters };
}
