import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Digest } from '../../src/oci/digest.js';
import { nativeStoreCalls } from '../../src/store/native-store-calls.js';
import { openStore } from '../../src/store/store-reader.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { unavailable } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

const hexOf = (s: string, alg = 'sha256') => createHash(alg).update(s).digest('hex');
const digest = (alg: string, hex: string) => `${alg}:${hex}` as Digest;

test('a refresh applies the blobs that came and went since the last listing, as a full listing would see them', async (t) => {
  if (!nativeStoreCalls(['watchDirs'])) {
    unavailable(t, 'the native core', 'not built');
    return;
  }
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const reader = await openStore(store);
  const first = await reader.listAllBlobsSince(undefined);
  assert.equal(first.watch, undefined, 'a one-shot listing (ls, du) watches nothing');
  let listing = await reader.listAllBlobsSince(first);
  assert.ok(listing.watch, 'a refresh watches from then on');
  t.after(() => listing.watch?.close());
  assert.equal(await reader.listAllBlobsSince(listing), listing, 'nothing came or went: the same listing, no work');

  const came = ['a', 'b', 'c'].map((s) => hexOf(s));
  for (const hex of came) writeFileSync(join(store, 'blobs/sha256', hex), '');
  const wentHex = [...listing.blobs][0]!.slice('sha256:'.length);
  rmSync(join(store, 'blobs/sha256', wentHex));
  // A temp file, and a blob that came and went again before the refresh: neither is listed.
  writeFileSync(join(store, 'blobs/sha256', `.${hexOf('t')}.tmp-1`), '');
  writeFileSync(join(store, 'blobs/sha256', hexOf('brief')), '');
  rmSync(join(store, 'blobs/sha256', hexOf('brief')));
  const before = listing;
  listing = await reader.listAllBlobsSince(listing);
  assert.equal(listing.watch, before.watch);
  assert.deepEqual([...listing.blobs].sort(), [...await reader.listAllBlobs()]);
  for (const hex of came) assert.ok(listing.blobs.has(digest('sha256', hex)));
  assert.ok(!listing.blobs.has(digest('sha256', wentHex)));

  // blobs/sha512 made after the watch opened: the watch cannot tell what is in it, so all is listed again.
  mkdirSync(join(store, 'blobs/sha512'));
  writeFileSync(join(store, 'blobs/sha512', hexOf('x', 'sha512')), '');
  listing = await reader.listAllBlobsSince(listing);
  assert.ok(listing.blobs.has(digest('sha512', hexOf('x', 'sha512'))));
  assert.notEqual(listing.watch, before.watch, 'a new watch, covering blobs/sha512 too');
  writeFileSync(join(store, 'blobs/sha512', hexOf('y', 'sha512')), '');
  listing = await reader.listAllBlobsSince(listing);
  assert.deepEqual([...listing.blobs].sort(), [...await reader.listAllBlobs()]);

  // The directory replaced under the watch: listed again in full.
  renameSync(join(store, 'blobs/sha256'), join(store, 'old'));
  mkdirSync(join(store, 'blobs/sha256'));
  writeFileSync(join(store, 'blobs/sha256', hexOf('d')), '');
  listing = await reader.listAllBlobsSince(listing);
  assert.deepEqual([...listing.blobs].sort(), [...await reader.listAllBlobs()]);
  assert.ok(listing.blobs.has(digest('sha256', hexOf('d'))) && !listing.blobs.has(digest('sha256', came[0]!)));
});
