import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { runCli } from '../fixtures/cli.js';
import { isMounted, requireFuse, startMount, waitFor } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';

function fixture(t: import('node:test').TestContext) {
  const dir = tempDir(t);
  buildFixtureStore(join(dir, 'store'));
  return { store: join(dir, 'store'), mnt: join(dir, 'mnt') };
}

/**
 * The process that unmounts when the mount process dies: as root the native core's own watchdog
 * (a child named layoutfs-umount), otherwise fusermount3's auto_unmount helper.
 */
function autoUnmountHelper(mountPid: number, mnt: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
      if (comm === 'layoutfs-umount' && ppid === mountPid) return Number(pid);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if ((cmd[0]?.endsWith('fusermount3') || cmd[0]?.endsWith('fusermount')) && cmd.includes(mnt)) return Number(pid);
    } catch {
      // The process ended meanwhile.
    }
  }
  return undefined;
}

/** Unmounts as a person would: umount as root, fusermount3 -u otherwise. */
function unmountFromOutside(mnt: string): void {
  if (process.getuid?.() === 0) execFileSync('umount', [mnt]);
  else execFileSync('fusermount3', ['-u', mnt]);
}

test('SIGTERM unmounts cleanly and exits 0', async (t) => {
  if (!requireFuse(t)) return;
  const { store, mnt } = fixture(t);
  const m = await startMount(t, store, mnt);
  assert.equal(await m.stop(), 0);
  assert.ok(!isMounted(mnt));
  assert.match(m.output(), /"msg":"unmounted"/);
});

test('after SIGKILL the mount is gone (its watchdog unmounts it) and a new mount on the same dir works', async (t) => {
  if (!requireFuse(t)) return;
  const { store, mnt } = fixture(t);
  const first = await startMount(t, store, mnt);
  first.proc.kill('SIGKILL');
  await waitFor('auto_unmount to remove the dead mount', () => !isMounted(mnt));
  const second = await startMount(t, store, mnt);
  assert.ok(statSync(join(second.dir, 'latest', 'index.json')).isFile());
});

test('a dead mount ("Transport endpoint is not connected") is detached by the next mount', async (t) => {
  if (!requireFuse(t)) return;
  const { store, mnt } = fixture(t);
  const first = await startMount(t, store, mnt);
  // Kill the auto_unmount helper first, then the mount process: the mount stays, dead.
  const helper = autoUnmountHelper(first.proc.pid!, mnt);
  assert.ok(helper, 'the mount has a helper that unmounts when it dies');
  process.kill(helper, 'SIGKILL');
  first.proc.kill('SIGKILL');
  await first.stop();
  assert.ok(isMounted(mnt));
  // readdir: a stat of the root may still be answered from the kernel's attribute cache.
  assert.throws(() => readdirSync(mnt), (e: NodeJS.ErrnoException) => e.code === 'ENOTCONN');
  const second = await startMount(t, store, mnt);
  assert.ok(statSync(join(second.dir, 'latest', 'oci-layout')).isFile());
  assert.match(second.output(), /detaching a dead FUSE mount/);
});

test('a mount point already in use is refused with a clear message', async (t) => {
  if (!requireFuse(t)) return;
  const { store, mnt } = fixture(t);
  await startMount(t, store, mnt);
  const r = runCli(['mount', store, mnt]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is already a mount point \(in use\); unmount it first: (umount|fusermount3 -u) /);
});

test('an unmount from outside (umount, fusermount3 -u) ends the mount command with exit code 0', async (t) => {
  if (!requireFuse(t)) return;
  const { store, mnt } = fixture(t);
  const m = await startMount(t, store, mnt);
  unmountFromOutside(mnt);
  await waitFor('the mount command to exit', () => m.proc.exitCode !== null);
  assert.equal(m.proc.exitCode, 0);
  assert.match(m.output(), /"signal":"unmounted from outside"/);
  assert.ok(!isMounted(mnt));
});

test('a mount point that holds files is mounted over, with no option to ask for it', async (t) => {
  if (!requireFuse(t)) return;
  const { store, mnt } = fixture(t);
  mkdirSync(mnt);
  writeFileSync(join(mnt, 'left-behind'), 'x');
  const m = await startMount(t, store, mnt);
  assert.ok(statSync(join(m.dir, 'latest', 'index.json')).isFile());
  assert.ok(!readdirSync(m.dir).includes('left-behind'), 'the mount covers what was there');
});
