import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/store-reader.js';
import { View } from '../../src/view/view.js';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

function replaceIndex(dir: string, entries: unknown[]): void {
  writeFileSync(join(dir, 'index.json.tmp'), JSON.stringify({ schemaVersion: 2, manifests: entries }));
  renameSync(join(dir, 'index.json.tmp'), join(dir, 'index.json'));
}

test('refresh picks up a changed index.json and readers never see a mix of old and new', async (t) => {
  const dir = tempDir(t);
  const b = new LayoutBuilder(dir);
  const images = Array.from({ length: 40 }, (_, i) => b.image({ layers: [{ shared: 'base' }, { [`f${i}`]: String(i) }] }));
  const oldSet = images.slice(0, 20).map((d, i) => ({ ...d, annotations: { 'org.opencontainers.image.ref.name': `old:${i}` } }));
  const newSet = images.slice(20).map((d, i) => ({ ...d, annotations: { 'org.opencontainers.image.ref.name': `new:${i}` } }));
  replaceIndex(dir, oldSet);
  const view = await View.open(await openStore(dir));
  assert.deepEqual(await view.readdir(''), ['_digests', 'old']);

  replaceIndex(dir, newSet);
  let stop = false;
  const checks: Promise<void>[] = [];
  // Readers that run while the refresh is in flight: each sees one whole state.
  const reader = async () => {
    while (!stop) {
      const top = await view.readdir('');
      const expected = top!.includes('old') ? 'old' : 'new';
      assert.ok(!(top!.includes('old') && top!.includes('new')), 'never both sets');
      const names = await view.readdir(expected);
      assert.equal(names?.length, 20);
      await new Promise((r) => setImmediate(r));
    }
  };
  for (let i = 0; i < 4; i++) checks.push(reader());
  assert.equal(await view.refresh(), true);
  stop = true;
  await Promise.all(checks);
  assert.deepEqual(await view.readdir(''), ['_digests', 'new']);
  assert.equal(await view.lookup('old/0'), undefined, 'a removed view disappears');
  assert.equal(await view.refresh(), false, 'no change, no news');
  assert.equal(await view.lookup(`_digests/sha256/${images[0]!.digest.slice(7)}`), undefined, 'old digest views are gone');
  assert.ok(await view.lookup(`_digests/sha256/${images[20]!.digest.slice(7)}`));
});

test('blob node ids (inode numbers) are stable across refreshes', async (t) => {
  const dir = tempDir(t);
  const b = new LayoutBuilder(dir);
  const one = b.image({ layers: [{ a: '1' }] });
  const two = b.image({ layers: [{ a: '1' }, { b: '2' }] });
  b.add(one, 'one:1').write();
  const view = await View.open(await openStore(dir));
  const before = await view.lookup(`one/1/blobs/sha256/${one.digest.slice(7)}`);
  b.add(two, 'two:1').write();
  await view.refresh();
  const after = await view.lookup(`one/1/blobs/sha256/${one.digest.slice(7)}`);
  assert.equal(after?.id, before?.id);
  assert.equal(after?.nlink, 2, 'one:1 and its _digests view');
});
