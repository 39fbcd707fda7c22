import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, runCliJson } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireRoot, requireTool } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

test('materialized views are valid layouts with the store inodes; re-runs change nothing, then drop removed refs', (t) => {
  if (!requireTool(t, 'skopeo', 'umoci') || !requireRoot(t, 'umoci unpack without --rootless gives files their owners')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { app } = buildFixtureStore(store);
  const out = join(dir, 'out');
  const first = runCliJson(['materialize', store, out]);
  assert.equal(first.added.length, 5);
  const v1 = join(out, 'registry.example%3A5000/team/app/v1');
  assert.equal(JSON.parse(execFileSync('skopeo', ['inspect', `oci:${v1}`], { encoding: 'utf8' })).Digest, app.digest);
  execFileSync('umoci', ['unpack', '--image', `${v1}:v1`, join(dir, 'bundle')], { stdio: 'pipe' });
  assert.ok(existsSync(join(dir, 'bundle', 'rootfs', 'app', 'run')));
  for (const name of readdirSync(join(v1, 'blobs', 'sha256'))) {
    assert.equal(statSync(join(v1, 'blobs', 'sha256', name)).ino, statSync(join(store, 'blobs', 'sha256', name)).ino, 'a hard link into the store');
  }

  const second = runCliJson(['materialize', store, out]);
  assert.deepEqual([second.added, second.updated, second.removed, second.linked, second.copied], [[], [], [], 0, 0]);
  assert.equal(second.unchanged, 5);

  assert.equal(runCli(['rm', store, 'latest', 'docker.io/library/multi:2']).code, 0);
  const third = runCliJson(['materialize', store, out]);
  assert.deepEqual(third.removed.sort(), ['docker.io/library/multi/2', 'latest']);
  assert.ok(!existsSync(join(out, 'latest')) && !existsSync(join(out, 'docker.io/library/multi')));
  assert.ok(existsSync(join(out, 'docker.io/library/base/1/index.json')), 'other views stay');
});

test('across filesystems blobs are copied, with a warning and a size estimate', (t) => {
  if (!requireRoot(t, 'mounting a tmpfs needs root')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  const other = join(dir, 'tmpfs');
  mkdirSync(other);
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', other]).status, 0, 'a tmpfs (needs root)');
  t.after(() => spawnSync('umount', ['-l', other]));
  const r = runCliJson(['materialize', store, join(other, 'out'), 'docker.io/library/base:1']);
  assert.ok(r.copied > 0 && r.linked === 0);
  assert.match(r.stderr, /on another filesystem than the store: copying blobs instead of hard-linking \(about \d+ bytes/);
  const again = runCliJson(['materialize', store, join(other, 'out'), 'docker.io/library/base:1']);
  assert.equal(again.copied, 0, 'nothing re-copied');
});
