import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConformingRepository, isConformingTag, parseReference, viewRefName, fullImageName } from '../../src/oci/reference.js';

const D = `sha256:${'b'.repeat(64)}`;

test('parses bare tags, name:tag, host:port/name:tag, name@digest and odd strings', () => {
  assert.deepEqual(parseReference('3.11'), { kind: 'single', raw: '3.11' });
  assert.deepEqual(parseReference('docker.io/library/alpine:3.11'),
    { kind: 'tagged', raw: 'docker.io/library/alpine:3.11', repository: 'docker.io/library/alpine', tag: '3.11' });
  assert.deepEqual(parseReference('localhost:5000/app:1'),
    { kind: 'tagged', raw: 'localhost:5000/app:1', repository: 'localhost:5000/app', tag: '1' });
  assert.deepEqual(parseReference(`repo/x@${D}`), { kind: 'digested', raw: `repo/x@${D}`, repository: 'repo/x', digest: D });
  assert.deepEqual(parseReference('localhost:5000/app'), { kind: 'single', raw: 'localhost:5000/app' });
  assert.deepEqual(parseReference('weird name:'), { kind: 'single', raw: 'weird name:' });
  assert.deepEqual(parseReference(':tag'), { kind: 'single', raw: ':tag' });
  assert.deepEqual(parseReference('repo@sha256:short'), { kind: 'tagged', raw: 'repo@sha256:short', repository: 'repo@sha256', tag: 'short' });
});

test('names a view its ref.name and full image name as containerd does', () => {
  const tagged = parseReference('docker.io/library/alpine:3.11');
  assert.equal(viewRefName(tagged), '3.11');
  assert.equal(fullImageName(tagged), 'docker.io/library/alpine:3.11');
  const bare = parseReference('latest');
  assert.equal(viewRefName(bare), 'latest');
  assert.equal(fullImageName(bare), undefined);
  const digested = parseReference(`a/b@${D}`);
  assert.equal(viewRefName(digested), undefined);
  assert.equal(fullImageName(digested), `a/b@${D}`);
});

test('knows registry-conforming repositories and tags', () => {
  assert.ok(isConformingRepository('docker.io/library/alpine'));
  assert.ok(isConformingRepository('localhost:5000/a/b-c_d'));
  assert.ok(!isConformingRepository('docker.io/Library/Alpine'));
  assert.ok(!isConformingRepository('a//b'));
  assert.ok(isConformingTag('v1.2_3-rc'));
  assert.ok(!isConformingTag('-x'));
  assert.ok(!isConformingTag('a'.repeat(129)));
});
