import assert from 'node:assert/strict';
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Descriptor } from '../../src/oci/descriptor.js';
import { scanBlobs } from '../../src/store/blobs/scan-blobs.js';
import { markReachable } from '../../src/store/gc/mark.js';
import { openStore } from '../../src/store/store-reader.js';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

test('gc and fsck marking read each manifest and index once, however many names and indexes reach it', async (t) => {
  const dir = tempDir(t);
  const b = new LayoutBuilder(dir);
  const shared = { 'etc/os-release': 'ID=shared\n' };
  const amd = b.image({ layers: [shared, { arch: 'amd64' }] });
  const arm = b.image({ layers: [shared, { arch: 'arm64' }], architecture: 'arm64' });
  const lost = b.image({ layers: [shared, { lost: 'yes' }] });
  // Two indexes over the same manifests, each under several names; one manifest also named alone.
  const one = b.index([{ desc: amd, os: 'linux', architecture: 'amd64' }, { desc: arm, os: 'linux', architecture: 'arm64' }]);
  const two = b.index([{ desc: arm, os: 'linux', architecture: 'arm64' }, { desc: amd, os: 'linux', architecture: 'amd64' },
    { desc: lost, os: 'linux', architecture: 'riscv64' }]);
  for (let i = 0; i < 5; i++) b.add(one, `one:${i}`).add(two, `two:${i}`).add(amd, `amd:${i}`);
  b.write();
  // `lost` reaches a layer the store does not have, from every root reaching it.
  const blobCount = readdirSync(join(dir, 'blobs', 'sha256')).length;
  const store = await openStore(dir, { syncReads: true });
  const lostManifest = JSON.parse((await store.readVerified(lost as Descriptor)).toString('utf8')) as { layers: { digest: string }[] };
  unlinkSync(store.blobFile(lostManifest.layers[1]!.digest as Descriptor['digest']));

  const reads = new Map<string, number>();
  const counting = { ...store, readVerified: (d: Descriptor, max?: number) => {
    reads.set(d.digest, (reads.get(d.digest) ?? 0) + 1);
    return store.readVerified(d, max);
  } };
  const index = await store.readIndex();
  const marking = await markReachable(counting, index.valid.map((e) => e.descriptor), scanBlobs(dir).then((s) => s.present));

  assert.deepEqual([...reads.values()], [1, 1, 1, 1, 1], `each of 2 indexes and 3 manifests once: ${JSON.stringify([...reads])}`);
  assert.equal(marking.marked, blobCount - 1, 'every blob but the one deleted');
  assert.equal(marking.sizes.filter((s) => s >= 0).length, blobCount - 1);
  assert.ok(marking.has(lost.digest as Descriptor['digest']) && !marking.has(lostManifest.layers[1]!.digest as Descriptor['digest']));
  assert.deepEqual(marking.missing.map((f) => f.digest), [lostManifest.layers[1]!.digest], 'a missing blob is one finding');
  assert.deepEqual(marking.problems, []);
});
