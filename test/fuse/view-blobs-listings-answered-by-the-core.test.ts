import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore, LayoutBuilder } from '../fixtures/layout-builder.js';
import { fuseOpCount, requireFuse, servedUrl, startMount, waitFor } from '../fixtures/mount.js';
import { requireRoot } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

async function kernelNodes(url: string): Promise<number> {
  const metrics = await (await fetch(`${url}/_layoutfs/metrics`)).text();
  return Number(/^layoutfs_fuse_kernel_nodes (\d+)$/m.exec(metrics)![1]);
}

function replaceIndex(store: string, entries: unknown[]): void {
  writeFileSync(join(store, 'index.json.new'), JSON.stringify({ schemaVersion: 2, manifests: entries }));
  renameSync(join(store, 'index.json.new'), join(store, 'index.json'));
}

const named = (d: object, name: string) => ({ ...d, annotations: { 'org.opencontainers.image.ref.name': name } });

/** The hex digests of an image's blobs: its manifest, config and layers. */
function blobsOf(store: string, manifest: { digest: string }): string[] {
  const doc = JSON.parse(readFileSync(join(store, 'blobs/sha256', manifest.digest.slice(7)), 'utf8')) as
    { config: { digest: string }; layers: { digest: string }[] };
  return [manifest, doc.config, ...doc.layers].map((d) => d.digest.slice(7)).sort();
}

const FORMAT = '%n\t%i %h %s %a %Y %F\n';

/** What stat shows of each path, by path. */
function stats(out: string): Map<string, string> {
  return new Map(out.trim().split('\n').map((l) => l.split('\t') as [string, string]));
}

// Issue 11: a view's blobs and blobs/<alg> listings are handed to the native core with the view's
// own listing, and the listings a walk reads next ahead of it; answered there, with what
// JavaScript would answer and the lookups counted.
test('a walk whose listings the core answers shows what lookups show, and the node table follows the kernel', async (t) => {
  if (!requireFuse(t)) return;
  if (!requireRoot(t, 'drop_caches needs root')) return;
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const m = await startMount(t, store, undefined, ['--serve', '127.0.0.1:0']);
  const url = await servedUrl(m);

  // find lists every directory (readdirplus), and stat takes each entry's attributes from it.
  const listed = stats(execFileSync('sh', ['-c', `find . -print0 | xargs -0 stat --printf '${FORMAT}'`], { cwd: m.dir, encoding: 'utf8' }));
  const dirs = [...listed].filter(([, st]) => st.endsWith(' directory')).map(([p]) => p);
  const blobDirs = dirs.filter((p) => /\/blobs(\/sha256|\/sha512)?$/.test(p));
  assert.ok(blobDirs.length >= 4, 'the fixture has views to walk');
  // Which listings JavaScript answers and which the core does depends on whether the listing
  // ahead beat the walk to each; between them, each directory is read once, in one reply.
  const [inJs, byCore] = [await fuseOpCount(url, 'readdirplus'), await fuseOpCount(url, 'readdirplus_native')];
  assert.equal(inJs + byCore, dirs.length, `each directory listed once (${inJs} in JavaScript, ${byCore} by the core)`);
  assert.ok(byCore >= blobDirs.length, 'the views\' blobs listings, at least, answered by the core');
  const inodes = new Set([...listed.values()].map((st) => st.split(' ')[0])).size;
  assert.equal(await kernelNodes(url), inodes - 1, 'the node table holds exactly the kernel\'s nodes (the root aside)');

  // The kernel forgets everything; each path is then looked up by name in JavaScript.
  execFileSync('sh', ['-c', 'sync && echo 2 > /proc/sys/vm/drop_caches']);
  await waitFor('the forgets to arrive', async () => (await kernelNodes(url)) < inodes / 4);
  const looked = stats(execFileSync('stat', ['--printf', FORMAT, ...listed.keys()], { cwd: m.dir, encoding: 'utf8' }));
  assert.deepEqual(looked, listed, 'lookups show what the listings showed');
});

