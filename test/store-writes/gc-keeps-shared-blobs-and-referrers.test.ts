import assert from 'node:assert/strict';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { runCli, runCliJson } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';

const blob = (store: string, d: { digest: string }) => join(store, 'blobs', 'sha256', d.digest.slice(7));

test('gc deletes only what nothing reaches: shared layers, unnamed entries and live referrers stay', (t) => {
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const shared = { base: 'b'.repeat(10_000) };
  const keep = b.image({ layers: [shared, { keep: '1' }] });
  const gone = b.image({ layers: [shared, { gone: '1' }] });
  const unnamed = b.image({ layers: [{ unnamed: '1' }] });
  const sbomOfKeep = b.artifact(keep, 'application/vnd.example.sbom', '{"keep":true}');
  const sbomOfGone = b.artifact(gone, 'application/vnd.example.sbom', '{"gone":true}');
  b.add(keep, 'keep:1').add(gone, 'gone:1').add(unnamed).write();
  const goneManifest = JSON.parse(readFileSync(blob(store, gone), 'utf8'));
  const goneOnly = goneManifest.layers[1];
  const sharedLayer = goneManifest.layers[0];

  assert.equal(runCli(['rm', store, 'gone:1']).code, 0);
  // Everything is young: the default grace (1 h) keeps it all.
  const graced = runCliJson(['gc', store]);
  assert.equal(graced.deleted, 0);
  assert.ok(graced.young >= 4);
  const dry = runCliJson(['gc', '--dry-run', '--grace', '0s', store]);
  assert.ok(existsSync(blob(store, gone)), '--dry-run deletes nothing');
  const r = runCliJson(['gc', '--grace', '0s', store]);
  assert.equal(r.deleted, dry.delete.length);
  for (const d of [gone, goneOnly, sbomOfGone]) assert.ok(!existsSync(blob(store, d)), `${d.digest} swept`);
  for (const d of [keep, sharedLayer, unnamed, sbomOfKeep]) assert.ok(existsSync(blob(store, d)), `${d.digest} kept`);
  assert.equal(r.referrers, 1, 'the SBOM of the kept image is kept as a referrer');
  assert.equal(runCliJson(['fsck', store]).clean, true);
});

test('gc only removes files older than the grace period, temp files included', (t) => {
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const orphanOld = b.blob('old orphan', 'application/octet-stream');
  const orphanNew = b.blob('new orphan', 'application/octet-stream');
  b.write();
  const temp = join(store, 'blobs', 'sha256', '.abc.tmp-123-deadbeef');
  writeFileSync(temp, 'partial');
  const hourAgo = new Date(Date.now() - 2 * 3600_000);
  utimesSync(blob(store, orphanOld), hourAgo, hourAgo);
  utimesSync(temp, hourAgo, hourAgo);
  const fsck = runCliJson(['fsck', store]);
  assert.deepEqual(fsck.findings.map((f: { kind: string }) => f.kind).sort(), ['ORPHAN_BLOB', 'ORPHAN_BLOB', 'TEMP_FILE']);
  assert.equal(fsck.damaged, false);
  const r = runCliJson(['gc', store]);
  assert.equal(r.deleted, 2);
  assert.ok(!existsSync(temp) && !existsSync(blob(store, orphanOld)));
  assert.ok(existsSync(blob(store, orphanNew)), 'a young orphan may be an import in flight');
});

test('gc refuses a store whose index.json it cannot fully read', (t) => {
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const img = b.image({ layers: [{ a: '1' }] });
  b.write();
  writeFileSync(join(store, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...img, size: 'big' }] }));
  const r = runCli(['gc', '--grace', '0s', store]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /gc refuses to run: manifests\[0\]: size must be an integer/);
  assert.ok(existsSync(blob(store, img)));
  const fsck = runCli(['fsck', store]);
  assert.equal(fsck.code, 1, 'fsck calls an unreadable entry damage');
});

test('gc keeps an image whose digest an earlier entry names with a media type that is not walked', (t) => {
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const image = b.image({ layers: [{ only: 'here' }] });
  b.write();
  // The first entry calls the manifest an opaque blob; the second names it properly.
  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')) as { manifests: unknown[] };
  index.manifests = [{ ...image, mediaType: 'application/octet-stream', annotations: { 'org.opencontainers.image.ref.name': 'opaque' } },
    { ...image, annotations: { 'org.opencontainers.image.ref.name': 'app:1' } }];
  writeFileSync(join(store, 'index.json'), JSON.stringify(index));
  const layer = JSON.parse(readFileSync(blob(store, image), 'utf8')).layers[0];
  runCliJson(['gc', '--grace', '0s', store]);
  assert.ok(existsSync(blob(store, layer)), 'the layer the proper entry reaches is kept');
});
