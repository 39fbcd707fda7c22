import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BlobTable } from '../../src/store/blobs/blob-table.js';
import type { Digest } from '../../src/oci/digest.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sha512 = (s: string) => createHash('sha512').update(s).digest('hex');

test('a blob table holds exactly the digests listed, in order, whatever the listing order', () => {
  // Enough names that buckets hold several (the insertion sort inside a bucket runs), plus duplicates and junk.
  const hex = Array.from({ length: 200_000 }, (_, i) => sha256(String(i)));
  const names = [...hex, hex[5]!, 'tmp-123', hex[0]!.toUpperCase(), hex[1]!.slice(1), `${hex[2]!}.partial`];
  const table = BlobTable.fromNames({ sha256: names, sha512: [sha512('a'), 'junk'] });
  assert.equal(table.size, hex.length + 1);
  const sorted = [...hex].sort();
  assert.equal(table.digestAt(0), `sha256:${sorted[0]!}`);
  assert.equal(table.digestAt(hex.length - 1), `sha256:${sorted.at(-1)!}`);
  assert.deepEqual([...table].slice(0, 1000), sorted.slice(0, 1000).map((h) => `sha256:${h}`));
  for (const h of hex.slice(0, 5000)) assert.ok(table.has(`sha256:${h}` as Digest), h);
  assert.equal(table.indexOf(`sha256:${sorted[1234]!}`), 1234);
  assert.ok(table.has(`sha512:${sha512('a')}` as Digest));
  assert.equal(table.indexOf(`sha256:${sha256('absent')}`), -1);
  assert.equal(table.indexOf(`sha512:${hex[0]!}`), -1, 'a sha256 encoding under sha512 is no digest');
  assert.equal(table.indexOf(`sha256:${hex[0]!.toUpperCase()}`), -1);
  assert.equal(table.indexOf('md5:00'), -1);
});

test('digests sharing their first 52 bits are found together, across algorithms too', () => {
  const a = `${'ab'.repeat(6)}c${'0'.repeat(51)}`;
  const b = `${'ab'.repeat(6)}c${'1'.repeat(51)}`;
  const c = `${'ab'.repeat(6)}d${'0'.repeat(51)}`;
  const long = `${'ab'.repeat(6)}c${'2'.repeat(115)}`;
  const table = BlobTable.fromNames({ sha256: [c, b, a], sha512: [long] });
  const prefix = parseInt(a.slice(0, 13), 16);
  assert.equal(table.prefix52At(table.indexOf(`sha256:${a}`)), prefix);
  assert.deepEqual(table.withPrefix52(prefix).map((i) => table.digestAt(i)), [`sha256:${a}`, `sha256:${b}`, `sha512:${long}`]);
  assert.deepEqual(table.sharedPrefixes52(), [prefix]);
  assert.deepEqual(BlobTable.fromNames({ sha256: [a, c] }).sharedPrefixes52(), []);
});

test('digests laid out in order are found in one walk, those sharing 52 bits told apart by their bytes', () => {
  const shared = `${'ab'.repeat(6)}c`;
  const [a, b, c, d] = ['0', '1', '2', '3'].map((x) => `${shared}${x.repeat(51)}`) as [string, string, string, string];
  const other = `${'cd'.repeat(6)}c${'0'.repeat(51)}`;
  const table = BlobTable.fromNames({ sha256: [a, c, other] });
  // The dictionary's layout: a digest and 8 more bytes each, as the closures file has them.
  const laid = (list: string[]) => Buffer.concat(list.map((h) => Buffer.concat([Buffer.from(h, 'hex'), Buffer.alloc(8)])));
  const at = (h: string) => table.indexOf(`sha256:${h}` as Digest);
  assert.deepEqual([...table.indexOfSorted('sha256', laid([a, b, c, d, other]), 0, 40, 5)!], [at(a), -1, at(c), -1, at(other)]);
  assert.deepEqual([...table.indexOfSorted('sha256', laid([a, a, other]), 0, 40, 3)!], [at(a), at(a), at(other)], 'a repeat is found again');
  assert.equal(table.indexOfSorted('sha256', laid([c, a]), 0, 40, 2), undefined, 'out of order within a prefix');
  assert.equal(table.indexOfSorted('sha256', laid([other, a]), 0, 40, 2), undefined, 'out of order');
});

test('a diff of two tables names what stayed, went and came, and carries values by digest', () => {
  const d = (s: string) => `sha256:${sha256(s)}` as Digest;
  const before = BlobTable.fromNames({ sha256: ['kept', 'gone', 'kept2'].map(sha256) });
  const after = BlobTable.fromNames({ sha256: ['kept2', 'new', 'kept'].map(sha256) });
  const seen = { same: [] as string[], gone: [] as string[], added: [] as string[] };
  before.diff(after, {
    same: (i, j) => { assert.equal(before.digestAt(i), after.digestAt(j)); seen.same.push(after.digestAt(j)); },
    gone: (i) => seen.gone.push(before.digestAt(i)),
    added: (j) => seen.added.push(after.digestAt(j)),
  });
  assert.deepEqual(seen.same.sort(), [d('kept'), d('kept2')].sort());
  assert.deepEqual(seen.gone, [d('gone')]);
  assert.deepEqual(seen.added, [d('new')]);
  const values = new Uint32Array(before.size);
  values[before.indexOf(d('kept'))] = 7;
  values[before.indexOf(d('gone'))] = 9;
  const moved = before.carry(values, after, 0);
  assert.equal(moved[after.indexOf(d('kept'))], 7);
  assert.equal(moved[after.indexOf(d('new'))], 0);
  assert.equal(moved.reduce((x, y) => x + y, 0), 7);
});

