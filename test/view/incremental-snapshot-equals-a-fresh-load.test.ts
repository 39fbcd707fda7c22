import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/store-reader.js';
import { loadSnapshot, type Snapshot } from '../../src/view/snapshot.js';
import { View } from '../../src/view/view.js';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

const named = (d: object, name: string) => ({ ...d, annotations: { 'org.opencontainers.image.ref.name': name } });

function replaceIndex(store: string, entries: unknown[]): void {
  writeFileSync(join(store, 'index.json.new'), JSON.stringify({ schemaVersion: 2, manifests: entries }));
  renameSync(join(store, 'index.json.new'), join(store, 'index.json'));
}

/** The parts of a snapshot a reader sees: views by path (and root), directories and their listings. */
function shape(s: Snapshot) {
  return {
    views: [...s.views].map(([path, v]) => `${path} ${v.root.digest} ${v.name ?? ''}`).sort(),
    dirs: [...s.dirs()].map(([path, d]) => `${path}: ${d.children.join(',')} (${d.subdirs})`).sort(),
    named: s.named.map((v) => v.name),
  };
}

test('a snapshot built from the one before equals a fresh load, change after change', async (t) => {
  const store = tempDir(t);
  const b = new LayoutBuilder(store);
  const images = [0, 1, 2].map((i) => b.image({ layers: [{ shared: 'base' }, { n: String(i) }] }));
  // Names that share and nest directories: a view that is also a parent, bare tags, digests.
  const names = ['a/b/c:1', 'a/b/c:2', 'a/b:1', 'a/x:1', 'foo', 'foo/bar:1', 'q/r/s/t:9', 'bare', 'reg:5000/p/q:1'];
  replaceIndex(store, [named(images[0]!, 'a/b/c:1')]);
  const view = await View.open(await openStore(store));
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let step = 0; step < 40; step++) {
    const entries: unknown[] = [];
    for (const name of names) if (random(3) > 0) entries.push(named(images[random(images.length)]!, name));
    // An unnamed entry now and then (a view under _digests/ only).
    if (random(4) === 0) entries.push(images[random(images.length)]!);
    replaceIndex(store, entries);
    await view.refresh();
    const fresh = await loadSnapshot(await openStore(store), 1);
    assert.deepEqual(shape(view.snapshot), shape(fresh), `after change ${step}`);
  }
});
