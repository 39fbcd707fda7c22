import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireTool } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

test('ls reads a shared layout written by skopeo with full and bare names', (t) => {
  if (!requireTool(t, 'skopeo')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  buildFixtureStore(src);
  const store = join(dir, 'store');
  const copies: [string, string][] = [
    ['docker.io/library/base:1', 'docker.io/library/debian:bookworm'],
    ['registry.example:5000/team/app:v1', 'localhost:5000/team/app:v1'],
    ['latest', '3.11'],
    ['docker.io/library/multi:2', 'quay.io/org/multi:2'],
  ];
  for (const [from, to] of copies) {
    execFileSync('skopeo', ['copy', '--quiet', '--all', `oci:${src}:${from}`, `oci:${store}:${to}`]);
  }
  // skopeo itself refuses the shared layout without a name: what layoutfs is for.
  assert.throws(() => execFileSync('skopeo', ['inspect', `oci:${store}`], { stdio: 'pipe' }), /more than one image/);

  const r = runCli(['ls', '--json', store]);
  assert.equal(r.code, 0, r.stderr);
  const inv = JSON.parse(r.stdout);
  const paths = Object.fromEntries(inv.references.map((x: { name: string; viewPath: string }) => [x.name, x.viewPath]));
  assert.deepEqual(paths, {
    'docker.io/library/debian:bookworm': 'docker.io/library/debian/bookworm',
    'localhost:5000/team/app:v1': 'localhost%3A5000/team/app/v1',
    '3.11': '3.11',
    'quay.io/org/multi:2': 'quay.io/org/multi/2',
  });
  for (const ref of inv.references) {
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${store}:${ref.name}`]).toString());
    assert.equal(inspected.schemaVersion, 2);
    assert.ok(ref.totalBytes > 0 && ref.blobs >= 3, `${ref.name} has its blobs`);
    assert.deepEqual(ref.missing, []);
  }
  assert.deepEqual(inv.findings, []);
  // debian and 3.11/app share the base layer.
  const debian = inv.references.find((x: { name: string }) => x.name === 'docker.io/library/debian:bookworm');
  assert.ok(debian.sharedBytes > 0);

  const multi = inv.references.find((x: { name: string }) => x.name === 'quay.io/org/multi:2');
  assert.deepEqual(multi.platforms, ['linux/amd64', 'linux/arm64/v8']);

  const table = runCli(['ls', store]);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /docker\.io\/library\/debian:bookworm\s+docker\.io\/library\/debian\/bookworm\s/);
});
