import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { refToPath } from '../../src/oci/path-mapping.js';
import { expectedViews } from '../fixtures/expected-views.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireFuse, startMount } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';

test('find lists exactly the expected files; every blob reads as the store file, one inode per blob', async (t) => {
  if (!requireFuse(t)) return;
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const { dir: mnt } = await startMount(t, store);
  const views = expectedViews(store);
  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));

  const expected = new Set<string>();
  const viewsShowing = new Map<string, number>();
  const addView = (path: string, blobs: Set<string>) => {
    expected.add(`${path}/oci-layout`).add(`${path}/index.json`);
    for (const d of blobs) {
      expected.add(`${path}/blobs/sha256/${d.slice(7)}`);
      viewsShowing.set(d, (viewsShowing.get(d) ?? 0) + 1);
    }
  };
  for (const v of views) addView(refToPath(v.name)!, v.blobs);
  // _digests/ has a view per distinct index.json digest: the sbom artifact is unnamed.
  const sbomDigest: string = index.manifests.find((m: { annotations?: object }) => !m.annotations).digest;
  const sbom = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', sbomDigest.slice(7)), 'utf8'));
  const byDigest = new Map(views.map((v) => [v.digest, v.blobs]));
  byDigest.set(sbomDigest, new Set([sbomDigest, sbom.config.digest, ...sbom.layers.map((l: { digest: string }) => l.digest)]));
  for (const [digest, blobs] of byDigest) addView(`_digests/sha256/${digest.slice(7)}`, blobs);
  // _platforms/ has a single-manifest view per platform of each multi-platform reference.
  const doc = (d: string) => JSON.parse(readFileSync(join(store, 'blobs', 'sha256', d.slice(7)), 'utf8'));
  for (const v of views.filter((x) => x.mediaType.includes('index'))) {
    for (const m of doc(v.digest).manifests as { digest: string; platform: { os: string; architecture: string; variant?: string } }[]) {
      const manifest = doc(m.digest);
      const dir = [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('-');
      addView(`_platforms/${dir}/${refToPath(v.name)!}`,
        new Set([m.digest, manifest.config.digest, ...manifest.layers.map((l: { digest: string }) => l.digest)]));
    }
  }

  const found = execFileSync('find', ['.', '-type', 'f'], { cwd: mnt, encoding: 'utf8' })
    .split('\n').filter(Boolean).map((p) => p.slice(2)).sort();
  assert.deepEqual(found, [...expected].sort());

  const inodeOf = new Map<string, number>();
  for (const rel of found.filter((p) => p.includes('/blobs/'))) {
    const digest = 'sha256:' + rel.split('/').pop()!;
    const file = join(mnt, rel);
    const st = statSync(file);
    assert.ok(readFileSync(file).equals(readFileSync(join(store, 'blobs', 'sha256', digest.slice(7)))), `${rel} reads as the store file`);
    assert.equal(st.size, statSync(join(store, 'blobs', 'sha256', digest.slice(7))).size);
    assert.equal(st.mode & 0o777, 0o444);
    assert.ok(st.isFile() && !st.isSymbolicLink());
    assert.equal(st.nlink, viewsShowing.get(digest), `${rel}: nlink = views showing the blob`);
    assert.equal(st.blocks, Math.ceil(st.size / 512));
    if (inodeOf.has(digest)) assert.equal(st.ino, inodeOf.get(digest), `${rel}: same inode in every view`);
    inodeOf.set(digest, st.ino);
  }
  assert.equal(new Set(inodeOf.values()).size, inodeOf.size, 'different blobs have different inodes');

  // readdir's d_ino agrees with stat (ls -i uses it).
  const blobsDir = join(mnt, 'latest', 'blobs', 'sha256');
  const listed = execFileSync('ls', ['-i', blobsDir], { encoding: 'utf8' }).trim().split('\n');
  for (const line of listed) {
    const [ino, name] = line.trim().split(/\s+/);
    assert.equal(Number(ino), statSync(join(blobsDir, name!)).ino);
  }
  assert.deepEqual(readdirSync(join(mnt, 'latest')), ['blobs', 'index.json', 'oci-layout']);
});

test('du counts each blob once and GNU tar of the whole mount stores repeats as hard links', async (t) => {
  if (!requireFuse(t)) return;
  const work = tempDir(t);
  const store = join(work, 'store');
  buildFixtureStore(store);
  const { dir: mnt } = await startMount(t, store);
  const storeBlobBytes = readdirSync(join(store, 'blobs', 'sha256'))
    .reduce((sum, n) => sum + statSync(join(store, 'blobs', 'sha256', n)).size, 0);
  // Apparent sizes of files only: every blob once, plus each view's two small files.
  const files = execFileSync('find', ['.', '-type', 'f'], { cwd: mnt, encoding: 'utf8' }).split('\n').filter(Boolean);
  const synthetic = files.filter((f) => !f.includes('/blobs/'));
  const syntheticBytes = synthetic.reduce((s, f) => s + statSync(join(mnt, f)).size, 0);
  const du = Number(execFileSync('sh', ['-c', `find . -type f -print0 | du -cb --apparent-size --files0-from=- | tail -1`], { cwd: mnt, encoding: 'utf8' }).split('\t')[0]);
  assert.equal(du, storeBlobBytes + syntheticBytes, 'du counts each shared blob once');

  const tar = join(work, 'all.tar');
  execFileSync('tar', ['-C', mnt, '-cf', tar, '.']);
  const listing = execFileSync('tar', ['-tvf', tar], { encoding: 'utf8' }).split('\n');
  const blobPaths = files.filter((f) => f.includes('/blobs/')).length;
  const uniqueBlobs = readdirSync(join(store, 'blobs', 'sha256')).length;
  assert.equal(listing.filter((l) => l.startsWith('h')).length, blobPaths - uniqueBlobs, 'every repeat is a hard link');
  assert.ok(statSync(tar).size < storeBlobBytes + 1024 * (files.length + 100), 'the archive holds each blob once');
});
