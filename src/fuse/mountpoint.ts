import type { Stats } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { LayoutfsError } from '../errors.js';

/** Lazily detaches a FUSE mount (works on a dead one too); throws with a one-line reason. */
export type Detach = (dir: string) => void;

/**
 * Makes `dir` ready to mount on: creates it when missing, detaches a dead mount left by a killed
 * process ("Transport endpoint is not connected"), and refuses a live mount point with a message
 * that says how to free it.
 */
export async function prepareMountpoint(dir: string, detach: Detach, log: Logger): Promise<string> {
  const abs = resolve(dir);
  let st;
  try {
    st = await stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      await mkdir(abs, { recursive: true });
      return abs;
    }
    if (code !== 'ENOTCONN') throw new LayoutfsError('UNAVAILABLE', `cannot use as a mount point (${code})`, { path: abs, cause: err });
    st = await detachDead(abs, detach, log);
  }
  if (!st.isDirectory()) throw new LayoutfsError('FAILED_PRECONDITION', 'a mount point must be a directory', { path: abs });
  const parent = await stat(dirname(abs));
  if (parent.dev !== st.dev && abs !== '/') {
    // stat may have been answered from the kernel's attribute cache (60 s) of a mount whose
    // process died: readdir always asks the filesystem.
    if (!(await answersReaddir(abs))) return detachDead(abs, detach, log).then(() => abs);
    const how = process.getuid?.() === 0 ? 'umount' : 'fusermount3 -u';
    throw new LayoutfsError('FAILED_PRECONDITION', `is already a mount point (in use); unmount it first: ${how} ${abs}`, { path: abs });
  }
  return abs;
}

/** False only for a dead FUSE mount ("Transport endpoint is not connected"). */
async function answersReaddir(dir: string): Promise<boolean> {
  try {
    await readdir(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOTCONN';
  }
}

async function detachDead(abs: string, detach: Detach, log: Logger): Promise<Stats> {
  log.warn({ mountpoint: abs }, 'detaching a dead FUSE mount left by a killed process');
  try {
    detach(abs);
  } catch (e) {
    throw new LayoutfsError('UNAVAILABLE', `a dead FUSE mount is there and could not be detached: ${(e as Error).message.trim()}`, { path: abs, cause: e });
  }
  return stat(abs);
}
