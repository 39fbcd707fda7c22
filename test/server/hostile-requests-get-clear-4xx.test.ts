import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';
import { rawRequest, startServeProcess } from '../fixtures/serve.js';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-STORE';

const get = (target: string, headers = '') => `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`;

test('traversal in every encoding, NUL, backslashes, huge URLs and headers, bad digests, n=1e9: clear 4xx, nothing read outside the tree, no crash', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  // Files right next to the store and at well-known places that a traversal would aim at.
  writeFileSync(join(dir, 'secret'), SECRET);
  const served = await startServeProcess(t, store);
  const blob = 'latest/blobs/sha256';
  const targets = [
    '/layouts/../secret',
    '/layouts/../../../../etc/passwd',
    `/layouts/${blob}/../../../../secret`,
    '/layouts/%2e%2e/secret',
    '/layouts/%2E%2E/%2E%2E/etc/passwd',
    '/layouts/.%2e/secret',
    `/layouts/${blob}/..%2f..%2f..%2f..%2fsecret`,
    `/layouts/${blob}/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret`,
    '/layouts/..%5c..%5csecret',
    '/layouts/..\\..\\secret',
    '/layouts/latest%00/index.json',
    '/layouts/latest/index.json%00.png',
    '/layouts/%252e%252e/secret',
    '/layouts/%c0%ae%c0%ae/secret',
    '/layouts//etc/passwd',
    '/layouts/latest/./index.json',
    '/v2/../../secret',
    '/v2/%2e%2e/%2e%2e/secret/manifests/1',
    `/v2/docker.io/library/base/blobs/sha256:..%2f..%2f..%2fsecret`,
    `/v2/docker.io/library/base/blobs/sha256%3a${'0'.repeat(64)}%2f..`,
    '/v2/docker.io/library/base/blobs/sha256:' + 'A'.repeat(64),
    '/v2/docker.io/library/base/manifests/sha512:' + '0'.repeat(64),
    '/v2/_catalog?n=1e9',
    '/v2/docker.io/library/base/tags/list?n=99999999999999999999',
    '/layouts/' + 'a/'.repeat(5000),
  ];
  for (const target of targets) {
    const res = await rawRequest(served.hostPort, get(target));
    assert.ok(res.status >= 400 && res.status < 500, `${target} -> ${res.status}`);
    assert.ok(!res.body.includes(SECRET) && !res.body.includes('root:x:0'), `${target} leaked a file`);
  }
  // Just over the 16 KiB limit, so the server reads it all and answers before closing.
  const hugeHeader = await rawRequest(served.hostPort, get('/v2/', `X-Big: ${'a'.repeat(20 * 1024)}\r\n`));
  assert.equal(hugeHeader.status, 431);
  const manyHeaders = await rawRequest(served.hostPort, get('/v2/', Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('')));
  assert.ok(manyHeaders.status === 431 || manyHeaders.status === 400, `many headers -> ${manyHeaders.status}`);
  const garbage = await rawRequest(served.hostPort, 'NOT HTTP AT ALL\r\n\r\n');
  assert.equal(garbage.status, 400);

  // Still alive and serving after all of it.
  const ok = await rawRequest(served.hostPort, get('/layouts/latest/oci-layout'));
  assert.equal(ok.status, 200);
  assert.equal(ok.body.toString(), '{"imageLayoutVersion":"1.0.0"}');
  assert.equal(await served.stop(), 0);
});
