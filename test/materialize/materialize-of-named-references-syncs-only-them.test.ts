import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, runCliJson } from '../fixtures/cli.js';
import { materializedFixture } from '../fixtures/materialized.js';

test('materialize of named references syncs only them and removes nothing; an unknown name fails before anything is written', (t) => {
  const { dir, store, out } = materializedFixture(t);
  assert.equal(runCli(['tag', '--force', store, 'docker.io/library/base:1', 'latest']).code, 0);
  assert.equal(runCli(['tag', store, 'docker.io/library/base:1', 'new/one:1']).code, 0);
  assert.equal(runCli(['rm', store, 'ghcr.io/acme/docker-type:3.11']).code, 0);

  const named = runCliJson(['materialize', store, out, 'latest']);
  assert.deepEqual([named.added, named.updated, named.removed, named.unchanged], [[], ['latest'], [], 0]);
  assert.ok(existsSync(join(out, 'ghcr.io/acme/docker-type/3.11/index.json')) && !existsSync(join(out, 'new/one')));

  const all = runCliJson(['materialize', store, out]);
  assert.deepEqual([all.added, all.updated, all.removed, all.unchanged], [['new/one:1'], [], ['ghcr.io/acme/docker-type/3.11'], 4],
    'the named run recorded latest; the others kept their records');

  const unknown = runCli(['materialize', store, join(dir, 'other'), 'nope:1']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no reference named "nope:1" in the store/);
  assert.ok(!existsSync(join(dir, 'other')));
});
