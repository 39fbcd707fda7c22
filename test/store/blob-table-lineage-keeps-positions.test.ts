import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { BlobTable } from '../../src/store/blobs/blob-table.js';
import type { Digest } from '../../src/oci/digest.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sha512 = (s: string) => createHash('sha512').update(s).digest('hex');
const named = (hex: string): Digest => `${hex.length === 64 ? 'sha256' : 'sha512'}:${hex}` as Digest;
const byAlg = (xs: readonly string[]) => ({ sha256: xs.filter((x) => x.length === 64), sha512: xs.filter((x) => x.length === 128) });

test('a lineage of tables: each answers for its own change, blobs keep their positions, and compaction carries values by digest', () => {
  let seed = 5;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 8) % n;
  // Both algorithms; 1,000 blobs at first, so a lineage takes 1,149 changes before it is sorted afresh.
  const pool = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? sha512 : sha256)(String(i)));
  let model = new Set(pool.slice(0, 1000));
  let table = BlobTable.fromNames(byAlg([...model]));
  const history: { table: BlobTable; model: Set<string> }[] = [{ table, model }];
  let values = new Float64Array(table.capacity).fill(NaN);
  for (const x of model) values[table.indexOf(named(x))] = pool.indexOf(x);
  let compactions = 0;
  for (let round = 0; round < 60; round++) {
    // Some that came before, some that went before and come back, some twice in one change.
    const came = Array.from({ length: rand(40) }, () => pool[rand(pool.length)]!);
    const went = Array.from({ length: rand(40) }, () => pool[rand(pool.length)]!).filter((x) => !came.includes(x));
    const next = table.withChanges(byAlg([...came, 'junk']), byAlg(went));
    const nextModel = new Set([...model, ...came].filter((x) => !went.includes(x)));
    const same: string[] = [];
    const gone: string[] = [];
    const added: string[] = [];
    table.diff(next, {
      gone: (i) => gone.push(table.digestAt(i).split(':')[1]!),
      added: (j) => added.push(next.digestAt(j).split(':')[1]!),
    });
    assert.deepEqual(gone.sort(), [...model].filter((x) => !nextModel.has(x)).sort(), `round ${round}: gone`);
    assert.deepEqual(added.sort(), [...nextModel].filter((x) => !model.has(x)).sort(), `round ${round}: added`);
    table.diff(next, { same: (i, j) => same.push(table.digestAt(i) === next.digestAt(j) ? table.digestAt(i).split(':')[1]! : 'mismatch') });
    assert.deepEqual(same.sort(), [...model].filter((x) => nextModel.has(x)).sort(), `round ${round}: same`);
    const carried = table.carry(values, next, NaN);
    if (next.continues(table)) {
      assert.equal(carried, values, 'within a lineage the array is kept');
      for (const x of model) if (nextModel.has(x)) assert.equal(next.indexOf(named(x)), table.indexOf(named(x)), 'a kept blob keeps its position');
    } else {
      compactions++;
      assert.deepEqual([...next], [...next].sort(), 'a compacted table is in digest order');
    }
    for (const x of nextModel) {
      const at = next.indexOf(named(x));
      carried[at] = model.has(x) ? carried[at]! : pool.indexOf(x);
      assert.equal(carried[at], pool.indexOf(x), 'values follow their blobs');
    }
    values = carried;
    table = next;
    model = nextModel;
    history.push({ table, model });
  }
  assert.ok(compactions >= 1, 'the lineage was compacted at least once');
  // Every table, old ones too, still answers for its own generation.
  for (const { table: t, model: m } of history) {
    assert.equal(t.size, m.size);
    assert.deepEqual([...t].map((d) => d.split(':')[1]).sort(), [...m].sort());
    for (const x of pool.slice(0, 400)) assert.equal(t.has(named(x)), m.has(x));
  }
});

