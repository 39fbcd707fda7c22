import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireFuse } from '../fixtures/mount.js';
import { requireRoot } from '../fixtures/requirements.js';

/**
 * The native core's own checks (native/fuse-core/test/smoke.mjs) against a tiny filesystem of
 * its own: INIT, hard links, readdirplus without lookups, passthrough and direct reads, EROFS,
 * invalidation, file handles across dropped caches, the root watchdog, detach of a dead mount,
 * a mount with libfuse and fusermount hidden, and a mount as nobody through fusermount3.
 */
test('the native FUSE core passes its protocol checks (as root, and as nobody through fusermount3)', (t) => {
  if (!requireFuse(t)) return;
  if (!requireRoot(t, 'the native core checks mount with mount(2)')) return;
  const smoke = fileURLToPath(new URL('../../../native/fuse-core/test/smoke.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [smoke], { encoding: 'utf8', timeout: 180_000 });
  const failed = r.stdout.split('\n').filter((l) => l.startsWith('not ok'));
  assert.deepEqual(failed, [], r.stderr);
  assert.equal(r.status, 0, `${r.stdout.slice(-2000)}\n${r.stderr}`);
  assert.match(r.stdout, /# all checks passed/);
});
