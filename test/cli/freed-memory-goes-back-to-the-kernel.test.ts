import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
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
