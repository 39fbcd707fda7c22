import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDigest, parseDigest } from '../../src/oci/digest.js';
import { isLayoutfsError } from '../../src/errors.js';

const HEX64 = 'a'.repeat(64);

test('accepts sha256 and sha512 with lowercase hex of the right length', () => {
  assert.equal(parseDigest(`sha256:${HEX64}`), `sha256:${HEX64}`);
  assert.ok(isDigest(`sha512:${'0123456789abcdef'.repeat(8)}`));
});

test('rejects everything else before it can name a path', () => {
  const bad = [
    `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, `sha256:${'a'.repeat(65)}`, `sha512:${HEX64}`,
    `sha256:../../etc/passwd`, `sha256:${'a'.repeat(62)}/.`, `../sha256:${HEX64}`, `md5:${'a'.repeat(32)}`,
    `blake3:${HEX64}`, `sha256${HEX64}`, `sha256:${HEX64}\n`, '', 'sha256:', 42, null, undefined,
    `sha256:${'g'.repeat(64)}`, `SHA256:${HEX64}`,
    // Characters whose low 7 bits are a hex digit's code.
    `sha256:${'a'.repeat(63)}\u00e1`, `sha256:${'a'.repeat(63)}\u0161`,
  ];
  for (const s of bad) {
    assert.equal(isDigest(s), false, String(s));
    assert.throws(() => parseDigest(s, 'index.json manifests[0] digest'),
      (e: unknown) => isLayoutfsError(e, 'INVALID_ARGUMENT') && (e as Error).message.includes('manifests[0] digest'));
  }
});
