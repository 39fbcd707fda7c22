import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { expectedViews } from '../fixtures/expected-views.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireTool } from '../fixtures/requirements.js';
import { registryRefOf, startInProcess, startServeProcess } from '../fixtures/serve.js';
import { tempDir } from '../fixtures/temp.js';
import { sha256File } from '../fixtures/trees.js';

const run = promisify(execFile);

/** Async: the in-process server below must keep answering while skopeo runs. */
async function skopeo(...args: string[]): Promise<string> {
  return (await run('skopeo', args, { encoding: 'utf8' })).stdout;
}

/** skopeo copies every reference of `store` out of `layoutfs serve`: same root digest, every blob intact. */
async function pullEveryReference(t: TestContext, store: string) {
  const work = tempDir(t);
  const served = await startServeProcess(t, store);
  const views = expectedViews(store);
  assert.ok(views.length >= 4);
  for (const v of views) {
    const ref = registryRefOf(v.name);
    const out = join(work, ref.replace(/[/:]/g, '_'));
    // --all: the multi-platform index with every platform; --preserve-digests: Docker schema2 stays schema2.
    await skopeo('copy', '--quiet', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${served.hostPort}/${ref}`, `oci:${out}:x`);
    const copied = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).manifests[0];
    assert.equal(copied.digest, v.digest, `skopeo copy of ${v.name} (as ${ref}) keeps the root digest`);
    assert.equal(copied.mediaType, v.mediaType, `${v.name}: media type`);
    for (const d of v.blobs) assert.equal(sha256File(join(out, 'blobs', 'sha256', d.slice(7))), d, `${v.name}: ${d} copied intact`);
    // By digest too, as clients pin images.
    const inspected = JSON.parse(await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${served.hostPort}/${ref.replace(/:[^:/]+$/, '')}@${v.digest}`));
    assert.equal(inspected.schemaVersion, 2);
  }
  assert.equal(await served.stop(), 0, 'SIGTERM stops serve cleanly');
}

test('skopeo pulls every reference of the fixture store (index with --all, Docker schema2) with the store digests', async (t) => {
  if (!requireTool(t, 'skopeo')) return;
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  await pullEveryReference(t, store);
});

test('skopeo pulls every reference of a store that skopeo wrote (from layoutfs itself, so Docker schema2 comes along)', async (t) => {
  if (!requireTool(t, 'skopeo')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  buildFixtureStore(src);
  // skopeo's oci: source skips Docker schema2 manifests, so the store is written from the
  // fixture served over /v2/: full and bare names mixed, names with ports, shared layers.
  const source = await startInProcess(t, src);
  const store = join(dir, 'store');
  for (const [from, to] of [
    ['docker.io/library/base:1', 'docker.io/library/debian:bookworm'],
    ['registry.example_5000/team/app:v1', 'localhost:5000/team/app:v1'],
    ['layoutfs/bare:latest', '3.11'],
    ['docker.io/library/multi:2', 'quay.io/org/multi:2'],
    ['ghcr.io/acme/docker-type:3.11', 'ghcr.io/acme/docker-type:schema2'],
    ['docker.io/library/base:1', 'stable'],
  ]) {
    await skopeo('copy', '--quiet', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${source.hostPort}/${from}`, `oci:${store}:${to}`);
  }
  await pullEveryReference(t, store);
});
