import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { isLoopback, parseListen } from '../../src/server/listen-address.js';
import { startServer } from '../../src/server/server.js';
import { openStore } from '../../src/store/store-reader.js';
import { View } from '../../src/view/view.js';
import { runCli } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

test('--listen takes HOST:PORT, [v6]:PORT or a bare port (loopback); anything else is bad usage (exit 2)', (t) => {
  assert.deepEqual(parseListen('127.0.0.1:5000'), { host: '127.0.0.1', port: 5000 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen('5000'), { host: '127.0.0.1', port: 5000 });
  assert.deepEqual(parseListen(':5000'), { host: '127.0.0.1', port: 5000 });
  for (const bad of ['', 'host', 'host:99999', '1.2.3.4:', '[::1]', 'a:b:c']) assert.equal(parseListen(bad), undefined, bad);
  assert.ok(isLoopback('127.0.0.1') && isLoopback('127.8.9.10') && isLoopback('::1') && isLoopback('::ffff:127.0.0.1'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('::') && !isLoopback('10.0.0.1'));

  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  assert.equal(runCli(['serve', store, '--listen', 'nowhere']).code, 2);
  assert.equal(runCli(['serve', store, '--bare-repository', 'Not/Valid']).code, 2);
});

test('the server warns when bound to a non-loopback address, and not on loopback', async (t) => {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const view = await View.open(await openStore(store));
  for (const [host, warns] of [['127.0.0.1', false], ['0.0.0.0', true]] as const) {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
    const server = await startServer(view, { listen: { host, port: 0 }, log: pino({ level: 'info' }, sink), bareRepository: 'layoutfs/bare' });
    await server.close();
    assert.equal(lines.some((l) => l.level === 40 && l.msg.includes('non-loopback')), warns, `bound to ${host}`);
    assert.ok(lines.some((l) => l.msg === 'serving'));
  }
});
