import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/store-reader.js';
import type { TreeChange } from '../../src/view/tree-change.js';
import { View } from '../../src/view/view.js';
import { startInProcess } from '../fixtures/serve.js';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';
import type { Node } from '../../src/view/nodes.js';

function replaceIndex(dir: string, entries: unknown[]): void {
  writeFileSync(join(dir, 'index.json.tmp'), JSON.stringify({ schemaVersion: 2, manifests: entries }));
  renameSync(join(dir, 'index.json.tmp'), join(dir, 'index.json'));
}

const named = (image: object, name: string) => ({ ...image, annotations: { 'org.opencontainers.image.ref.name': name } });
const digestPath = (image: { digest: string }) => `_digests/sha256/${image.digest.slice(7)}`;
const content = (node: Node | undefined) => (node as Extract<Node, { type: 'file' }>).content.toString();

/** A store of `app:1` and an unnamed entry (`loose`), and a third image not in index.json yet. */
function store(t: import('node:test').TestContext) {
  const dir = tempDir(t);
  const b = new LayoutBuilder(dir);
  const app = b.image({ layers: [{ shared: 'base' }, { app: '1' }] });
  const loose = b.image({ layers: [{ shared: 'base' }, { loose: '1' }] });
  const later = b.image({ layers: [{ later: '1' }] });
  replaceIndex(dir, [named(app, 'app:1'), loose]);
  return { dir, app, loose, later };
}

test('a `_digests/` view is found by path and by id, listed and counted, though no view object is kept for it', async (t) => {
  const { dir, app, loose } = store(t);
  const view = await View.open(await openStore(dir));
  const { views } = view.snapshot;
  assert.deepEqual([...views.kept.keys()], ['app/1'], 'only the named view is kept');
  assert.equal(views.size, 3);
  assert.deepEqual([...views.keys()], ['app/1', digestPath(app), digestPath(loose)]);

  assert.deepEqual(await view.readdir('_digests/sha256'), [app.digest.slice(7), loose.digest.slice(7)].sort());
  const dir0 = (await view.lookup(digestPath(loose)))!;
  assert.equal(dir0.type, 'dir');
  assert.deepEqual(await view.readdir(digestPath(loose)), ['blobs', 'index.json', 'oci-layout']);
  const index = JSON.parse(content(await view.lookup(`${digestPath(loose)}/index.json`))) as { manifests: { digest: string; annotations?: object }[] };
  assert.equal(index.manifests[0]!.digest, loose.digest);
  assert.equal(index.manifests[0]!.annotations, undefined, 'a view by digest carries no name');
  assert.equal((await view.readdir(`${digestPath(loose)}/blobs/sha256`))?.length, 4, 'manifest, config, two layers');
  assert.equal((await view.byId(dir0.id))?.id, dir0.id, 'by id, as the kernel and NFS ask');
  const file = await view.lookup(`${digestPath(loose)}/index.json`);
  assert.equal(content(await view.byId(file!.id)), content(file));
  // nlink counts every view path: app:1, its _digests/ view and the loose entry's view show the shared layer.
  const appBlobs = new Set(await view.readdir('app/1/blobs/sha256'));
  const shared = (await view.readdir(`${digestPath(loose)}/blobs/sha256`))!.filter((h) => appBlobs.has(h));
  assert.equal(shared.length, 1);
  assert.equal((await view.lookup(`${digestPath(loose)}/blobs/sha256/${shared[0]!}`))?.nlink, 3);
  assert.equal(await view.lookup(`_digests/sha256/${'0'.repeat(64)}`), undefined);
  assert.equal(await view.lookup(`_digests/sha256/${loose.digest.slice(7).toUpperCase()}`), undefined);
  assert.equal(await view.lookup(`_digests/sha512/${loose.digest.slice(7)}`), undefined);
});

test('a refresh that adds and then removes an entry shows and drops its `_digests/` view, and says so', async (t) => {
  const { dir, app, loose, later } = store(t);
  const view = await View.open(await openStore(dir));
  const changes: TreeChange[] = [];
  view.onChange((c) => changes.push(c));
  // The kernel knows the listing's id: a change under it is reported.
  const parent = (await view.lookup('_digests/sha256'))!.id;

  replaceIndex(dir, [named(app, 'app:1'), loose, later]);
  await view.refresh();
  assert.deepEqual(view.snapshot.delta.came.map((v) => v.path), [digestPath(later)]);
  assert.equal(view.snapshot.delta.gone.length, 0);
  assert.equal((await view.lookup(digestPath(later)))?.type, 'dir');
  assert.ok(changes[0]!.entries.some((e) => e.parent === parent && e.name === later.digest.slice(7)));
  const laterId = (await view.lookup(digestPath(later)))!.id;

  replaceIndex(dir, [named(app, 'app:1'), loose]);
  await view.refresh();
  assert.deepEqual(view.snapshot.delta.gone.map((v) => v.path), [digestPath(later)]);
  assert.equal(await view.lookup(digestPath(later)), undefined);
  assert.equal(await view.byId(laterId), undefined, 'its id is retired');
  assert.ok(changes[1]!.entries.some((e) => e.parent === parent && e.name === later.digest.slice(7)));

  // An entry replaced by one showing the same is no change; another descriptor is one.
  replaceIndex(dir, [named(app, 'app:1'), { ...loose }]);
  await view.refresh();
  assert.equal(view.snapshot.delta.came.length, 0);
  replaceIndex(dir, [named(app, 'app:1'), { ...loose, annotations: { 'org.example.note': 'x' } }]);
  await view.refresh();
  assert.deepEqual(view.snapshot.delta.came.map((v) => v.path), [digestPath(loose)]);
  assert.deepEqual(view.snapshot.delta.gone.map((v) => v.path), [digestPath(loose)]);
  assert.match(content(await view.lookup(`${digestPath(loose)}/index.json`)), /org\.example\.note/);
});

test('`_digests/` views are served and listed over HTTP', async (t) => {
  const { dir, loose } = store(t);
  const served = await startInProcess(t, dir);
  const listing = await fetch(`${served.url}/layouts/_digests/sha256/`, { headers: { accept: 'application/json' } });
  assert.equal(listing.status, 200);
  assert.ok(JSON.stringify(await listing.json()).includes(loose.digest.slice(7)));
  const res = await fetch(`${served.url}/layouts/${digestPath(loose)}/index.json`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { manifests: { digest: string }[] }).manifests[0]!.digest, loose.digest);
  assert.equal((await fetch(`${served.url}/layouts/_digests/sha256/${'0'.repeat(64)}/index.json`)).status, 404);
});