test('listings are handed over ahead of a walk: a directory\'s subdirectories and their views are read without JavaScript', async (t) => {
  if (!requireFuse(t)) return;
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const one = b.image({ layers: [{ a: '1' }] });
  const two = b.image({ layers: [{ b: '2' }, { c: '3' }] });
  replaceIndex(store, [named(one, 'team/app:v1'), named(two, 'team/app:v2'), named(one, 'team/tool:v1')]);
  const m = await startMount(t, store, undefined, ['--serve', '127.0.0.1:0']);
  const url = await servedUrl(m);

  // Listing team/ hands over team/app and team/tool, and each view in them once it is read:
  // the view's own listing, its blobs and blobs/sha256 (three each).
  assert.deepEqual(readdirSync(join(m.dir, 'team')), ['app', 'tool']);
  await waitFor('the listings ahead', async () => (await fuseOpCount(url, 'listed_ahead')) >= 2 + 3 * 3);
  const inJs = await fuseOpCount(url, 'readdirplus');
  const walked = execFileSync('find', ['team/app', 'team/tool'], { cwd: m.dir, encoding: 'utf8' }).trim().split('\n').sort();
  assert.deepEqual(walked.filter((p) => p.endsWith('/index.json')), ['team/app/v1/index.json', 'team/app/v2/index.json', 'team/tool/v1/index.json']);
  assert.ok(walked.includes(`team/app/v2/blobs/sha256/${two.digest.slice(7)}`), 'the views\' blobs are listed');
  assert.equal(await fuseOpCount(url, 'readdirplus'), inJs, 'no listing of the walk reached JavaScript');
  assert.equal(await fuseOpCount(url, 'readdirplus_native'), 2 + 3 * 3, 'each one reply from the core');
  const nlink = statSync(join(m.dir, 'team/app/v1/blobs/sha256', one.digest.slice(7))).nlink;
  assert.equal(nlink, 3, 'attributes as a lookup gives them (team/app:v1, team/tool:v1 and the _digests view)');
});

test('a refresh drops the blobs listings handed to the core: new link counts, moved and removed views show', async (t) => {
  if (!requireFuse(t)) return;
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const one = b.image({ layers: [{ a: '1' }] });
  const two = b.image({ layers: [{ b: '2' }] });
  replaceIndex(store, [named(one, 'app:v'), named(one, 'app:moved'), named(one, 'app:gone')]);
  const m = await startMount(t, store, undefined, ['--serve', '127.0.0.1:0']);
  const url = await servedUrl(m);
  const blob = (view: string, d: { digest: string }) => join(m.dir, view, 'blobs/sha256', d.digest.slice(7));

  // Listing each view hands its blobs listings to the core; none is read yet.
  for (const v of ['v', 'moved', 'gone']) assert.deepEqual(readdirSync(join(m.dir, 'app', v)), ['blobs', 'index.json', 'oci-layout']);
  const listings = await fuseOpCount(url, 'readdirplus');

  // Every blob of `one` goes from 4 views (three and its _digests view) to 3; `moved` shows `two`; `gone` goes.
  replaceIndex(store, [named(one, 'app:v'), named(two, 'app:moved'), named(one, 'app:w')]);
  await waitFor('the refresh', () => readdirSync(join(m.dir, 'app')).includes('w'));
  readdirSync(join(m.dir, 'app/v/blobs/sha256'));
  assert.equal(statSync(blob('app/v', one)).nlink, 3, 'the blob\'s new link count (app/v, app/w, _digests), not the one listed before');
  assert.ok(await fuseOpCount(url, 'readdirplus') > listings, 'the listing was made again after the refresh');
  assert.deepEqual(readdirSync(join(m.dir, 'app/moved/blobs/sha256')).sort(), blobsOf(store, two),
    'a moved view lists its new image\'s blobs');
  assert.throws(() => readdirSync(join(m.dir, 'app/gone/blobs/sha256')), { code: 'ENOENT' });
});
