import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spliced } from '../../src/store/index/spliced.js';

test('spliced is the slices joined, the items after the run mapped, for every run of a list', () => {
  const list = Array.from({ length: 12 }, (_, i) => i);
  for (let from = 0; from <= list.length; from++) {
    for (let to = from; to <= list.length; to++) {
      for (const inserted of [[], [100], [100, 101, 102]]) {
        const plain = [...list.slice(0, from), ...inserted, ...list.slice(to)];
        assert.deepEqual(spliced(list, from, to, inserted), plain);
        const moved = [...list.slice(0, from), ...inserted, ...list.slice(to).map((x) => -x)];
        assert.deepEqual(spliced(list, from, to, inserted, (x) => -x), moved, `${from}..${to} + ${inserted.length}`);
      }
    }
  }
});
