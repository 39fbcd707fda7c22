import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, runCli } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireTool } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

/** Runs the CLI under a pseudo-terminal (util-linux `script`) and returns what the terminal showed. */
function onTerminal(args: string[]): string {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout);
  return r.stdout;
}

test('import, gc and fsck --verify draw bytes, rate and ETA on a terminal, and nothing when piped', (t) => {
  if (!requireTool(t, 'script')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  buildFixtureStore(src);
  const store = join(dir, 'store');
  runCli(['init', store]);
  assert.match(onTerminal(['import', store, src]), /import \[.*\] \d+% \| [\d.]+\/[\d.]+ MB \| [\d.]+ MB\/s \| ETA/);
  assert.match(onTerminal(['fsck', '--verify', store]), /verify \[.*\] \d+%/);
  runCli(['rm', store, 'docker.io/library/multi:2']);
  assert.match(onTerminal(['gc', '--grace', '0s', store]), /gc \[.*\] \d+%/);
  const piped = runCli(['fsck', '--verify', store]);
  assert.doesNotMatch(piped.stdout + piped.stderr, /MB\/s|ETA/);
});
