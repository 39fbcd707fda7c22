import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { DIRECT_FD_FLAG, configureNextMount, invalidateRootEntries } from '../../src/fuse/patched-binding.js';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { fuseOpCount, requireFuse, servedUrl, startMount, type RunningMount } from '../fixtures/mount.js';
import { requireRoot } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

/** A store with one image whose layer is several FUSE requests (128 KiB each) long. */
function storeWithBigLayer(t: TestContext): { store: string; layer: { digest: string; size: number } } {
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const layer = b.blob(randomBytes(3 * 1024 * 1024 + 17), 'application/vnd.oci.image.layer.v1.tar');
  const config = b.json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }, 'application/vnd.oci.image.config.v1+json');
  const manifest = b.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] }, 'application/vnd.oci.image.manifest.v1+json');
  b.add(manifest, 'big:1').write();
  return { store, layer };
}

async function mountServed(t: TestContext, store: string, env: NodeJS.ProcessEnv = {}): Promise<{ m: RunningMount; url: string; reads: () => Promise<number> }> {
  const m = await startMount(t, store, undefined, ['--serve', '127.0.0.1:0'], env);
  const url = await servedUrl(m);
  return { m, url, reads: () => fuseOpCount(url, 'read') };
}

const sha256 = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

test('fuse-native is built with native/fuse-native-layoutfs.patch (npm postinstall: native/build-fuse-native.mjs)', () => {
  assert.equal(process.env.LAYOUTFS_FUSE_STOCK, undefined, 'this test reads the binding as shipped');
  assert.equal(DIRECT_FD_FLAG, 0x40000000,
    'the loaded fuse-native binding lacks direct reads: run `node native/build-fuse-native.mjs` and read its warning');
  assert.equal(typeof invalidateRootEntries, 'function', 'the loaded fuse-native binding cannot invalidate kernel entries');
  assert.equal(typeof configureNextMount, 'function', 'the loaded fuse-native binding cannot negotiate bigger requests or passthrough');
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

test('without passthrough (not root, or LAYOUTFS_FUSE_PASSTHROUGH=0) the FUSE threads read blobs, still without JavaScript', async (t) => {
  if (!requireFuse(t)) return;
  const { store, layer } = storeWithBigLayer(t);
  const { m, url, reads } = await mountServed(t, store, { LAYOUTFS_FUSE_PASSTHROUGH: '0' });
  assert.match(m.output(), /"passthrough":false\b/);
  const bytes = readFileSync(join(m.dir, 'big/1/blobs/sha256', layer.digest.slice(7)));
  assert.equal(sha256(bytes), layer.digest);
  assert.equal(await reads(), 0, 'no blob read reached JavaScript');
  assert.equal(await fuseOpCount(url, 'open_passthrough'), 0);
});

test('with the stock binding (LAYOUTFS_FUSE_STOCK=1) blobs are read in JavaScript instead, with the same bytes', async (t) => {
  if (!requireFuse(t)) return;
  const { store, layer } = storeWithBigLayer(t);
  const { m, reads } = await mountServed(t, store, { LAYOUTFS_FUSE_STOCK: '1' });
  const bytes = readFileSync(join(m.dir, 'big/1/blobs/sha256', layer.digest.slice(7)));
  assert.equal(sha256(bytes), layer.digest);
  assert.ok(await reads() >= Math.ceil(layer.size / (128 * 1024)), 'every 128 KiB piece went through the read operation');
});

test('reads arrive in requests of up to 1 MiB, not libfuse 2\'s 128 KiB (a virtual archive, read in JavaScript, counts them)', async (t) => {
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
