import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';
import { errorCode, startInProcess } from '../fixtures/serve.js';

test('a blob or manifest of repository A asked for through repository B is 404, over /v2/ and /layouts/ alike', async (t) => {
  const store = join(tempDir(t), 'store');
  const { docker, multi, sbom } = buildFixtureStore(store);
  const { url, view } = await startInProcess(t, store);
  const dockerView = view.snapshot.views.get('ghcr.io/acme/docker-type/3.11')!;
  const dockerOnly = [...(await view.closureOf(dockerView)).blobs.keys()].find((d) => d !== docker.digest)!;

  // Reachable from its own repository...
  assert.equal((await fetch(`${url}/v2/ghcr.io/acme/docker-type/blobs/${dockerOnly}`)).status, 200);
  // ...and from no other, though the file is in the same store.
  const cross = await fetch(`${url}/v2/docker.io/library/base/blobs/${dockerOnly}`);
  assert.equal(cross.status, 404);
  assert.equal(await errorCode(cross), 'BLOB_UNKNOWN');
  const crossManifest = await fetch(`${url}/v2/docker.io/library/base/manifests/${multi.digest}`);
  assert.equal(crossManifest.status, 404);
  assert.equal(await errorCode(crossManifest), 'MANIFEST_UNKNOWN');
  // An artifact belongs to its subject's repository only.
  assert.equal((await fetch(`${url}/v2/docker.io/library/base/manifests/${sbom.digest}`)).status, 404);
  // The tree applies the same rule: a view's blobs/ holds only its closure.
  assert.equal((await fetch(`${url}/layouts/docker.io/library/base/1/blobs/sha256/${dockerOnly.slice(7)}`)).status, 404);
  assert.equal((await fetch(`${url}/layouts/ghcr.io/acme/docker-type/3.11/blobs/sha256/${dockerOnly.slice(7)}`)).status, 200);
});
