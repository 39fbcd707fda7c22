import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { requireTool } from '../fixtures/requirements.js';
import { startServeProcess } from '../fixtures/serve.js';
import { skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

test('a catalog crawl of a store with capitals and IPv6 names yields only names skopeo accepts', async (t) => {
  if (!requireTool(t, 'skopeo')) return;
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const img = b.image({ layers: [{ a: '1' }] });
  const names = ['Registry.Example.com/team/app:v1', '[::1]:5000/app:1', 'registry.example:5000/team/app:v1', 'docker.io/library/base:1',
    'example.com/Team/app:1', 'latest'];
  for (const n of names) b.add(img, n);
  b.write();
  const served = await startServeProcess(t, store);
  try {
    const catalog = ((await (await fetch(`${served.url}/v2/_catalog`)).json()) as { repositories: string[] }).repositories;
    assert.deepEqual(catalog, ['docker.io/library/base', 'layoutfs/bare', 'registry.example_5000/team/app']);
    for (const repo of catalog) {
      const tags = ((await (await fetch(`${served.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] }).tags;
      for (const tag of tags) {
        const inspected = JSON.parse(skopeo('inspect', '--tls-verify=false', '--raw', `docker://${served.hostPort}/${repo}:${tag}`));
        assert.equal(inspected.schemaVersion, 2, `${repo}:${tag}`);
      }
    }
    const status = (await (await fetch(`${served.url}/_layoutfs/status`)).json()) as { unservedReferences: { ref: string; why: string }[] };
    assert.deepEqual(status.unservedReferences.map((u) => u.ref).sort(),
      ['Registry.Example.com/team/app:v1', '[::1]:5000/app:1', 'example.com/Team/app:1'].sort());
    for (const u of status.unservedReferences) assert.match(u.why, /not a distribution-spec name/);
    assert.equal((await fetch(`${served.url}/v2/Registry.Example.com/team/app/tags/list`)).status, 404);
  } finally {
    await served.stop();
  }
});
