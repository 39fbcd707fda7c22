import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MediaTypes } from '../../src/oci/media-types.js';
import { runCli, runCliJson } from '../fixtures/cli.js';
import { LayoutBuilder, type Desc } from '../fixtures/layout-builder.js';
import { startServeProcess } from '../fixtures/serve.js';
import { tempDir } from '../fixtures/temp.js';

const blob = (store: string, d: { digest: string }) => join(store, 'blobs', 'sha256', d.digest.slice(7));
const entries = (store: string) => (JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')) as { manifests: Desc[] }).manifests;
const unnamedDigests = (store: string) => entries(store).filter((e) => !e.annotations?.['org.opencontainers.image.ref.name']).map((e) => e.digest).sort();

/** A sigstore bundle signature as cosign (OCI 1.1 referrers mode) attaches it: empty config, one bundle layer, a subject. */
function cosignSignature(b: LayoutBuilder, subject: Desc): Desc {
  const empty = b.blob('{}', MediaTypes.ociEmpty);
  const bundle = b.blob(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', signed: subject.digest }),
    'application/vnd.dev.sigstore.bundle.v0.3+json');
  return b.json({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    config: empty, layers: [bundle], subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' } }, MediaTypes.ociManifest);
}

/**
 * A source laid out as `oras attach --oci-layout` and cosign leave it: the image named, its SBOM
 * and the SBOM's signature as unnamed index.json entries (with artifactType), a signature of one
 * platform manifest of an index, and an artifact about an image that is not imported.
 */
function source(dir: string) {
  const b = new LayoutBuilder(dir);
  const app = b.image({ layers: [{ 'app/run': 'echo app\n' }] });
  const amd = b.image({ layers: [{ arch: 'amd64' }] });
  const arm = b.image({ layers: [{ arch: 'arm64' }], architecture: 'arm64', variant: 'v8' });
  const multi = b.index([{ desc: amd, os: 'linux', architecture: 'amd64' }, { desc: arm, os: 'linux', architecture: 'arm64', variant: 'v8' }]);
  const other = b.image({ layers: [{ other: '1' }] });
  const sbom = b.artifact(app, 'application/spdx+json', '{"spdxVersion":"SPDX-2.3"}');
  const sbomSig = cosignSignature(b, sbom);
  const armSig = cosignSignature(b, arm);
  const otherSbom = b.artifact(other, 'application/spdx+json', '{"other":true}');
  b.add(app, 'example.com/team/app:1').add(multi, 'example.com/team/multi:2').add(other, 'example.com/other:1')
    .add({ ...sbom, artifactType: 'application/spdx+json' }, undefined, { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' })
    .add({ ...sbomSig, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' })
    .add(armSig).add(otherSbom).write();
  return { app, multi, arm, other, sbom, sbomSig, armSig, otherSbom };
}

test('signatures and SBOMs travel with their images: import, ls, gc, export, re-import and the referrers API', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  const s = source(src);
  const store = join(dir, 'store');
  runCli(['init', store]);

  const r = runCliJson(['import', store, src, '--select', 'example.com/team/app:1', '--select', 'example.com/team/multi:2'])[0];
  assert.deepEqual([...r.referrers].sort(), [s.sbom.digest, s.sbomSig.digest, s.armSig.digest].sort(),
    'the SBOM, the signature of the SBOM and the signature of a platform manifest come along; the other image\'s SBOM does not');
  assert.deepEqual(unnamedDigests(store), [s.sbom.digest, s.sbomSig.digest, s.armSig.digest].sort());
  const sbomEntry = entries(store).find((e) => e.digest === s.sbom.digest)!;
  assert.equal(sbomEntry.artifactType, 'application/spdx+json', 'the entry is kept as the source had it');
  assert.equal(sbomEntry.annotations?.['org.opencontainers.image.created'], '2024-01-01T00:00:00Z');
  const again = runCliJson(['import', store, src, '--select', 'example.com/team/app:1'])[0];
  assert.equal(again.references[0].action, 'unchanged');
  assert.equal(entries(store).length, 5, 'a second import adds no second entry of a referrer');

  const bare = join(dir, 'bare');
  runCli(['init', bare]);
  assert.deepEqual(runCliJson(['import', bare, src, '--no-referrers'])[0].referrers, []);
  assert.deepEqual(unnamedDigests(bare), []);

  // ls and du count them with their subject.
  const ls = runCliJson(['ls', store]);
  const appLine = ls.references.find((x: { name: string }) => x.name === 'example.com/team/app:1');
  assert.equal(appLine.referrers, 2);
  const sizeOf = (d: Desc) => readFileSync(blob(store, d)).length;
  assert.ok(appLine.totalBytes > sizeOf(s.app) + sizeOf(s.sbom) + sizeOf(s.sbomSig));
  assert.deepEqual(ls.unnamed, [], 'referrers are not listed as stray unnamed entries');
  const du = runCliJson(['du', store, 'example.com/team/app:1']);
  assert.equal(du.references.find((x: { name: string }) => x.name === 'example.com/team/app:1').uniqueBytes, appLine.uniqueBytes);

  // The registry lists them, and the mount's _digests/ tree (the same View) shows them.
  const served = await startServeProcess(t, store);
  try {
    const res = await fetch(`${served.url}/v2/example.com/team/app/referrers/${s.app.digest}`);
    assert.equal(res.status, 200);
    const listed = ((await res.json()) as { manifests: { digest: string; artifactType: string }[] }).manifests;
    assert.deepEqual(listed.map((m) => [m.digest, m.artifactType]), [[s.sbom.digest, 'application/spdx+json']]);
    const sigs = ((await (await fetch(`${served.url}/v2/example.com/team/app/referrers/${s.sbom.digest}`)).json()) as { manifests: { digest: string }[] }).manifests;
    assert.deepEqual(sigs.map((m) => m.digest), [s.sbomSig.digest]);
    const armRefs = ((await (await fetch(`${served.url}/v2/example.com/team/multi/referrers/${s.arm.digest}`)).json()) as { manifests: { digest: string }[] }).manifests;
    assert.deepEqual(armRefs.map((m) => m.digest), [s.armSig.digest]);
    assert.equal((await fetch(`${served.url}/layouts/_digests/sha256/${s.sbomSig.digest.slice(7)}/index.json`)).status, 200);
  } finally {
    await served.stop();
  }

  // gc keeps them while the subject lives.
  runCliJson(['gc', '--grace', '0s', store]);
  for (const d of [s.sbom, s.sbomSig, s.armSig]) assert.ok(existsSync(blob(store, d)), `${d.digest} kept`);

  // export: a bundle carries them, one image with --referrers; import restores them.
  const bundle = join(dir, 'bundle.tar');
  assert.equal(runCli(['export', store, 'example.com/team/app:1', 'example.com/team/multi:2', '-o', bundle]).code, 0);
  const single = join(dir, 'single.tar');
  assert.equal(runCli(['export', store, 'example.com/team/app:1', '--referrers', '-o', single]).code, 0);
  const plain = join(dir, 'plain.tar');
  assert.equal(runCli(['export', store, 'example.com/team/app:1', '-o', plain]).code, 0);
  for (const [file, expected] of [[bundle, [s.sbom, s.sbomSig, s.armSig]], [single, [s.sbom, s.sbomSig]], [plain, []]] as const) {
    const back = join(dir, `back-${file.split('/').pop()}`);
    runCli(['init', back]);
    const imported = runCliJson(['import', back, file])[0];
    assert.deepEqual([...imported.referrers].sort(), expected.map((d) => d.digest).sort(), file);
    assert.deepEqual(unnamedDigests(back), expected.map((d) => d.digest).sort(), file);
    assert.equal(runCliJson(['fsck', '--verify', back]).damaged, false);
  }

  // Once the subject is gone, gc drops the referrer entries and their blobs.
  assert.equal(runCli(['rm', store, 'example.com/team/app:1']).code, 0);
  const gc = runCliJson(['gc', '--grace', '0s', store]);
  assert.deepEqual([...gc.danglingReferrers].sort(), [s.sbom.digest, s.sbomSig.digest].sort());
  assert.deepEqual(unnamedDigests(store), [s.armSig.digest], 'the signature of a kept image stays');
  for (const d of [s.sbom, s.sbomSig]) assert.ok(!existsSync(blob(store, d)), `${d.digest} swept`);
  assert.equal(runCliJson(['fsck', store]).damaged, false);
});

test('the same --select and --ref work on a layout directory and on its archive', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  const s = source(src);
  const fromDir = join(dir, 'from-dir');
  const fromTar = join(dir, 'from-tar');
  const archive = join(dir, 'src.tar');
  runCli(['init', fromDir]);
  runCli(['init', fromTar]);
  // The whole source as an archive: the same index.json and blobs.
  assert.equal(runCli(['export', src, 'example.com/team/app:1', 'example.com/team/multi:2', 'example.com/other:1', '-o', archive]).code, 0);
  for (const [store, from] of [[fromDir, src], [fromTar, archive]] as const) {
    const r = runCliJson(['import', store, from, '--select', 'example.com/team/multi:2', '--ref', 'mirror.example/multi:latest'])[0];
    assert.deepEqual(r.references.map((x: { name: string; digest: string }) => [x.name, x.digest]), [['mirror.example/multi:latest', s.multi.digest]], from);
    assert.deepEqual(r.referrers, [s.armSig.digest], from);
    const two = runCli(['import', store, from, '--ref', 'x:1']);
    assert.equal(two.code, 1);
    assert.match(two.stderr, /--ref names one image, but 3 are selected \(use --select\)/, from);
    const none = runCli(['import', store, from, '--select', 'nope:1']);
    assert.match(none.stderr, /no reference named "nope:1" in the (source|archive)/, from);
  }
  assert.deepEqual(entries(fromDir), entries(fromTar), 'both stores hold the same index.json');
});
