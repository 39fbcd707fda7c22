import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, openSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireFuse, startMount } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';
import { CLOSURES_NAME } from '../../src/store/graph/closure-file.js';
import { describeTree } from '../fixtures/trees.js';

test('writes of every kind fail with EROFS and the store is unchanged', async (t) => {
  if (!requireFuse(t)) return;
  const store = join(tempDir(t), 'store');
  const { base } = buildFixtureStore(store);
  const before = describeTree(store);
  const { dir: mnt } = await startMount(t, store);
  const blob = join(mnt, 'docker.io/library/base/1/blobs/sha256', base.digest.slice(7));
  const attempts: [string, () => unknown][] = [
    ['create', () => writeFileSync(join(mnt, 'new-file'), 'x')],
    ['mkdir', () => mkdirSync(join(mnt, 'new-dir'))],
    ['unlink', () => unlinkSync(blob)],
    ['rmdir', () => rmSync(join(mnt, 'latest'), { recursive: true })],
    ['write a blob', () => appendFileSync(blob, 'more')],
    ['open a blob for writing', () => openSync(blob, 'r+')],
    ['write index.json', () => writeFileSync(join(mnt, 'latest/index.json'), '{}')],
  ];
  for (const [what, attempt] of attempts) {
    assert.throws(attempt, (e: NodeJS.ErrnoException) => e.code === 'EROFS', `${what} gets EROFS`);
  }
  for (const cmd of [['touch', join(mnt, 'x')], ['chmod', '777', blob], ['mv', blob, blob + '.x'], ['ln', blob, join(mnt, 'l')]]) {
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
    assert.notEqual(r.status, 0, cmd.join(' '));
    assert.match(r.stderr, /Read-only file system/, cmd.join(' '));
  }
  // The census may record the closures it computed beside index.json: a cache, not store content.
  const after = Object.entries(describeTree(store)).filter(([path]) => path !== CLOSURES_NAME);
  assert.deepEqual(Object.fromEntries(after), before, 'the store is unchanged');
});
