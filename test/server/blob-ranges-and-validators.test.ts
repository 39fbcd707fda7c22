import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';
import { startInProcess } from '../fixtures/serve.js';

/** A store with one image whose config is a known 1000-byte blob, and the two URLs of that blob. */
async function serveKnownBlob(t: Parameters<typeof tempDir>[0]) {
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const bytes = randomBytes(1000);
  const config = b.blob(bytes, 'application/vnd.oci.image.config.v1+json');
  const layer = b.layer({ 'a/file': 'content\n' });
  const manifest = b.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer.desc] },
    'application/vnd.oci.image.manifest.v1+json');
  b.add(manifest, 'example.com/r/img:1').write();
  const { url } = await startInProcess(t, store);
  return { bytes, digest: config.digest, urls: [`${url}/layouts/example.com/r/img/1/blobs/sha256/${config.digest.slice(7)}`,
    `${url}/v2/example.com/r/img/blobs/${config.digest}`] };
}

test('Range on a blob: one range is 206 with Content-Range, over both the tree and the registry', async (t) => {
  const { bytes, urls } = await serveKnownBlob(t);
  for (const u of urls) {
    for (const [range, start, end] of [['bytes=0-99', 0, 99], ['bytes=990-', 990, 999], ['bytes=-10', 990, 999], ['bytes=500-5000', 500, 999]] as const) {
      const res = await fetch(u, { headers: { range } });
      assert.equal(res.status, 206, `${u} ${range}`);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/1000`);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes.subarray(start, end + 1));
    }
  }
});

test('several ranges come back as multipart/byteranges; too many or overlapping ranges get the whole blob', async (t) => {
  const { bytes, urls } = await serveKnownBlob(t);
  const res = await fetch(urls[0]!, { headers: { range: 'bytes=0-9, 100-109, -5' } });
  assert.equal(res.status, 206);
  const boundary = /^multipart\/byteranges; boundary=(\S+)$/.exec(res.headers.get('content-type')!)![1]!;
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(body.length, Number(res.headers.get('content-length')));
  const parts = body.toString('latin1').split(`--${boundary}`).slice(1, -1);
  assert.equal(parts.length, 3);
  const expected: [number, number][] = [[0, 9], [100, 109], [995, 999]];
  parts.forEach((p, i) => {
    const [start, end] = expected[i]!;
    assert.match(p, new RegExp(`Content-Range: bytes ${start}-${end}/1000`));
    assert.equal(p.slice(p.indexOf('\r\n\r\n') + 4, -2), bytes.subarray(start, end + 1).toString('latin1'));
  });
  const many = Array.from({ length: 17 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',');
  for (const range of [`bytes=${many}`, 'bytes=0-100,50-60']) {
    const whole = await fetch(urls[0]!, { headers: { range } });
    assert.equal(whole.status, 200, range);
    assert.equal((await whole.arrayBuffer()).byteLength, 1000);
  }
});

test('unsatisfiable ranges get 416 with Content-Range bytes */size; malformed ones are ignored', async (t) => {
  const { urls } = await serveKnownBlob(t);
  for (const u of urls) {
    const res = await fetch(u, { headers: { range: 'bytes=1000-2000' } });
    assert.equal(res.status, 416);
    assert.equal(res.headers.get('content-range'), 'bytes */1000');
    const ignored = await fetch(u, { headers: { range: 'bytes=abc' } });
    assert.equal(ignored.status, 200);
    assert.equal((await ignored.arrayBuffer()).byteLength, 1000);
  }
});

test('ETag is the quoted digest; If-None-Match gives 304, If-Range with another tag gives the whole blob; HEAD has headers and no body', async (t) => {
  const { digest, urls } = await serveKnownBlob(t);
  for (const u of urls) {
    const first = await fetch(u);
    assert.equal(first.headers.get('etag'), `"${digest}"`);
    await first.arrayBuffer();
    const again = await fetch(u, { headers: { 'if-none-match': `"sha256:other", "${digest}"` } });
    assert.equal(again.status, 304);
    assert.equal((await again.arrayBuffer()).byteLength, 0);
    const stale = await fetch(u, { headers: { range: 'bytes=0-0', 'if-range': '"sha256:stale"' } });
    assert.equal(stale.status, 200);
    await stale.arrayBuffer();
    const head = await fetch(u, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '1000');
    assert.equal(head.headers.get('accept-ranges'), 'bytes');
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  }
});

test('an error for a blob carries no cache headers of the blob (a truncated store file is no cacheable 200)', async (t) => {
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const config = b.blob(randomBytes(1000), 'application/vnd.oci.image.config.v1+json');
  const manifest = b.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [] },
    'application/vnd.oci.image.manifest.v1+json');
  b.add(manifest, 'example.com/r/img:1').write();
  const { url } = await startInProcess(t, store);
  const file = join(store, 'blobs', 'sha256', config.digest.slice(7));
  chmodSync(file, 0o644);
  truncateSync(file, 10);
  for (const u of [`${url}/layouts/example.com/r/img/1/blobs/sha256/${config.digest.slice(7)}`, `${url}/v2/example.com/r/img/blobs/${config.digest}`]) {
    const res = await fetch(u);
    assert.ok(res.status >= 500, `${u}: ${res.status}`);
    assert.equal(res.headers.get('cache-control'), null, 'no Cache-Control: immutable on an error');
    assert.equal(res.headers.get('etag'), null);
    assert.match(await res.text(), /"errors"/);
  }
});
