import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../../src/store/store-reader.js';
import { View } from '../../src/view/view.js';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

test('a tiny cache still answers every lookup correctly and stays under its bound', async (t) => {
  const dir = tempDir(t);
  const b = new LayoutBuilder(dir);
  for (let i = 0; i < 60; i++) b.add(b.image({ layers: [{ base: 'x' }, { [`f${i}`]: `${i}` }] }), `r${i}:1`);
  b.write();
  const store = await openStore(dir);
  const small = await View.open(store, { cacheBytes: 8 * 1024 });
  const big = await View.open(store);
  for (let i = 0; i < 60; i++) {
    const path = `r${i}/1/blobs/sha256`;
    const names = await small.readdir(path);
    assert.deepEqual(names, await big.readdir(path));
    for (const n of names!) {
      const a = await small.lookup(`${path}/${n}`);
      const c = await big.lookup(`${path}/${n}`);
      assert.ok(a?.type === 'blob' && c?.type === 'blob');
      assert.deepEqual([a.digest, a.size, a.nlink], [c.digest, c.size, c.nlink]);
    }
    assert.ok(small.cache.calculatedBytes <= 8 * 1024, `cache holds ${small.cache.calculatedBytes} bytes`);
  }
  assert.ok(small.cache.misses > big.cache.misses, 'the small cache evicted and reloaded');
});
