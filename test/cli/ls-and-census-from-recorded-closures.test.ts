import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Digest } from '../../src/oci/digest.js';
import { ClosureRecords, ClosureRecordsWriter, CLOSURES_NAME, closureFileBound, saveClosureRecords } from '../../src/store/graph/closure-file.js';
import { openStore } from '../../src/store/store-reader.js';
import { View } from '../../src/view/view.js';
import { runCli } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { requireRoot } from '../fixtures/requirements.js';
import { readOnlyBind, tempDir } from '../fixtures/temp.js';

const ls = (store: string) => {
  const r = runCli(['ls', '--json', store]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { references: { name: string; blobs: number; missing: string[]; platforms: string[] }[]; findings: { kind: string }[] };
};
const du = (store: string) => {
  const r = runCli(['du', '--json', store, 'latest']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as unknown;
};
const closuresFile = (store: string) => join(store, CLOSURES_NAME);

/** The output with another store path in it, to compare two stores' listings. */
const withStore = (out: unknown, from: string, to: string): unknown => JSON.parse(JSON.stringify(out).replaceAll(from, to));

async function linkCounts(store: string): Promise<[Digest, number][]> {
  return [...await (await View.open(await openStore(store))).linkCounts()].sort();
}

/** Every blob listing a view serves: `<view path>/blobs/sha256` -> names. */
async function servedListings(store: string): Promise<Record<string, string[]>> {
  const view = await View.open(await openStore(store));
  const out: Record<string, string[]> = {};
  for (const path of view.snapshot.views.keys()) out[path] = (await view.readdir(`${path}/blobs/sha256`)) ?? [];
  return out;
}

test('ls and du say the same with no closures file, the file they write, and a torn or edited one', (t) => {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const first = ls(store);
  const firstDu = du(store);
  assert.ok(existsSync(closuresFile(store)), 'ls wrote what it computed');
  const written = readFileSync(closuresFile(store));
  const records = ClosureRecords.parse(written);
  // The roots ls counts: the five index.json entries (not the platform manifests, which hold nothing of their own).
  assert.equal(records.size, 5);
  assert.deepEqual(ls(store), first, 'from the file');
  assert.deepEqual(du(store), firstDu, 'du from the file');
  assert.ok(readFileSync(closuresFile(store)).equals(written), 'nothing new learned: not written again');

  for (const [what, spoil] of [
    ['cut short', () => truncateSync(closuresFile(store), written.length - 7)],
    ['a byte changed', () => writeFileSync(closuresFile(store), Buffer.from(written).fill(1, written.length - 3, written.length - 2))],
    ['not a closures file', () => writeFileSync(closuresFile(store), '{"records":[]}')],
  ] as const) {
    spoil();
    assert.deepEqual(ls(store), first, `${what}: ignored`);
    assert.ok(readFileSync(closuresFile(store)).equals(written), `${what}: written anew`);
  }
});

test('a record whose blob has since gone is not used: the missing blob is reported as without the file', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const { app } = buildFixtureStore(store);
  ls(store);
  const config = (JSON.parse(readFileSync(join(store, 'blobs/sha256', app.digest.slice(7)), 'utf8')) as { config: { digest: string } }).config;
  rmSync(join(store, 'blobs/sha256', config.digest.slice(7)));
  const fresh = join(dir, 'fresh');
  cpSync(store, fresh, { recursive: true });
  rmSync(closuresFile(fresh));

  const out = ls(store);
  assert.deepEqual(out, withStore(ls(fresh), fresh, store));
  const line = out.references.find((r) => r.name === 'latest')!;
  assert.deepEqual(line.missing, [config.digest]);
  assert.ok(out.findings.some((f) => f.kind === 'MISSING_BLOB'));
  assert.ok(!ClosureRecords.parse(readFileSync(closuresFile(store))).find(
    { digest: app.digest as Digest, size: app.size, mediaType: app.mediaType },
    (await (await openStore(store)).listAllBlobs())), 'the incomplete closure is not recorded');
});

test('the census counts the same links with and without the file', async (t) => {
  const store = join(tempDir(t), 'store');
  buildFixtureStore(store);
  const without = await linkCounts(store);
  ls(store);
  assert.ok(existsSync(closuresFile(store)));
  assert.deepEqual(await linkCounts(store), without);
});

test('a forged record skews accounting at most: no listing a view serves changes', async (t) => {
  const store = join(tempDir(t), 'store');
  const { base, docker } = buildFixtureStore(store);
  const served = await servedListings(store);
  const reader = await openStore(store);
  const table = await reader.listAllBlobs();
  // base's record claims only its manifest and another image's.
  const writer = new ClosureRecordsWriter(table);
  const positions = [base.digest, docker.digest].map((d) => table.indexOf(d));
  writer.add(base.mediaType, { positions: Uint32Array.from(positions), sizes: Float64Array.from([base.size, docker.size]), platforms: ['plan9/forged'] });
  assert.ok(await saveClosureRecords(store, writer.encode()));
  assert.ok(ClosureRecords.parse(readFileSync(closuresFile(store))).find(
    { digest: base.digest as Digest, size: base.size, mediaType: base.mediaType }, table));

  const line = ls(store).references.find((r) => r.name === 'docker.io/library/base:1')!;
  assert.equal(line.blobs, 2, 'the forged record is counted');
  assert.deepEqual(line.platforms, ['plan9/forged']);
  assert.deepEqual(await servedListings(store), served, 'what the views serve comes from the documents');
  assert.ok(closureFileBound(table.size, 1) > statSync(closuresFile(store)).size);
});

test('a read-only store is listed the same and no file is written', (t) => {
  if (!requireRoot(t, 'a read-only bind mount needs root')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  buildFixtureStore(store);
  const ro = join(dir, 'ro');
  readOnlyBind(t, store, ro);

  const readOnly = ls(ro);
  assert.ok(!existsSync(closuresFile(store)), 'nothing written');
  assert.deepEqual(withStore(ls(store), store, ro), readOnly);
  assert.ok(existsSync(closuresFile(store)), 'the writable store got its file');
  assert.deepEqual(ls(ro), readOnly, 'and the read-only view of it reads the file');
});
