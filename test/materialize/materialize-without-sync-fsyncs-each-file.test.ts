import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, runCliJson } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

test('without sync(1) a large run makes each file durable itself and records what it made', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { builder, base } = buildFixtureStore(store);
  // Enough views that materialize would flush the filesystem with `sync -f` rather than fsync each path.
  for (let i = 0; i < 80; i++) builder.add(base, `alias/a${i}:1`);
  builder.write();
  const out = join(dir, 'out');
  const noTools = join(dir, 'empty-path');
  mkdirSync(noTools);
  const r = spawnSync(process.execPath, [CLI, 'materialize', store, out, '--json'], { encoding: 'utf8', env: { ...process.env, PATH: noTools } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).added.length, 85);
  const again = runCliJson(['materialize', store, out]);
  assert.deepEqual([again.added, again.updated, again.unchanged, again.linked], [[], [], 85, 0]);
});
