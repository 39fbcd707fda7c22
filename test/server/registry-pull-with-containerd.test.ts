import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { startContainerd } from '../fixtures/containerd.js';
import { expectedViews } from '../fixtures/expected-views.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireRoot, requireTool } from '../fixtures/requirements.js';
import { registryRefOf, startServeProcess } from '../fixtures/serve.js';
import { tempDir } from '../fixtures/temp.js';

test('containerd pulls every tagged reference from layoutfs serve with the store digests', async (t) => {
  if (!requireTool(t, 'containerd', 'ctr')) return;
  if (!requireRoot(t, 'this test starts containerd')) return;
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
