import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { BlobPositions } from '../../src/store/blobs/blob-positions.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sha512 = (s: string) => createHash('sha512').update(s).digest('hex');

test('blob positions find each listed digest at its listing position, and nothing else', () => {
  const hex = Array.from({ length: 50_000 }, (_, i) => sha256(String(i)));
  const long = Array.from({ length: 3 }, (_, i) => sha512(String(i)));
  const positions = new BlobPositions();
  // Added in two calls for sha256: the table grows (rehashes) between them.
  // Names that are no sha256 encoding are left out, and positions go on without them.
  const junk = ['tmp-123', hex[10]!.toUpperCase(), hex[11]!.slice(1), `${hex[12]!}.partial`, long[0]!, `${hex[13]!.slice(0, 63)}\u00e1`];
  const first = positions.add('sha256', [...hex.slice(0, 5), ...junk.slice(0, 3), ...hex.slice(5, 10), ...junk.slice(3)]);
  assert.deepEqual(first, { names: hex.slice(0, 10), others: junk });
  positions.add('sha512', long);
  positions.add('sha256', hex.slice(10));
  assert.equal(positions.size, hex.length + long.length);
  for (let j = 0; j < hex.length; j++) {
    const at = j < 10 ? j : j + long.length;
    assert.equal(positions.get(`sha256:${hex[j]!}`), at, hex[j]);
    assert.equal(positions.digestAt(at), `sha256:${hex[j]!}`);
  }
  for (let j = 0; j < long.length; j++) assert.equal(positions.get(`sha512:${long[j]!}`), 10 + j);
  const absent = [`sha256:${sha256('absent')}`, `sha512:${sha512('absent')}`, `sha512:${hex[0]!}`, `sha256:${long[0]!}`,
    `sha256:${hex[0]!.toUpperCase()}`, `sha256:${hex[0]!.slice(1)}`, `sha256:${hex[0]!}0`, `md5:${hex[0]!.slice(32)}`, hex[0]!,
    `sha256:${hex[0]!.slice(0, 63)}\u00e1`, `sha256:${hex[0]!.slice(0, 63)}\u0161`, ''];
  for (const d of absent) assert.equal(positions.get(d), -1, d);
});

test('names that differ in one character only, or share every word but one, are told apart', () => {
  const base = sha256('base');
  const names = '0123456789abcdef'.split('').flatMap((c) => [base.slice(0, 63) + c, c + base.slice(1), base.slice(0, 31) + c + base.slice(32)]);
  // Enough sharing their first 56 characters that probe chains pass over names equal in all but the last word.
  for (let i = 0; i < 5000; i++) names.push(base.slice(0, 56) + i.toString(16).padStart(8, '0'));
  const unique = [...new Set([...names, `${base.slice(0, 62)}aa`])];
  const positions = new BlobPositions();
  positions.add('sha256', unique);
  unique.forEach((n, j) => assert.equal(positions.get(`sha256:${n}`), j, n));
  assert.equal(positions.get(`sha256:${base.slice(0, 62)}gg`), -1);
  // \u00e1 and 'a' share their low 7 bits: a lookup must not read it as 'a'.
  assert.equal(positions.get(`sha256:${base.slice(0, 62)}a\u00e1`), -1);
});
