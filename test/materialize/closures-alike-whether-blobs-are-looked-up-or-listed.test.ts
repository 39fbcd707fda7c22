import assert from 'node:assert/strict';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { viewClosures } from '../../src/materialize/view-closures.js';
import { openStore } from '../../src/store/store-reader.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

test('a run of a few views looks each blob up, one of many reads the listing: the closures are the same, missing blobs too', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { app } = buildFixtureStore(store);
  // A layer of app's gone: its closure misses it either way.
  const manifest = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', app.digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
  renameSync(join(store, 'blobs', 'sha256', manifest.layers[1]!.digest.slice(7)), join(dir, 'aside'));
  const reader = await openStore(store);
  const few = await viewClosures(reader, 1);
  const many = await viewClosures(reader, 1_000_000);
  const roots = (await reader.readIndex()).valid.map((e) => e.descriptor);
  let missing = 0;
  for (const root of roots) {
    const [a, b] = [await few(root), await many(root)];
    assert.deepEqual([[...a.blobs], a.missing, a.problems, a.bytes], [[...b.blobs], b.missing, b.problems, b.bytes], root.digest);
    missing += a.missing.length;
  }
  assert.equal(missing, 2, 'app is named twice');
});
