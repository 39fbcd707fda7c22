import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { CLI, runCli } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
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
    for (let j = 0; j < 5; j++) b.add(b.image({ layers: [{ base: 'shared'.repeat(5000) }, { [`p${i}/f${j}`]: `${i}-${j}`.repeat(3000) }] }), `proc${i}/img:${j}`);
    b.write();
    return src;
  });
  const work = [
    ...sources.map((src) => run(['import', store, src])),
    ...Array.from({ length: 3 }, () => run(['gc', '--grace', '0s', store])),
  ];
  const results = await Promise.all(work);
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const names = JSON.parse(runCli(['ls', '--json', store]).stdout).references.map((r: { name: string }) => r.name).sort();
  assert.deepEqual(names, Array.from({ length: 4 }, (_, i) => Array.from({ length: 5 }, (_, j) => `proc${i}/img:${j}`)).flat().sort());
  const fsck = JSON.parse(runCli(['fsck', '--verify', '--json', store]).stdout);
  assert.equal(fsck.damaged, false, JSON.stringify(fsck.findings));
});
