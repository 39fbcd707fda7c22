import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { CLI } from '../fixtures/cli.js';
import { requireFuse } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';
import { requireRoot } from '../fixtures/requirements.js';

/**
 * What a fresh machine has: /dev/fuse and no distribution FUSE package. In a private mount
 * namespace every libfuse library, fusermount and the fuse headers are covered by /dev/null, and
 * `layoutfs mount` must still mount as root (the native core speaks the kernel protocol itself).
 */
const HIDE = String.raw`
set -e
for f in /usr/lib/*-linux-gnu/libfuse*.so* /lib/*-linux-gnu/libfuse*.so* /usr/bin/fusermount* /bin/fusermount* /usr/include/fuse* /usr/include/fuse3; do
  [ -e "$f" ] && mount --bind /dev/null "$f" 2>/dev/null || true
done
if fusermount3 -V >/dev/null 2>&1 || fusermount -V >/dev/null 2>&1; then echo "fusermount still works" >&2; exit 9; fi
"$NODE" "$CLI" mount "$STORE" "$MNT" > "$LOG" 2>&1 &
pid=$!
for i in $(seq 1 200); do grep -q '"msg":"mounted"' "$LOG" && break; sleep 0.05; done
cat "$MNT/latest/oci-layout"; echo
stat -c '%i %h' "$MNT/latest/blobs/sha256/$BLOB" "$MNT/registry.example%3A5000/team/app/v1/blobs/sha256/$BLOB"
kill -TERM $pid
wait $pid
`;

test('as root, a machine with no distribution FUSE package (no libfuse, no fusermount) mounts', (t) => {
  if (!requireFuse(t)) return;
  if (!requireRoot(t, 'mounting without fusermount needs root')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const fx = buildFixtureStore(store);
  const r = spawnSync('unshare', ['-m', 'bash', '-c', HIDE], {
    encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, NODE: process.execPath, CLI, STORE: store, MNT: join(dir, 'mnt'), LOG: join(dir, 'log'), BLOB: fx.app.digest.slice(7) },
  });
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  const [layout, one, two] = r.stdout.trim().split('\n');
  assert.equal(layout, '{"imageLayoutVersion":"1.0.0"}');
  assert.equal(one, two, 'one inode, shared by both views');
});
