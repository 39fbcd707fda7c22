import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { pathToRef, refToPath } from '../../src/oci/path-mapping.js';

const D = `sha256:${'c'.repeat(64)}`;

test('maps the examples of docs/architecture.md', () => {
  const cases: [string, string][] = [
    ['docker.io/library/alpine:3.11', 'docker.io/library/alpine/3.11'],
    ['docker.io/library/debian:bookworm', 'docker.io/library/debian/bookworm'],
    ['3.11', '3.11'],
    ['localhost:5000/app:1', 'localhost%3A5000/app/1'],
    [`docker.io/library/alpine@${D}`, `docker.io/library/alpine/@sha256%3A${'c'.repeat(64)}`],
    ['foo/bar', 'foo%2Fbar'],
    ['..', '%2E.'],
    ['.', '%2E'],
    ['_digests', '%5Fdigests'],
    ['blobs', '%62lobs'],
    ['index.json', '%69ndex.json'],
    ['oci-layout', '%6Fci-layout'],
    ['a/..:x', 'a/%2E./x'],
    ['a b%c', 'a%20b%25c'],
    ['x:@y', 'x/%40y'],
    ['a//b:1', 'a%2F%2Fb/1'],
    ['/abs:1', '%2Fabs/1'],
    ['é:1', '%C3%A9/1'],
  ];
  for (const [ref, path] of cases) {
    assert.equal(refToPath(ref), path, ref);
    assert.equal(pathToRef(path), ref, path);
  }
  assert.equal(refToPath(''), undefined);
});

test('no path contains a colon, an empty, dot or reserved component', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (ref) => {
    const path = refToPath(ref);
    if (ref === '') return path === undefined;
    assert.ok(path !== undefined);
    assert.ok(!path.includes(':'), path);
    assert.ok(!path.includes('\0') && !path.includes('\\'), path);
    for (const c of path.split('/')) {
      assert.ok(c !== '' && c !== '.' && c !== '..' && !c.startsWith('_'), `${JSON.stringify(ref)} -> ${path}`);
      assert.ok(!['blobs', 'index.json', 'oci-layout'].includes(c), path);
    }
    return true;
  }), { numRuns: 5000 });
});

test('decoding a path gives back exactly the reference (property)', () => {
  const refChars = fc.constantFrom(...'abcXYZ019._-+@/:%_ é\\'.split(''));
  const shaped = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: refChars, minLength: 1, maxLength: 30 }),
    fc.tuple(fc.string({ unit: refChars, minLength: 1, maxLength: 20 }), fc.string({ unit: refChars, minLength: 1, maxLength: 8 }))
      .map(([n, t]) => `${n}:${t}`),
    fc.string({ unit: refChars, minLength: 1, maxLength: 20 }).map((n) => `${n}@${D}`),
  );
  fc.assert(fc.property(shaped, (ref) => {
    const path = refToPath(ref);
    if (ref === '') return path === undefined;
    return pathToRef(path!) === ref;
  }), { numRuns: 20000 });
});

test('non-canonical or foreign paths name no reference', () => {
  for (const p of ['%61lpine', 'alpine%3A1', 'a/%3', 'a/b/', '', '%2e.', 'docker.io/library/alpine/%33.11', 'blobs']) {
    assert.equal(pathToRef(p), undefined, p);
  }
});
