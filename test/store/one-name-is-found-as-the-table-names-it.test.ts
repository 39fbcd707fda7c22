import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REF_NAME_ANNOTATION } from '../../src/oci/descriptor.js';
import { validEntry, type ValidEntry } from '../../src/store/index/index-model.js';
import { namedEntry, referenceTable } from '../../src/store/index/reference-table.js';

const value = (c: string, name?: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${c.repeat(64)}`, size: 10,
  ...(name !== undefined && { annotations: { [REF_NAME_ANNOTATION]: name } }) });

test('tag finds its source as the reference table names it, without naming every entry', () => {
  const long = `repo:${'t'.repeat(300)}`;
  const valid: ValidEntry[] = [validEntry(value('a', 'x:1'), 0), validEntry(value('b', 'x:1'), 1), validEntry(value('c'), 2),
    validEntry(value('d', long), 3), validEntry(value('e', ''), 4), validEntry(value('f', 'y:1'), 5)];
  const index = { file: 'index.json', valid };
  const table = referenceTable(index);
  for (const name of ['x:1', 'y:1', long, '', 'absent:1', 'sha256']) {
    const named = table.named.find((n) => n.name === name);
    if (named) {
      assert.deepEqual(namedEntry(index, name), named, name);
    } else {
      assert.throws(() => namedEntry(index, name), (err: Error & { code?: string }) => err.code === 'NOT_FOUND'
        && err.message === `index.json: no reference named ${JSON.stringify(name)}`, name.slice(0, 20));
    }
  }
  assert.equal(namedEntry(index, 'x:1').descriptor.digest, `sha256:${'a'.repeat(64)}`, 'the first entry of a name wins');
});
