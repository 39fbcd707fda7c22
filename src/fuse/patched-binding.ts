import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** What native/fuse-native-layoutfs.patch adds to fuse-native's binding. */
interface PatchedBinding {
  direct_fd_flag?: number;
  fuse_native_invalidate_root_entries?(thread: Buffer, names: string[]): boolean;
  fuse_native_configure_next_mount?(pages: number, passthrough: number): void;
  fuse_native_mount_grants?(): [number, number, number, number];
}

function loadBinding(): PatchedBinding {
  const fuseIndex = createRequire(import.meta.url).resolve('fuse-native');
  // The same file fuse-native loads, so the same module instance.
  return createRequire(fuseIndex)('node-gyp-build')(dirname(fuseIndex)) as PatchedBinding;
}

/** LAYOUTFS_FUSE_STOCK=1 runs as with fuse-native's stock binding (tests and benchmarks of that path). */
const binding: PatchedBinding = process.env.LAYOUTFS_FUSE_STOCK === '1' ? {} : loadBinding();

/**
 * The handle bit of the patch's direct reads: fuse-native's FUSE threads pread a handle that has
 * it (the rest is a descriptor) themselves, so blob reads never wait for the JavaScript thread,
 * and a slow disk blocks only the FUSE thread that asked. 0 with the stock binding (the patched
 * one could not be built at install): blobs are then read by the read operation.
 */
export const DIRECT_FD_FLAG: number = binding.direct_fd_flag ?? 0;

/**
 * Drops the kernel's cached entries `names` under the mount's root (with their subtrees) and the
 * root's attributes, from a thread of the patch's own; false when that thread could not start.
 * Undefined with the stock binding. `thread` is fuse-native's per-mount native state
 * (`Fuse#_thread`), which must stay referenced while the mount lives.
 */
export const invalidateRootEntries: ((thread: Buffer, names: string[]) => boolean) | undefined =
  binding.fuse_native_invalidate_root_entries?.bind(binding);

/**
 * Asks the next mount (read-only only) for requests of up to `pages` pages (at most 256; libfuse
 * 2.9 alone stops at 32) and, as root, for passthrough: the kernel reads blob files itself.
 * Undefined with the stock binding.
 */
export const configureNextMount: ((pages: number, passthrough: boolean) => void) | undefined =
  binding.fuse_native_configure_next_mount && ((pages, passthrough) => binding.fuse_native_configure_next_mount!(pages, passthrough ? 1 : 0));

/** LAYOUTFS_FUSE_PASSTHROUGH=0 keeps blob reads in the FUSE threads (tests and benchmarks of that path). */
export const PASSTHROUGH_WANTED = process.env.LAYOUTFS_FUSE_PASSTHROUGH !== '0';

export interface MountGrants {
  maxPages: number;
  passthrough: boolean;
  /** Opens handed to the kernel as passthrough so far. */
  passthroughOpens: number;
  /** errno of the last blob the kernel would not take as a backing file (0: none). */
  passthroughErrno: number;
}

/**
 * What the kernel granted the last mount, known once its FUSE_INIT is answered (after the first
 * request through the mount returns).
 */
export function mountGrants(): MountGrants | undefined {
  const g = binding.fuse_native_mount_grants?.();
  return g && { maxPages: g[0], passthrough: g[1] === 1, passthroughOpens: g[2], passthroughErrno: g[3] };
}
