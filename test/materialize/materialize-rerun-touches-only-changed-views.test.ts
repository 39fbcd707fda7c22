import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, runCliJson } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

/** More views than materialize fsyncs one by one, so the first run takes the syncfs path. */
const ALIASES = 80;

function blobNames(view: string): string[] {
  return readdirSync(join(view, 'blobs', 'sha256')).sort();
}

test('a re-run with one new reference adds only it and looks at no unchanged view; --full repairs hand edits', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { builder, base } = buildFixtureStore(store);
  for (let i = 0; i < ALIASES; i++) builder.add(base, `alias/a${i}:1`);
  builder.write();
  const out = join(dir, 'out');
  assert.equal(runCliJson(['materialize', store, out]).added.length, 5 + ALIASES);

  // Hand edits in views the next run must not look at: a full walk would undo each of them.
  const untouched = join(out, 'docker.io/library/base/1');
  const planted = join(untouched, 'blobs', 'sha256', 'planted-by-hand');
  writeFileSync(planted, 'mine\n');
  const indexBefore = lstatSync(join(untouched, 'index.json'));
  const damaged = join(out, 'alias/a7/1');
  const deleted = blobNames(damaged)[0]!;
  unlinkSync(join(damaged, 'blobs', 'sha256', deleted));

  assert.equal(runCli(['tag', store, 'docker.io/library/base:1', 'new/one:1']).code, 0);
  const second = runCliJson(['materialize', store, out]);
  assert.deepEqual([second.added, second.updated, second.removed], [['new/one:1'], [], []]);
  assert.equal(second.unchanged, 5 + ALIASES);
  const fresh = join(out, 'new/one/1');
  assert.deepEqual(blobNames(fresh), blobNames(untouched).filter((n) => n !== 'planted-by-hand'));
  assert.equal(second.linked, blobNames(fresh).length, 'only the new view was linked');
  for (const name of blobNames(fresh)) {
    const inStore = lstatSync(join(store, 'blobs', 'sha256', name));
    const linked = lstatSync(join(fresh, 'blobs', 'sha256', name));
    assert.equal(linked.ino, inStore.ino, 'a hard link into the store');
    assert.ok(linked.nlink >= 3, 'the store file, this view and the others showing it');
  }
  assert.ok(existsSync(planted), 'the unchanged view was not walked');
  const indexAfter = lstatSync(join(untouched, 'index.json'));
  assert.deepEqual([indexAfter.ino, indexAfter.mtimeMs], [indexBefore.ino, indexBefore.mtimeMs]);
  assert.ok(!existsSync(join(damaged, 'blobs', 'sha256', deleted)), 'a hand edit stays until --full');

  const full = runCliJson(['materialize', '--full', store, out]);
  assert.deepEqual(full.updated.sort(), ['alias/a7:1', 'docker.io/library/base:1']);
  assert.deepEqual([full.added, full.removed, full.linked], [[], [], 1]);
  assert.equal(lstatSync(join(damaged, 'blobs', 'sha256', deleted)).ino, lstatSync(join(store, 'blobs', 'sha256', deleted)).ino);
  assert.ok(!existsSync(planted), 'a full run drops what the closure does not name');
  assert.equal(JSON.parse(readFileSync(join(fresh, 'index.json'), 'utf8')).manifests[0].digest, base.digest);
});

test('a state written by a layoutfs that made index.json otherwise is not trusted: every view is checked once', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  const out = join(dir, 'out');
  runCliJson(['materialize', store, out]);
  const planted = join(out, 'latest', 'blobs', 'sha256', 'planted-by-hand');
  writeFileSync(planted, 'mine\n');
  // The header line names the format; the checksum covers the view lines only.
  const stateFile = join(out, '.layoutfs-materialized');
  const [version, head, ...lines] = readFileSync(stateFile, 'utf8').split('\n');
  writeFileSync(stateFile, [version, JSON.stringify({ ...JSON.parse(head!), format: 'another' }), ...lines].join('\n'));
  const r = runCliJson(['materialize', store, out]);
  assert.deepEqual([r.updated, r.linked], [['latest'], 0]);
  assert.ok(!existsSync(planted));
  assert.deepEqual(runCliJson(['materialize', store, out]).updated, [], 'trusted again once checked');
});
