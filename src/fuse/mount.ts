import { stat } from 'node:fs/promises';
import Fuse from 'fuse-native';
import type { Logger } from 'pino';
import { LayoutfsError } from '../errors.js';
import { VirtualArchives } from '../archive/virtual-archives.js';
import type { Snapshot } from '../view/snapshot.js';
import type { View } from '../view/view.js';
import { fuseOperations, type FuseCounters } from './operations.js';
import { dropKernelCacheOnRefresh } from './kernel-cache.js';
import { detach, prepareMountpoint, watchUnmount } from './mountpoint.js';
import { configureNextMount, invalidateRootEntries, mountGrants, PASSTHROUGH_WANTED } from './patched-binding.js';
import { reportPassthrough } from './passthrough-report.js';
import { setReadahead } from './readahead.js';
import type { Owner } from './stat.js';

export interface MountOptions {
  allowOther?: boolean;
  uid?: number;
  gid?: number;
  debug?: boolean;
}

export interface Mounted {
  mountpoint: string;
  /** The virtual archives the mount shows, for a server in the same process to share. */
  archives: VirtualArchives;
  counters: FuseCounters;
  /** Resolves when the mount was unmounted from outside (fusermount -u); unmount() is then all that is left. */
  gone: Promise<void>;
  unmount(): Promise<void>;
}

/**
 * libfuse options fuse-native 2.2.6 has no setting for (see native-notes/fuse.md). fuse-native
 * joins its options into one `-o` string that it passes to both fuse_mount and fuse_new, so a
 * subclass can append to it.
 * - ro: the kernel refuses writes itself (EROFS).
 * - use_ino: st_ino from the view, so a blob has one inode in every view (hard links).
 * - auto_cache: keep page cache across opens while mtime and size are unchanged: blobs never
 *   change, and a view's index.json gets a new mtime when the store's changes.
 * - entry/attr_timeout: libfuse's high-level API has one timeout for all nodes. With the patched
 *   binding a refresh drops what the kernel cached (see forgetTree), so they can be long; with
 *   the stock one they are 1 s, so a refresh shows within about 2 s. negative_timeout=0: a new
 *   reference is never hidden by a cached "no such file".
 * - default_permissions: the kernel checks modes, no access() round trips.
 * - max_read: the largest read request. libfuse 2.9 alone gets 32 pages (128 KiB); the patched
 *   binding negotiates 256 (configureNextMount), with the mount's readahead raised to match,
 *   and, as root, passthrough: the kernel reads blob files itself.
 */
const CACHE_TIMEOUT_S = invalidateRootEntries ? 60 : 1;
/** What libfuse 2.9 gets by itself. */
const LIBFUSE_PAGES = 32;
const MAX_PAGES = configureNextMount ? 256 : LIBFUSE_PAGES;
const EXTRA_OPTIONS = ['ro', 'use_ino', 'auto_cache', `entry_timeout=${CACHE_TIMEOUT_S}`, `attr_timeout=${CACHE_TIMEOUT_S}`,
  'negative_timeout=0', 'default_permissions', `max_read=${MAX_PAGES * 4096}`];

class LayoutFuse extends Fuse {
  protected override _fuseOptions(): string {
    const base = super._fuseOptions();
    return (base ? base + ',' : '-o') + EXTRA_OPTIONS.join(',');
  }

  /** Our getattr answers with the wire array already (src/fuse/stat.ts): pass it through. */
  protected override _op_getattr(signal: (err: number, stat?: Uint32Array) => void, path: string): void {
    this.ops.getattr!(path, (err, stat) => (err ? signal(err) : signal(0, stat)));
  }

  /**
   * Drops the kernel's cached entries under the root that either state has (each with its
   * subtree), and the virtual archives beside them. False when that could not start; true with
   * the stock binding, whose short timeouts need no invalidation.
   */
  forgetTree(before: Snapshot, after: Snapshot): boolean {
    if (!invalidateRootEntries || !this._thread) return true;
    const names = new Set([...before.dirs.get('')!.children, ...after.dirs.get('')!.children]);
    return invalidateRootEntries(this._thread, [...names].flatMap((n) => [n, `_${n}.tar`]));
  }

  /** fuse-native 2.2.6 calls ops.getattr here and drops the file handle; call ops.fgetattr. */
  protected override _op_fgetattr(signal: (err: number, stat?: Uint32Array) => void, path: string, fd: number): void {
    this.ops.fgetattr!(path, fd, (err, stat) => (err ? signal(err) : signal(0, stat)));
  }
}

/** Mounts `view` read-only at `dir`, in this process; resolves once the kernel has the mount. */
export async function mountView(view: View, dir: string, options: MountOptions, log: Logger): Promise<Mounted> {
  const mountpoint = await prepareMountpoint(dir, log);
  const owner: Owner = { uid: options.uid ?? process.getuid?.() ?? 0, gid: options.gid ?? process.getgid?.() ?? 0 };
  const archives = new VirtualArchives(view);
  const { ops, counters } = fuseOperations(view, archives, owner, log);
  configureNextMount?.(MAX_PAGES, PASSTHROUGH_WANTED);
  const fuse = new LayoutFuse(mountpoint, ops, {
    // Every operation answers by itself; fuse-native's 15 s timeout must never answer for it.
    timeout: false,
    autoUnmount: true,
    allowOther: options.allowOther ?? false,
    fsname: 'layoutfs',
    subtype: 'layoutfs',
    debug: options.debug ?? false,
  });
  await new Promise<void>((resolvePromise, reject) => {
    fuse.mount((err) => (err ? reject(new LayoutfsError('UNAVAILABLE', `FUSE mount failed: ${err.message} (see native-notes/fuse.md)`, { path: mountpoint, cause: err })) : resolvePromise()));
  });
  // A request through the mount waits for FUSE_INIT's answer, which says what was granted.
  const { dev } = await stat(mountpoint, { bigint: true });
  const grants = mountGrants();
  const pages = grants?.maxPages || LIBFUSE_PAGES;
  if (pages > LIBFUSE_PAGES) await setReadahead(dev, pages * 4, log);
  const stopReporting = grants?.passthrough ? reportPassthrough(counters, log) : () => undefined;
  log.info({ mountpoint, store: view.store.root, cacheTimeoutS: CACHE_TIMEOUT_S, maxRequestKiB: pages * 4,
    passthrough: grants?.passthrough ?? false }, 'mounted');
  let unmounting: Promise<void> | undefined;
  let goneOutside = false;
  const outside = watchUnmount(mountpoint);
  const gone = outside.gone.then(() => {
    goneOutside = true;
  });
  const kernelCache = dropKernelCacheOnRefresh(view, fuse, CACHE_TIMEOUT_S, log);
  return {
    mountpoint,
    archives,
    counters,
    gone,
    unmount() {
      kernelCache.stop();
      stopReporting();
      outside.stop();
      unmounting ??= new Promise<void>((resolvePromise) => {
        if (goneOutside) return resolvePromise();
        fuse.unmount((err) => {
          if (err) {
            log.warn({ err, mountpoint }, 'unmount failed; detaching lazily');
            detach(mountpoint).catch(() => undefined).finally(resolvePromise);
          } else {
            resolvePromise();
          }
        });
      }).then(() => {
        // Open descriptors stay open: fusermount -uz detaches lazily and readers may still read
        // them (directly, in the FUSE threads); release or the process's exit closes them.
        log.info({ mountpoint }, 'unmounted');
      });
      return unmounting;
    },
  };
}
