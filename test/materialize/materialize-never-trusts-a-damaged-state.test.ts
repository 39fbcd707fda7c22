import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { decodeState, encodeState } from '../../src/materialize/state-lines.js';
import { runCli, runCliJson } from '../fixtures/cli.js';
import { materializedFixture } from '../fixtures/materialized.js';

const STATE = '.layoutfs-materialized';

/** Every file under `out` but the state: its inode and bytes (a blob's inode is the store file's). */
function tree(out: string, dir = out, into = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (dir === out && name.startsWith('.layoutfs-')) continue;
    const st = lstatSync(path);
    if (st.isDirectory()) tree(out, path, into);
    else into.set(relative(out, path), `${st.ino}:${readFileSync(path, 'hex')}`);
  }
  return into;
}

const DAMAGES: Record<string, (file: string) => void> = {
  'a byte changed': (file) => {
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 5) ^ 1, bytes.length - 5);
    writeFileSync(file, bytes);
  },
  'cut short': (file) => writeFileSync(file, readFileSync(file).subarray(0, 40)),
  'a symlink': (file) => {
    rmSync(file);
    symlinkSync('/dev/zero', file);
  },
};

for (const [damage, apply] of Object.entries(DAMAGES)) {
  test(`a state file ${damage} is not trusted: every view is checked, the tree comes out as a first run makes it`, (t) => {
    const { store, out } = materializedFixture(t);
    const made = tree(out);
    const planted = join(out, 'latest', 'blobs', 'sha256', 'planted-by-hand');
    writeFileSync(planted, 'mine\n');
    apply(join(out, STATE));

    const r = runCliJson(['materialize', store, out]);
    assert.match(r.stderr, /is damaged: every view is checked file by file/);
    assert.deepEqual([r.added, r.updated, r.removed, r.linked, r.unchanged], [[], ['latest'], [], 0, 4]);
    assert.deepEqual(tree(out), made);

    writeFileSync(planted, 'mine\n');
    const again = runCliJson(['materialize', store, out]);
    assert.deepEqual([again.stderr, again.updated, again.unchanged], ['', [], 5], 'the state written is trusted');
    assert.ok(existsSync(planted), 'an unchanged view is not looked at');
  });
}

test('a state that records a view under another entry (forged, checksum and all) never gets a view of the store removed', (t) => {
  const { store, out } = materializedFixture(t);
  const made = tree(out);
  const state = decodeState(readFileSync(join(out, STATE)))!;
  // `latest` is recorded as made from another entry, and its entry's identity under a path no reference has.
  const identity = state.views.get('latest')!;
  state.views.set('latest', state.views.get('docker.io/library/base/1')!);
  state.views.set('gone/1', identity);
  writeFileSync(join(out, STATE), encodeState(state));

  const r = runCliJson(['materialize', store, out]);
  assert.deepEqual([r.added, r.updated, r.removed], [[], [], []]);
  assert.deepEqual(tree(out), made);
  const full = runCliJson(['materialize', '--full', store, out]);
  assert.deepEqual([full.added, full.updated, full.removed, full.unchanged], [[], [], ['gone/1'], 5]);
  assert.deepEqual([...decodeState(readFileSync(join(out, STATE)))!.views.keys()].sort(), [...made.keys()]
    .filter((p) => p.endsWith('/index.json')).map((p) => p.slice(0, -'/index.json'.length)).sort(), 'the records are of the views again');
});

test('the JSON state of an earlier layoutfs is read once: its removed views go, every view is checked, the new state replaces it', (t) => {
  const { store, out } = materializedFixture(t);
  const views = [...decodeState(readFileSync(join(out, STATE)))!.views].map(([path, identity]) => [path, identity]);
  assert.equal(runCli(['rm', store, 'latest']).code, 0);
  rmSync(join(out, STATE));
  writeFileSync(join(out, '.layoutfs-materialized.json'), JSON.stringify({ store, format: 'earlier', views }));
  const planted = join(out, 'docker.io/library/base/1', 'blobs', 'sha256', 'planted-by-hand');
  writeFileSync(planted, 'mine\n');

  const r = runCliJson(['materialize', store, out]);
  assert.deepEqual([r.added, r.updated, r.removed, r.unchanged], [[], ['docker.io/library/base:1'], ['latest'], 3]);
  assert.ok(!existsSync(join(out, 'latest')) && !existsSync(planted));
  assert.ok(!existsSync(join(out, '.layoutfs-materialized.json')));
  assert.deepEqual(runCliJson(['materialize', store, out]).unchanged, 4);
});
