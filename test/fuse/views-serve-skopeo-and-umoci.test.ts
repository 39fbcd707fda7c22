import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { refToPath } from '../../src/oci/path-mapping.js';
import { parseReference, viewRefName } from '../../src/oci/reference.js';
import { expectedViews, handMadeLayout } from '../fixtures/expected-views.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireFuse, startMount } from '../fixtures/mount.js';
import { requireRoot, requireTool } from '../fixtures/requirements.js';
import { skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';
import { describeTree, sha256File } from '../fixtures/trees.js';

const OCI_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json']);

/** Every reference of `store`, through the mount: skopeo inspect and copy, umoci unpack. */
async function checkEveryView(t: TestContext, store: string) {
  const work = tempDir(t);
  const mnt = (await startMount(t, store)).dir;
  const views = expectedViews(store);
  assert.ok(views.length >= 4);
  for (const v of views) {
    const viewDir = join(mnt, refToPath(v.name)!);
    // No tag: the view holds exactly one image.
    const inspected = JSON.parse(skopeo('inspect', `oci:${viewDir}`));
    assert.equal(inspected.Digest, v.digest, `skopeo inspect oci:${viewDir}`);
    const out = join(work, 'copy-' + refToPath(v.name)!.replaceAll('/', '_'));
    skopeo('copy', '--quiet', '--all', '--preserve-digests', `oci:${viewDir}`, `oci:${out}:x`);
    const copied = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).manifests[0];
    assert.equal(copied.digest, v.digest, `skopeo copy of ${v.name} keeps the manifest digest`);
    for (const d of v.blobs) {
      assert.equal(sha256File(join(out, 'blobs', 'sha256', d.slice(7))), d, `${v.name}: ${d} copied intact`);
    }
    const tag = viewRefName(parseReference(v.name));
    if (!tag || !OCI_TYPES.has(v.mediaType) || v.mediaType.includes('index')) continue;
    const key = refToPath(v.name)!.replaceAll('/', '_');
    const viaMount = join(work, 'bundle-mount-' + key);
    const viaStore = join(work, 'bundle-store-' + key);
    const baseline = join(work, 'baseline-' + key);
    handMadeLayout(store, v, baseline, 'baseline');
    execFileSync('umoci', ['unpack', '--image', `${viewDir}:${tag}`, viaMount], { stdio: 'pipe' });
    execFileSync('umoci', ['unpack', '--image', `${baseline}:baseline`, viaStore], { stdio: 'pipe' });
    assert.deepEqual(describeTree(join(viaMount, 'rootfs')), describeTree(join(viaStore, 'rootfs')), `umoci rootfs of ${v.name}`);
  }
}

test('every view of the fixture store works with skopeo (no tag) and umoci', async (t) => {
  if (!requireFuse(t)) return;
  if (!requireTool(t, 'skopeo', 'umoci') || !requireRoot(t, 'umoci unpack without --rootless gives files their owners')) return;
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  await checkEveryView(t, store);
});

test('every view of a store written by skopeo, full and bare names mixed, works with skopeo and umoci', async (t) => {
  if (!requireFuse(t)) return;
  if (!requireTool(t, 'skopeo', 'umoci') || !requireRoot(t, 'umoci unpack without --rootless gives files their owners')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  buildFixtureStore(src);
  const store = join(dir, 'store');
  for (const [from, to] of [
    ['docker.io/library/base:1', 'docker.io/library/debian:bookworm'],
    ['registry.example:5000/team/app:v1', 'localhost:5000/team/app:v1'],
    ['latest', '3.11'],
    ['docker.io/library/multi:2', 'quay.io/org/multi:2'],
    ['docker.io/library/base:1', 'stable'],
  ]) {
    skopeo('copy', '--quiet', '--all', `oci:${src}:${from}`, `oci:${store}:${to}`);
  }
  await checkEveryView(t, store);
});
