import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { padding, TAR_END, tarHeader } from '../../src/archive/tar-header.js';
import { tempDir } from '../fixtures/temp.js';

test('GNU tar reads our headers: long names (prefix and PAX path) and sizes over 8 GiB (PAX size)', (t) => {
  const dir = tempDir(t);
  const longName = `blobs/sha512/${'a'.repeat(128)}`;
  const deep = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
  const content = Buffer.from('hello');
  const parts: Buffer[] = [];
  for (const name of ['short', longName, deep]) parts.push(tarHeader({ name, size: content.length }), content, Buffer.alloc(padding(content.length)));
  parts.push(TAR_END);
  writeFileSync(join(dir, 'a.tar'), Buffer.concat(parts));
  assert.deepEqual(execFileSync('tar', ['-tf', join(dir, 'a.tar')], { encoding: 'utf8' }).trim().split('\n'), ['short', longName, deep]);

  // Only the header of a 9 GiB entry: tar -tv reads the size before it would need the content.
  const huge = 9 * 1024 ** 3;
  writeFileSync(join(dir, 'big.tar'), tarHeader({ name: 'big', size: huge }));
  const listing = execFileSync('sh', ['-c', `tar -tvf ${join(dir, 'big.tar')} 2>/dev/null || true`], { encoding: 'utf8' });
  assert.match(listing, new RegExp(`\\s${huge}\\s.*big`));
});
