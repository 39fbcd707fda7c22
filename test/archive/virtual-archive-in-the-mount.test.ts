import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { runCli } from '../fixtures/cli.js';
import { requireFuse, startMount } from '../fixtures/mount.js';
import { startInProcess } from '../fixtures/serve.js';
import { tempDir } from '../fixtures/temp.js';

test('each view has its archive beside it in the mount: byte-identical to export, any range readable, not listed', async (t) => {
  if (!requireFuse(t)) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  const exported = join(dir, 'multi.tar');
  assert.equal(runCli(['export', store, 'docker.io/library/multi:2', '-o', exported]).code, 0);
  const { dir: mnt } = await startMount(t, store);
  const virtual = join(mnt, 'docker.io/library/multi/_2.tar');
  const whole = readFileSync(exported);
  assert.equal(statSync(virtual).size, whole.length, 'the size is known up front');
  assert.ok(readFileSync(virtual).equals(whole), 'the virtual file is byte-identical to the export');
  const fd = openSync(virtual, 'r');
  let seed = 11;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 100; i++) {
    const start = rand(whole.length);
    const buf = Buffer.alloc(1 + rand(8192));
    const n = readSync(fd, buf, 0, buf.length, start);
    assert.ok(buf.subarray(0, n).equals(whole.subarray(start, start + n)), `pread at ${start}`);
  }
  closeSync(fd);
  assert.ok(!readdirSync(join(mnt, 'docker.io/library/multi')).some((n) => n.endsWith('.tar')), 'not listed: du and tar of the mount stay honest');
  assert.ok(statSync(join(mnt, '_latest.tar')).isFile(), 'a top-level view has its archive at the top');
  assert.throws(() => statSync(join(mnt, 'docker.io/library/multi/_3.tar')), /ENOENT/);
});

test('the same archive over HTTP: Content-Length, ETag, 304, ranges equal to the exported file', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  const exported = join(dir, 'app.tar');
  assert.equal(runCli(['export', store, 'registry.example:5000/team/app:v1', '-o', exported]).code, 0);
  const whole = readFileSync(exported);
  const served = await startInProcess(t, store);
  const url = `${served.url}/layouts/registry.example%253A5000/team/app/_v1.tar`;
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(Number(res.headers.get('content-length')), whole.length);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(whole), 'byte-identical to the export');
  const etag = res.headers.get('etag')!;
  assert.equal((await fetch(url, { headers: { 'If-None-Match': etag } })).status, 304);
  let seed = 3;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 50; i++) {
    const start = rand(whole.length);
    const end = Math.min(whole.length - 1, start + rand(5000));
    const r = await fetch(url, { headers: { Range: `bytes=${start}-${end}` } });
    assert.equal(r.status, 206);
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(whole.subarray(start, end + 1)), `range ${start}-${end}`);
  }
});
