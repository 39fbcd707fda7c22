import assert from 'node:assert/strict';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/store-reader.js';
import { inventory } from '../../src/view/inventory.js';
import { View } from '../../src/view/view.js';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

test('duplicates, unnamed, invalid entries and missing blobs are reported, not fatal', async (t) => {
  const dir = tempDir(t);
  const b = new LayoutBuilder(dir);
  const one = b.image({ layers: [{ a: '1' }] });
  const two = b.image({ layers: [{ b: '2' }, { c: '3' }] });
  b.add(one, 'x:1').add(two, 'x:1').add(two).add(one, '').add(two, 'y:2');
  const entries: unknown[] = [...b.entries];
  entries.push({ mediaType: one.mediaType, digest: 'sha256:../../../../etc/passwd', size: 1,
    annotations: { 'org.opencontainers.image.ref.name': 'evil' } });
  entries.push({ mediaType: one.mediaType, digest: one.digest, size: -1 });
  entries.push('not an object');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: entries }));
  const manifest = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', two.digest.slice(7)), 'utf8'));
  const lostLayer: string = manifest.layers[1].digest;
  unlinkSync(join(dir, 'blobs', 'sha256', lostLayer.slice(7)));

  const view = await View.open(await openStore(dir));
  const inv = await inventory(view);
  assert.deepEqual(inv.references.map((r) => r.name), ['x:1', 'y:2']);
  assert.equal(inv.references[0]!.digest, one.digest, 'the first duplicate wins');
  assert.deepEqual(inv.findings.map((f) => f.kind).sort(),
    ['DUPLICATE_NAME', 'INVALID_ENTRY', 'INVALID_ENTRY', 'INVALID_ENTRY', 'MISSING_BLOB', 'UNMAPPABLE_NAME', 'UNNAMED_ENTRY']);
  const invalid = inv.findings.filter((f) => f.kind === 'INVALID_ENTRY').map((f) => f.message).join('\n');
  assert.match(invalid, /manifests\[5\] digest: .* is not a supported digest/);
  assert.match(invalid, /manifests\[6\]: size must be an integer >= 0/);
  assert.match(invalid, /manifests\[7\]: a descriptor must be a JSON object/);
  const missing = inv.findings.find((f) => f.kind === 'MISSING_BLOB')!;
  assert.equal(missing.ref, 'y:2');
  assert.equal(missing.digest, lostLayer);
  assert.deepEqual(inv.references[1]!.missing, [lostLayer]);
  assert.equal(inv.references[1]!.blobs, 3, 'manifest, config and the one present layer');
  // `two` is named (y:2), so its unnamed entry adds no extra unnamed line; `one` likewise.
  assert.deepEqual(inv.unnamed, []);
  // The view of y:2 still lists what the store has and leaves the missing layer out.
  const shown = await view.readdir('y/2/blobs/sha256');
  assert.equal(shown?.length, 3);
  assert.ok(!shown.includes(lostLayer.slice(7)));
});

test('shared and unique bytes add up per reference', async (t) => {
  const dir = tempDir(t);
  const b = new LayoutBuilder(dir);
  const base = { os: 'base'.repeat(1000) };
  const a = b.image({ layers: [base, { a: 'a' }] });
  const c = b.image({ layers: [base, { c: 'c' }] });
  b.add(a, 'a:1').add(c, 'c:1').add(c, 'c:alias').write();
  const inv = await inventory(await View.open(await openStore(dir)));
  const [ra, rc, ralias] = inv.references;
  assert.equal(ra!.totalBytes, ra!.sharedBytes + ra!.uniqueBytes);
  assert.ok(ra!.uniqueBytes > 0 && ra!.sharedBytes > 0);
  assert.equal(rc!.uniqueBytes, 0, 'c:1 and c:alias share everything');
  assert.equal(ralias!.totalBytes, rc!.totalBytes);
  assert.deepEqual(ra!.platforms, ['linux/amd64']);
});

test('an unnamed entry holds its blobs too: they are not unique to a reference (gc keeps them)', async (t) => {
  const dir = tempDir(t);
  const b = new LayoutBuilder(dir);
  const a = b.image({ layers: [{ a: 'alone' }] });
  b.add(a, 'a:1').write();
  const before = await inventory(await View.open(await openStore(dir)));
  assert.equal(before.references[0]!.uniqueBytes, before.references[0]!.totalBytes);
  b.add(a).write();
  const after = await inventory(await View.open(await openStore(dir)));
  assert.equal(after.references[0]!.uniqueBytes, 0, 'rm a:1 would free nothing while the unnamed entry stays');
});
