import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { BlobTable } from '../../src/store/blobs/blob-table.js';
import { ClosureRecords, ClosureRecordsWriter } from '../../src/store/graph/closure-file.js';
import type { Digest } from '../../src/oci/digest.js';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';

/** A table of blobs `b0`..`b{n-1}`, and each one's digest. */
function blobs(n: number, without: number[] = []): { table: BlobTable; digest: (i: number) => Digest } {
  const names = Array.from({ length: n }, (_, i) => hex(`b${i}`));
  return { table: BlobTable.fromNames({ sha256: names.filter((_, i) => !without.includes(i)) }), digest: (i) => `sha256:${names[i]!}` as Digest };
}

test('records read back as written, each found by its root, platform lists shared or repeated', () => {
  const { table, digest } = blobs(8);
  const at = (...i: number[]) => Uint32Array.from(i, (k) => table.indexOf(digest(k)));
  const writer = new ClosureRecordsWriter(table);
  writer.add(MANIFEST, { positions: at(0, 1, 2), sizes: Float64Array.from([10, 20, 30]), platforms: ['linux/amd64'] });
  writer.add(MANIFEST, { positions: at(3, 1, 2), sizes: Float64Array.from([11, 20, 30]), platforms: ['linux/amd64'] });
  // More platform entries than the file has strings (an index listing one platform twice).
  writer.add(INDEX, { positions: at(4, 0), sizes: Float64Array.from([5, 10]), platforms: ['linux/amd64', 'linux/amd64', 'linux/amd64'] });
  writer.add(MANIFEST, { positions: at(5), sizes: Float64Array.from([7]), platforms: undefined });
  const records = ClosureRecords.parse(writer.encode());
  assert.equal(records.size, 4);

  const first = records.find({ digest: digest(0), size: 10, mediaType: MANIFEST }, table)!;
  assert.deepEqual([...first.positions], [...at(0, 1, 2)]);
  assert.deepEqual([...first.sizes], [10, 20, 30]);
  assert.equal(first.bytes, 60);
  assert.deepEqual(first.platforms, ['linux/amd64']);
  assert.equal(records.find({ digest: digest(3), size: 11, mediaType: MANIFEST }, table)!.platforms, first.platforms, 'one list for both');
  assert.deepEqual(records.find({ digest: digest(4), size: 5, mediaType: INDEX }, table)!.platforms, ['linux/amd64', 'linux/amd64', 'linux/amd64']);
  const bare = records.find({ digest: digest(5), size: 7, mediaType: MANIFEST }, table)!;
  assert.equal(bare.platforms, undefined);
  assert.equal(bare.bytes, 7);

  assert.equal(records.find({ digest: digest(0), size: 11, mediaType: MANIFEST }, table), undefined, 'another size');
  assert.equal(records.find({ digest: digest(0), size: 10, mediaType: INDEX }, table), undefined, 'another media type');
  assert.equal(records.find({ digest: digest(1), size: 20, mediaType: MANIFEST }, table), undefined, 'a member is no root');
});

test('a record holds only while every blob it lists is present', () => {
  const all = blobs(6);
  const at = (...i: number[]) => Uint32Array.from(i, (k) => all.table.indexOf(all.digest(k)));
  const writer = new ClosureRecordsWriter(all.table);
  writer.add(MANIFEST, { positions: at(0, 1), sizes: Float64Array.from([1, 2]), platforms: undefined });
  writer.add(MANIFEST, { positions: at(2, 3), sizes: Float64Array.from([3, 4]), platforms: undefined });
  const records = ClosureRecords.parse(writer.encode());
  // The same file against a table that lost blob 3: the second record no longer holds, the first still does.
  const later = blobs(6, [3]);
  assert.equal(records.find({ digest: all.digest(2), size: 3, mediaType: MANIFEST }, later.table), undefined);
  const kept = records.find({ digest: all.digest(0), size: 1, mediaType: MANIFEST }, later.table)!;
  assert.deepEqual([...kept.positions], [0, 1].map((k) => later.table.indexOf(all.digest(k))));
  assert.equal(records.find({ digest: all.digest(2), size: 3, mediaType: MANIFEST }, all.table)!.bytes, 7, 'and against the first table still');
});
