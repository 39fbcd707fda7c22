import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { CLI, runCli } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += String(d)));
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

test('four processes importing at once, with gc sweeping meanwhile: every reference lands, fsck finds no damage', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  assert.equal(runCli(['init', store]).code, 0);
  const sources = Array.from({ length: 4 }, (_, i) => {
    const src = join(dir, `src${i}`);
    const b = new LayoutBuilder(src);
    // Incompressible layers of a few MB, so the imports last long enough to overlap gc runs.
    for (let j = 0; j < 5; j++) b.add(b.image({ layers: [{ base: 'shared'.repeat(5000) }, { [`p${i}/f${j}`]: randomBytes(1 << 20).toString('base64') }] }), `proc${i}/img:${j}`);
    b.write();
    return src;
  });
  let importing = true;
  let gcWhileImporting = 0;
  const imports = Promise.all(sources.map((src) => run(['import', store, src]))).finally(() => (importing = false));
  // gc with no grace at all, again and again while the imports run: only the store lock, the
  // commit's presence check and the live-writer check on temp files keep the imports whole.
  const gcs = (async () => {
    const results = [];
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the imports' finally() clears it
    while (importing) {
      // A gc started while the imports run overlaps them, however soon they finish after it.
      gcWhileImporting++;
      results.push(await run(['gc', '--grace', '0s', store]));
    }
    return results;
  })();
  for (const r of [...(await imports), ...(await gcs)]) assert.equal(r.code, 0, r.stderr);
  assert.ok(gcWhileImporting >= 1, 'at least one gc started while imports were running');
  const names = JSON.parse(runCli(['ls', '--json', store]).stdout).references.map((r: { name: string }) => r.name).sort();
  assert.deepEqual(names, Array.from({ length: 4 }, (_, i) => Array.from({ length: 5 }, (_, j) => `proc${i}/img:${j}`)).flat().sort());
  const fsck = JSON.parse(runCli(['fsck', '--verify', '--json', store]).stdout);
  assert.equal(fsck.damaged, false, JSON.stringify(fsck.findings));
});
