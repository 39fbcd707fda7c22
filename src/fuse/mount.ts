import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { LayoutfsError } from '../errors.js';
import type { View } from '../view/view.js';
import { prepareMountpoint } from './mountpoint.js';
import { findFusermount, loadCore } from './native-core.js';
import { setReadahead } from './readahead.js';
import { FuseRequests, type FuseCounters } from './requests.js';

export interface MountOptions {
  allowOther?: boolean;
  uid?: number;
  gid?: number;
  /** Log every request that reaches JavaScript. */
  debug?: boolean;
}

export interface Mounted {
  mountpoint: string;
  counters: FuseCounters;
  /** How many node ids the kernel holds now. */
  kernelNodes(): number;
  /** Resolves when the mount ended without us (fusermount -u, umount): unmount() is then all that is left. */
  gone: Promise<void>;
  unmount(): Promise<void>;
}

/** Requests of up to 1 MiB (256 pages), as the kernel allows from protocol 7.28. */
const MAX_PAGES = 256;
/** What the kernel's readahead starts at for a FUSE mount, in pages. */
const DEFAULT_READAHEAD_PAGES = 32;
/** Reader threads on /dev/fuse: each can wait on a slow disk (a blob read) without stopping the rest. */
const THREADS = 4;
/** How long an unmount waits for files still open in a lazily detached mount. */
const UNMOUNT_WAIT_MS = 5000;
/** LAYOUTFS_FUSE_PASSTHROUGH=0 keeps blob reads in the native threads even as root (tests and benchmarks of that path). */
const PASSTHROUGH_WANTED = process.env.LAYOUTFS_FUSE_PASSTHROUGH !== '0';

/** Mounts `view` read-only at `dir`, in this process; resolves once the kernel has answered FUSE_INIT. */
export async function mountView(view: View, dir: string, options: MountOptions, log: Logger): Promise<Mounted> {
  const core = loadCore();
  if (!core.available) throw new LayoutfsError('UNAVAILABLE', core.reason);
  const root = process.getuid?.() === 0;
  const fusermount = root ? undefined : findFusermount();
  const mountpoint = await prepareMountpoint(dir, (path) => core.detach(path, fusermount), log);
  const owner = { uid: options.uid ?? process.getuid?.() ?? 0, gid: options.gid ?? process.getgid?.() ?? 0 };
  const requests = new FuseRequests(view, core.OP, owner, log, options.debug ?? false);
  let session;
  try {
    session = core.mount({ mountpoint, fsname: 'layoutfs', subtype: 'layoutfs', allowOther: options.allowOther ?? false,
      uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, maxPages: MAX_PAGES, passthrough: PASSTHROUGH_WANTED,
      threads: THREADS, fusermount }, requests.handle);
  } catch (err) {
    throw new LayoutfsError('UNAVAILABLE', `FUSE mount failed: ${(err as Error).message} (see native-notes/fuse.md)`, { path: mountpoint, cause: err });
  }
  requests.attach(session);
  const grants = await Promise.race([requests.ready, requests.ended.then((errno) => {
    throw new LayoutfsError('UNAVAILABLE', `the FUSE session ended before it started (errno ${errno})`, { path: mountpoint });
  })]);
  if (grants.maxPages > DEFAULT_READAHEAD_PAGES) await setReadahead((await stat(mountpoint, { bigint: true })).dev, grants.maxPages * 4, log);
  log.info({ mountpoint, store: view.storeRoot, protocol: `7.${grants.minor}`, maxRequestKiB: grants.maxPages * 4,
    passthrough: grants.passthrough }, 'mounted');

  let unmounting: Promise<void> | undefined;
  let ours = false;
  const gone = new Promise<void>((resolve) => void requests.ended.then(() => {
    if (!ours) resolve();
  }));
  const stopReporting = reportRefusedPassthrough(() => session.stats().passthroughErrno, log);
  return {
    mountpoint,
    counters: requests.counters,
    kernelNodes: () => requests.kernelNodes,
    gone,
    unmount() {
      stopReporting();
      unmounting ??= (async () => {
        ours = true;
        try {
          session.unmount();
        } catch (err) {
          // Gone already (unmounted from outside), or busy and detached lazily: the session ends either way.
          log.debug({ err, mountpoint }, 'unmount');
        }
        // A mount detached lazily (files still open in it) ends when its last file closes; until
        // then this process serves them, but not for ever.
        let timer: NodeJS.Timeout | undefined;
        const ended = await Promise.race([requests.ended.then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), UNMOUNT_WAIT_MS)))]);
        clearTimeout(timer);
        log.info({ mountpoint, detachedWithOpenFiles: !ended }, 'unmounted');
      })();
      return unmounting;
    },
  };
}

/**
 * Logs once when the kernel refuses a blob as a passthrough backing file (a store on a stacked
 * filesystem, say): such blobs are read by the native threads instead. Returns stop.
 */
function reportRefusedPassthrough(errno: () => number, log: Logger): () => void {
  const timer = setInterval(() => {
    const e = errno();
    if (e === 0) return;
    log.warn({ errno: e }, 'the kernel refused a blob as a passthrough backing file; such blobs are read by the native threads');
    clearInterval(timer);
  }, 5000).unref();
  return () => clearInterval(timer);
}
