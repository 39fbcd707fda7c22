import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../fixtures/cli.js';
import { buildFixtureStore, LayoutBuilder } from '../fixtures/layout-builder.js';
import { requireTool } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

function ok(args: string[]): string {
  const r = runCli(args);
  assert.equal(r.code, 0, `layoutfs ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('init is idempotent; import, tag and rm are reported and read back by skopeo', (t) => {
  if (!requireTool(t, 'skopeo')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { multi, app } = buildFixtureStore(join(dir, 'src'));
  assert.match(ok(['init', store]), /initialized/);
  assert.match(ok(['init', store]), /already a layout/);

  const imported = JSON.parse(ok(['import', '--json', store, join(dir, 'src')]));
  assert.deepEqual(imported[0].references.map((r: { name: string; action: string }) => `${r.action} ${r.name}`), [
    'added docker.io/library/base:1', 'added registry.example:5000/team/app:v1', 'added latest',
    'added docker.io/library/multi:2', 'added ghcr.io/acme/docker-type:3.11']);
  for (const ref of ['docker.io/library/base:1', 'registry.example:5000/team/app:v1', 'latest', 'docker.io/library/multi:2']) {
    JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${store}:${ref}`], { encoding: 'utf8' }));
  }
  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
  assert.equal(index.manifests.find((m: { digest: string }) => m.digest === multi.digest).mediaType, multi.mediaType);
  for (const name of readdirSync(join(store, 'blobs', 'sha256'))) {
    assert.equal(statSync(join(store, 'blobs', 'sha256', name)).mode & 0o777, 0o444, 'blobs are read-only');
  }

  assert.match(ok(['tag', store, 'latest', 'mirror.example/app:stable']), /added mirror\.example\/app:stable -> sha256:/);
  const moving = runCli(['tag', store, 'docker.io/library/base:1', 'mirror.example/app:stable']);
  assert.equal(moving.code, 1);
  assert.match(moving.stderr, /mirror\.example\/app:stable already points at sha256:\w+; --force moves it/);
  assert.match(ok(['tag', '--force', store, 'docker.io/library/base:1', 'mirror.example/app:stable']), /^moved mirror\.example\/app:stable from sha256:\w+ to sha256:/);
  const rm = runCli(['rm', store, 'latest', 'not-there']);
  assert.equal(rm.code, 1, 'a name that is not there fails the command');
  assert.match(rm.stdout, new RegExp(`removed latest \\(${app.digest}\\)`));
  assert.match(rm.stderr, /^layoutfs: no reference named "not-there" in the store$/m);
  const names = JSON.parse(ok(['ls', '--json', store])).references.map((r: { name: string }) => r.name);
  assert.deepEqual(names.sort(), ['docker.io/library/base:1', 'docker.io/library/multi:2', 'ghcr.io/acme/docker-type:3.11',
    'mirror.example/app:stable', 'registry.example:5000/team/app:v1']);
  assert.equal(runCli(['fsck', store]).code, 0);
});

test('importing ten images that share a base writes the base once', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  ok(['init', store]);
  const base = { 'usr/lib/big': 'x'.repeat(200_000) };
  let written = 0;
  const unique = new Set<string>();
  for (let i = 0; i < 10; i++) {
    const src = join(dir, `src${i}`);
    const b = new LayoutBuilder(src);
    b.add(b.image({ layers: [base, { [`app${i}`]: `app ${i}` }] }), `app${i}:1`).write();
    const [report] = JSON.parse(ok(['import', '--json', store, src])) as [{ bytesWritten: number }];
    written += report.bytesWritten;
    for (const n of readdirSync(join(src, 'blobs', 'sha256'))) unique.add(n);
  }
  const uniqueBytes = [...unique].reduce((s, n) => s + statSync(join(store, 'blobs', 'sha256', n)).size, 0);
  assert.equal(written, uniqueBytes, 'bytes written = the unique bytes');
  assert.equal(readdirSync(join(store, 'blobs', 'sha256')).length, unique.size);
});

test('an import naming one image with --ref, and a source missing a blob, are handled', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  ok(['init', store]);
  const src = join(dir, 'src');
  buildFixtureStore(src);
  assert.match(ok(['import', store, src, '--select', 'docker.io/library/multi:2', '--ref', 'localhost:5000/multi:latest']),
    /added localhost:5000\/multi:latest -> sha256:/);
  const bad = runCli(['import', store, src, '--ref', 'x:1']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--ref names one image, but 5 are selected/);
  const unknown = runCli(['import', store, src, '--select', 'nope:1']);
  assert.match(unknown.stderr, /no reference named "nope:1" in the source/);
});
