import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
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

/** The fusermount helper libfuse starts for auto_unmount, child of the mount process. */
function autoUnmountHelper(mnt: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('fusermount') || cmd[0]?.endsWith('fusermount3')) {
        if (cmd.includes(mnt) && cmd.some((a) => a.includes('auto_unmount'))) return Number(pid);
      }
    } catch {
      // The process ended meanwhile.
    }
  }
  return undefined;
}

test('SIGTERM unmounts cleanly and exits 0', async (t) => {
  if (!requireFuse(t)) return;
  const { store, mnt } = fixture(t);
  const m = await startMount(t, store, mnt);
  assert.equal(await m.stop(), 0);
  assert.ok(!isMounted(mnt));
  assert.match(m.output(), /"msg":"unmounted"/);
});

test('after SIGKILL the mount is gone (auto_unmount) and a new mount on the same dir works', async (t) => {
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
  const helper = autoUnmountHelper(mnt);
  assert.ok(helper, 'libfuse started its auto_unmount helper');
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
  assert.match(r.stderr, /is already a mount point \(in use\); unmount it first: fusermount -u /);
});

test('an unmount from outside (fusermount -u) ends the mount command with exit code 0', async (t) => {
  if (!requireFuse(t)) return;
  const { store, mnt } = fixture(t);
  const m = await startMount(t, store, mnt);
  execFileSync('fusermount', ['-u', mnt]);
  await waitFor('the mount command to exit', () => m.proc.exitCode !== null);
  assert.equal(m.proc.exitCode, 0);
  assert.match(m.output(), /"signal":"unmounted from outside"/);
  assert.ok(!isMounted(mnt));
});
