import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { errorCode, startInProcess } from '../fixtures/serve.js';
import { tempDir } from '../fixtures/temp.js';

test('a /layouts/ URL that forgot to encode a view path\'s % gets a 404 saying how to ask', async (t) => {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const served = await startInProcess(t, store);
  // The view path is `registry.example%3A5000/team/app/v1`; its % must be %25 in a URL.
  const wrong = await fetch(`${served.url}/layouts/registry.example%3A5000/team/app/v1/index.json`);
  assert.equal(wrong.status, 404);
  const body = await wrong.text();
  assert.equal(await errorCode(new Response(body)), 'NAME_UNKNOWN');
  assert.match(body, /a % in them is %25 in a URL: \/layouts\/registry.example%253A5000\/team\/app\/v1\/index.json/);
  const right = await fetch(`${served.url}/layouts/registry.example%253A5000/team/app/v1/index.json`);
  assert.equal(right.status, 200);
  const missing = await fetch(`${served.url}/layouts/nothing%3Ahere`);
  assert.equal(missing.status, 404);
  assert.doesNotMatch(await missing.text(), /%25/, 'no hint where the written path names nothing either');
});
