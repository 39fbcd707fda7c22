import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { tarHeader } from '../../src/archive/tar-header.js';
import { runCli } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';

/**
 * A gzip bomb declares its size in the entry's tar header, before its first byte: an entry
 * declaring more than --max-unpacked-bytes, or more than the store's filesystem has free, is
 * refused there, and nothing is written (no temp file filled and fsynced first).
 */
for (const [what, declared, extra, rule] of [
  ['more than --max-unpacked-bytes', 64 * 1024 ** 2, ['--max-unpacked-bytes', '1M'], /declares 67108864 bytes, more than --max-unpacked-bytes \(1048576\) allows; nothing was imported/],
  ['more than the store\'s filesystem has free', 2 ** 50, [], /declares 1125899906842624 bytes, more than the \d+ bytes free for the store; nothing was imported/],
] as const) {
  test(`an archive entry declaring ${what} is refused before a byte is written`, (t) => {
    const dir = tempDir(t);
    const store = join(dir, 'store');
    assert.equal(runCli(['init', store]).code, 0);
    // A blob entry whose header declares `declared` bytes, followed by a few: the bomb's head.
    const entry = tarHeader({ name: `blobs/sha256/${'a'.repeat(64)}`, size: declared, mode: 0o444 });
    const archive = join(dir, 'bomb.tar.gz');
    writeFileSync(archive, gzipSync(Buffer.concat([entry, Buffer.alloc(64 * 1024)])));
    const r = runCli(['import', store, archive, ...extra]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, rule);
    assert.deepEqual(readdirSync(join(store, 'blobs', 'sha256')), [], 'no blob and no temp file');
  });
}
