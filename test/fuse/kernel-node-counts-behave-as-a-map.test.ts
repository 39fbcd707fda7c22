import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KernelNodes } from '../../src/fuse/kernel-nodes.js';

test('the kernel node table counts lookups and forgets as a Map of counts would, growing and shrinking', () => {
  let seed = 11;
  const rand = (n: number) => Math.floor((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 * n);
  // Ids of both kinds: small slot ids, and blob ids (2^52 + 52 digest bits), some sharing low bits.
  const pool = Array.from({ length: 6000 }, (_, i) => (i % 3 === 0 ? 2 ** 52 + rand(2 ** 30) * 2 ** 22 + (i % 7) : 8 + i * 8 + (i % 8)));
  const nodes = new KernelNodes();
  const model = new Map<number, number>();
  for (const phase of [{ ops: 40_000, remember: 0.7 }, { ops: 60_000, remember: 0.2 }, { ops: 20_000, remember: 0.6 }]) {
    for (let k = 0; k < phase.ops; k++) {
      const id = pool[rand(pool.length)]!;
      if (rand(1000) < phase.remember * 1000) {
        nodes.remember(id);
        model.set(id, (model.get(id) ?? 0) + 1);
      } else {
        const n = 1 + rand(3);
        nodes.forget(id, n);
        const held = model.get(id);
        if (held !== undefined) {
          if (held <= n) model.delete(id);
          else model.set(id, held - n);
        }
      }
      if (k % 997 === 0) for (const probe of pool) assert.equal(nodes.has(probe), model.has(probe), `id ${probe} after op ${k}`);
    }
    assert.equal(nodes.size, model.size);
    for (const probe of pool) assert.equal(nodes.has(probe), model.has(probe));
  }
  // Everything forgotten: empty, and usable again.
  for (const id of pool) nodes.forget(id, 2 ** 31);
  assert.equal(nodes.size, 0);
  nodes.remember(2 ** 52 + 5);
  assert.deepEqual([nodes.has(2 ** 52 + 5), nodes.size], [true, 1]);
});
