import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { runCli, runCliJson } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';


test('du says what each reference holds alone and what an rm frees; gc then frees exactly that', (t) => {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const du = runCliJson(['du', store, 'docker.io/library/multi:2', 'docker.io/library/base:1']);
  const byName = Object.fromEntries(du.references.map((r: { name: string; uniqueBytes: number }) => [r.name, r]));
  assert.equal(byName.latest.uniqueBytes, 0, 'latest shares its image with registry.example:5000/team/app:v1');
  assert.ok(byName['docker.io/library/multi:2'].uniqueBytes > 0);
  assert.ok(du.freedByRemoving > byName['docker.io/library/multi:2'].uniqueBytes, 'removing both frees what only they share too');
  const ls = runCliJson(['ls', store]);
  for (const r of ls.references) {
    assert.equal(byName[r.name].totalBytes, r.totalBytes, `du and ls agree on ${r.name}`);
    assert.equal(byName[r.name].uniqueBytes, r.uniqueBytes, `du and ls agree on what ${r.name} holds alone`);
  }

  assert.equal(runCli(['rm', store, 'docker.io/library/multi:2', 'docker.io/library/base:1']).code, 0);
  const gc = runCliJson(['gc', '--grace', '0s', store]);
  assert.equal(gc.freed, du.freedByRemoving);
  assert.match(runCli(['du', store, 'nope:1']).stderr, /no reference named "nope:1"/);
});
