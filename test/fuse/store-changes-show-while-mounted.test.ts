import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { fuseOpCount, requireFuse, servedUrl, startMount, waitFor } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';

/** What a writer does: a new index.json by write-temp + rename. */
function replaceIndex(store: string, entries: unknown[]): void {
  writeFileSync(join(store, 'index.json.new'), JSON.stringify({ schemaVersion: 2, manifests: entries }));
  renameSync(join(store, 'index.json.new'), join(store, 'index.json'));
}

const named = (d: object, name: string) => ({ ...d, annotations: { 'org.opencontainers.image.ref.name': name } });

test('references added and removed in the store show up in the mount without a remount', async (t) => {
    if (!requireFuse(t)) return;
    const store = join(tempDir(t), 'store');
    const b = new LayoutBuilder(store);
    const one = b.image({ layers: [{ a: '1' }] });
    const two = b.image({ layers: [{ b: '2' }] });
    replaceIndex(store, [named(one, 'app:one')]);
    const m = await startMount(t, store);
    const mnt = m.dir;
    assert.ok(existsSync(join(mnt, 'app/one/index.json')));
    assert.ok(!existsSync(join(mnt, 'app/two')));
    // Listings are kept in the kernel's cache between opens: a change must drop them.
    assert.deepEqual(readdirSync(join(mnt, 'app')), ['one']);

    replaceIndex(store, [named(one, 'app:one'), named(two, 'app:two')]);
    await waitFor('app/two to appear', () => existsSync(join(mnt, 'app/two/index.json')));
    assert.deepEqual(readdirSync(join(mnt, 'app')).sort(), ['one', 'two']);
    replaceIndex(store, [named(two, 'app:two')]);
    await waitFor('app/one to disappear', () => !existsSync(join(mnt, 'app/one')));
    assert.deepEqual(readdirSync(join(mnt, 'app')), ['two']);
    assert.deepEqual(readdirSync(mnt).filter((n) => n !== '_digests'), ['app']);
    assert.ok(existsSync(join(mnt, `app/two/blobs/sha256/${two.digest.slice(7)}`)));
});

test('a reader in the middle of a large blob finishes with the right bytes across a refresh and a gc', async (t) => {
  if (!requireFuse(t)) return;
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const big = b.blob(randomBytes(24 * 1024 * 1024), 'application/vnd.oci.image.layer.v1.tar');
  const config = b.json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [big.digest] } }, 'application/vnd.oci.image.config.v1+json');
  const manifest = b.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [big] }, 'application/vnd.oci.image.manifest.v1+json');
  const other = b.image({ layers: [{ x: 'y' }] });
  replaceIndex(store, [named(manifest, 'big:1'), named(other, 'other:1')]);
  const { dir: mnt } = await startMount(t, store);

  const fd = openSync(join(mnt, `big/1/blobs/sha256/${big.digest.slice(7)}`), 'r');
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1024 * 1024);
  let pos = 0;
  while (pos < big.size / 2) {
    const n = readSync(fd, chunk, 0, chunk.length, pos);
    hash.update(chunk.subarray(0, n));
    pos += n;
  }
  // The reference goes away and gc deletes the blob while the file is open.
  replaceIndex(store, [named(other, 'other:1')]);
  await waitFor('big/1 to disappear', () => !existsSync(join(mnt, 'big/1')));
  unlinkSync(join(store, 'blobs', 'sha256', big.digest.slice(7)));
  for (let n = -1; n !== 0; pos += n) {
    n = readSync(fd, chunk, 0, chunk.length, pos);
    hash.update(chunk.subarray(0, n));
  }
  closeSync(fd);
  assert.equal(pos, big.size);
  assert.equal('sha256:' + hash.digest('hex'), big.digest);
});

test('a name moved to another image shows the new one (index.json, blobs, its .tar) though the kernel caches between refreshes', async (t) => {
  if (!requireFuse(t)) return;
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const one = b.image({ layers: [{ a: '1' }] });
  const two = b.image({ layers: [{ b: '2'.repeat(5000) }, { c: '3' }] });
  // `solo` has no repository: its view and its archive `_solo.tar` sit at the root of the mount.
  replaceIndex(store, [named(one, 'app:v'), named(one, 'solo')]);
  const m = await startMount(t, store, undefined, ['--serve', '127.0.0.1:0']);
  const url = await servedUrl(m);
  const getattrs = () => fuseOpCount(url, 'getattr');
  const manifestIn = (view: string) => (JSON.parse(readFileSync(join(m.dir, view, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests[0]!.digest;
  const blob = (view: string, d: { digest: string }) => join(m.dir, view, 'blobs/sha256', d.digest.slice(7));

  assert.equal(manifestIn('app/v'), one.digest);
  const oldArchiveSize = statSync(join(m.dir, '_solo.tar')).size;
  statSync(blob('app/v', one));
  const before = await getattrs();
  for (let i = 0; i < 3; i++) statSync(blob('app/v', one));
  assert.equal(await getattrs(), before, 'repeated stats are answered by the kernel cache, not by layoutfs');
  readdirSync(join(m.dir, 'app/v/blobs/sha256'));
  const listings = await fuseOpCount(url, 'readdirplus');
  for (let i = 0; i < 3; i++) readdirSync(join(m.dir, 'app/v/blobs/sha256'));
  assert.equal(await fuseOpCount(url, 'readdirplus'), listings, 'repeated listings are answered by the kernel cache');

  replaceIndex(store, [named(two, 'app:v'), named(two, 'solo')]);
  // A path walk that met the old view's directory just before the swap finds nothing under it
  // (ENOENT), as under a directory renamed over on disk: the next walk meets the new view.
  await waitFor('app/v to show the new image', () => {
    try {
      return manifestIn('app/v') === two.digest;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  });
  assert.equal(manifestIn('solo'), two.digest);
  assert.ok(!existsSync(blob('app/v', one)), 'the old manifest left the view');
  assert.ok(existsSync(blob('app/v', two)));
  const archive = readFileSync(join(m.dir, '_solo.tar'));
  assert.notEqual(archive.length, oldArchiveSize);
  assert.equal(statSync(join(m.dir, '_solo.tar')).size, archive.length);
  assert.ok(archive.includes(Buffer.from(two.digest.slice(7))), 'the archive holds the new image');
});
