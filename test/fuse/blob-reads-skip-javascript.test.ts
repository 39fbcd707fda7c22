import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { fuseOpCount, requireFuse, servedUrl, startMount, type RunningMount } from '../fixtures/mount.js';
import { requireRoot } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

/** A store with one image whose layer is several FUSE requests (128 KiB each) long. */
function storeWithBigLayer(t: TestContext, names = ['big:1']): { store: string; layer: { digest: string; size: number } } {
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const layer = b.blob(randomBytes(3 * 1024 * 1024 + 17), 'application/vnd.oci.image.layer.v1.tar');
  const config = b.json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }, 'application/vnd.oci.image.config.v1+json');
  const manifest = b.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] }, 'application/vnd.oci.image.manifest.v1+json');
  for (const name of names) b.add(manifest, name);
  b.write();
  return { store, layer };
}

async function mountServed(t: TestContext, store: string, env: NodeJS.ProcessEnv = {}): Promise<{ m: RunningMount; url: string; reads: () => Promise<number> }> {
  const m = await startMount(t, store, undefined, ['--serve', '127.0.0.1:0'], env);
  const url = await servedUrl(m);
  return { m, url, reads: () => fuseOpCount(url, 'read') };
}

const sha256 = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

test('the native FUSE core is built by npm install (native/fuse-core/build.mjs) and loads', () => {
  const core = createRequire(import.meta.url)('../../../native/fuse-core/index.cjs') as { available: boolean; reason?: string };
  assert.equal(core.available, true, `the native FUSE core did not load: ${core.reason}`);
});

test('blob reads never reach JavaScript (as root the kernel reads the store file itself); synthetic files still do', async (t) => {
  if (!requireFuse(t)) return;
  const { store, layer } = storeWithBigLayer(t);
  const { m, url, reads } = await mountServed(t, store);
  const root = process.getuid?.() === 0;
  assert.match(m.output(), new RegExp(`"passthrough":${root}\\b`));
  const blobs = join(m.dir, 'big/1/blobs/sha256');
  const names = readdirSync(blobs);
  for (const name of names) {
    assert.equal(sha256(readFileSync(join(blobs, name))), `sha256:${name}`, `${name} reads whole and intact`);
  }
  assert.equal(readFileSync(join(blobs, layer.digest.slice(7))).length, layer.size);
  assert.equal(await reads(), 0, 'no blob read reached JavaScript');
  // Passthrough opens (root): the kernel was handed the store file of every blob opened.
  if (root) assert.ok(await fuseOpCount(url, 'open_passthrough') >= names.length + 1);
  // The kernel lets an inode hold one backing file: opens of one path held at the same time
  // must share it (a second registration made the second open fail with EIO).
  const path = join(blobs, layer.digest.slice(7));
  const fds = Array.from({ length: 8 }, () => openSync(path, 'r'));
  const head = Buffer.alloc(4096);
  for (const fd of fds) {
    assert.equal(readSync(fd, head, 0, head.length, 0), head.length);
    closeSync(fd);
  }
  const index = JSON.parse(readFileSync(join(m.dir, 'big/1/index.json'), 'utf8')) as { manifests: unknown[] };
  assert.equal(index.manifests.length, 1);
  assert.ok(await reads() > 0, 'index.json is synthetic: its read goes through JavaScript');
});

test('without passthrough (not root, or LAYOUTFS_FUSE_PASSTHROUGH=0) the native threads read blobs, still without JavaScript', async (t) => {
  if (!requireFuse(t)) return;
  const { store, layer } = storeWithBigLayer(t);
  const { m, url, reads } = await mountServed(t, store, { LAYOUTFS_FUSE_PASSTHROUGH: '0' });
  assert.match(m.output(), /"passthrough":false\b/);
  const bytes = readFileSync(join(m.dir, 'big/1/blobs/sha256', layer.digest.slice(7)));
  assert.equal(sha256(bytes), layer.digest);
  assert.equal(await reads(), 0, 'no blob read reached JavaScript');
  assert.equal(await fuseOpCount(url, 'open_passthrough'), 0);
});

test('without passthrough the page cache of a blob is shared by every view of it, as with a hard link (fincore)', async (t) => {
  if (!requireFuse(t)) return;
  const { store, layer } = storeWithBigLayer(t, ['big:1', 'again:2']);
  const { m } = await mountServed(t, store, { LAYOUTFS_FUSE_PASSTHROUGH: '0' });
  const hex = layer.digest.slice(7);
  const one = join(m.dir, 'big/1/blobs/sha256', hex);
  const two = join(m.dir, 'again/2/blobs/sha256', hex);
  // fincore maps the file and asks which of its pages are resident.
  const resident = (path: string) => Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' }).trim());
  assert.equal(resident(two), 0, 'nothing of the blob is cached in a fresh mount');
  assert.equal(sha256(readFileSync(one)), layer.digest);
  assert.equal(resident(two), Math.ceil(layer.size / 4096) * 4096, 'the second view has every page the first one read');
});

test('reads arrive in requests of up to 1 MiB (a virtual archive, read in JavaScript, counts them)', async (t) => {
  if (!requireFuse(t)) return;
  if (!requireRoot(t, 'raising a mount\'s readahead needs root')) return;
  const { store } = storeWithBigLayer(t);
  const { m, reads } = await mountServed(t, store);
  assert.match(m.output(), /"maxRequestKiB":1024\b/);
  const before = await reads();
  const archive = readFileSync(join(m.dir, 'big/_1.tar'));
  const count = (await reads()) - before;
  assert.ok(archive.length > 3 * 1024 * 1024);
  assert.ok(count <= Math.ceil(archive.length / (1024 * 1024)) + 1, `${count} read requests for ${archive.length} bytes`);
});
