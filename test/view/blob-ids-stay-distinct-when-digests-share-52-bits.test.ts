import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MediaTypes } from '../../src/oci/media-types.js';
import { openStore } from '../../src/store/store-reader.js';
import { View } from '../../src/view/view.js';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

/**
 * A blob's node id (its inode number) comes from the first 52 bits of its digest. Two blobs that
 * share those bits are vanishingly rare, but must still be two inodes: the kernel would serve one
 * file's pages for the other. Layer files are not hashed by the view, so two can be planted under
 * digests that share their first 13 hex digits.
 */
test('two blobs whose digests share their first 52 bits get distinct ids, stable across a refresh', async (t) => {
  const dir = tempDir(t);
  const b = new LayoutBuilder(dir);
  const prefix = 'abcdef0123456';
  const digests = ['1', '2'].map((c) => `sha256:${prefix}${c.repeat(51)}`);
  digests.forEach((d, i) => writeFileSync(join(dir, 'blobs/sha256', d.slice(7)), `layer ${i}`));
  const layers = digests.map((digest, i) => ({ mediaType: MediaTypes.ociLayerGzip, digest, size: `layer ${i}`.length }));
  const config = b.json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: digests } }, MediaTypes.ociConfig);
  const manifest = b.json({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers }, MediaTypes.ociManifest);
  b.add(manifest, 'twins:1').write();

  const view = await View.open(await openStore(dir));
  const ids = async () => Promise.all(digests.map(async (d) => (await view.lookup(`twins/1/blobs/sha256/${d.slice(7)}`))!.id));
  const [one, two] = await ids();
  assert.notEqual(one, two, 'distinct inodes');
  assert.equal((await view.byId(one!))?.type, 'blob');
  assert.equal((await view.byId(two!))?.type, 'blob', 'the second is found by its id too');
  await view.refresh();
  assert.deepEqual(await ids(), [one, two], 'the same ids after a refresh');
});
