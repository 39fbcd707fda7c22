import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { LayoutfsError } from '../../src/errors.js';
import { openBeneath, readWholeBeneath, safeRoot, type NativeRead, type WholeFile } from '../../src/store/safe-open.js';
import { unavailable } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

const core = createRequire(import.meta.url)('../../../native/fuse-core/index.cjs') as NativeRead & { available: boolean };

/** What a read gave, comparable across engines: the bytes, or the error's code and message. */
function outcome(got: Buffer | LayoutfsError): string {
  return got instanceof LayoutfsError ? `${got.code}: ${got.message}` : `bytes ${got.toString('utf8')}`;
}

// Issue 12's one way of opening store files, read in one native job (issue 11: a cold walk's
// manifests): the native core and Node's calls must give the same bytes and the same refusals.
test('whole files read beneath a root follow openBeneath\'s rules, in the native job and with Node\'s calls alike', async (t) => {
  if (!core.available) {
    unavailable(t, 'the native core', 'not built (npm rebuild needs a C compiler)');
    return;
  }
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const outside = join(dir, 'outside');
  mkdirSync(join(store, 'blobs/sha256'), { recursive: true });
  mkdirSync(join(outside, 'sha512'), { recursive: true });
  writeFileSync(join(store, 'blobs/sha256/doc'), '{"a":1}');
  writeFileSync(join(store, 'blobs/sha256/long'), 'x'.repeat(100));
  writeFileSync(join(outside, 'secret'), 'secret');
  writeFileSync(join(outside, 'sha512/doc'), 'outside');
  symlinkSync(join(outside, 'secret'), join(store, 'blobs/sha256/planted'));
  execFileSync('mkfifo', [join(store, 'blobs/sha256/fifo')]);
  mkdirSync(join(store, 'blobs/sha256/dir'));
  // A directory of the path swapped for a symlink: the descriptor's path is then outside.
  symlinkSync(join(outside, 'sha512'), join(store, 'blobs/sha512'));
  const root = await safeRoot(store);
  const files: WholeFile[] = ['doc', 'long', 'missing', 'planted', 'fifo', 'dir'].map((name) => ({ rel: `blobs/sha256/${name}`, what: `blob ${name}`, max: 11 }));
  files.push({ rel: 'blobs/sha512/doc', what: 'blob in sha512', max: 11 });

  const native = (await readWholeBeneath(root, files, core)).map(outcome);
  const node = (await readWholeBeneath(root, files, null)).map(outcome);
  assert.deepEqual(native, node, 'both engines give the same bytes and refusals');
  assert.equal(native[0], 'bytes {"a":1}');
  assert.equal(native[1], `bytes ${'x'.repeat(11)}`, 'at most max bytes');
  assert.match(native[2]!, /^NOT_FOUND: \S+\/missing: blob missing is missing$/);
  assert.match(native[3]!, /^FAILED_PRECONDITION: \S+\/planted: blob planted is a symlink/);
  assert.match(native[4]!, /^FAILED_PRECONDITION: \S+\/fifo: blob fifo is a FIFO, not a regular file$/);
  assert.match(native[5]!, /^FAILED_PRECONDITION: \S+\/dir: blob dir is a directory, not a regular file$/);
  assert.match(native[6]!, /resolves to .*outside\/sha512\/doc: a path inside the store must not go through a symlink/);
  // Each refusal is the one openBeneath gives.
  for (const [i, f] of files.entries()) {
    if (i < 2) continue;
    const refused = await openBeneath(root, f.rel, f.what).then(() => 'opened', (err: unknown) => outcome(err as LayoutfsError));
    assert.equal(refused, native[i], f.rel);
  }

  // The store directory replaced after it was opened: nothing is read from the new one.
  renameSync(store, join(dir, 'moved'));
  mkdirSync(join(store, 'blobs/sha256'), { recursive: true });
  writeFileSync(join(store, 'blobs/sha256/doc'), 'forged');
  for (const engine of [core, null]) {
    const [got] = await readWholeBeneath(root, [files[0]!], engine);
    assert.match(outcome(got!), /^FAILED_PRECONDITION: \S+: the store directory was replaced since it was opened/);
  }
});
