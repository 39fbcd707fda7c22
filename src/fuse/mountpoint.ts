import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { LayoutfsError } from '../errors.js';

const run = promisify(execFile);

/** Lazily detaches a FUSE mount (works on a dead one too). */
export async function detach(dir: string): Promise<void> {
  await run('fusermount', ['-uz', dir]);
}

/**
 * Makes `dir` ready to mount on: creates it when missing, detaches a dead mount left by a killed
 * process ("Transport endpoint is not connected"), and refuses a live mount point with a message
 * that says how to free it.
 */
export async function prepareMountpoint(dir: string, log: Logger): Promise<string> {
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
    st = await detachDead(abs, log);
  }
  if (!st.isDirectory()) throw new LayoutfsError('FAILED_PRECONDITION', 'a mount point must be a directory', { path: abs });
  const parent = await stat(dirname(abs));
  if (parent.dev !== st.dev && abs !== '/') {
    // stat may have been answered from the kernel's attribute cache (60 s) of a mount whose
    // process died: readdir always asks the filesystem.
    if (!(await answersReaddir(abs))) return detachDead(abs, log).then(() => abs);
    throw new LayoutfsError('FAILED_PRECONDITION', `is already a mount point (in use); unmount it first: fusermount -u ${abs}`, { path: abs });
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

async function detachDead(abs: string, log: Logger): Promise<Stats> {
  log.warn({ mountpoint: abs }, 'detaching a dead FUSE mount left by a killed process');
  try {
    await detach(abs);
  } catch (e) {
    throw new LayoutfsError('UNAVAILABLE', `a dead FUSE mount is there and fusermount -uz failed: ${(e as Error).message.trim()}`, { path: abs, cause: e });
  }
  return stat(abs);
}

/** A path as /proc/self/mountinfo writes it: space, tab, newline and backslash as octal escapes. */
function mountinfoPath(path: string): string {
  return path.replace(/[\\ \t\n]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

async function isMountPoint(dir: string): Promise<boolean> {
  const wanted = mountinfoPath(dir);
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((line) => line.split(' ')[4] === wanted);
}

/**
 * Resolves when `dir` stops being a mount point without us (fusermount -u from a shell): the
 * FUSE loop then ends, but nothing tells the JavaScript side. Polled, since mountinfo has no event
 * Node can wait for; the timer does not keep the process alive.
 */
export function watchUnmount(dir: string, everyMs = 1000): { gone: Promise<void>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<void>((resolve) => {
    timer = setInterval(() => {
      isMountPoint(dir).then((mounted) => {
        if (mounted) return;
        clearInterval(timer);
        resolve();
      }, () => undefined);
    }, everyMs).unref();
  });
  return { gone, stop: () => clearInterval(timer) };
}
