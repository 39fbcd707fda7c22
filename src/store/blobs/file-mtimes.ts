import { lstat } from 'node:fs/promises';
import { createRequire } from 'node:module';

type LstatMtimes = (paths: string[]) => Promise<Float64Array>;

let native: LstatMtimes | null | undefined;

/** The native core's batch (native/fuse-core/API.md), loaded on first use; null when it is not built. */
function nativeBatch(): LstatMtimes | null {
  if (native === undefined) {
    // dist/src/store/blobs/ -> the package root.
    const core = createRequire(import.meta.url)('../../../../native/fuse-core/index.cjs') as { available: boolean; lstatMtimes?: LstatMtimes };
    native = core.available && core.lstatMtimes ? core.lstatMtimes : null;
  }
  return native;
}

/**
 * The mtime (ms) of each file, NaN where it cannot be had; lstat, so a symlink planted at a
 * blob path is never followed. One job on a worker thread for all of them when the native core is
 * built: a FUSE listing of a view's blobs cost one thread-pool request per blob before.
 */
export function fileMtimes(paths: string[]): Promise<Float64Array> {
  const batch = nativeBatch();
  if (batch) return batch(paths);
  return Promise.all(paths.map((p) => lstat(p).then((st) => st.mtimeMs, () => NaN))).then((ms) => Float64Array.from(ms));
}
