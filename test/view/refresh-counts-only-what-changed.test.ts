import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/store-reader.js';
import { View } from '../../src/view/view.js';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

const named = (d: object, name: string) => ({ ...d, annotations: { 'org.opencontainers.image.ref.name': name } });

/** What a writer does: a new index.json by write-temp + rename. */
function replaceIndex(store: string, entries: unknown[]): void {
  writeFileSync(join(store, 'index.json.new'), JSON.stringify({ schemaVersion: 2, manifests: entries }));
  renameSync(join(store, 'index.json.new'), join(store, 'index.json'));
}

/** The counts a fresh view takes of the store as it is now: what every refresh must agree with. */
async function freshCensus(store: string) {
  const v = await View.open(await openStore(store));
  return { views: await v.linkCounts(), holders: (await v.holders()).toMap() };
}

test('a refresh moves the counts (nlink) by what changed, and agrees with a fresh count every time', async (t) => {
  const store = tempDir(t);
  const b = new LayoutBuilder(store);
  const base = b.image({ layers: [{ shared: 'base' }] });
  const app = b.image({ layers: [{ shared: 'base' }, { app: '1' }] });
  const other = b.image({ layers: [{ other: 'x' }] });
  replaceIndex(store, [named(base, 'base:1'), named(app, 'app:1')]);
  const view = await View.open(await openStore(store));
  // Counted once here, so every refresh below has counts to move (nobody asking, none are taken).
  await view.linkCounts();
  const agree = async (what: string) => {
    const fresh = await freshCensus(store);
    assert.deepEqual(new Map([...(await view.linkCounts())].sort()), new Map([...fresh.views].sort()), `${what}: views`);
    assert.deepEqual(new Map([...(await view.holders()).toMap()].sort()), new Map([...fresh.holders].sort()), `${what}: holders`);
  };
  const changed: number[][] = [];
  view.onChange((c) => changed.push(c.nodes));

  // A tag: one more name for app's image.
  replaceIndex(store, [named(base, 'base:1'), named(app, 'app:1'), named(app, 'app:2')]);
  await view.refresh();
  await agree('after a tag');
  assert.ok(changed.at(-1)!.length > 0, 'the blobs of the tagged image changed nlink');

  // An rm and an unrelated image in one change.
  replaceIndex(store, [named(base, 'base:1'), named(app, 'app:2'), named(other, 'other:1')]);
  await view.refresh();
  await agree('after an rm and an add');

  // A layer missing, then arriving: the incomplete closure is counted again when it comes.
  const layer = (await view.lookup('other/1/index.json'))!;
  assert.equal(layer.type, 'file');
  const otherClosure = await view.closureOfRoot(view.referenceNamed('other:1').root);
  const [layerDigest] = [...otherClosure.blobs.keys()].filter((d) => d !== other.digest && otherClosure.blobs.get(d)!.mediaType.includes('layer'));
  const file = join(store, 'blobs/sha256', layerDigest!.slice(7));
  renameSync(file, file + '.away');
  replaceIndex(store, [named(base, 'base:1'), named(app, 'app:2'), named(other, 'other:1'), named(other, 'other:2')]);
  await view.refresh();
  await agree('with a layer missing');
  assert.equal(await view.lookup(`other/1/blobs/sha256/${layerDigest!.slice(7)}`), undefined, 'a missing blob is not shown');
  renameSync(file + '.away', file);
  replaceIndex(store, [named(base, 'base:1'), named(app, 'app:2'), named(other, 'other:1'), named(other, 'other:2'), named(other, 'other:3')]);
  await view.refresh();
  await agree('after the layer arrived');
  assert.equal((await view.lookup(`other/1/blobs/sha256/${layerDigest!.slice(7)}`))?.nlink, 4, 'shown in other:1, :2, :3 and _digests');

  // A shown blob removed behind layoutfs's back (not gc): counted afresh.
  rmSync(file);
  replaceIndex(store, [named(base, 'base:1'), named(app, 'app:2'), named(other, 'other:1')]);
  await view.refresh();
  await agree('after a shown blob vanished');
  assert.equal(await view.lookup(`other/1/blobs/sha256/${layerDigest!.slice(7)}`), undefined);
});
