import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/store-reader.js';
import { View } from '../../src/view/view.js';
import { runCli } from '../fixtures/cli.js';
import { startContainerd } from '../fixtures/containerd.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireRoot, requireTool } from '../fixtures/requirements.js';
import { skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

function exportTo(store: string, out: string, ...refs: string[]): void {
  const r = runCli(['export', store, ...refs, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
}

test('an exported image reads back through skopeo oci-archive: and docker-archive: with the store digests', (t) => {
  if (!requireTool(t, 'skopeo')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { app, multi } = buildFixtureStore(store);
  const appTar = join(dir, 'app.tar');
  exportTo(store, appTar, 'registry.example:5000/team/app:v1');
  skopeo('copy', '-q', '--preserve-digests', `oci-archive:${appTar}`, `oci:${dir}/out-app:x`);
  assert.equal(JSON.parse(readFileSync(join(dir, 'out-app', 'index.json'), 'utf8')).manifests[0].digest, app.digest);
  const appManifest = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', app.digest.slice(7)), 'utf8'));
  const viaDocker = JSON.parse(skopeo('inspect', '--raw', `docker-archive:${appTar}`));
  assert.equal(viaDocker.config.digest, appManifest.config.digest, 'docker-archive: sees the same config');
  // docker-archive: names layers by their uncompressed digests: the config's diff_ids.
  const config = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', appManifest.config.digest.slice(7)), 'utf8'));
  assert.deepEqual(viaDocker.layers.map((l: { digest: string }) => l.digest), config.rootfs.diff_ids);

  const multiTar = join(dir, 'multi.tar');
  exportTo(store, multiTar, 'docker.io/library/multi:2');
  skopeo('copy', '-q', '--all', '--preserve-digests', `oci-archive:${multiTar}`, `oci:${dir}/out-multi:x`);
  assert.equal(JSON.parse(readFileSync(join(dir, 'out-multi', 'index.json'), 'utf8')).manifests[0].digest, multi.digest);

  const armTar = join(dir, 'arm.tar');
  const r = runCli(['export', store, 'docker.io/library/multi:2', '--platform', 'linux/arm64/v8', '-o', armTar]);
  assert.equal(r.code, 0, r.stderr);
  const arm = JSON.parse(skopeo('inspect', '--raw', `oci-archive:${armTar}`));
  assert.equal(arm.mediaType, 'application/vnd.oci.image.manifest.v1+json', '--platform makes a single-manifest image');
  assert.match(runCli(['export', store, 'docker.io/library/multi:2', '--platform', 'windows/amd64', '-o', join(dir, 'w.tar')]).stderr,
    /has no windows\/amd64 manifest \(it has linux\/amd64, linux\/arm64\/v8\)/);
});

test('a multi-reference bundle holds each shared blob once and every reference in it is importable', (t) => {
  if (!requireTool(t, 'skopeo')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  const refs = ['docker.io/library/base:1', 'registry.example:5000/team/app:v1', 'docker.io/library/multi:2'];
  const bundle = join(dir, 'bundle.tar');
  exportTo(store, bundle, ...refs);
  const names = execFileSync('tar', ['-tf', bundle], { encoding: 'utf8' }).split('\n').filter((n) => n.startsWith('blobs/sha256/') && n.length > 14);
  assert.equal(new Set(names).size, names.length, 'each blob once');
  const inStore = readdirSync(join(store, 'blobs', 'sha256'));
  const bytes = names.reduce((s, n) => s + statSync(join(store, n)).size, 0);
  assert.ok(statSync(bundle).size < bytes + (names.length + 8) * 1024 + 2048, 'size is about the unique bytes plus headers');
  assert.ok(names.every((n) => inStore.includes(n.slice(13))));
  for (const ref of refs) skopeo('inspect', '--raw', `oci-archive:${bundle}:${ref}`);
  const imported = join(dir, 'imported');
  runCli(['init', imported]);
  const r = runCli(['import', '--json', imported, bundle]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout)[0].references.map((x: { name: string }) => x.name).sort(), [...refs].sort());
});

test('exports are deterministic, and any byte range is produced without what comes before', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  const a = join(dir, 'a.tar');
  const b = join(dir, 'b.tar');
  exportTo(store, a, 'docker.io/library/multi:2', 'latest');
  exportTo(store, b, 'docker.io/library/multi:2', 'latest');
  const whole = readFileSync(a);
  assert.ok(whole.equals(readFileSync(b)), 'two exports are byte-identical');
  const view = await View.open(await openStore(store));
  const plan = await view.planArchive(['docker.io/library/multi:2', 'latest']);
  const openArchive = () => view.openReader({ type: 'archive', id: 0, nlink: 1, mtimeMs: 0, path: 'bundle.tar', size: plan.size, plan });
  const reader = await openArchive();
  assert.equal(plan.size, whole.length, 'the length is known before the first byte');
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 200; i++) {
    const start = rand(whole.length);
    const end = Math.min(whole.length, start + 1 + rand(4096));
    const got = Buffer.alloc(end - start);
    assert.equal(await reader.read(got, 0, got.length, start), got.length);
    assert.ok(got.equals(whole.subarray(start, end)), `range ${start}-${end}`);
  }
  await reader.close();

  // Descriptors: a reader going through keeps at most the blob it is in open; concurrent reads
  // of one FUSE handle (the kernel's readahead) share one descriptor per blob and leak none.
  const openFds = () => readdirSync('/proc/self/fd').length;
  const before = openFds();
  const streamed = Buffer.alloc(plan.size);
  const sequential = await openArchive();
  for (let pos = 0; pos < plan.size; pos += 4096) {
    await sequential.read(streamed, pos, Math.min(4096, plan.size - pos), pos);
    assert.ok(openFds() - before <= 1, 'at most one blob descriptor open while reading through');
  }
  await sequential.close();
  assert.ok(streamed.equals(whole));
  assert.equal(openFds(), before, 'a closed reader leaves no descriptor open');
  const blob = plan.entries.filter((e) => e.content.kind === 'blob').sort((x, y) => y.end - y.offset - (x.end - x.offset))[0]!;
  const piece = Math.floor((blob.end - blob.offset - blob.header.length) / 8);
  const at = (i: number) => blob.offset + blob.header.length + i * piece;
  const concurrent = await openArchive();
  const bufs = Array.from({ length: 8 }, () => Buffer.alloc(piece));
  const counts = await Promise.all(bufs.map((buf, i) => concurrent.read(buf, 0, piece, at(i))));
  bufs.forEach((buf, i) => assert.ok(buf.subarray(0, counts[i]).equals(whole.subarray(at(i), at(i + 1)))));
  assert.ok(openFds() - before <= 1, 'one descriptor for the blob, however many reads opened it at once');
  await concurrent.close();
  assert.equal(openFds(), before, 'closing the reader closes its descriptors');
});

test('an export into a FIFO (or a device such as /dev/null) writes into it and leaves it in place', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  const expected = join(dir, 'expected.tar');
  exportTo(store, expected, 'latest');
  const fifo = join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const got = join(dir, 'got.tar');
  const reader = spawn('sh', ['-c', `exec cat "${fifo}" > "${got}"`]);
  const readerDone = new Promise((resolve) => reader.on('exit', resolve));
  t.after(() => reader.kill());
  const r = runCli(['export', store, 'latest', '-o', fifo]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(statSync(fifo).isFIFO(), 'the FIFO is still a FIFO, not a file renamed over it');
  await readerDone;
  assert.ok(readFileSync(got).equals(readFileSync(expected)), 'the reader got the whole archive');
});

test('bad input: unknown reference, unwritable output, missing and truncated blobs', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { base, docker } = buildFixtureStore(store);
  const unknown = runCli(['export', store, 'nope:1', '-o', join(dir, 'x.tar')]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no reference named "nope:1"/);
  const unwritable = runCli(['export', store, 'latest', '-o', join(dir, 'no-such-dir', 'x.tar')]);
  assert.equal(unwritable.code, 1);
  assert.match(unwritable.stderr, /ENOENT/);
  const manifest = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', base.digest.slice(7)), 'utf8'));
  unlinkSync(join(store, 'blobs', 'sha256', manifest.layers[0].digest.slice(7)));
  const out = join(dir, 'broken.tar');
  const broken = runCli(['export', store, 'docker.io/library/base:1', '-o', out]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /incomplete in the store|missing/);
  assert.ok(!existsSync(out), 'no partial archive under the final name');

  // A store file cut short after the plan was made: the stream fails, the partial file goes.
  const other = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', docker.digest.slice(7)), 'utf8'));
  const layer = join(store, 'blobs', 'sha256', other.layers[0].digest.slice(7));
  chmodSync(layer, 0o644);
  truncateSync(layer, 10);
  const cut = runCli(['export', store, 'ghcr.io/acme/docker-type:3.11', '-o', out]);
  assert.equal(cut.code, 1);
  assert.match(cut.stderr, new RegExp(`blob ${other.layers[0].digest} ended at 10 of \\d+ bytes while being archived`));
  assert.ok(!existsSync(out), 'no partial archive under the final name');
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), [], 'no temp file left');
});

