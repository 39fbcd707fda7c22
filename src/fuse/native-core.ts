import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/**
 * Kernel opcodes the native core hands to JavaScript, and two of its own: END (the session
 * ended) and COUNTED (a reply from a listing handed over ahead gives the kernel lookups of `ids`).
 */
export interface Ops {
  LOOKUP: number; FORGET: number; GETATTR: number; OPEN: number; READ: number; STATFS: number; RELEASE: number;
  INIT: number; READDIR: number; READDIRPLUS: number; END: number; COUNTED: number;
}

export interface SessionStats {
  minor: number;
  maxPages: number;
  passthrough: boolean;
  passthroughOpens: number;
  passthroughErrno: number;
  directOpens: number;
  directReads: number;
  writeErrors: number;
  notifySent: number;
  notifyFailed: number;
  /** Readdirplus replies the core wrote from listings handed over ahead (preList). */
  listingsServed: number;
}

/** One mounted filesystem: replies to requests, and notifications to the kernel (native/fuse-core/API.md). */
export interface FuseSession {
  error(unique: number, errno: number): void;
  entry(unique: number, attrs: Float64Array): void;
  attr(unique: number, attrs: Float64Array): void;
  open(unique: number, fh: number, openFlags: number): void;
  /** Hands `fd` to the native side, which owns it from now on. */
  openBlob(unique: number, nodeid: number, fd: number): 'passthrough' | 'direct';
  data(unique: number, buffer: Buffer, length: number): void;
  /** With `nodeid` and `total`: the listing's end, so the kernel's last, empty read is answered natively. */
  dirplus(unique: number, names: string[], attrs: Float64Array, startOffset: number, size: number, nodeid?: number, total?: number): number;
  dir(unique: number, names: string[], attrs: Float64Array, startOffset: number, size: number): number;
  /**
   * Hands a directory's whole listing (`.` and `..` first) to the core, which answers the kernel's
   * reads of it itself, each announced by COUNTED before it is written
   * (native/fuse-core/src/dir-listings.h). null: not kept (too big, or the session ended).
   * Otherwise the ids of entries the kernel will never get from listings replaced or evicted.
   */
  preList(nodeid: number, names: string[], attrs: Float64Array): Float64Array | null;
  /** Drops every listing handed over, once no reply from one can still be written; the ids of entries never served. */
  dropListings(): Float64Array;
  statfs(unique: number, blocks: number, bfree: number, bavail: number, files: number, ffree: number, bsize: number, namelen: number, frsize: number): void;
  notifyInvalEntry(parent: number, name: string): void;
  notifyInvalInode(nodeid: number, offset: number, length: number): void;
  unmount(): void;
  stats(): SessionStats;
}

export interface MountRequest {
  mountpoint: string;
  fsname: string;
  subtype: string;
  allowOther: boolean;
  uid: number;
  gid: number;
  maxPages: number;
  passthrough: boolean;
  threads: number;
  fusermount: string | undefined;
}

export type RequestHandler = (op: number, unique: number, nodeid: number, a: number, b: number, c: number, name: string,
  ids?: Float64Array) => void;

export interface NativeCore {
  available: true;
  OP: Ops;
  ATTR_LEN: number;
  FOPEN_KEEP_CACHE: number;
  mount(request: MountRequest, handler: RequestHandler): FuseSession;
  detach(path: string, fusermount: string | undefined): void;
}

/**
 * The native FUSE core (native/fuse-core, built by `npm install`), or why it is not there: no
 * C compiler at install time, say. Loaded on first use, so commands that do not mount never pay.
 */
export function loadCore(): NativeCore | { available: false; reason: string } {
  const require = createRequire(import.meta.url);
  // dist/src/fuse/ -> the package root.
  return require('../../../native/fuse-core/index.cjs') as NativeCore | { available: false; reason: string };
}

/**
 * fusermount3 (or libfuse 2's fusermount, which speaks the same protocol) on PATH: the setuid
 * helper a user who is not root mounts with. Root mounts need none.
 */
export function findFusermount(): string | undefined {
  for (const name of ['fusermount3', 'fusermount']) {
    for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
      const file = join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}
