import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, runCliJson } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

function blobNames(view: string): string[] {
  return readdirSync(join(view, 'blobs', 'sha256')).sort();
}

function rootOf(view: string): string {
  return JSON.parse(readFileSync(join(view, 'index.json'), 'utf8')).manifests[0].digest;
}

test('a re-tagged reference is updated to its new image, a removed one goes, the rest stay as they were', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { base, app } = buildFixtureStore(store);
  const out = join(dir, 'out');
  runCliJson(['materialize', store, out]);
  const latest = join(out, 'latest');
  assert.equal(rootOf(latest), app.digest);
  const other = lstatSync(join(out, 'docker.io/library/multi/2/index.json'));

  assert.equal(runCli(['tag', '--force', store, 'docker.io/library/base:1', 'latest']).code, 0);
  assert.equal(runCli(['rm', store, 'ghcr.io/acme/docker-type:3.11']).code, 0);
  const r = runCliJson(['materialize', store, out]);
  assert.deepEqual([r.added, r.updated, r.removed], [[], ['latest'], ['ghcr.io/acme/docker-type/3.11']]);
  assert.equal(rootOf(latest), base.digest);
  assert.deepEqual(blobNames(latest), blobNames(join(out, 'docker.io/library/base/1')), "exactly the new image's blobs");
  for (const name of blobNames(latest)) assert.equal(lstatSync(join(latest, 'blobs', 'sha256', name)).ino, lstatSync(join(store, 'blobs', 'sha256', name)).ino);
  assert.ok(!existsSync(join(out, 'ghcr.io')), "the removed view's emptied parents go too");
  const otherAfter = lstatSync(join(out, 'docker.io/library/multi/2/index.json'));
  assert.deepEqual([otherAfter.ino, otherAfter.mtimeMs], [other.ino, other.mtimeMs]);

  const again = runCliJson(['materialize', store, out]);
  assert.deepEqual([again.added, again.updated, again.removed, again.linked], [[], [], [], 0]);
});

test('a view whose closure lacks blobs is checked on every run, and gets them once they arrive', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { builder, app } = buildFixtureStore(store);
  const manifest = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', app.digest.slice(7)), 'utf8'));
  const own = (manifest.layers[1].digest as string).slice(7);
  renameSync(join(builder.dir, 'blobs', 'sha256', own), join(dir, 'aside'));
  const out = join(dir, 'out');
  runCliJson(['materialize', store, out]);
  assert.ok(!existsSync(join(out, 'latest', 'blobs', 'sha256', own)));

  renameSync(join(dir, 'aside'), join(store, 'blobs', 'sha256', own));
  const r = runCliJson(['materialize', store, out]);
  assert.deepEqual(r.updated.sort(), ['latest', 'registry.example:5000/team/app:v1']);
  assert.equal(r.linked, 2);
  assert.equal(lstatSync(join(out, 'latest', 'blobs', 'sha256', own)).ino, lstatSync(join(store, 'blobs', 'sha256', own)).ino);
});

test('views made from another store are checked, not trusted: they are relinked to its files', (t) => {
  const dir = tempDir(t);
  const first = join(dir, 'store');
  buildFixtureStore(first);
  const out = join(dir, 'out');
  const made = runCliJson(['materialize', first, out]);
  const copy = join(dir, 'copy');
  execFileSync('cp', ['-a', first, copy]);
  const r = runCliJson(['materialize', copy, out]);
  assert.equal(r.linked, made.linked, 'every blob relinked');
  const view = join(out, 'docker.io/library/base/1');
  for (const name of blobNames(view)) assert.equal(lstatSync(join(view, 'blobs', 'sha256', name)).ino, lstatSync(join(copy, 'blobs', 'sha256', name)).ino);
});
