import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DirChildren } from '../../src/view/dir-children.js';

test('a directory\'s children, changed by adds and deletes, count and sort as a Set sorted again would', () => {
  let seed = 7;
  // The high bits: the low ones of a power-of-two LCG cycle (an add/delete choice would alternate).
  const rand = (n: number) => Math.floor((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 * n);
  // Names that sort by UTF-16 units, not as numbers: 'n10' before 'n2'.
  const name = () => `n${rand(60)}`;
  for (let round = 0; round < 300; round++) {
    const before = [...new Set(Array.from({ length: rand(40) }, name))].sort();
    const model = new Set(before);
    const children = new DirChildren(before);
    for (let k = rand(25); k > 0; k--) {
      const n = name();
      if (rand(2) === 0) {
        model.add(n);
        children.add(n);
      } else {
        model.delete(n);
        children.delete(n);
      }
      assert.equal(children.size, model.size);
    }
    assert.deepEqual(children.sorted(), [...model].sort());
    assert.deepEqual(before, [...before].sort(), 'the list it started from is left as it was');
  }
  // A first build: a hundred thousand names at once.
  const many = Array.from({ length: 100_000 }, (_, i) => `t${(i * 7919) % 100_003}`);
  const built = new DirChildren();
  for (const n of many) built.add(n);
  assert.deepEqual(built.sorted(), [...new Set(many)].sort());
  const untouched = ['a', 'b'];
  assert.equal(new DirChildren(untouched).sorted(), untouched, 'nothing changed: the same list, not a copy');
});
