import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireFuse, servedUrl, startMount } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';
import { requireRoot } from '../fixtures/requirements.js';

async function kernelNodes(url: string): Promise<number> {
  const metrics = await (await fetch(`${url}/_layoutfs/metrics`)).text();
  return Number(/^layoutfs_fuse_kernel_nodes (\d+)$/m.exec(metrics)![1]);
}

// Issue 11: the mount's node table is sized by what the kernel holds, and the nodes it drops are
// made again by id, with the same answers.
test('the node table shrinks when the kernel forgets, and forgotten nodes answer as before', async (t) => {
  if (!requireFuse(t)) return;
  if (!requireRoot(t, 'drop_caches needs root')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const fx = buildFixtureStore(store);
  const m = await startMount(t, store, undefined, ['--serve', '127.0.0.1:0']);
  const url = await servedUrl(m);
  const paths = execFileSync('find', ['.'], { cwd: m.dir, encoding: 'utf8' }).trim().split('\n').filter((p) => p !== '.');
  const before = new Map(paths.map((p) => {
    const st = statSync(join(m.dir, p));
    return [p, { ino: st.ino, size: st.size, nlink: st.nlink, mode: st.mode }];
  }));
  const indexJson = readFileSync(join(m.dir, 'latest/index.json'));
  const blob = readFileSync(join(m.dir, `latest/blobs/sha256/${fx.app.digest.slice(7)}`));
  const held = await kernelNodes(url);
  // A blob shown by several views is one node (a hard link).
  const nodes = new Set([...before.values()].map((st) => st.ino)).size;
  assert.equal(held, nodes, 'the kernel holds every node the walk found');

  execFileSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches']);
  const after = await kernelNodes(url);
  assert.ok(after < held / 2, `the table shrank with the kernel's forgets (${held} -> ${after})`);

  for (const [p, was] of before) {
    const st = statSync(join(m.dir, p));
    assert.deepEqual({ ino: st.ino, size: st.size, nlink: st.nlink, mode: st.mode }, was, `${p}: the same attributes made again`);
  }
  assert.deepEqual(readFileSync(join(m.dir, 'latest/index.json')), indexJson);
  assert.deepEqual(readFileSync(join(m.dir, `latest/blobs/sha256/${fx.app.digest.slice(7)}`)), blob);
});
