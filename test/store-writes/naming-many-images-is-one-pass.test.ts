import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REF_NAME_ANNOTATION } from '../../src/oci/descriptor.js';
import { invalidEntry, validEntry, type IndexEntry } from '../../src/store/index/index-model.js';
import { setNames } from '../../src/store/index/name-changes.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const value = (c: string, name?: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest(c), size: 10,
  ...(name !== undefined && { annotations: { [REF_NAME_ANNOTATION]: name } }) });
const descriptorOf = (c: string) => validEntry(value(c), 0).descriptor;
const named = (entries: readonly IndexEntry[]) => entries.map((e) => [e.name, e.descriptor?.digest.slice(7, 8)]);

test('setting several names in one write gives what setting them one by one gave', () => {
  const entries = [validEntry(value('a', 'x:1'), 0), validEntry(value('b', 'y:1'), 1), validEntry(value('c'), 2),
    invalidEntry({ broken: true }, 3), validEntry(value('d', 'x:1'), 4)];
  const { entries: after, changes } = setNames(entries, [
    { name: 'z:1', descriptor: descriptorOf('a') },
    { name: 'y:1', descriptor: descriptorOf('b') },
    { name: 'x:1', descriptor: descriptorOf('b') },
    { name: 'z:1', descriptor: descriptorOf('c') },
  ], true, 'index.json');
  assert.deepEqual(changes.map((c) => [c.action, c.name, c.previous?.slice(7, 8)]),
    [['added', 'z:1', undefined], ['unchanged', 'y:1', undefined], ['moved', 'x:1', 'a'], ['moved', 'z:1', 'a']]);
  // Every entry of a moved name goes; a name set twice ends up once, at the end.
  assert.deepEqual(named(after), [['y:1', 'b'], [undefined, 'c'], [undefined, undefined], ['x:1', 'b'], ['z:1', 'c']]);
  assert.equal(after[0], entries[1], 'entries left alone are the same objects (updateIndex tells a no-op by them)');
  assert.equal(after[2], entries[3], 'an invalid entry is kept as read');
  assert.deepEqual(after.map((e) => e.position).slice(3), [3, 4], 'new entries take the next positions');
  assert.deepEqual((after[4]!.json as { annotations: Record<string, string> }).annotations, { [REF_NAME_ANNOTATION]: 'z:1' });
});

test('a name already pointing elsewhere moves only with force; names that change nothing keep the entries', () => {
  const entries = [validEntry(value('a', 'x:1'), 0), validEntry(value('b', 'y:1'), 1)];
  assert.throws(() => setNames(entries, [{ name: 'new:1', descriptor: descriptorOf('a') }, { name: 'x:1', descriptor: descriptorOf('b') }], false, 'index.json'),
    /x:1 already points at sha256:a+; --force moves it to sha256:b+/);
  const same = setNames(entries, [{ name: 'x:1', descriptor: descriptorOf('a') }, { name: 'y:1', descriptor: descriptorOf('b') }], false, 'index.json');
  assert.deepEqual(same.changes.map((c) => c.action), ['unchanged', 'unchanged']);
  assert.ok(same.entries.every((e, i) => e === entries[i]));
  assert.throws(() => setNames(entries, [{ name: 'a\nb', descriptor: descriptorOf('a') }], false, 'index.json'), /is not a usable reference name/);
});
