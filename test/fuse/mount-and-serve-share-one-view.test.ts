import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { fuseOpCount, requireFuse, servedUrl, startMount } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';

test('mount --serve serves the same tree over HTTP from the same process, with FUSE op metrics', async (t) => {
  if (!requireFuse(t)) return;
  const store = join(tempDir(t), 'store');
  const { app } = buildFixtureStore(store);
  const m = await startMount(t, store, undefined, ['--serve', '127.0.0.1:0']);
  const url = await servedUrl(m);

  const viewPath = 'registry.example%3A5000/team/app/v1';
  // A view path is a file name: its `%` is a literal character, escaped as %25 in a URL.
  const urlPath = viewPath.replaceAll('%', '%25');
  const viaFuse = readFileSync(join(m.dir, viewPath, 'index.json'));
  const viaHttp = Buffer.from(await (await fetch(`${url}/layouts/${urlPath}/index.json`)).arrayBuffer());
  assert.ok(viaHttp.equals(viaFuse), 'index.json is byte-identical over FUSE and HTTP');
  const blob = `${viewPath}/blobs/sha256/${app.digest.slice(7)}`;
  const res = await fetch(`${url}/layouts/${urlPath}/blobs/sha256/${app.digest.slice(7)}`);
  assert.equal(res.status, 200);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(m.dir, blob))));
  assert.equal(statSync(join(m.dir, blob)).size, app.size);

  const status = await (await fetch(`${url}/_layoutfs/status`)).json() as { mountpoint?: string };
  assert.equal(status.mountpoint, m.dir);
  assert.ok(await fuseOpCount(url, 'getattr') > 0, 'FUSE op counts are exported');
  assert.equal(await m.stop(), 0);
});
