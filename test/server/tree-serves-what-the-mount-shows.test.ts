import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';
import { startInProcess } from '../fixtures/serve.js';

const url = (base: string, path: string) => `${base}/layouts/${path.split('/').filter(Boolean).map(encodeURIComponent).join('/')}`;

test('every path of the view tree answers over /layouts/ with the view\'s own listing, bytes and blobs', async (t) => {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const { url: base, view } = await startInProcess(t, store);
  let blobs = 0;
  const walk = async (path: string): Promise<void> => {
    const node = (await view.lookup(path))!;
    const res = await fetch(url(base, path));
    assert.equal(res.status, 200, `GET /layouts/${path}`);
    if (node.type === 'dir') {
      const listing = (await res.json()) as { path: string; entries: { name: string; type: string }[] };
      const names = (await view.readdir(path))!;
      assert.deepEqual(listing.entries.map((e) => e.name), names, `listing of ${path}`);
      for (const name of names) await walk(path === '' ? name : `${path}/${name}`);
    } else if (node.type === 'file') {
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), node.content, `bytes of ${path}`);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
    } else if (node.type === 'blob') {
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(body.length, node.size);
      assert.equal('sha256:' + createHash('sha256').update(body).digest('hex'), node.digest, `blob ${path}`);
      assert.equal(res.headers.get('etag'), `"${node.digest}"`);
      assert.equal(res.headers.get('content-length'), String(node.size));
      assert.match(res.headers.get('cache-control')!, /immutable/);
      blobs++;
    }
  };
  await walk('');
  assert.ok(blobs > 20, `walked ${blobs} blob paths`);
});

test('a view whose path has percent-encoding (localhost%3A5000) is reached by encoding it once more, and lists as HTML for browsers', async (t) => {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const { url: base } = await startInProcess(t, store);
  const index = await fetch(`${base}/layouts/registry.example%253A5000/team/app/v1/index.json`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'application/vnd.oci.image.index.v1+json');
  const doc = (await index.json()) as { manifests: { annotations: Record<string, string> }[] };
  assert.equal(doc.manifests[0]!.annotations['io.containerd.image.name'], 'registry.example:5000/team/app:v1');
  // The raw `:` spelling is not a tree path.
  assert.equal((await fetch(`${base}/layouts/registry.example:5000/team/app/v1/index.json`)).status, 404);

  const html = await fetch(`${base}/layouts/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
  assert.match(html.headers.get('content-type')!, /^text\/html/);
  const page = await html.text();
  assert.match(page, /<a href="\/layouts\/registry.example%253A5000\/">registry.example%3A5000\/<\/a>/);
  const followed = await fetch(base + /href="(\/layouts\/registry[^"]*)"/.exec(page)![1]!);
  assert.equal(followed.status, 200, 'the link in the listing resolves');
});

test('writes to the tree get 405 with Allow: GET, HEAD; unknown paths get 404 with an error body', async (t) => {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const { url: base } = await startInProcess(t, store);
  for (const method of ['PUT', 'POST', 'DELETE', 'PATCH']) {
    const res = await fetch(`${base}/layouts/latest/index.json`, { method, body: method === 'DELETE' ? undefined : 'x' });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code, 'UNSUPPORTED');
  }
  const missing = await fetch(`${base}/layouts/latest/blobs/sha256/${'0'.repeat(64)}`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('content-type'), 'application/json');
  assert.ok(((await missing.json()) as { errors: unknown[] }).errors.length === 1);
});
