import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LayeredMap } from '../../src/view/layered-map.js';

test('a layered map reads, changes, counts and iterates as a copied Map would, layer after layer, flattened or not', () => {
  let seed = 3;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (const start of [0, 10, 600]) {
    let model = new Map<number, string>(Array.from({ length: start }, (_, i) => [i, `v${i}`]));
    let layered = new Map<number, string>(model);
    for (let refresh = 0; refresh < 60; refresh++) {
      // As a refresh does: a copy of the last state (a layer), then changes on it.
      const before = [...model];
      const previous = layered;
      model = new Map(model);
      layered = new LayeredMap(layered);
      const ops = 1 + rand(refresh % 10 === 9 ? 400 : 12);
      for (let k = 0; k < ops; k++) {
        const key = rand(start + 50);
        const op = rand(10);
        if (op < 4) assert.equal(layered.delete(key), model.delete(key));
        else if (op < 9) {
          model.set(key, `r${refresh}.${k}`);
          layered.set(key, `r${refresh}.${k}`);
        } else assert.equal(layered.get(key), model.get(key));
        assert.equal(layered.has(key), model.has(key));
      }
      assert.equal(layered.size, model.size);
      assert.deepEqual([...layered], [...model], 'entries, in a Map\'s order');
      assert.deepEqual([...layered.keys()], [...model.keys()]);
      assert.deepEqual([...layered.values()], [...model.values()]);
      const seen: [number, string][] = [];
      layered.forEach((v, key) => seen.push([key, v]));
      assert.deepEqual(seen, [...model]);
      assert.deepEqual([...previous], before, 'the map it was layered over is unchanged');
    }
    layered.clear();
    assert.equal(layered.size, 0);
    assert.deepEqual([...layered], []);
  }
});
