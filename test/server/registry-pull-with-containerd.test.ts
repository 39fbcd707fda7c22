import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { expectedViews } from '../fixtures/expected-views.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { waitFor } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';
import { requireTool } from '../fixtures/tools.js';
import { registryRefOf, startServeProcess } from './serve-fixtures.js';

/** A private containerd (own root, state, socket; CRI and unused snapshotters off), stopped when the test ends. */
async function startContainerd(t: TestContext): Promise<string> {
  const dir = tempDir(t, 'layoutfs-containerd-');
  const socket = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(config, [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",',
    '  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing"]',
    '[grpc]', `  address = "${socket}"`,
    '[ttrpc]', `  address = "${socket}.ttrpc"`,
  ].join('\n') + '\n');
  const proc = spawn('containerd', ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  // Registered after tempDir's hook, so it runs first: containerd stops before its root is removed.
  t.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  });
  await Promise.race([
    waitFor('the containerd socket', () => existsSync(socket) && log.includes('containerd successfully booted'), 20_000),
    exited.then(() => { throw new Error(`containerd exited: ${log}`); }),
  ]);
  return socket;
}

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
