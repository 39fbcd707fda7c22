import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireFuse, startMount } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';
import { requireRoot, requireTool } from '../fixtures/requirements.js';

const asNobody = (...cmd: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...cmd], { encoding: 'utf8' });

test('--uid/--gid set the owner of every file; other users get in only with --allow-other', async (t) => {
  if (!requireFuse(t)) return;
  if (!requireRoot(t, 'acting as another user needs root') || !requireTool(t, 'setpriv')) return;
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const store = join(dir, 'store');
  const fx = buildFixtureStore(store);
  const blob = `latest/blobs/sha256/${fx.app.digest.slice(7)}`;

  const own = await startMount(t, store, join(dir, 'own'), ['--uid', '1234', '--gid', '4321']);
  for (const p of ['', 'latest', 'latest/index.json', blob]) {
    const st = statSync(join(own.dir, p));
    assert.equal(st.uid, 1234, `${p || '/'} uid`);
    assert.equal(st.gid, 4321, `${p || '/'} gid`);
  }
  assert.notEqual(asNobody('cat', join(own.dir, 'latest/oci-layout')).status, 0, 'without --allow-other only the mounting user gets in');

  const shared = await startMount(t, store, join(dir, 'shared'), ['--allow-other']);
  const r = asNobody('cat', join(shared.dir, 'latest/oci-layout'));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '{"imageLayoutVersion":"1.0.0"}');
  assert.equal(asNobody('sha256sum', join(shared.dir, blob)).stdout.split(' ')[0], fx.app.digest.slice(7));
});
