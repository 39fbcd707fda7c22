import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectGarbage } from '../../src/store/gc/sweep.js';
import { withLease } from '../../src/store/leases.js';
import { parseDigest } from '../../src/oci/digest.js';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { runCli } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';

/** A store with one image named and one removed: the removed one's blobs are garbage. */
function storeWithGarbage(dir: string): { store: string; garbage: string[] } {
  const store = join(dir, 'store');
  const b = new LayoutBuilder(store);
  const kept = b.image({ layers: [{ kept: '1' }] });
  const gone = b.image({ layers: [{ gone: '1' }] });
  b.add(kept, 'kept:1').add(gone, 'gone:1').write();
  const manifest = JSON.parse(readFileSync(join(store, 'blobs/sha256', gone.digest.slice(7)), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  assert.equal(runCli(['rm', store, 'gone:1']).code, 0);
  return { store, garbage: [gone.digest, manifest.config.digest, manifest.layers[0]!.digest] };
}

const blobFile = (store: string, digest: string) => join(store, 'blobs/sha256', digest.slice(7));

test('gc keeps the blobs a live import has leased, whatever the grace, and sweeps them once the lease is gone', async (t) => {
  const { store, garbage } = storeWithGarbage(tempDir(t));
  const during = await withLease(store, garbage.map((d) => parseDigest(d)), async () => {
    const r = await collectGarbage(store, { graceMs: 0 });
    for (const d of garbage) assert.ok(existsSync(blobFile(store, d)), `${d} kept while leased`);
    return r;
  });
  assert.equal(during.leased, 3);
  assert.equal(during.deleted, 0);
  const after = await collectGarbage(store, { graceMs: 0 });
  assert.equal(after.leased, 0);
  for (const d of garbage) assert.ok(!existsSync(blobFile(store, d)), `${d} swept after the lease`);
});

test('a lease of a process that is gone holds nothing, and gc removes it; a malformed lease holds nothing', async (t) => {
  const { store, garbage } = storeWithGarbage(tempDir(t));
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadLease = join(store, `.layoutfs-lease-${dead.stdout}-0123abcd`);
  writeFileSync(deadLease, `${garbage[0]!}\n`);
  const junkLease = join(store, `.layoutfs-lease-${process.pid}-4567abcd`);
  writeFileSync(junkLease, `${garbage[1]!}\n${garbage[2]!}\nnot a digest\n`);
  const r = await collectGarbage(store, { graceMs: 0 });
  assert.equal(r.leased, 0);
  for (const d of garbage) assert.ok(!existsSync(blobFile(store, d)), `${d} swept`);
  assert.ok(!existsSync(deadLease), 'the dead import\'s lease is removed');
  assert.ok(existsSync(junkLease), 'a live process\'s lease is its own to remove');
});
