import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, lutimesSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { BlobTable } from '../../src/store/blobs/blob-table.js';
import { fileMtimes, listDigests, lstatIn, prefetchFiles, STAT, STAT_FIELDS, TYPE_FILE, typeName } from '../../src/store/blobs/file-batch.js';
import { batchStamp, fileStamp } from '../../src/store/verified-blobs.js';
import { unavailable } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

test('file mtimes come in one batch as lstat gives them: a symlink is not followed, a missing file is NaN', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'blob');
  writeFileSync(file, 'x');
  symlinkSync(file, join(dir, 'planted'));
  lutimesSync(join(dir, 'planted'), 1000, 1000);
  const got = await fileMtimes([file, join(dir, 'missing'), join(dir, 'planted')]);
  assert.equal(got[0], lstatSync(file).mtimeMs);
  assert.ok(Number.isNaN(got[1]));
  assert.equal(got[2], 1_000_000);
  assert.equal((await fileMtimes([])).length, 0);
});

test('lstatIn gives type, size, inode and times per name, never following a symlink, the directory itself included', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'blob'), 'abc');
  symlinkSync(join(dir, 'blob'), join(dir, 'planted'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  const names = ['blob', 'planted', 'fifo', 'missing'];
  const got = await lstatIn(dir, names);
  assert.equal(got.length, names.length * STAT_FIELDS);
  const field = (i: number, k: keyof typeof STAT) => got[i * STAT_FIELDS + STAT[k]];
  const st = lstatSync(join(dir, 'blob'), { bigint: true });
  assert.equal(field(0, 'type'), TYPE_FILE);
  assert.equal(field(0, 'size'), 3);
  assert.equal(field(0, 'ino'), Number(st.ino));
  assert.equal(batchStamp(got, 0), fileStamp(st), 'the stamp fsck --verify records, to the nanosecond');
  assert.equal(typeName(field(1, 'type')!), 'a symlink');
  assert.equal(typeName(field(2, 'type')!), 'a FIFO');
  assert.ok(field(3, 'type')! < 0, 'a name gone since the listing is -errno');
  // The blobs directory swapped for a symlink: nothing under it is stat'ed through it.
  symlinkSync(dir, join(dir, 'link'));
  const through = await lstatIn(join(dir, 'link'), ['blob']);
  assert.ok(through[0]! < 0);
});

test('prefetch brings files into the page cache without reading them into JavaScript, and skips symlinks and FIFOs', async (t) => {
  const core = createRequire(import.meta.url)('../../../native/fuse-core/index.cjs') as { available: boolean; reason?: string };
  if (!core.available) {
    unavailable(t, 'the native core', core.reason ?? 'not built');
    return;
  }
  const dir = tempDir(t);
  const file = join(dir, 'blob');
  writeFileSync(file, randomBytes(1024 * 1024));
  symlinkSync(file, join(dir, 'planted'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  const resident = () => Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());
  const evict = () => execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  execFileSync('sync');
  evict();
  if (resident() !== 0) {
    unavailable(t, 'a disk-backed temp directory', `${dir} keeps its files cached after fadvise DONTNEED (tmpfs?)`);
    return;
  }
  // A FIFO would block an open without O_NONBLOCK; the symlink must not be followed.
  await prefetchFiles([join(dir, 'fifo'), join(dir, 'planted'), join(dir, 'missing')]);
  assert.equal(resident(), 0, 'a symlink to the file is not followed');
  await prefetchFiles([file]);
  // The kernel reads ahead asynchronously: wait for the pages to arrive.
  for (let i = 0; i < 100 && resident() < 1024 * 1024; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(resident(), 1024 * 1024);
});

test('listDigests lists the digest names of a directory as sorted records, the same table as from the names', async (t) => {
  const dir = tempDir(t);
  const hex = Array.from({ length: 300 }, () => randomBytes(32).toString('hex'));
  for (const h of hex) writeFileSync(join(dir, h), '');
  // Not digests of this width: skipped, as BlobTable.fromNames skips them.
  for (const odd of [`.${hex[0]}.tmp-1`, hex[1]!.toUpperCase(), hex[2]!.slice(1), `${hex[3]}0`, randomBytes(64).toString('hex')]) writeFileSync(join(dir, odd), '');
  const records = await listDigests(dir, 32);
  if (!records) {
    unavailable(t, 'the native core', 'not built');
    return;
  }
  const fromNames = BlobTable.fromNames({ sha256: readdirSync(dir) });
  assert.equal(records.length, 300 * 32);
  assert.deepEqual(Buffer.from(records), Buffer.from(fromNames.records('sha256')));
  assert.deepEqual([...BlobTable.fromListings({ sha256: records, sha512: [] })!], [...fromNames]);
  await assert.rejects(listDigests(join(dir, 'missing'), 32), { code: 'ENOENT' });
});
