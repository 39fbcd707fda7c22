import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fsck } from '../../src/store/fsck.js';
import { VERIFIED_NAME } from '../../src/store/verified-blobs.js';
import { runCli, runCliJson } from '../fixtures/cli.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { tempDir } from '../fixtures/temp.js';

function fixture(t: Parameters<typeof tempDir>[0]) {
  const store = join(tempDir(t), 'store');
  const fx = buildFixtureStore(store);
  const blobs = readdirSync(join(store, 'blobs', 'sha256')).length;
  const layer = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', fx.base.digest.slice(7)), 'utf8')).layers[0].digest as string;
  return { store, blobs, layerFile: join(store, 'blobs', 'sha256', layer.slice(7)), layer };
}

test('fsck --verify skips the blobs an earlier run hashed and nothing changed since, and says so', async (t) => {
  const { store, blobs } = fixture(t);
  const first = await fsck(store, { verify: true });
  assert.deepEqual(first.verified, { hashed: blobs, skipped: 0 });
  assert.ok(existsSync(join(store, VERIFIED_NAME)));
  const second = await fsck(store, { verify: true });
  assert.deepEqual(second.verified, { hashed: 0, skipped: blobs });
  assert.equal(second.clean, true, JSON.stringify(second.findings));
  const out = runCli(['fsck', '--verify', store]);
  assert.equal(out.code, 0);
  assert.match(out.stdout, new RegExp(`0 blobs hashed, ${blobs} skipped as verified earlier and unchanged since \\(--full hashes them too\\)`));
});

test('a blob rewritten in place, same size, its mtime put back, is hashed again (its ctime moved) and reported', async (t) => {
  const { store, blobs, layerFile, layer } = fixture(t);
  // A whole-second mtime, so putting it back restores it to the nanosecond.
  utimesSync(layerFile, 1_700_000_000, 1_700_000_000);
  await fsck(store, { verify: true });
  const before = lstatSync(layerFile, { bigint: true });
  const bytes = readFileSync(layerFile);
  bytes.writeUInt8(bytes.readUInt8(0) ^ 0xff, 0);
  chmodSync(layerFile, 0o644);
  writeFileSync(layerFile, bytes);
  chmodSync(layerFile, 0o444);
  utimesSync(layerFile, 1_700_000_000, 1_700_000_000);
  const after = lstatSync(layerFile, { bigint: true });
  assert.deepEqual([after.ino, after.size, after.mtimeNs], [before.ino, before.size, before.mtimeNs], 'only the ctime tells');
  assert.notEqual(after.ctimeNs, before.ctimeNs);

  const r = await fsck(store, { verify: true });
  assert.deepEqual(r.verified, { hashed: 1, skipped: blobs - 1 });
  assert.deepEqual(r.findings.map((f) => [f.kind, f.digest]), [['DIGEST_MISMATCH', layer]]);
  assert.equal(r.damaged, true);
  const again = await fsck(store, { verify: true });
  assert.deepEqual(again.verified, { hashed: 1, skipped: blobs - 1 }, 'a blob that hashed wrong is never recorded');
  assert.equal(again.damaged, true);
});

test('--full hashes every blob again, and plain fsck neither reads nor reports the record', (t) => {
  const { store, blobs } = fixture(t);
  runCli(['fsck', '--verify', store]);
  const full = runCliJson(['fsck', '--verify', '--full', store]);
  assert.deepEqual(full.verified, { hashed: blobs, skipped: 0 });
  assert.deepEqual(runCliJson(['fsck', '--full', store]).verified, { hashed: blobs, skipped: 0 }, '--full alone verifies');
  const plain = runCliJson(['fsck', store]);
  assert.equal(plain.clean, true, JSON.stringify(plain.findings));
  assert.equal(plain.verified, undefined);
  runCliJson(['gc', '--grace', '0s', store]);
  assert.ok(existsSync(join(store, VERIFIED_NAME)), 'gc leaves it alone');
});

test('a malformed record file is ignored, every blob hashed, and the file written anew', async (t) => {
  const { store, blobs } = fixture(t);
  await fsck(store, { verify: true });
  const good = readFileSync(join(store, VERIFIED_NAME), 'utf8');
  const [header, firstLine] = good.split('\n');
  const bad = [
    'not a record file at all\n',
    good.slice(0, -1),
    `${header}\n${firstLine!.replace(/ \d+$/, ' -1')}\n`,
    `${header}\nsha256:../../etc/passwd 1 2 3 4\n`,
    `${header}\n${firstLine!} 5\n`,
    Buffer.alloc(10_000_000, 'x').toString(),
  ];
  for (const content of bad) {
    writeFileSync(join(store, VERIFIED_NAME), content);
    const r = await fsck(store, { verify: true });
    assert.deepEqual(r.verified, { hashed: blobs, skipped: 0 }, JSON.stringify(content.slice(0, 80)));
    assert.equal(r.clean, true);
    assert.deepEqual((await fsck(store, { verify: true })).verified, { hashed: 0, skipped: blobs }, 'rewritten whole');
  }
});

test('the record keeps only blobs present: one of a blob gone is dropped at the next run', async (t) => {
  const { store, blobs } = fixture(t);
  await fsck(store, { verify: true });
  const file = join(store, VERIFIED_NAME);
  const gone = `sha256:${'0'.repeat(64)}`;
  writeFileSync(file, `${readFileSync(file, 'utf8')}${gone} 1 2 3 4\n`);
  const r = await fsck(store, { verify: true });
  assert.deepEqual(r.verified, { hashed: 0, skipped: blobs });
  assert.doesNotMatch(readFileSync(file, 'utf8'), new RegExp(gone));
  assert.equal(readFileSync(file, 'utf8').trimEnd().split('\n').length, blobs + 1, 'a header and one line per blob');
});
