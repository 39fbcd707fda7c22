import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { BlobTable } from '../../src/store/blobs/blob-table.js';
import { LISTING_MIN_BLOBS, LISTING_NAME } from '../../src/store/blobs/listing-file.js';
import { sealed, unseal } from '../../src/store/sealed-file.js';
import { openStore } from '../../src/store/store-reader.js';
import type { Digest } from '../../src/oci/digest.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

/** Listings are saved only for directories unchanged for a second (blob-reader.ts). */
const SETTLE_MS = 1100;

/** The fixture store plus enough blob files (content irrelevant to a listing) that a listing is saved. */
function bigStore(t: TestContext): { store: string; extra: string[] } {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const extra = Array.from({ length: LISTING_MIN_BLOBS }, (_, i) => createHash('sha256').update(`extra ${i}`).digest('hex'));
  for (const hex of extra) writeFileSync(join(store, 'blobs/sha256', hex), '');
  return { store, extra };
}

async function present(store: string): Promise<BlobTable> {
  return (await (await openStore(store)).listAllBlobsSince(undefined)).blobs;
}

test('an unchanged blobs/ directory is read back from the saved listing; any change is listed again', async (t) => {
  const { store, extra } = bigStore(t);
  const listed = await present(store);
  assert.ok(!existsSync(join(store, LISTING_NAME)), 'a directory changed within the last second is not saved');
  await sleep(SETTLE_MS);
  assert.deepEqual([...await present(store)], [...listed]);
  const file = join(store, LISTING_NAME);
  const saved = readFileSync(file);

  // A saved listing whose checksum holds and whose directory state matches is what an open sees:
  // drop one record, fix the checksum, and the blob is gone from the open's listing.
  const magic = saved.toString('latin1', 0, saved.indexOf(0x0a));
  const body = unseal(magic, saved)!;
  const line = body.toString('latin1', 0, body.indexOf(0x0a));
  const [stamp, n256, n512] = line.split(' ') as [string, string, string];
  const records = body.subarray(line.length + 1);
  const fewer = Buffer.concat([records.subarray(0, 32 * 7), records.subarray(32 * 8)]);
  writeFileSync(file, sealed(magic, [Buffer.from(`${stamp} ${Number(n256) - 1} ${n512}\n`, 'latin1'), fewer]));
  const dropped = `sha256:${records.subarray(32 * 7, 32 * 8).toString('hex')}` as Digest;
  const fromFile = await present(store);
  assert.equal(fromFile.size, listed.size - 1);
  assert.ok(!fromFile.has(dropped));

  // Anything off in the file (a byte, the length) and it is ignored: the directory is listed again.
  for (const damaged of [Buffer.concat([saved.subarray(0, saved.length - 1), Buffer.from([saved.at(-1)! ^ 1])]), saved.subarray(0, saved.length - 32), Buffer.from('junk')]) {
    writeFileSync(file, damaged);
    assert.deepEqual([...await present(store)], [...listed]);
  }
  assert.deepEqual(readFileSync(file), saved, 'and saved again, whole');

  // A blob removed moves the directory's times: listed again, and saved again once settled.
  rmSync(join(store, 'blobs/sha256', extra[0]!));
  writeFileSync(file, saved);
  const after = await present(store);
  assert.equal(after.size, listed.size - 1);
  assert.ok(!after.has(`sha256:${extra[0]!}` as Digest));
  await sleep(SETTLE_MS);
  await present(store);
  assert.notDeepEqual(readFileSync(file), saved);
  assert.equal((await present(store)).size, listed.size - 1);
});

test('a small store gets no listing file', async (t) => {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  await sleep(SETTLE_MS);
  assert.ok((await present(store)).size > 0);
  assert.ok(!existsSync(join(store, LISTING_NAME)));
});

test('a saved listing out of order or cut mid-record makes no table', () => {
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  assert.equal(BlobTable.fromRecords({ sha256: Buffer.concat([b, a]) }), undefined);
  assert.equal(BlobTable.fromRecords({ sha256: Buffer.concat([a, a]) }), undefined);
  assert.equal(BlobTable.fromRecords({ sha256: Buffer.concat([a, b.subarray(1)]) }), undefined);
  assert.equal(BlobTable.fromRecords({ sha256: Buffer.concat([a, b]) })?.size, 2);
});
