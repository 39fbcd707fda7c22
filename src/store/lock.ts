import { constants } from 'node:fs';
import { access, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { fileError, LayoutfsError } from '../errors.js';

/** The lock directory writers share; readers (mounts, servers) never take it. */
export const LOCK_NAME = '.layoutfs.lock';
/** A lock not refreshed for this long is taken over (its holder was killed). */
const STALE_MS = 10_000;

/** Fails at once, clearly, when the store cannot be written (read-only filesystem, permissions). */
export async function assertWritable(storeRoot: string): Promise<void> {
  try {
    await access(storeRoot, constants.W_OK);
  } catch (err) {
    throw fileError(err, storeRoot, {}, (why) => `the store is read-only here (${why}); reading works, writing does not`, 'PERMISSION_DENIED');
  }
}

/**
 * Runs `fn` holding the store's one writer lock (for index.json read-modify-write and gc
 * sweeps). proper-lockfile uses mkdir, which is atomic on local and network filesystems, and
 * refreshes the lock's mtime while held, so a lock left by a killed process goes stale after
 * 10 s and is taken over. Work under the lock must let timers run (async I/O) to keep it fresh.
 */
export async function withStoreLock<T>(storeRoot: string, fn: (stillHeld: () => void) => Promise<T>): Promise<T> {
  await assertWritable(storeRoot);
  const lockPath = join(storeRoot, LOCK_NAME);
  const recover = `if no layoutfs writer (import, tag, rm, gc) is running on this store, remove it: rmdir ${lockPath}`;
  // proper-lockfile takes over a lock whose mtime is older than `stale`; one dated in the future
  // (clock skew, a copied store, tampering) would block every writer until that time comes.
  const lockStat = await lstat(lockPath).catch(() => undefined);
  if (lockStat && lockStat.mtimeMs > Date.now() + STALE_MS) {
    throw new LayoutfsError('UNAVAILABLE', `${LOCK_NAME} is dated ${new Date(lockStat.mtimeMs).toISOString()}, in the future, so it never goes stale; ${recover}`, { path: storeRoot });
  }
  let release: () => Promise<void>;
  let lost: Error | undefined;
  try {
    release = await lockfile.lock(storeRoot, {
      // The lock went stale under us (the event loop was blocked past `stale`): another writer
      // may hold it now. Work checks stillHeld() before each change and stops.
      onCompromised: (err) => (lost = err),
      lockfilePath: lockPath,
      stale: STALE_MS,
      update: 2_000,
      retries: { retries: 200, factor: 1.3, minTimeout: 20, maxTimeout: 500 },
      realpath: false,
    });
  } catch (err) {
    const readOnly = (errno: string) => `the store is read-only here (${errno}): writes need to create ${LOCK_NAME}`;
    throw fileError(err, storeRoot, {
      EACCES: readOnly('EACCES'), EPERM: readOnly('EPERM'), EROFS: readOnly('EROFS'),
      ELOCKED: `another layoutfs writer holds ${LOCK_NAME}; try again (${recover})`,
    }, () => `cannot take the store lock: ${(err as Error).message}`);
  }
  const stillHeld = () => {
    if (lost) throw new LayoutfsError('UNAVAILABLE', `lost the store lock (${lost.message}); stopped before changing more`, { path: storeRoot, cause: lost });
  };
  try {
    return await fn(stillHeld);
  } finally {
    await release().catch(() => undefined);
  }
}
