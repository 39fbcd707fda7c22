import assert from 'node:assert/strict';
import { lstatSync, lutimesSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileMtimes } from '../../src/store/blobs/file-mtimes.js';
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
