import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { runCli } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';

test('a tag never carries the old full name: exports and re-imports name the image by its new name', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  const src = join(dir, 'src.tar');
  // An archive written by layoutfs carries io.containerd.image.name; import it, then rename.
  assert.equal(runCli(['export', store, 'docker.io/library/base:1', '-o', src]).code, 0);
  const other = join(dir, 'other');
  runCli(['init', other]);
  assert.equal(runCli(['import', other, src]).code, 0);
  assert.equal(runCli(['tag', other, 'docker.io/library/base:1', 'mirror.example/base:2']).code, 0);
  const index = JSON.parse(readFileSync(join(other, 'index.json'), 'utf8'));
  const renamed = index.manifests.find((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'] === 'mirror.example/base:2');
  assert.equal(renamed.annotations['io.containerd.image.name'], undefined, 'the old full name is gone');
  assert.equal(runCli(['rm', other, 'docker.io/library/base:1']).code, 0);
  const again = join(dir, 'again.tar');
  assert.equal(runCli(['export', other, 'mirror.example/base:2', '-o', again]).code, 0);
  const third = join(dir, 'third');
  runCli(['init', third]);
  const r = runCli(['import', '--json', third, again]);
  assert.deepEqual(JSON.parse(r.stdout)[0].references.map((x: { name: string }) => x.name), ['mirror.example/base:2']);
});

test('tag refuses names no path can show, and --select of a name not in an archive fails', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  const before = readFileSync(join(store, 'index.json'), 'utf8');
  for (const bad of ['', 'a\nb']) {
    const r = runCli(['tag', store, 'latest', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not a usable reference name/);
  }
  const tar = join(dir, 'a.tar');
  runCli(['export', store, 'latest', '-o', tar]);
  const r = runCli(['import', store, tar, '--select', 'nope:1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no reference named "nope:1" in the archive/);
  assert.equal(readFileSync(join(store, 'index.json'), 'utf8'), before, 'index.json unchanged (no-op writes are skipped too)');
  const noop = runCli(['tag', store, 'latest', 'latest']);
  assert.equal(noop.code, 0);
  assert.match(noop.stdout, /unchanged latest/);
  assert.equal(readFileSync(join(store, 'index.json'), 'utf8'), before);
});

test('tag and import --ref keep to the image-spec ref.name grammar; fsck reports names outside it', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  for (const bad of ['a b:1', 'app:', 'x-', 'a//b']) {
    const r = runCli(['tag', store, 'latest', bad]);
    assert.equal(r.code, 1, bad);
    assert.match(r.stderr, /outside the image-spec ref\.name grammar/, bad);
  }
  assert.equal(runCli(['tag', store, 'latest', 'Registry.Example.com/team/app:v1']).code, 0, 'capitals are inside the grammar');
  const tar = join(dir, 'a.tar');
  runCli(['export', store, 'latest', '-o', tar]);
  assert.match(runCli(['import', store, tar, '--ref', 'a b:1']).stderr, /outside the image-spec ref\.name grammar/);
  // A name written by another tool is reported, not damage.
  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
  index.manifests.push({ ...index.manifests[0], annotations: { 'org.opencontainers.image.ref.name': 'a b:1' } });
  writeFileSync(join(store, 'index.json'), JSON.stringify(index));
  const fsck = JSON.parse(runCli(['fsck', '--json', store]).stdout);
  assert.deepEqual(fsck.findings.map((f: { kind: string; ref?: string }) => [f.kind, f.ref]), [['NONCONFORMING_NAME', 'a b:1']]);
  assert.equal(fsck.damaged, false);
});
