import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { readIndexFile } from '../../src/store/index/read-index.js';
import { indexBytes, type IndexFile } from '../../src/store/index/index-model.js';
import { tempDir } from '../fixtures/temp.js';

/** Strings that could confuse a scan of the bytes: quotes, escapes, brackets and separators. */
const tricky = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('"', '\\', '\\"', '},{', '],[', '"manifests"', 'a\\', '\u2028', 'é', '{"a":[1,2]}'),
);
const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`);
const validValue = fc.record({
  mediaType: fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json'),
  digest,
  size: fc.nat({ max: 5000 }),
  annotations: fc.record({ 'org.opencontainers.image.ref.name': tricky, note: tricky }, { requiredKeys: [] }),
});
/** Entries as index.json may hold them: mostly descriptors, sometimes values that are none. */
const entry = fc.oneof({ weight: 6, arbitrary: validValue }, { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.nat(), tricky, fc.array(tricky, { maxLength: 2 })) });
const edit = fc.record({ at: fc.nat(), remove: fc.nat({ max: 3 }), insert: fc.array(entry, { maxLength: 3 }) });
/** index.json's own fields around `manifests`, and how the file is spaced. */
const layout = fc.record({
  before: fc.dictionary(fc.constantFrom('mediaType', 'annotations'), tricky, { maxKeys: 1 }),
  after: fc.dictionary(fc.constantFrom('subject', 'x'), tricky, { maxKeys: 1 }),
  indent: fc.constantFrom(undefined, 2, '\t'),
});

function bytesOf(manifests: unknown[], l: { before: object; after: object; indent: number | string | undefined }): string {
  return JSON.stringify({ schemaVersion: 2, ...l.before, manifests, ...l.after }, null, l.indent);
}

/** What a reader sees of an index: everything but the identity of the file. */
function model(index: IndexFile) {
  return { json: index.json, entries: index.entries, valid: index.valid, findings: index.findings };
}

test('a re-read after entries were added, removed or changed equals a full read, and keeps the untouched entries', async (t) => {
  const dir = tempDir(t, 'layoutfs-index-reread-');
  const file = join(dir, 'index.json');
  await fc.assert(fc.asyncProperty(fc.array(entry, { maxLength: 8 }), fc.array(edit, { maxLength: 3 }), layout, async (manifests, edits, l) => {
    writeFileSync(file, bytesOf(manifests, l));
    const before = await readIndexFile(dir);
    const after = [...manifests];
    let first = manifests.length;
    for (const e of edits) {
      const at = e.at % (after.length + 1);
      first = Math.min(first, at);
      after.splice(at, e.remove, ...e.insert);
    }
    writeFileSync(file, bytesOf(after, l));
    const reread = await readIndexFile(dir, undefined, before);
    assert.deepEqual(model(reread), model(await readIndexFile(dir)));
    // Entries before the one before the first edit were not parsed again: the same objects.
    for (let k = 0; k < first - 1; k++) assert.equal(reread.entries[k], before.entries[k], `entry ${k} was parsed again`);
  }), { numRuns: 300 });
});

test('a re-read after any change of bytes reads as a full read does, or fails as it does', async (t) => {
  const dir = tempDir(t, 'layoutfs-index-reread-bytes-');
  const file = join(dir, 'index.json');
  await fc.assert(fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 6 }), layout, fc.nat(), fc.nat(), fc.string({ maxLength: 6 }),
    async (manifests, l, at, cut, put) => {
      const text = bytesOf(manifests, l);
      writeFileSync(file, text);
      const before = await readIndexFile(dir);
      const start = at % text.length;
      writeFileSync(file, text.slice(0, start) + put + text.slice(start + (cut % 8)));
      const outcome = (p: Promise<IndexFile>) => p.then(model, (err: unknown) => (err as Error).message);
      assert.deepEqual(await outcome(readIndexFile(dir, undefined, before)), await outcome(readIndexFile(dir)));
    }), { numRuns: 500 });
});

test('a file with `manifests` twice is read as JSON.parse reads it (the last)', async (t) => {
  const dir = tempDir(t, 'layoutfs-index-reread-twice-');
  const file = join(dir, 'index.json');
  const d = (c: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${c.repeat(64)}`, size: 1 });
  writeFileSync(file, `{"schemaVersion":2,"manifests":[${JSON.stringify(d('a'))}],"manifests":[${JSON.stringify(d('b'))}]}`);
  const before = await readIndexFile(dir);
  writeFileSync(file, `{"schemaVersion":2,"manifests":[${JSON.stringify(d('a'))},${JSON.stringify(d('c'))}],"manifests":[${JSON.stringify(d('b'))}]}`);
  const reread = await readIndexFile(dir, undefined, before);
  assert.deepEqual(reread.valid.map((e) => e.descriptor.digest), [`sha256:${'b'.repeat(64)}`]);
});

test('a write copies the entries it keeps as they were, and reads back as the entries it was given', async (t) => {
  const dir = tempDir(t, 'layoutfs-index-write-');
  const file = join(dir, 'index.json');
  await fc.assert(fc.asyncProperty(fc.array(entry, { maxLength: 8 }), fc.array(edit, { maxLength: 3 }), layout, fc.boolean(),
    async (manifests, edits, l, shuffle) => {
      writeFileSync(file, bytesOf(manifests, l));
      const index = await readIndexFile(dir);
      // Kept entries are the objects read (as a write's change returns them); new ones are values.
      let entries = [...index.entries];
      for (const e of edits) {
        const at = e.at % (entries.length + 1);
        entries.splice(at, e.remove, ...e.insert.map((json, k) => ({ position: at + k, json, descriptor: undefined, name: undefined })));
      }
      if (shuffle) entries = entries.reverse();
      const bytes = indexBytes(index, entries);
      const expected = JSON.stringify({ ...index.json, manifests: entries.map((e) => e.json) });
      assert.deepEqual(JSON.parse(bytes.toString()), JSON.parse(expected));
      // A file as layoutfs writes it (compact) comes out as JSON.stringify would write it.
      if (l.indent === undefined) assert.equal(bytes.toString(), expected);
    }), { numRuns: 300 });
});
