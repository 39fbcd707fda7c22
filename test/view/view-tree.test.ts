import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../../src/store/store-reader.js';
import { View } from '../../src/view/view.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';
import type { BlobNode, Node } from '../../src/view/nodes.js';

async function fixtureView(t: import('node:test').TestContext) {
  const dir = tempDir(t);
  const fx = buildFixtureStore(dir);
  const view = await View.open(await openStore(dir));
  return { dir, fx, view };
}

/** Every file path under `path` in the view, depth first. */
async function walk(view: View, path: string, out: string[] = []): Promise<string[]> {
  for (const name of (await view.readdir(path)) ?? []) {
    const child = path === '' ? name : `${path}/${name}`;
    const node = await view.lookup(child);
    assert.ok(node, `readdir lists ${child} but lookup does not find it`);
    if (node.type === 'dir') await walk(view, child, out);
    else out.push(child);
  }
  return out;
}

test('every reference is a view at its mapped path, with the repository directories above it', async (t) => {
  const { view } = await fixtureView(t);
  assert.deepEqual(await view.readdir(''), ['_digests', '_platforms', 'docker.io', 'ghcr.io', 'latest', 'registry.example%3A5000']);
  assert.deepEqual(await view.readdir('docker.io/library'), ['base', 'multi']);
  assert.deepEqual(await view.readdir('docker.io/library/base/1'), ['blobs', 'index.json', 'oci-layout']);
  assert.equal((await view.lookup('registry.example%3A5000/team/app/v1'))?.type, 'dir');
  assert.equal(await view.lookup('registry.example:5000/team/app/v1'), undefined);
  assert.equal(await view.lookup('nope'), undefined);
  assert.equal(await view.lookup('docker.io/library/base/1/blobs/sha256/' + 'f'.repeat(64)), undefined);
  assert.equal(await view.lookup('docker.io/library/base/1/blobs/sha256/../../../index.json'), undefined);
});

test('a view shows exactly the closure of its root: index -> manifests -> config and layers', async (t) => {
  const { view, fx } = await fixtureView(t);
  const files = await walk(view, 'docker.io/library/multi/2');
  const hex = (d: { digest: string }) => d.digest.slice(7);
  const blobs = files.filter((f) => f.includes('/blobs/')).map((f) => f.split('/').pop()!);
  // index + 2 manifests + 2 configs + shared base layer + 2 arch layers
  assert.equal(blobs.length, 8);
  assert.ok(blobs.includes(hex(fx.multi)));
  assert.ok(!blobs.includes(hex(fx.app)), 'another image\'s manifest is not visible');
  const dockerFiles = await walk(view, 'ghcr.io/acme/docker-type/3.11');
  assert.equal(dockerFiles.filter((f) => f.includes('/blobs/')).length, 3, 'Docker schema2 manifest, config, layer');
});

test('index.json names the root by tag and full name; oci-layout is exact', async (t) => {
  const { view, fx } = await fixtureView(t);
  const idx = (await view.lookup('registry.example%3A5000/team/app/v1')) && (await view.lookup('registry.example%3A5000/team/app/v1/index.json'));
  assert.equal(idx?.type, 'file');
  const json = JSON.parse(idx.content.toString());
  assert.deepEqual(json, {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: fx.app.mediaType, digest: fx.app.digest, size: fx.app.size,
      annotations: { 'io.containerd.image.name': 'registry.example:5000/team/app:v1', 'org.opencontainers.image.ref.name': 'v1' } }],
  });
  const bare = JSON.parse(((await view.lookup('latest/index.json')) as Extract<Node, { type: 'file' }>).content.toString());
  assert.deepEqual(bare.manifests[0].annotations, { 'org.opencontainers.image.ref.name': 'latest' });
  const layout = (await view.lookup('latest/oci-layout')) as Extract<Node, { type: 'file' }>;
  assert.equal(layout.content.toString(), '{"imageLayoutVersion":"1.0.0"}');
  // Deterministic: a second view of the same store state gives the same bytes.
  const again = await View.open(view.store);
  const a = (await again.lookup('latest/index.json')) as Extract<Node, { type: 'file' }>;
  assert.ok(a.content.equals(((await view.lookup('latest/index.json')) as Extract<Node, { type: 'file' }>).content));
});

test('a blob has one inode in every view and nlink = the number of view paths showing it', async (t) => {
  const { view, fx } = await fixtureView(t);
  const all = await walk(view, '');
  const byDigest = new Map<string, BlobNode[]>();
  for (const f of all) {
    const node = await view.lookup(f);
    if (node?.type !== 'blob') continue;
    byDigest.set(node.digest, [...(byDigest.get(node.digest) ?? []), node]);
  }
  for (const [digest, nodes] of byDigest) {
    assert.equal(new Set(nodes.map((n) => n.id)).size, 1, `${digest} has one node id (inode)`);
    assert.equal(nodes[0]!.nlink, nodes.length, `${digest} nlink counts its view paths`);
    // 64-bit inode numbers, exact as JavaScript numbers.
    assert.ok(nodes[0]!.id > 2 ** 32 && nodes[0]!.id < 2 ** 53);
  }
  // The app manifest: views v1, latest, and _digests/sha256/<app>.
  assert.equal(byDigest.get(fx.app.digest)!.length, 3);
  const inos = [...byDigest.values()].map((n) => n[0]!.id);
  assert.equal(new Set(inos).size, inos.length, 'different blobs, different inodes');
});

test('_digests/ holds a view of every index.json entry, named or not', async (t) => {
  const { view, fx } = await fixtureView(t);
  const names = await view.readdir('_digests/sha256');
  const expected = [fx.base, fx.app, fx.multi, fx.docker, fx.sbom].map((d) => d.digest.slice(7)).sort();
  assert.deepEqual(names, expected);
  const sbomIndex = JSON.parse(((await view.lookup(`_digests/sha256/${fx.sbom.digest.slice(7)}/index.json`)) as Extract<Node, { type: 'file' }>).content.toString());
  assert.equal(sbomIndex.manifests[0].annotations, undefined);
});
