import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { CLI } from '../fixtures/cli.js';
import { isMounted, requireFuse, waitFor } from '../fixtures/mount.js';
import { requireRoot, requireTool } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
/**
 * The environment for a node run as nobody: coverage off (c8's directory is root's, and node
 * passes NODE_V8_COVERAGE on to children unless the key is given).
 */
const NOBODY_ENV = { ...process.env, NODE_V8_COVERAGE: '' };

/** Runs as user nobody: needs root (to switch) and setpriv. */
function canSwitchToNobody(t: TestContext): boolean {
  return requireRoot(t, 'becoming user nobody needs root') && requireTool(t, 'setpriv');
}

/** A store and mount point nobody can read and use; /dev/fuse opened to every user, as the brief's machines need. */
function nobodyFixture(t: TestContext) {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const store = join(dir, 'store');
  const fx = buildFixtureStore(store);
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  chmodSync(mnt, 0o777);
  const mode = statSync('/dev/fuse').mode & 0o777;
  chmodSync('/dev/fuse', 0o666);
  t.after(() => chmodSync('/dev/fuse', mode));
  return { dir, store, mnt, fx };
}

test('a user who is not root mounts through fusermount3; blobs are read by the native threads', async (t) => {
  if (!requireFuse(t) || !canSwitchToNobody(t)) return;
  const { store, mnt, fx } = nobodyFixture(t);
  const proc = spawn('setpriv', [...NOBODY, process.execPath, CLI, 'mount', store, mnt], { stdio: ['ignore', 'pipe', 'pipe'], env: NOBODY_ENV });
  // Without allow_other only the mounting user may enter a FUSE mount, root included: read as nobody.
  const asNobody = (...cmd: string[]) => spawnSync('setpriv', [...NOBODY, ...cmd], { encoding: 'utf8' }).stdout;
  let out = '';
  proc.stdout.on('data', (d) => (out += String(d)));
  proc.stderr.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  t.after(() => proc.kill('SIGTERM'));
  await waitFor('the mount', () => out.includes('"msg":"mounted"') && isMounted(mnt));
  assert.match(out, /"passthrough":false\b/, 'passthrough needs root');
  const sum = asNobody('sha256sum', join(mnt, 'latest/blobs/sha256', fx.app.digest.slice(7)));
  assert.equal('sha256:' + sum.split(' ')[0]!, fx.app.digest);
  assert.equal(asNobody('cat', join(mnt, 'latest/oci-layout')), '{"imageLayoutVersion":"1.0.0"}');
  proc.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok(!isMounted(mnt), 'fusermount3 -u unmounted it');
});

test('without fusermount3 a user who is not root is told what is missing, in one line', (t) => {
  if (!requireFuse(t) || !canSwitchToNobody(t)) return;
  const { dir, store, mnt } = nobodyFixture(t);
  // A PATH with node but no fusermount: what a machine without the fuse3 package has.
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const r = spawnSync('/usr/bin/setpriv', [...NOBODY, process.execPath, CLI, 'mount', store, mnt],
    { encoding: 'utf8', timeout: 30_000, env: { ...NOBODY_ENV, PATH: bin } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^layoutfs: \S+: FUSE mount failed: non-root mounts need fusermount3 \(setuid\) from the fuse3 package; not found/);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
});

test('where the native core could not be built (no compiler), mount says so in one line and serve still works', async (t) => {
  const dir = tempDir(t);
  // The installed package as it would be without the compiled addon: dist/ and native/fuse-core without build/.
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const copy = join(dir, 'pkg');
  cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(copy, 'package.json'));
  mkdirSync(join(copy, 'native/fuse-core'), { recursive: true });
  cpSync(join(root, 'native/fuse-core/index.cjs'), join(copy, 'native/fuse-core/index.cjs'));
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  const cli = join(copy, 'dist/src/cli/main.js');
  const store = join(dir, 'store');
  buildFixtureStore(store);

  const r = spawnSync(process.execPath, [cli, 'mount', store, join(dir, 'mnt')], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^layoutfs: native FUSE core not built .*install a C compiler .* and run npm rebuild/);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line, no stack trace: ${r.stderr}`);

  const serve = spawn(process.execPath, [cli, 'serve', store, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => serve.kill('SIGTERM'));
  let out = '';
  serve.stdout.on('data', (d) => (out += String(d)));
  serve.stderr.on('data', (d) => (out += String(d)));
  await waitFor('serve to listen', () => /"url":"http:\/\/[^"]+"/.test(out));
  const url = /"url":"(http:\/\/[^"]+)"/.exec(out)![1]!;
  const res = await fetch(`${url}/layouts/latest/oci-layout`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '{"imageLayoutVersion":"1.0.0"}');
});
