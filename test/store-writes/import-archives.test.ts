import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { padding, TAR_END, tarHeader, type TarEntry } from '../../src/archive/tar-header.js';
import { runCli } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireTool } from '../fixtures/requirements.js';
import { skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

function importJson(store: string, ...args: string[]) {
  const r = runCli(['import', '--json', store, ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

/** A tar of the given entries, written by our own ustar writer. */
function tarOfEntries(entries: { entry: TarEntry; content?: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const { entry, content } of entries) {
    parts.push(tarHeader({ ...entry, size: content?.length ?? 0 }));
    if (content) parts.push(content, Buffer.alloc(padding(content.length)));
  }
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

test('imports skopeo oci-archive (plain, gzip, multi-platform) and docker-archive tars, read back by skopeo', (t) => {
  if (!requireTool(t, 'skopeo')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  const { multi, app } = buildFixtureStore(src);
  const store = join(dir, 'store');
  assert.equal(runCli(['init', store]).code, 0);
  skopeo('copy', '-q', `oci:${src}:latest`, `oci-archive:${dir}/app.tar:team/app:1`);
  skopeo('copy', '-q', '--all', `oci:${src}:docker.io/library/multi:2`, `oci-archive:${dir}/multi.tar:quay.io/org/multi:2`);
  skopeo('copy', '-q', `oci:${src}:docker.io/library/base:1`, `docker-archive:${dir}/docker.tar:alpine:3.11`);
  writeFileSync(join(dir, 'app.tar.gz'), gzipSync(readFileSync(join(dir, 'app.tar'))));

  const a = importJson(store, join(dir, 'app.tar'));
  assert.deepEqual(a.references.map((r: { name: string; digest: string }) => [r.name, r.digest]), [['team/app:1', app.digest]]);
  const m = importJson(store, join(dir, 'multi.tar'));
  assert.deepEqual(m.references.map((r: { name: string; digest: string }) => [r.name, r.digest]), [['quay.io/org/multi:2', multi.digest]]);
  const d = importJson(store, join(dir, 'docker.tar'));
  assert.equal(d.references[0].name, 'docker.io/library/alpine:3.11', 'Docker short names are normalized');
  const g = importJson(store, join(dir, 'app.tar.gz'), '--ref', 'team/app:gz');
  assert.equal(g.bytesWritten, 0, 'everything was there already');

  assert.equal(JSON.parse(skopeo('inspect', '--raw', `oci:${store}:quay.io/org/multi:2`)).manifests.length, 2);
  const legacy = JSON.parse(skopeo('inspect', `oci:${store}:docker.io/library/alpine:3.11`));
  const srcLegacy = JSON.parse(skopeo('inspect', `docker-archive:${dir}/docker.tar`));
  assert.deepEqual(legacy.Layers, srcLegacy.Layers, 'legacy layers keep their diff_ids as digests');
  const fsck = JSON.parse(runCli(['fsck', '--verify', '--json', store]).stdout);
  assert.deepEqual(fsck.findings, []);
});

test('Docker 25+ archives (OCI layout with manifest.json) are named by io.containerd.image.name', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  const { base } = buildFixtureStore(src);
  const index = { schemaVersion: 2, manifests: [{ ...base, annotations: { 'io.containerd.image.name': 'docker.io/library/base:1', 'org.opencontainers.image.ref.name': '1' } }] };
  writeFileSync(join(src, 'index.json'), JSON.stringify(index));
  writeFileSync(join(src, 'manifest.json'), JSON.stringify([{ Config: 'blobs/sha256/x', RepoTags: ['base:1'], Layers: [] }]));
  execFileSync('tar', ['-C', src, '-cf', join(dir, 'docker25.tar'), 'oci-layout', 'index.json', 'manifest.json', 'blobs']);
  const store = join(dir, 'store');
  runCli(['init', store]);
  const r = importJson(store, join(dir, 'docker25.tar'));
  assert.deepEqual(r.references.map((x: { name: string }) => x.name), ['docker.io/library/base:1']);
});

test('bad archives get a clear error and leave index.json unchanged', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  runCli(['init', store]);
  const indexBefore = readFileSync(join(store, 'index.json'), 'utf8');
  const layout = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
  const blob = Buffer.from('hello');
  const hex = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
  const wrongHex = 'a'.repeat(64);
  const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
  const blobEntry = (b: Buffer) => ({ entry: { name: `blobs/sha256/${sha(b).slice(7)}`, size: 0 }, content: b });
  const indexDoc = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
  const bigDoc = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', pad: 'x'.repeat(5 * 1024 * 1024) }));
  const bigManifest = { ...blobEntry(bigDoc), digest: sha(bigDoc) };
  const cases: [string, Buffer, RegExp, string[]?][] = [
    ['slip', tarOfEntries([{ entry: { name: '../evil', size: 0 }, content: blob }]), /points outside the archive \(tar-slip\)/],
    ['absolute', tarOfEntries([{ entry: { name: '/etc/evil', size: 0 }, content: blob }]), /points outside the archive/],
    ['symlink out', tarOfEntries([{ entry: { name: 'blobs/sha256/x.tar', size: 0, type: '2', linkname: '../../../etc/passwd' } }]), /points outside the archive/],
    ['hardlink out', tarOfEntries([{ entry: { name: 'l.tar', size: 0, type: '1', linkname: '../outside' } }]), /points outside the archive/],
    ['digest mismatch', tarOfEntries([{ entry: { name: `blobs/sha256/${wrongHex}`, size: 0 }, content: blob }]), /content hashes to sha256:2cf24dba/],
    ['truncated tar', tarOfEntries([{ entry: { name: `blobs/sha256/${hex}`, size: 0 }, content: blob }, { entry: { name: 'oci-layout', size: 0 }, content: layout }]).subarray(0, 700), /not a readable tar archive|index\.json/],
    ['truncated gzip', gzipSync(tarOfEntries([{ entry: { name: 'oci-layout', size: 0 }, content: layout }])).subarray(0, 30), /not a readable tar \(gzip\) archive/],
    ['gzip bomb', gzipSync(Buffer.alloc(50 * 1024 * 1024)), /expands to more than 1048576 bytes \(a gzip bomb\?\)/, ['--max-unpacked-bytes', '1M']],
    ['bad json', tarOfEntries([{ entry: { name: 'manifest.json', size: 0 }, content: Buffer.from('[{') }]), /manifest\.json: not valid JSON/],
    ['neither', tarOfEntries([{ entry: { name: 'readme.txt', size: 0 }, content: blob }]), /neither an OCI archive \(index\.json\) nor a docker save archive/],
    ['missing blob', tarOfEntries([{ entry: { name: 'index.json', size: 0 }, content: Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${wrongHex}`, size: 10, annotations: { 'org.opencontainers.image.ref.name': 'x:1' } }] })) }]), /x:1 needs blob sha256:a{64}, which the archive does not hold/],
    ['invalid entry', tarOfEntries([{ entry: { name: 'index.json', size: 0 }, content: Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [
      { mediaType: 'x', digest: 'sha256:../../etc', size: 1 }] })) }]), /is not a supported digest/],
    ['oversized manifest', tarOfEntries([bigManifest, { entry: { name: 'index.json', size: 0 }, content: Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: bigManifest.digest, size: bigDoc.length, annotations: { 'org.opencontainers.image.ref.name': 'big:1' } }] })) }]),
    /over the limit of 4194304 bytes for a manifest/],
    ['wrong media type', tarOfEntries([blobEntry(indexDoc), { entry: { name: 'index.json', size: 0 }, content: Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(indexDoc), size: indexDoc.length, annotations: { 'org.opencontainers.image.ref.name': 'x:1' } }] })) }]),
    /mediaType "application\/vnd\.oci\.image\.index\.v1\+json" differs from the descriptor's/],
    ['empty name', tarOfEntries([blobEntry(indexDoc), { entry: { name: 'index.json', size: 0 }, content: Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [
      { mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(indexDoc), size: indexDoc.length, annotations: { 'org.opencontainers.image.ref.name': '' } }] })) }]),
    /"" is not a usable reference name/],
  ];
  for (const [what, bytes, error, extra] of cases) {
    const file = join(dir, `${what.replace(/ /g, '-')}.tar`);
    writeFileSync(file, bytes);
    const r = runCli(['import', store, file, ...(extra ?? [])]);
    assert.equal(r.code, 1, `${what}: ${r.stdout}`);
    assert.match(r.stderr, error, what);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: one line`);
    assert.equal(readFileSync(join(store, 'index.json'), 'utf8'), indexBefore, `${what}: index.json unchanged`);
  }
  const fsck = JSON.parse(runCli(['fsck', '--json', store]).stdout);
  assert.equal(fsck.damaged, false);
});
