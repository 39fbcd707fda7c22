import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { buildFixtureStore, LayoutBuilder } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';
import { errorCode, startInProcess } from '../fixtures/serve.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';

async function fixture(t: TestContext) {
  const store = join(tempDir(t), 'store');
  const built = buildFixtureStore(store);
  return { ...built, ...(await startInProcess(t, store)) };
}

test('GET /v2/ is 200 with the API version header', async (t) => {
  const { url } = await fixture(t);
  const res = await fetch(`${url}/v2/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  assert.deepEqual(await res.json(), {});
});

test('manifests by tag and by digest carry their media type, Docker-Content-Digest and exact bytes; HEAD agrees', async (t) => {
  const { url, multi, docker } = await fixture(t);
  for (const [path, desc] of [['docker.io/library/multi/manifests/2', multi], ['ghcr.io/acme/docker-type/manifests/3.11', docker],
    [`docker.io/library/multi/manifests/${multi.digest}`, multi]] as const) {
    const res = await fetch(`${url}/v2/${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('content-type'), desc.mediaType);
    assert.equal(res.headers.get('docker-content-digest'), desc.digest);
    assert.equal((await res.arrayBuffer()).byteLength, desc.size);
    const head = await fetch(`${url}/v2/${path}`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(desc.size));
    assert.equal(head.headers.get('docker-content-digest'), desc.digest);
  }
  // An index goes only to clients whose Accept takes indexes.
  const narrow = await fetch(`${url}/v2/docker.io/library/multi/manifests/2`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(narrow.status, 404);
  assert.equal(await errorCode(narrow), 'MANIFEST_UNKNOWN');
  const wide = await fetch(`${url}/v2/docker.io/library/multi/manifests/2`, { headers: { accept: `application/vnd.oci.image.manifest.v1+json, ${INDEX}` } });
  assert.equal(wide.status, 200);
});

test('unknown names, tags and blobs get NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN (404); bad digests DIGEST_INVALID (400)', async (t) => {
  const { url } = await fixture(t);
  const zero = `sha256:${'0'.repeat(64)}`;
  for (const [path, status, code] of [
    ['/v2/no/such/repo/manifests/1', 404, 'NAME_UNKNOWN'],
    ['/v2/no/such/repo/tags/list', 404, 'NAME_UNKNOWN'],
    ['/v2/docker.io/library/base/manifests/nope', 404, 'MANIFEST_UNKNOWN'],
    [`/v2/docker.io/library/base/manifests/${zero}`, 404, 'MANIFEST_UNKNOWN'],
    [`/v2/docker.io/library/base/blobs/${zero}`, 404, 'BLOB_UNKNOWN'],
    ['/v2/docker.io/library/base/blobs/sha256:abc', 400, 'DIGEST_INVALID'],
    ['/v2/docker.io/library/base/manifests/sha256:ABC', 400, 'DIGEST_INVALID'],
    [`/v2/docker.io/library/base/blobs/md5:${'0'.repeat(32)}`, 400, 'DIGEST_INVALID'],
    ['/v2/docker.io/library/base/referrers/nope', 400, 'DIGEST_INVALID'],
    ['/v2/Upper/Case/tags/list', 400, 'NAME_INVALID'],
  ] as const) {
    const res = await fetch(url + path);
    assert.equal(res.status, status, path);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(await errorCode(res), code, path);
  }
});

test('push, delete and upload endpoints answer 405 UNSUPPORTED', async (t) => {
  const { url, base } = await fixture(t);
  for (const [method, path] of [
    ['PUT', '/v2/docker.io/library/base/manifests/1'],
    ['DELETE', '/v2/docker.io/library/base/manifests/1'],
    ['DELETE', `/v2/docker.io/library/base/blobs/${base.digest}`],
    ['POST', '/v2/docker.io/library/base/blobs/uploads/'],
    ['POST', '/v2/new/repo/blobs/uploads/?mount=sha256:x&from=docker.io/library/base'],
    ['PATCH', '/v2/docker.io/library/base/blobs/uploads/some-id'],
    ['GET', '/v2/docker.io/library/base/blobs/uploads/some-id'],
  ] as const) {
    const res = await fetch(url + path, { method, body: method === 'PUT' || method === 'PATCH' ? '{}' : undefined });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(await errorCode(res), 'UNSUPPORTED');
  }
});

test('tags/list and _catalog page with n and last, link the next page, and refuse n beyond the cap', async (t) => {
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const img = b.image({ layers: [{ f: 'x' }] });
  for (const tag of ['v5', 'v1', 'v3', 'v2', 'v4']) b.add(img, `example.com/paged:${tag}`);
  for (const repo of ['c', 'a', 'b']) b.add(img, `example.com/${repo}:1`);
  b.write();
  const { url } = await startInProcess(t, store);

  const all = (await (await fetch(`${url}/v2/example.com/paged/tags/list`)).json()) as { name: string; tags: string[] };
  assert.deepEqual(all, { name: 'example.com/paged', tags: ['v1', 'v2', 'v3', 'v4', 'v5'] });
  const pages: string[][] = [];
  let next: string | undefined = '/v2/example.com/paged/tags/list?n=2';
  while (next) {
    const res: Response = await fetch(url + next);
    pages.push(((await res.json()) as { tags: string[] }).tags);
    next = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
  }
  assert.deepEqual(pages, [['v1', 'v2'], ['v3', 'v4'], ['v5']]);
  const after = (await (await fetch(`${url}/v2/example.com/paged/tags/list?last=v3`)).json()) as { tags: string[] };
  assert.deepEqual(after.tags, ['v4', 'v5']);

  const catalog = await fetch(`${url}/v2/_catalog?n=2`);
  assert.deepEqual(((await catalog.json()) as { repositories: string[] }).repositories, ['example.com/a', 'example.com/b']);
  assert.equal(catalog.headers.get('link'), '</v2/_catalog?n=2&last=example.com%2Fb>; rel="next"');
  const rest = await fetch(`${url}/v2/_catalog?n=2&last=example.com%2Fb`);
  assert.deepEqual(((await rest.json()) as { repositories: string[] }).repositories, ['example.com/c', 'example.com/paged']);
  assert.equal(rest.headers.get('link'), null);

  for (const n of ['1e9', '1000000000', '-1', 'abc', '1001']) {
    const res = await fetch(`${url}/v2/_catalog?n=${n}`);
    assert.equal(res.status, 400, `n=${n}`);
    assert.equal(await errorCode(res), 'PAGINATION_NUMBER_INVALID');
  }
});

test('referrers lists the artifacts whose subject is the digest, filtered by artifactType', async (t) => {
  const { url, app, base, sbom } = await fixture(t);
  const res = await fetch(`${url}/v2/registry.example_5000/team/app/referrers/${app.digest}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), INDEX);
  const index = (await res.json()) as { manifests: { digest: string; artifactType: string; mediaType: string }[] };
  assert.deepEqual(index.manifests.map((m) => [m.digest, m.artifactType]), [[sbom.digest, 'application/vnd.example.sbom']]);
  // The referrer is served by digest in its subject's repository.
  assert.equal((await fetch(`${url}/v2/registry.example_5000/team/app/manifests/${sbom.digest}`)).status, 200);

  const filtered = await fetch(`${url}/v2/registry.example_5000/team/app/referrers/${app.digest}?artifactType=application/x-other`);
  assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
  assert.deepEqual(((await filtered.json()) as { manifests: unknown[] }).manifests, []);
  const kept = await fetch(`${url}/v2/registry.example_5000/team/app/referrers/${app.digest}?artifactType=application/vnd.example.sbom`);
  assert.equal(((await kept.json()) as { manifests: unknown[] }).manifests.length, 1);

  const none = await fetch(`${url}/v2/docker.io/library/base/referrers/${base.digest}`);
  assert.equal(none.status, 200);
  assert.deepEqual(((await none.json()) as { manifests: unknown[] }).manifests, []);
});
