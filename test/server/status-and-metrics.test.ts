import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { waitFor } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';
import { startInProcess } from '../fixtures/serve.js';
import { pino } from 'pino';
import { startServer } from '../../src/server/server.js';
import { openStore } from '../../src/store/store-reader.js';
import { View } from '../../src/view/view.js';

test('/_layoutfs/status reports the store, references, blobs, bytes, cache, mount point and last refresh', async (t) => {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const { url, view } = await startInProcess(t, store, { mountpoint: '/mnt/layouts' });
  const status = (await (await fetch(`${url}/_layoutfs/status`)).json()) as Record<string, unknown> & { cache: { hitRate: number; fitsWorkingSet: boolean; note?: string } };
  assert.equal(status.store, view.store.root);
  assert.equal(status.mountpoint, '/mnt/layouts');
  assert.equal(status.references, 5);
  assert.equal(status.repositories, 5);
  assert.equal(status.storeBlobs, view.snapshot.present.size);
  assert.equal(status.blobs, view.snapshot.present.size, 'every blob of the fixture is reachable');
  assert.ok((status.bytes as number) > 1000);
  assert.ok(status.cache.hitRate > 0 && status.cache.hitRate <= 1);
  assert.equal(status.cache.fitsWorkingSet, true);
  assert.equal(status.cache.note, undefined);
  assert.equal(status.lastRefresh, new Date(view.snapshot.loadedAt).toISOString());
});

test('/_layoutfs/status says when the metadata cache is smaller than what is read', async (t) => {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const view = await View.open(await openStore(store), { cacheBytes: 2048 });
  const server = await startServer(view, { listen: { host: '127.0.0.1', port: 0 }, log: pino({ level: 'silent' }), bareRepository: 'layoutfs/bare' });
  t.after(() => server.close());
  // Every view's blob listing: a closure each, more than 2 KiB of them.
  for (const v of view.snapshot.named) {
    const res = await fetch(`${server.address.url}/layouts/${v.path.split('/').map(encodeURIComponent).join('/')}/blobs/sha256/`);
    assert.equal(res.status, 200, v.path);
  }
  const status = (await (await fetch(`${server.address.url}/_layoutfs/status`)).json()) as { cache: { evictions: number; fitsWorkingSet: boolean; note?: string } };
  assert.ok(status.cache.evictions > 0);
  assert.equal(status.cache.fitsWorkingSet, false);
  assert.match(status.cache.note!, /^the metadata cache \(2048 bytes\) has evicted \d+ entries .*--cache-size raises the bound$/);
  assert.match(await (await fetch(`${server.address.url}/_layoutfs/metrics`)).text(), /^layoutfs_cache_evictions_total [1-9]\d*$/m);
});

test('/_layoutfs/metrics counts requests by route and status, bytes served, cache and FUSE operations', async (t) => {
  const store = join(tempDir(t), 'store');
  const { base } = buildFixtureStore(store);
  const fuseCounters = { getattr: 3, read: 7 };
  const { url } = await startInProcess(t, store, { fuseCounters });
  const blob = await fetch(`${url}/v2/docker.io/library/base/blobs/${base.digest}`);
  await blob.arrayBuffer();
  await (await fetch(`${url}/v2/docker.io/library/base/blobs/sha256:x`)).arrayBuffer();
  fuseCounters.read = 8;
  // A client has the whole body a moment before the server sees its response finish: poll.
  let text = '';
  await waitFor('the blob response counted', async () => {
    const res = await fetch(`${url}/_layoutfs/metrics`);
    assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    text = await res.text();
    return text.includes(`layoutfs_http_response_bytes_total ${base.size}\n`) && text.includes('status="400"} 1');
  }, 2000);
  assert.match(text, /^layoutfs_http_requests_total\{route="v2_blobs",status="200"\} 1$/m);
  assert.match(text, /^layoutfs_http_requests_total\{route="v2_blobs",status="400"\} 1$/m);
  assert.equal(Number(/^layoutfs_http_response_bytes_total (\d+)$/m.exec(text)![1]), base.size);
  assert.match(text, /^layoutfs_cache_hits_total \d+$/m);
  assert.match(text, /^layoutfs_cache_misses_total [1-9]\d*$/m);
  assert.match(text, /^layoutfs_fuse_operations_total\{op="getattr"\} 3$/m);
  assert.match(text, /^layoutfs_fuse_operations_total\{op="read"\} 8$/m, 'counters are read live');
  // The process's memory, as prom-client names it: resident, and the V8 heap's size and use.
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  assert.ok(gauge('process_resident_memory_bytes') > gauge('nodejs_heap_size_used_bytes'));
  assert.ok(gauge('nodejs_heap_size_total_bytes') >= gauge('nodejs_heap_size_used_bytes'));
  assert.ok(gauge('nodejs_heap_size_used_bytes') > 0 && gauge('nodejs_external_memory_bytes') > 0);
  // Its CPU time in seconds, to the microsecond (the scale bench reads a refresh's cost here).
  const seconds = (name: string) => Number(new RegExp(`^${name} ([\\d.]+)$`, 'm').exec(text)?.[1]);
  assert.ok(seconds('process_cpu_user_seconds_total') > 0 && seconds('process_cpu_system_seconds_total') > 0);
  assert.ok(Math.abs(seconds('process_cpu_seconds_total') - seconds('process_cpu_user_seconds_total') - seconds('process_cpu_system_seconds_total')) < 1e-5);
});
