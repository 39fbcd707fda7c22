import { createRequire } from 'node:module';

let addon: Record<string, unknown> | null | undefined;

/**
 * The native core's calls on store files (native/fuse-core/API.md: the batches and the directory
 * watch), loaded on first use; null when the addon is not built or lacks one of `names`, and
 * callers fall back to Node's calls. The store layer uses the addon's file calls only, never its
 * FUSE session.
 */
export function nativeStoreCalls<T>(names: readonly (keyof T & string)[]): T | null {
  if (addon === undefined) {
    // dist/src/store/ -> the package root.
    const core = createRequire(import.meta.url)('../../../native/fuse-core/index.cjs') as Record<string, unknown> & { available: boolean };
    addon = core.available ? core : null;
  }
  return addon && names.every((n) => typeof addon![n] === 'function') ? addon as T : null;
}
