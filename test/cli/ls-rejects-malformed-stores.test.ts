import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { runCli } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';

function store(t: import('node:test').TestContext) {
  const dir = tempDir(t);
  return { dir, ...buildFixtureStore(join(dir, 'store')), root: join(dir, 'store') };
}

function expectFailure(args: string[], pattern: RegExp): void {
  const r = runCli(args);
  assert.equal(r.code, 1, `exit 1 expected, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'a one-line error, not a stack trace');
}

test('oci-layout with another version is refused, naming the file and the rule', (t) => {
  const s = store(t);
  writeFileSync(join(s.root, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
  expectFailure(['ls', s.root], /oci-layout: imageLayoutVersion must be exactly "1\.0\.0", found "2\.0\.0"/);
});

test('index.json that is not JSON, or over the size limit, is refused', (t) => {
  const s = store(t);
  writeFileSync(join(s.root, 'index.json'), '{"schemaVersion":2, "manifests": [');
  expectFailure(['ls', s.root], /index\.json: not valid JSON/);
  truncateSync(join(s.root, 'index.json'), 65 * 1024 * 1024);
  expectFailure(['ls', s.root], /index\.json: \d+ bytes is over the limit of \d+ bytes/);
});

test('a blobs directory that is a symlink out of the store is refused', (t) => {
  const s = store(t);
  const outside = join(s.dir, 'elsewhere');
  mkdirSync(outside);
  renameSync(join(s.root, 'blobs'), join(outside, 'blobs'));
  symlinkSync(join(outside, 'blobs'), join(s.root, 'blobs'));
  expectFailure(['ls', s.root], /blobs: resolves to .*elsewhere\/blobs, outside the store/);
});

test('a manifest whose bytes do not match its digest is reported by name, others still listed', (t) => {
  const s = store(t);
  const file = join(s.root, 'blobs', 'sha256', s.base.digest.slice(7));
  const json = JSON.parse(readFileSync(file, 'utf8'));
  json.annotations = { tampered: 'yes' };
  const tampered = JSON.stringify(json).slice(0, s.base.size).padEnd(s.base.size, ' ');
  writeFileSync(file, tampered);
  const r = runCli(['ls', '--json', s.root]);
  assert.equal(r.code, 0, r.stderr);
  const inv = JSON.parse(r.stdout);
  const bad = inv.findings.find((f: { kind: string }) => f.kind === 'BAD_DOCUMENT');
  assert.ok(bad, 'a BAD_DOCUMENT finding');
  assert.equal(bad.ref, 'docker.io/library/base:1');
  assert.match(bad.message, new RegExp(`${s.base.digest.slice(7)}.*content hashes to sha256:`));
  assert.equal(inv.references.length, 5);
});

test('a blob that is a symlink is not followed', (t) => {
  const s = store(t);
  const file = join(s.root, 'blobs', 'sha256', s.docker.digest.slice(7));
  const moved = join(s.dir, 'moved-manifest');
  renameSync(file, moved);
  symlinkSync(moved, file);
  const r = runCli(['ls', '--json', s.root]);
  assert.equal(r.code, 0, r.stderr);
  const bad = JSON.parse(r.stdout).findings.find((f: { kind: string }) => f.kind === 'BAD_DOCUMENT');
  assert.match(bad.message, /is a symlink; blobs must be regular files/);
});

test('a missing store, a file as store, and bad usage', (t) => {
  const dir = tempDir(t);
  expectFailure(['ls', join(dir, 'nope')], /nope: store directory is missing/);
  writeFileSync(join(dir, 'file'), 'x');
  expectFailure(['ls', join(dir, 'file')], /file: a store must be a directory/);
  assert.equal(runCli(['ls']).code, 2);
  assert.equal(runCli(['frobnicate']).code, 2);
  assert.equal(runCli(['ls', '--cache-size', 'lots', dir]).code, 2);
});
