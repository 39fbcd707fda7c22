import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { expectedViews } from '../fixtures/expected-views.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { startContainerd } from '../fixtures/containerd.js';
import { tempDir } from '../fixtures/temp.js';
import { requireTool } from '../fixtures/tools.js';
import { registryRefOf, startServeProcess } from '../fixtures/serve.js';

test('containerd pulls every tagged reference from layoutfs serve with the store digests', async (t) => {
  requireTool('containerd');
  requireTool('ctr');
  if (process.getuid?.() !== 0) throw new Error('this test starts containerd and must run as root (CI does)');
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const served = await startServeProcess(t, store);
  const socket = await startContainerd(t);
  const ctr = (...args: string[]) => execFileSync('ctr', ['--address', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  for (const v of expectedViews(store)) {
    const ref = `${served.hostPort}/${registryRefOf(v.name)}`;
    ctr('images', 'pull', '--plain-http', ref);
    const line = ctr('images', 'ls').split('\n').find((l) => l.split(/\s+/)[0] === ref);
    assert.ok(line, `ctr images ls lists ${ref}`);
    assert.equal(line.split(/\s+/)[2], v.digest, `${v.name}: containerd recorded the store's digest`);
  }
});
