import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireRoot } from '../fixtures/requirements.js';
import { readOnlyBind, tempDir } from '../fixtures/temp.js';
import { describeTree } from '../fixtures/trees.js';

test('a store on a read-only filesystem is fully readable and every write fails clearly', (t) => {
  if (!requireRoot(t, 'a read-only bind mount needs root')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  const src = join(dir, 'src');
  buildFixtureStore(src);
  const ro = join(dir, 'ro');
  readOnlyBind(t, store, ro);
  const before = describeTree(store);

  assert.equal(runCli(['ls', ro]).code, 0);
  assert.equal(runCli(['fsck', '--verify', ro]).code, 0);
  for (const args of [['tag', ro, 'latest', 'x:1'], ['rm', ro, 'latest'], ['gc', '--grace', '0s', ro], ['import', ro, src]]) {
    const r = runCli(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /read-only|EROFS/, `${args[0]}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'one line, no stack trace');
  }
  assert.deepEqual(describeTree(store), before);
});