test('blobs that came since the sorted base are found by lookups, in-order walks, prefixes and the digest order', () => {
  const base = Array.from({ length: 50 }, (_, i) => sha256(`base ${i}`));
  const first = BlobTable.fromNames({ sha256: base });
  const shared = `${'ab'.repeat(6)}c`;
  const collider = `${shared}${'1'.repeat(51)}`;
  const before = BlobTable.fromNames({ sha256: [...base, `${shared}${'0'.repeat(51)}`] });
  const came = [sha256('came 1'), sha256('came 2'), collider];
  const table = before.withChanges({ sha256: came }, { sha256: [base[3]!] });
  assert.ok(table.continues(before) && !before.continues(table) && !table.continues(first));
  assert.equal(table.indexOf(named(base[3]!)), -1);
  assert.ok(before.has(named(base[3]!)), 'the table before still has what went');
  assert.ok(!table.isPresent(before.indexOf(named(base[3]!))));
  // The closure file's walk: sorted digests, a base one, one that came, one that went.
  const sorted = [base[3]!, base[4]!, ...came].sort();
  const laid = Buffer.concat(sorted.map((h) => Buffer.concat([Buffer.from(h, 'hex'), Buffer.alloc(8)])));
  assert.deepEqual([...table.indexOfSorted('sha256', laid, 0, 40, sorted.length)!], sorted.map((h) => table.indexOf(named(h))));
  assert.ok(sorted.map((h) => table.indexOf(named(h))).filter((p) => p >= before.extent).length === 3);
  const prefix = parseInt(shared, 16);
  assert.deepEqual(table.withPrefix52(prefix).map((i) => table.digestAt(i)), [named(`${shared}${'0'.repeat(51)}`), named(collider)]);
  assert.deepEqual(table.sharedPrefixes52(), [prefix]);
  assert.deepEqual(before.sharedPrefixes52(), []);
  // Two that came in later changes share a prefix the base has not; once one goes, none is shared.
  const other = `${'cd'.repeat(6)}e`;
  const pair = table.withChanges({ sha256: [`${other}${'0'.repeat(51)}`] }, {}).withChanges({ sha256: [`${other}${'1'.repeat(51)}`] }, {});
  assert.deepEqual(pair.sharedPrefixes52().sort(), [prefix, parseInt(other, 16)].sort());
  assert.deepEqual(pair.withChanges({}, { sha256: [`${other}${'0'.repeat(51)}`] }).sharedPrefixes52(), [prefix]);
  const positions = [...Array(table.extent).keys()].filter((p) => table.isPresent(p));
  assert.deepEqual(table.inDigestOrder(positions).map((p) => table.digestAt(p)), [...table].sort());
  // A saved listing is sorted records, whatever came and went.
  const again = BlobTable.fromRecords({ sha256: table.records('sha256'), sha512: table.records('sha512') })!;
  assert.deepEqual([...again], [...table].sort());
});

test('a change to an older table of a lineage starts a new lineage, and leaves the newer one right', () => {
  const names = Array.from({ length: 20 }, (_, i) => sha256(String(i)));
  const first = BlobTable.fromNames({ sha256: names.slice(0, 10) });
  const second = first.withChanges({ sha256: [names[10]!] }, {});
  const fork = first.withChanges({ sha256: [names[11]!] }, { sha256: [names[0]!] });
  assert.ok(!fork.continues(first));
  assert.deepEqual([...fork].sort(), [...names.slice(1, 10), names[11]!].map(named).sort());
  assert.deepEqual([...second].sort(), names.slice(0, 11).map(named).sort());
  assert.ok(!second.has(named(names[11]!)));
});

test('a blob that went and came back over several changes is the same blob to diff and carry', () => {
  const [a, b, c] = ['a', 'b', 'c'].map((s) => sha256(s)) as [string, string, string];
  const first = BlobTable.fromNames({ sha256: [a, b] });
  const gone = first.withChanges({}, { sha256: [a] });
  const back = gone.withChanges({ sha256: [a, c] }, {});
  assert.ok(back.continues(first));
  assert.notEqual(back.indexOf(named(a)), first.indexOf(named(a)), 'it came back at a new position');
  const seen = { same: [] as string[], gone: [] as string[], added: [] as string[] };
  first.diff(back, {
    same: (i, j) => { assert.equal(first.digestAt(i), back.digestAt(j)); seen.same.push(back.digestAt(j)); },
    gone: (i) => seen.gone.push(first.digestAt(i)),
    added: (j) => seen.added.push(back.digestAt(j)),
  });
  assert.deepEqual({ ...seen, same: seen.same.sort() }, { same: [named(a), named(b)].sort(), gone: [], added: [named(c)] });
  const values = new Float64Array(first.capacity).fill(NaN);
  values[first.indexOf(named(a))] = 42;
  const carried = first.carry(values, back, NaN);
  assert.equal(carried[back.indexOf(named(a))], 42);
  assert.ok(Number.isNaN(carried[back.indexOf(named(c))]!));
  // One change apart, the blob is gone and then new: what a refresh between them saw.
  const steps = { gone: [] as string[], added: [] as string[] };
  first.diff(gone, { gone: (i) => steps.gone.push(first.digestAt(i)), added: (j) => steps.added.push(gone.digestAt(j)) });
  gone.diff(back, { gone: (i) => steps.gone.push(gone.digestAt(i)), added: (j) => steps.added.push(back.digestAt(j)) });
  assert.deepEqual({ ...steps, added: steps.added.sort() }, { gone: [named(a)], added: [named(a), named(c)].sort() });
});
