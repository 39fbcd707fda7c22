import { close, read, statfs } from 'node:fs';
import type { Operations } from 'fuse-native';
import type { Logger } from 'pino';
import type { View } from '../view/view.js';
import { EBADF, EISDIR, ENOENT, ENOTDIR, EROFS, toErrno } from './errno.js';
import { OpenFiles } from './open-files.js';
import { toStat, type Owner } from './stat.js';

/** Every operation that would change the tree: the mount is read-only. */
const WRITE_OPS = ['write', 'create', 'mknod', 'mkdir', 'unlink', 'rmdir', 'rename', 'link', 'symlink',
  'truncate', 'ftruncate', 'chmod', 'chown', 'utimens', 'setxattr', 'removexattr', 'fsync', 'fsyncdir'] as const;

/** Calls per FUSE operation, for the metrics endpoint. */
export type FuseCounters = Record<string, number>;

/** FUSE paths start with `/`; view paths do not. */
function viewPath(path: string): string {
  return path.length === 1 ? '' : path.slice(1);
}

/**
 * fuse-native operations over a view: getattr, readdir, open, read, release, statfs. Every
 * callback gets an integer status (a null one crashes fuse-native); every error is mapped by
 * toErrno. xattr, access, flush and opendir are left unimplemented on purpose: libfuse answers
 * them itself or the kernel remembers ENOSYS, so they cost no round trip into JavaScript.
 */
export function fuseOperations(view: View, owner: Owner, log: Logger): { ops: Operations; files: OpenFiles; counters: FuseCounters } {
  const files = new OpenFiles();
  const counters: FuseCounters = {};
  const count = (op: string) => {
    counters[op] = (counters[op] ?? 0) + 1;
  };
  const fail = (op: string, path: string, err: unknown): number => {
    const errno = toErrno(err);
    log.debug({ op, path, err }, 'fuse op failed');
    return errno;
  };

  const ops: Operations = {
    getattr(path, cb) {
      count('getattr');
      view.lookup(viewPath(path)).then(
        (node) => (node ? cb(0, toStat(node, owner)) : cb(ENOENT)),
        (err) => cb(fail('getattr', path, err)),
      );
    },

    fgetattr(path, _fh, cb) {
      count('fgetattr');
      view.lookup(viewPath(path)).then(
        (node) => (node ? cb(0, toStat(node, owner)) : cb(ENOENT)),
        (err) => cb(fail('fgetattr', path, err)),
      );
    },

    readdir(path, cb) {
      count('readdir');
      view.readdir(viewPath(path)).then(
        (names) => (names ? cb(0, names) : cb(ENOTDIR)),
        (err) => cb(fail('readdir', path, err)),
      );
    },

    open(path, flags, cb) {
      count('open');
      // O_ACCMODE: anything but O_RDONLY wants to write.
      if ((flags & 3) !== 0) return cb(EROFS);
      view.lookup(viewPath(path)).then(async (node) => {
        if (!node) return cb(ENOENT);
        if (node.type === 'dir') return cb(EISDIR);
        if (node.type === 'file') return cb(0, files.add({ kind: 'content', content: node.content }));
        const fd = await view.store.openBlob(node.digest);
        cb(0, files.add({ kind: 'blob', fd }));
      }).catch((err) => cb(fail('open', path, err)));
    },

    read(path, fh, buf, len, pos, cb) {
      count('read');
      const file = files.get(fh);
      if (!file) return cb(EBADF);
      if (file.kind === 'content') {
        const n = pos >= file.content.length ? 0 : file.content.copy(buf, 0, pos, Math.min(file.content.length, pos + len));
        return cb(n);
      }
      read(file.fd, buf, 0, len, pos, (err, n) => cb(err ? fail('read', path, err) : n));
    },

    release(_path, fh, cb) {
      count('release');
      const file = files.remove(fh);
      if (file?.kind === 'blob') close(file.fd, () => cb(0));
      else cb(0);
    },

    statfs(path, cb) {
      count('statfs');
      statfs(view.store.root, (err, s) => {
        if (err) return cb(fail('statfs', path, err));
        cb(0, { bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: 0, bavail: 0, files: s.files,
          ffree: 0, favail: 0, fsid: 0, flag: 1 /* ST_RDONLY */, namemax: 255 });
      });
    },
  };
  for (const op of WRITE_OPS) {
    ops[op] = (...args: unknown[]) => {
      count(op);
      (args[args.length - 1] as (err: number) => void)(EROFS);
    };
  }
  return { ops, files, counters };
}
