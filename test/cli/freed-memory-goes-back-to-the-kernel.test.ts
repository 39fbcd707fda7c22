import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { unavailable } from '../fixtures/requirements.js';

const ADDON = createRequire(import.meta.url).resolve('../../../native/fuse-core/index.cjs');

test('trimMemory hands malloc\'s free pages back to the kernel (what mount and serve call every ten seconds)', (t) => {
  const core = createRequire(import.meta.url)(ADDON) as { available: boolean; reason?: string };
  if (!core.available) {
    unavailable(t, 'the native core', core.reason ?? 'not built');
    return;
  }
  // A fresh process: 300 MiB of small buffers (malloc'd), all held, then nine in ten let go, so
  // free pages lie between live ones and glibc's own trimming of the heap's top cannot return them.
  const script = `
    const core = require(${JSON.stringify(ADDON)});
    const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
    let all = [];
    for (let i = 0; i < 300000; i++) { const b = Buffer.allocUnsafeSlow(1024); b.fill(1); all.push(b); }
    const kept = all.filter((_, i) => i % 10 === 0);
    all = null;
    globalThis.gc();
    // V8 frees the buffers' memory on a background thread after the collection: wait until done.
    (async () => {
      let before = rss();
      for (let same = 0; same < 3;) {
        await new Promise((r) => setTimeout(r, 50));
        const now = rss();
        same = now === before ? same + 1 : 0;
        before = now;
      }
      const released = await core.trimMemory();
      process.stdout.write(JSON.stringify({ before, after: rss(), released, kept: kept.length }));
    })();
  `;
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' })) as
    { before: number; after: number; released: boolean; kept: number };
  assert.equal(out.kept, 30000);
  assert.equal(out.released, true);
  assert.ok(out.before - out.after > 100 * 2 ** 20, `RSS ${out.before} -> ${out.after}: at least 100 MiB of the 270 freed goes back`);
});

test('an idle long-running command collects the garbage a burst left in the V8 heap', () => {
  // A fresh process with the trim every 100 ms: 200 MiB of objects kept long enough to reach
  // V8's old generation, then dropped; V8 itself would leave them there (nothing allocates).
  const trim = createRequire(import.meta.url).resolve('../../src/cli/trim-freed-memory.js');
  const script = `
    const { getHeapStatistics } = require('node:v8');
    const used = () => getHeapStatistics().used_heap_size;
    import(${JSON.stringify(pathToFileURL(trim).href)}).then(async ({ trimFreedMemory }) => {
      const stop = trimFreedMemory(100);
      let kept = [];
      for (let i = 0; i < 2600; i++) {
        kept.push(Array.from({ length: 1000 }, (_, k) => ({ k, s: 'x' + k })));
        if (i % 200 === 0) await new Promise((r) => setImmediate(r));
      }
      kept = null;
      const before = used();
      let after = used();
      for (let waited = 0; waited < 100 && before - after < 100 * 2 ** 20; waited++) {
        await new Promise((r) => setTimeout(r, 100));
        after = used();
      }
      stop();
      process.stdout.write(JSON.stringify({ before, after }));
    });
  `;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { before: number; after: number };
  assert.ok(out.before > 150 * 2 ** 20, `the burst left ${out.before} bytes in the heap`);
  assert.ok(out.before - out.after > 100 * 2 ** 20, `heap in use ${out.before} -> ${out.after}: the garbage was collected`);
});
