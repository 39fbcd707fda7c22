import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { waitFor } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';
import { startServeProcess } from '../fixtures/serve.js';

test('layoutfs serve picks up a new tag written to the store while it runs', async (t) => {
  const store = join(tempDir(t), 'store');
  const { base } = buildFixtureStore(store);
  const served = await startServeProcess(t, store);
  const tags = async () => ((await (await fetch(`${served.url}/v2/docker.io/library/base/tags/list`)).json()) as { tags: string[] }).tags;
  assert.deepEqual(await tags(), ['1']);

  // Tag an existing image the way writers do: a new index.json renamed over the old one.
  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
  index.manifests.push({ mediaType: base.mediaType, digest: base.digest, size: base.size,
    annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/base:2' } });
  writeFileSync(join(store, 'index.json.tmp'), JSON.stringify(index));
  renameSync(join(store, 'index.json.tmp'), join(store, 'index.json'));

  await waitFor('the new tag', async () => (await tags()).includes('2'), 10_000);
  const manifest = await fetch(`${served.url}/v2/docker.io/library/base/manifests/2`);
  assert.equal(manifest.headers.get('docker-content-digest'), base.digest);
  assert.equal((await fetch(`${served.url}/layouts/docker.io/library/base/2/index.json`)).status, 200);
});