test('diff and carry across lineages agree with a digest-by-digest comparison, over random changes and both algorithms', () => {
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let round = 0; round < 30; round++) {
    const pool = Array.from({ length: 400 }, (_, i) => `${round}-${i}`);
    const pick = () => pool.filter(() => rand(3) > 0);
    const [a, b] = [pick(), pick()];
    const names = (xs: string[]) => ({ sha256: xs.filter((x) => x.length % 2 === 0).map(sha256), sha512: xs.filter((x) => x.length % 2 === 1).map(sha512) });
    const before = BlobTable.fromNames(names(a));
    const after = BlobTable.fromNames(names(b));
    const inAfter = new Set(after);
    const inBefore = new Set(before);
    const got = { same: [] as string[], gone: [] as string[], added: [] as string[] };
    before.diff(after, {
      same: (i, j) => { assert.equal(before.digestAt(i), after.digestAt(j)); got.same.push(before.digestAt(i)); },
      gone: (i) => got.gone.push(before.digestAt(i)),
      added: (j) => got.added.push(after.digestAt(j)),
    });
    assert.deepEqual(got.same, [...before].filter((x) => inAfter.has(x)));
    assert.deepEqual(got.gone, [...before].filter((x) => !inAfter.has(x)));
    assert.deepEqual(got.added, [...after].filter((x) => !inBefore.has(x)));
    const values = Float64Array.from({ length: before.size }, (_, i) => i + 1);
    const moved = before.carry(values, after, -1);
    [...after].forEach((x, j) => assert.equal(moved[j], inBefore.has(x) ? before.indexOf(x) + 1 : -1));
  }
});

test('tables alike but for a few blobs, walked in runs, map every blob that stayed', () => {
  const names = Array.from({ length: 5000 }, (_, i) => sha256(String(i)));
  const before = BlobTable.fromNames({ sha256: names });
  // Gone and new blobs scattered, some next to each other, one at each end of the sorted order.
  const sorted = [...names].sort();
  const gone = new Set([sorted[0]!, sorted[700]!, sorted[701]!, sorted[2500]!, sorted.at(-1)!]);
  const added = ['a', 'b', 'c', 'd'].map((s) => sha256(`new ${s}`));
  const after = BlobTable.fromNames({ sha256: [...names.filter((n) => !gone.has(n)), ...added] });
  const values = Float64Array.from({ length: before.capacity }, (_, i) => i);
  const moved = before.carry(values, after, -1);
  for (const n of sorted) {
    const j = after.indexOf(`sha256:${n}` as Digest);
    if (gone.has(n)) assert.equal(j, -1);
    else assert.equal(moved[j], before.indexOf(`sha256:${n}` as Digest), n);
  }
  for (const n of added) assert.equal(moved[after.indexOf(`sha256:${n}` as Digest)], -1);
  const seen = { gone: [] as string[], added: [] as string[] };
  before.diff(after, { gone: (i) => seen.gone.push(before.digestAt(i)), added: (j) => seen.added.push(after.digestAt(j)) });
  assert.deepEqual(seen.gone.sort(), [...gone].map((n) => `sha256:${n}`).sort());
  assert.deepEqual(seen.added.sort(), added.map((n) => `sha256:${n}`).sort());
});

test('withChanges gives the table of the names after the change, whatever came and went', () => {
  let seed = 11;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let round = 0; round < 40; round++) {
    const pool = Array.from({ length: 300 }, (_, i) => sha256(`${round}/${i}`));
    const before = pool.filter(() => rand(2) === 0);
    const came = pool.filter(() => rand(8) === 0);
    const went = pool.filter(() => rand(8) === 0).filter((x) => !came.includes(x));
    const after = [...new Set([...before, ...came])].filter((x) => !went.includes(x));
    const table = BlobTable.fromNames({ sha256: before });
    const changed = table.withChanges({ sha256: [...came, 'junk'] }, { sha256: went });
    assert.deepEqual([...changed].sort(), [...BlobTable.fromNames({ sha256: after })]);
    assert.equal(changed.size, after.length);
    for (const x of after) assert.ok(changed.indexOf(`sha256:${x}`) >= 0);
    for (const x of went) assert.equal(changed.indexOf(`sha256:${x}`), -1);
  }
});

/** Five tables made one from the other, as refreshes make them, and weak references to them. */
function tablesAfter(first: BlobTable): WeakRef<BlobTable>[] {
  let latest = first;
  const made: WeakRef<BlobTable>[] = [];
  for (let k = 0; k < 5; k++) {
    const next = latest.withChanges({ sha256: [sha256(`new ${k}`)] }, {});
    // What a refresh does: the runs move values from one table to the next, cached on the older.
    latest.carry(new Float64Array(latest.capacity), next, 0);
    made.push(new WeakRef(next));
    latest = next;
  }
  return made;
}

test('a table does not keep the tables made from it alive (a closure file may hold an old one for long)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const first = BlobTable.fromNames({ sha256: Array.from({ length: 1000 }, (_, i) => sha256(String(i))) });
  const made = tablesAfter(first);
  // A WeakRef holds its target until the job that made it ends: collect after that.
  await new Promise((r) => setImmediate(r));
  gc();
  assert.deepEqual(made.map((w) => w.deref() === undefined), [true, true, true, true, true]);
  assert.equal(first.size, 1000);
});