test('ctr images import names the exported image with its full reference and the store digest', async (t) => {
  if (!requireTool(t, 'containerd', 'ctr')) return;
  if (!requireRoot(t, 'this test starts containerd')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { app, multi } = buildFixtureStore(store);
  const bundle = join(dir, 'bundle.tar');
  exportTo(store, bundle, 'registry.example:5000/team/app:v1', 'docker.io/library/multi:2');
  const socket = await startContainerd(t);
  execFileSync('ctr', ['--address', socket, 'images', 'import', '--all-platforms', bundle], { stdio: 'pipe' });
  const listed = execFileSync('ctr', ['--address', socket, 'images', 'ls'], { encoding: 'utf8' }).split('\n');
  const digestOf = (name: string) => listed.find((l) => l.startsWith(name + ' '))?.split(/\s+/)[2];
  assert.equal(digestOf('registry.example:5000/team/app:v1'), app.digest);
  assert.equal(digestOf('docker.io/library/multi:2'), multi.digest);
});

test('podman load names the exported image with its full reference and the store digest, bare tags under layoutfs/bare', (t) => {
  if (!requireTool(t, 'podman')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { app } = buildFixtureStore(store);
  const tar = join(dir, 'app.tar');
  exportTo(store, tar, 'registry.example:5000/team/app:v1');
  // Private storage: nothing of the machine's podman is touched.
  const podman = (...args: string[]) => execFileSync('podman', ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'),
    '--storage-driver', 'vfs', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(podman('load', '-i', tar), /Loaded image: registry\.example:5000\/team\/app:v1/);
  const images = podman('images', '--digests', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}');
  assert.match(images, new RegExp(`registry\\.example:5000/team/app:v1 ${app.digest}`));
  // A bare tag is loaded under the bare repository, as the registry serves it, not left untagged.
  const bundle = join(dir, 'bundle.tar');
  exportTo(store, bundle, 'registry.example:5000/team/app:v1', 'latest');
  assert.match(podman('load', '-i', bundle), /Loaded image: (localhost\/)?layoutfs\/bare:latest/);
  assert.doesNotMatch(podman('images', '--format', '{{.Repository}}:{{.Tag}}'), /<none>/);
});
