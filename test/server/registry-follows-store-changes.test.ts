import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MediaTypes } from '../../src/oci/media-types.js';
import { runCli } from '../fixtures/cli.js';
import { buildFixtureStore, type Desc } from '../fixtures/layout-builder.js';
import { startInProcess } from '../fixtures/serve.js';
import { tempDir } from '../fixtures/temp.js';

const BASE = 'docker.io/library/base';
const MULTI = 'docker.io/library/multi';
const APP = 'registry.example_5000/team/app';
const DOCKER = 'ghcr.io/acme/docker-type';

function layersOf(store: string, manifest: Desc): Desc[] {
  return (JSON.parse(readFileSync(join(store, 'blobs', 'sha256', manifest.digest.slice(7)), 'utf8')) as { layers: Desc[] }).layers;
}

/** The fixture store served in this process; `change` runs a CLI write and makes the view see it at once. */
async function served(t: TestContext) {
  const store = join(tempDir(t), 'store');
  const fx = buildFixtureStore(store);
  const { url, view } = await startInProcess(t, store);
  const status = async (repo: string, digest: string, method = 'GET') => (await fetch(`${url}/v2/${repo}/blobs/${digest}`, { method })).status;
  const counters = async () => {
    const text = await (await fetch(`${url}/_layoutfs/metrics`)).text();
    const counter = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)![1]);
    return { repositories: counter('layoutfs_registry_repositories_built_total'), blobMaps: counter('layoutfs_registry_blob_maps_built_total') };
  };
  const change = async (args: string[]) => {
    const r = runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await view.refresh(), `${args.join(' ')} changed index.json`);
  };
  return { store, fx, url, view, status, counters, change };
}

test('after tag and rm the registry serves exactly what the new references reach, and keeps the maps of repositories the change left alone', async (t) => {
  const { store, fx, status, counters, change } = await served(t);
  const multi = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', fx.multi.digest.slice(7)), 'utf8')) as { manifests: Desc[] };
  const armLayer = layersOf(store, multi.manifests.find((m) => m.platform?.architecture === 'arm64')!).at(-1)!;
  const dockerLayer = layersOf(store, fx.docker)[0]!;
  const baseLayer = layersOf(store, fx.base)[0]!;

  // Both repositories' maps are built by these first requests.
  assert.equal(await status(BASE, baseLayer.digest), 200);
  assert.equal(await status(BASE, armLayer.digest), 404, 'a layer of another repository only');
  assert.equal(await status(DOCKER, dockerLayer.digest), 200);
  const start = await counters();
  assert.equal(start.repositories, 5, 'every repository is built once at start');

  // tag: the multi-platform image joins repository base, whose blob map is cached from above.
  await change(['tag', store, `${MULTI}:2`, `${BASE}:multi`]);
  assert.equal(await status(BASE, armLayer.digest), 200, 'what the new tag reaches is served');
  assert.equal(await status(BASE, baseLayer.digest), 200);
  assert.equal(await status(DOCKER, dockerLayer.digest), 200, 'an untouched repository still serves its blobs');
  const afterTag = await counters();
  assert.equal(afterTag.repositories, start.repositories + 1, 'only the repository the tag touched is built again');
  assert.equal(afterTag.blobMaps, start.blobMaps + 1, 'only its blob map is built again; the untouched repository keeps its map');

  // A tag in a new repository: it appears with its blobs, the others keep theirs.
  await change(['tag', store, `${BASE}:1`, 'example.com/new/copy:1']);
  assert.equal(await status('example.com/new/copy', baseLayer.digest), 200);
  assert.equal(await status('example.com/new/copy', armLayer.digest), 404);

  // rm: a blob reachable only from the removed reference is 404 in that repository, at once.
  await change(['rm', store, `${BASE}:multi`]);
  assert.equal(await status(BASE, armLayer.digest), 404, 'the removed reference\'s blobs go with it');
  assert.equal(await status(BASE, baseLayer.digest), 200);
  assert.equal(await status(MULTI, armLayer.digest), 200, 'still served where a reference reaches it');
  await change(['rm', store, 'example.com/new/copy:1']);
  assert.equal((await status('example.com/new/copy', baseLayer.digest)), 404, 'a repository whose last reference is gone is gone');
  assert.equal(await status(DOCKER, dockerLayer.digest), 200);
  const end = await counters();
  assert.equal(end.blobMaps, afterTag.blobMaps + 3, 'maps built again: copy (new), base (rm), multi (first request); never docker-type');
});

test('a newly imported signature is listed and served in its subject\'s repository; blobs arriving or vanishing move the access rule', async (t) => {
  const { store, fx, url, status, counters, change } = await served(t);
  const appLayer = layersOf(store, fx.app).at(-1)!;
  assert.equal(await status(APP, appLayer.digest), 200);
  assert.equal(await status(DOCKER, layersOf(store, fx.docker)[0]!.digest), 200);
  const referrers = async () => ((await (await fetch(`${url}/v2/${APP}/referrers/${fx.app.digest}`)).json()) as
    { manifests: { digest: string }[] }).manifests.map((m) => m.digest).sort();
  assert.deepEqual(await referrers(), [fx.sbom.digest]);

  // A source holding the same image and a signature of it (unnamed, with a subject, as cosign attaches one).
  const src = join(tempDir(t), 'src');
  const { builder, app } = buildFixtureStore(src);
  const empty = builder.blob('{}', MediaTypes.ociEmpty);
  const payload = builder.blob('{"signed":true}', 'application/vnd.dev.sigstore.bundle.v0.3+json');
  const signature = builder.json({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    config: empty, layers: [payload], subject: { mediaType: app.mediaType, digest: app.digest, size: app.size } }, MediaTypes.ociManifest);
  builder.add(signature).write();
  const before = await counters();
  assert.equal(await status(APP, payload.digest), 404);

  await change(['import', store, src, '--select', 'registry.example:5000/team/app:v1']);
  assert.deepEqual(await referrers(), [fx.sbom.digest, signature.digest].sort(), 'the new signature is listed');
  assert.equal((await fetch(`${url}/v2/${APP}/manifests/${signature.digest}`)).status, 200);
  assert.equal(await status(APP, payload.digest), 200, 'the signature\'s blobs belong to its subject\'s repository');
  assert.equal(await status(BASE, payload.digest), 404);
  assert.equal(await status(DOCKER, layersOf(store, fx.docker)[0]!.digest), 200);
  assert.equal((await counters()).blobMaps, before.blobMaps + 2, 'app\'s map is built again (its subject gained a referrer), base\'s first; docker-type keeps its own');

  // A blob deleted behind layoutfs's back is 404 after the refresh, to a HEAD too (which opens no file).
  const dockerLayer = layersOf(store, fx.docker)[0]!;
  const layerFile = join(store, 'blobs', 'sha256', dockerLayer.digest.slice(7));
  const saved = readFileSync(layerFile);
  renameSync(layerFile, join(store, 'moved-away'));
  await change(['tag', store, `${BASE}:1`, `${BASE}:again`]);
  assert.equal(await status(DOCKER, dockerLayer.digest, 'HEAD'), 404);
  // ...and once it is back, served again: a map made from an incomplete closure does not outlive the blobs arriving.
  writeFileSync(layerFile, saved);
  await change(['tag', store, `${BASE}:1`, `${BASE}:third`]);
  assert.equal(await status(DOCKER, dockerLayer.digest), 200);
});
