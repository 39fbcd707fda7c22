import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalizePlatform, parsePlatformSpec, platformMatches } from '../../src/oci/platform.js';
import { openStore } from '../../src/store/store-reader.js';
import { View } from '../../src/view/view.js';
import { runCli, runCliJson } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireFuse, startMount } from '../fixtures/mount.js';
import { requireTool } from '../fixtures/requirements.js';
import { startServeProcess } from '../fixtures/serve.js';
import { skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

test('platforms match as containerd normalizes them', () => {
  const arm64 = parsePlatformSpec('linux/arm64')!;
  assert.ok(platformMatches(arm64, { os: 'linux', architecture: 'arm64', variant: 'v8' }));
  assert.ok(platformMatches(arm64, { os: 'Linux', architecture: 'aarch64' }));
  assert.ok(!platformMatches(arm64, { os: 'linux', architecture: 'arm64', variant: 'v9' }));
  assert.ok(platformMatches(parsePlatformSpec('linux/x86_64')!, { os: 'linux', architecture: 'amd64' }));
  assert.ok(platformMatches(parsePlatformSpec('linux/arm/7')!, { os: 'linux', architecture: 'arm' }));
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'armhf' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  for (const bad of ['garbage', 'linux', 'linux/', 'a/b/c/d', 'linux/amd 64']) assert.equal(parsePlatformSpec(bad), undefined, bad);
});

test('export --platform: linux/arm64 is the v8 manifest, bad usage exits 2, a platform the image lacks fails', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { multi } = buildFixtureStore(store);
  const arm = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', multi.digest.slice(7)), 'utf8')).manifests[1];
  const out = join(dir, 'arm.tar');
  const r = runCli(['export', store, 'docker.io/library/multi:2', '--platform', 'linux/arm64', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const index = JSON.parse(execFileSync('tar', ['-xOf', out, 'index.json'], { encoding: 'utf8' }));
  assert.equal(index.manifests[0].digest, arm.digest);
  const garbage = runCli(['export', store, 'docker.io/library/multi:2', '--platform', 'garbage', '-o', join(dir, 'g.tar')]);
  assert.equal(garbage.code, 2);
  assert.match(garbage.stderr, /"garbage" is not a platform/);
  const single = runCli(['export', store, 'docker.io/library/base:1', '--platform', 'linux/arm64/v8', '-o', join(dir, 's.tar')]);
  assert.equal(single.code, 1);
  assert.match(single.stderr, /docker\.io\/library\/base:1 has no linux\/arm64\/v8 manifest \(it is linux\/amd64 only\)/);
  assert.equal(runCli(['export', store, 'docker.io/library/base:1', '--platform', 'linux/x86_64', '-o', join(dir, 'ok.tar')]).code, 0);
});

test('platform views: a single-manifest view per platform of each multi-platform reference, in the mount and under /layouts/', async (t) => {
  if (!requireFuse(t) || !requireTool(t, 'skopeo') || !requireTool(t, 'umoci')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { multi } = buildFixtureStore(store);
  const children = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', multi.digest.slice(7)), 'utf8')).manifests;
  const mnt = (await startMount(t, store)).dir;
  assert.deepEqual(readdirSync(join(mnt, '_platforms')).sort(), ['linux-amd64', 'linux-arm64-v8']);
  const armView = join(mnt, '_platforms', 'linux-arm64-v8', 'docker.io', 'library', 'multi', '2');
  const index = JSON.parse(readFileSync(join(armView, 'index.json'), 'utf8'));
  assert.equal(index.manifests.length, 1);
  assert.equal(index.manifests[0].digest, children[1].digest);
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], '2');
  assert.equal(index.manifests[0].annotations['io.containerd.image.name'], 'docker.io/library/multi:2');
  assert.ok(!existsSync(join(mnt, '_platforms', 'linux-arm64-v8', 'docker.io', 'library', 'base')), 'single-platform references have none');
  const inspected = JSON.parse(skopeo('inspect', `oci:${armView}`));
  assert.equal(inspected.Digest, children[1].digest);
  assert.equal(inspected.Architecture, 'arm64');
  execFileSync('umoci', ['unpack', '--image', `${armView}:2`, join(dir, 'bundle')], { stdio: 'pipe' });
  assert.equal(readFileSync(join(dir, 'bundle', 'rootfs', 'app', 'arch'), 'utf8'), 'arm64\n');
  // The view's blobs are only the platform's closure.
  const blobs = readdirSync(join(armView, 'blobs', 'sha256'));
  assert.ok(!blobs.includes(multi.digest.slice(7)) && !blobs.includes(children[0].digest.slice(7)));

  const served = await startServeProcess(t, store);
  try {
    const res = await fetch(`${served.url}/layouts/_platforms/linux-amd64/docker.io/library/multi/2/index.json`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { manifests: { digest: string }[] }).manifests[0]!.digest, children[0]!.digest);
  } finally {
    await served.stop();
  }
  // Platform views hold no bytes of their own: ls and du are as before.
  const ls = runCliJson(['ls', store]);
  assert.ok(ls.references.every((r: { viewPath: string }) => !r.viewPath.startsWith('_platforms')));
});

test('platform views appear when a multi-platform index arrives after its entry, without index.json changing', async (t) => {
  const store = join(tempDir(t), 'store');
  const { multi } = buildFixtureStore(store);
  const blob = join(store, 'blobs', 'sha256', multi.digest.slice(7));
  const away = `${blob}.away`;
  renameSync(blob, away);
  const view = await View.open(await openStore(store));
  const platforms = () => [...view.snapshot.views.keys()].filter((p) => p.startsWith('_platforms/')).sort();
  assert.deepEqual(platforms(), [], 'no index, no platforms');
  // The other reference names the same root: both get their platform views.
  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
  index.manifests.push({ ...index.manifests.find((m: { digest: string }) => m.digest === multi.digest),
    annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/multi:3' } });
  writeFileSync(join(store, 'index.json'), JSON.stringify(index));
  await view.refresh();
  assert.deepEqual(platforms(), []);
  renameSync(away, blob);
  await view.refresh();
  assert.deepEqual(platforms(), ['linux-amd64', 'linux-arm64-v8'].flatMap((p) =>
    [`_platforms/${p}/docker.io/library/multi/2`, `_platforms/${p}/docker.io/library/multi/3`]).sort());
});
