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

/** Everything a reader can see of a snapshot, down to each view's index.json bytes and the findings. */
function fullShape(s: Snapshot) {
  return {
    ...shape(s),
    indexJson: [...s.views].map(([path, v]) => `${path} ${v.indexJson.toString()}`).sort(),
    platforms: [...s.platformsOf].map(([path, list]) => `${path}: ${list.map((v) => v.path).join(',')}`).sort(),
    byName: [...s.byName].map(([name, v]) => `${name} ${v.path}`).sort(),
    otherRoots: s.otherRoots,
    findings: s.findings.map((f) => f.message),
  };
}

test('a refresh after a few entries were added, removed or moved equals a fresh load, and reuses the untouched ones', async (t) => {
  const store = tempDir(t);
  const b = new LayoutBuilder(store);
  const images = [0, 1, 2].map((i) => b.image({ layers: [{ shared: 'base' }, { n: String(i) }] }));
  const multi = b.index([{ desc: images[0]!, os: 'linux', architecture: 'amd64' }, { desc: images[1]!, os: 'linux', architecture: 'arm64' }]);
  const roots = [...images, multi];
  // Entries of one digest differ beyond their names now and then: its `_digests/` view shows the first one's.
  const entry = (root: object, name: string | undefined, note: number) => {
    const annotations = { ...(name === undefined ? {} : { 'org.opencontainers.image.ref.name': name }), ...(note % 2 === 0 ? { 'org.example.note': String(note) } : {}) };
    return Object.keys(annotations).length > 0 ? { ...root, annotations } : root;
  };
  let entries: unknown[] = Array.from({ length: 30 }, (_, i) => entry(roots[i % roots.length]!, `app${i}:1`, i));
  replaceIndex(store, entries);
  const view = await View.open(await openStore(store));
  let seed = 11;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  let reused = 0;
  let duplicate: number | undefined;
  for (let step = 0; step < 100; step++) {
    const before = view.snapshot;
    // Half the changes near the front, where the first entries of each digest are.
    const at = random(2) === 0 ? random(Math.min(5, entries.length + 1)) : random(entries.length + 1);
    const root = roots[random(roots.length)]!;
    entries = [...entries];
    if (duplicate !== undefined) {
      // The name given twice goes again.
      entries.splice(duplicate, 1);
      duplicate = undefined;
    } else {
      switch (random(8)) {
        case 0: entries.push(entry(root, `new${step}:1`, step)); break;
        case 1: entries.splice(at, 1); break;
        case 2: entries.splice(at, 1, entry(root, `moved${step}:1`, step)); break;
        case 3: entries.splice(at, 0, entry(root, undefined, step)); break;
        case 4: entries.splice((duplicate = at), 0, entry(root, `app${random(30)}:1`, step)); break;
        case 5: entries.splice(at, 0, entry(root, `ins${step}:1`, step)); break;
        case 6: entries.splice(at, 2); break;
        default: entries.push(entry(root, undefined, step));
      }
    }
    replaceIndex(store, entries);
    await view.refresh();
    const fresh = await loadSnapshot(await openStore(store), 1, view.cache);
    assert.deepEqual(fullShape(view.snapshot), fullShape(fresh), `after change ${step}`);
    // Naming every entry again makes new objects of them all.
    if (view.snapshot.table.named.some((e) => before.table.named.includes(e))) reused++;
  }
  // Most refreshes reused the table (the rest named a name twice, or changed a digest's first entry).
  assert.ok(reused > 30, `${reused} refreshes reused the table`);
});

test("a `_digests/` view shows its digest's first entry after that entry went, or another came before it", async (t) => {
  const store = tempDir(t);
  const b = new LayoutBuilder(store);
  const [one, two] = [b.image({ layers: [{ n: '1' }] }), b.image({ layers: [{ n: '2' }] })];
  const entry = (image: object, name: string, note: string) => ({ ...image, annotations: { 'org.opencontainers.image.ref.name': name, 'org.example.note': note } });
  const changes = [
    [entry(one, 'a:1', 'first'), entry(two, 'x:1', 'x'), entry(one, 'z:1', 'last')],
    [entry(two, 'x:1', 'x'), entry(one, 'z:1', 'last')],
    [entry(two, 'x:1', 'x'), entry(one, 'b:1', 'before'), entry(one, 'z:1', 'last')],
    [entry(one, 'c:1', 'front'), entry(two, 'x:1', 'x'), entry(one, 'b:1', 'before'), entry(one, 'z:1', 'last')],
  ];
  replaceIndex(store, changes[0]!);
  const view = await View.open(await openStore(store));
  for (const [step, entries] of changes.entries()) {
    replaceIndex(store, entries);
    await view.refresh();
    assert.deepEqual(fullShape(view.snapshot), fullShape(await loadSnapshot(await openStore(store), 1, view.cache)), `after change ${step}`);
  }
});
