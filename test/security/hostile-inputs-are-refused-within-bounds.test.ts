import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, truncateSync, utimesSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { importArchive } from '../../src/archive/import-archive.js';
import { escapeControls, formatTable } from '../../src/cli/format.js';
import { materialize } from '../../src/materialize/materialize.js';
import { encodeState } from '../../src/materialize/state-lines.js';
import { parseDigest } from '../../src/oci/digest.js';
import { ingestBlob } from '../../src/store/blobs/blob-ingest.js';
import { fsck } from '../../src/store/fsck.js';
import { collectGarbage } from '../../src/store/gc/sweep.js';
import { importLayout } from '../../src/store/import/import-layout.js';
import { LOCK_NAME, withStoreLock } from '../../src/store/lock.js';
import { openStore } from '../../src/store/store-reader.js';
import { VERIFIED_NAME } from '../../src/store/verified-blobs.js';
import { LISTING_NAME } from '../../src/store/blobs/listing-file.js';
import { CLOSURES_NAME } from '../../src/store/graph/closure-file.js';
import { View } from '../../src/view/view.js';
import { inventory } from '../../src/view/inventory.js';
import { CLI } from '../fixtures/cli.js';
import { buildFixtureStore, LayoutBuilder, type Desc } from '../fixtures/layout-builder.js';
import { requireFuse, startMount, waitFor } from '../fixtures/mount.js';
import { rawRequest, startInProcess, type Served } from '../fixtures/serve.js';
import { tempDir } from '../fixtures/temp.js';

/**
 * The hostile-input table (README, "Security"): one row per attack or accident, each asserting
 * the exact refusal, that it ends within ROW_MS and MEMORY_BYTES, and that the store and the
 * files outside it are unchanged (unless the row says what may change).
 */
const ROW_MS = 8_000;
const MEMORY_BYTES = 256 * 1024 * 1024;

interface Place {
  dir: string;
  store: string;
  outside: string;
  fx: ReturnType<typeof buildFixtureStore>;
}

/**
 * Every entry under `dir`: type, size, mode, mtime, symlink target, content hash; nothing followed.
 * fsck --verify's record of the blobs it hashed, and the closures ls, du and the census record,
 * are layoutfs's own notes, not store content: left out.
 */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string, rel: string) => {
    if (rel === VERIFIED_NAME || rel === CLOSURES_NAME) return;
    const st = lstatSync(p);
    // A directory's own mtime moves with temp files created and removed in it: its entries are compared instead.
    let what = st.isDirectory() ? `${st.mode}` : `${st.mode}:${st.size}:${st.mtimeMs}`;
    if (st.isSymbolicLink()) what += `->${readlinkSync(p)}`;
    else if (st.isFile()) what += `:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    out.set(rel, what);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n), rel ? `${rel}/${n}` : n);
  };
  if (existsSync(dir)) walk(dir, '');
  return out;
}

function place(t: TestContext): Place {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const fx = buildFixtureStore(store);
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'outside bytes\n');
  writeFileSync(join(outside, 'index.json'), 'not the store\n');
  return { dir, store, outside, fx };
}

const blobOf = (p: Place, d: Desc | string) => join(p.store, 'blobs', 'sha256', (typeof d === 'string' ? d : d.digest).slice(7));
const mkfifo = (path: string) => execFileSync('mkfifo', [path]);
const layerOf = (p: Place, d: Desc): Desc => JSON.parse(readFileSync(blobOf(p, d), 'utf8')).layers[0];

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([work, new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not end within ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}

async function rejectsWith(work: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(work, (err: Error & { code?: string }) => {
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

interface Row {
  cls: string;
  name: string;
  /** Arranges the attack (after the snapshot of the untouched store when `after`, else before it). */
  arrange?: (p: Place) => void;
  act: (p: Place) => Promise<void> | void;
  /** The store may change (gc removing garbage, an import landing): only the outside is compared. */
  storeChanges?: boolean;
  needs?: 'fifo';
}

function row(r: Row): void {
  test(`[${r.cls}] ${r.name}`, async (t) => {
    const p = place(t);
    r.arrange?.(p);
    const storeBefore = snapshot(p.store);
    const outsideBefore = snapshot(p.outside);
    const rss = process.memoryUsage().rss;
    await within(ROW_MS, Promise.resolve(r.act(p)));
    assert.ok(process.memoryUsage().rss - rss < MEMORY_BYTES, 'memory stays bounded');
    assert.deepEqual(snapshot(p.outside), outsideBefore, 'nothing outside the store changed');
    if (!r.storeChanges) assert.deepEqual(snapshot(p.store), storeBefore, 'the store is unchanged');
  });
}

const NOT_REGULAR = /is a FIFO, not a regular file/;

// ---- non-regular files: nothing hangs ----

row({ cls: 'non-regular', name: 'a FIFO named like an orphan blob: fsck ends and names it', arrange: (p) => mkfifo(blobOf(p, 'sha256:' + 'a'.repeat(64))),
  async act(p) {
    const r = await fsck(p.store);
    assert.ok(r.findings.some((f) => f.kind === 'NOT_REGULAR' && f.message.includes('a FIFO')), JSON.stringify(r.findings));
    assert.equal(r.damaged, true);
  } });
row({ cls: 'non-regular', name: 'a FIFO named like an orphan blob: fsck --verify ends', arrange: (p) => mkfifo(blobOf(p, 'sha256:' + 'b'.repeat(64))),
  async act(p) {
    const r = await fsck(p.store, { verify: true });
    assert.ok(r.findings.some((f) => f.kind === 'NOT_REGULAR'));
  } });
row({ cls: 'non-regular', name: 'a FIFO named like an orphan blob: gc --dry-run ends', arrange: (p) => mkfifo(blobOf(p, 'sha256:' + 'c'.repeat(64))),
  async act(p) {
    const r = await collectGarbage(p.store, { graceMs: 0, dryRun: true });
    assert.equal(r.deleted, 0);
  } });
row({ cls: 'non-regular', name: 'a FIFO named like an orphan blob: gc ends, removes it and releases the lock', storeChanges: true,
  arrange: (p) => mkfifo(blobOf(p, 'sha256:' + 'd'.repeat(64))),
  async act(p) {
    const r = await collectGarbage(p.store, { graceMs: 0 });
    assert.equal(r.deleted, 1);
    assert.ok(!existsSync(join(p.store, LOCK_NAME)), 'the lock is released');
    assert.ok(!existsSync(blobOf(p, 'sha256:' + 'd'.repeat(64))));
  } });
for (const file of ['index.json', 'oci-layout']) {
  row({ cls: 'non-regular', name: `a FIFO at ${file}: opening the store is refused at once`,
    arrange: (p) => { rmSync(join(p.store, file)); mkfifo(join(p.store, file)); },
    act: async (p) => rejectsWith(openStore(p.store).then((s) => s.readIndex()), 'FAILED_PRECONDITION', new RegExp(`${file}: ${file} is a FIFO, not a regular file`)) });
  row({ cls: 'non-regular', name: `a directory at ${file}: refused`,
    arrange: (p) => { rmSync(join(p.store, file)); mkdirSync(join(p.store, file)); },
    act: async (p) => rejectsWith(openStore(p.store).then((s) => s.readIndex()), 'FAILED_PRECONDITION', /is a directory, not a regular file/) });
}
row({ cls: 'non-regular', name: 'a FIFO swapped in at index.json at runtime: the refresh read is refused, not hung',
  async act(p) {
    const s = await openStore(p.store);
    rmSync(join(p.store, 'index.json'));
    mkfifo(join(p.store, 'index.json'));
    await rejectsWith(s.readIndex(), 'FAILED_PRECONDITION', NOT_REGULAR);
  }, storeChanges: true });
row({ cls: 'non-regular', name: 'a FIFO at a reachable layer: the view refuses to open it',
  arrange: (p) => { const l = layerOf(p, p.fx.base); rmSync(blobOf(p, l)); mkfifo(blobOf(p, l)); },
  async act(p) {
    const view = await View.open(await openStore(p.store));
    const l = layerOf(p, p.fx.base);
    await rejectsWith(view.openBlob(l.digest as never, l.size), 'FAILED_PRECONDITION', NOT_REGULAR);
  } });
row({ cls: 'non-regular', name: 'a FIFO blob in an import source: import refuses, index.json is unchanged', storeChanges: true,
  async act(p) {
    const index = readFileSync(join(p.store, 'index.json'));
    const src = join(p.dir, 'src');
    const b = new LayoutBuilder(src);
    const img = b.image({ layers: [{ new: 'file' }] });
    b.add(img, 'src:1').write();
    const layer = JSON.parse(readFileSync(join(src, 'blobs/sha256', img.digest.slice(7)), 'utf8')).layers[0] as Desc;
    rmSync(join(src, 'blobs/sha256', layer.digest.slice(7)));
    mkfifo(join(src, 'blobs/sha256', layer.digest.slice(7)));
    await rejectsWith(importLayout(p.store, src), 'FAILED_PRECONDITION', NOT_REGULAR);
    assert.deepEqual(readFileSync(join(p.store, 'index.json')), index, 'no name was added');
  } });
row({ cls: 'non-regular', name: 'import of /dev/zero as an archive is refused at once',
  act: async (p) => rejectsWith(importArchive(p.store, '/dev/zero'), 'FAILED_PRECONDITION', /the archive is a device, not a regular file/) });
row({ cls: 'non-regular', name: 'import of a FIFO as an archive is refused at once',
  act: async (p) => { mkfifo(join(p.outside, 'fifo.tar')); await rejectsWith(importArchive(p.store, join(p.outside, 'fifo.tar')), 'FAILED_PRECONDITION', /the archive is a FIFO/); rmSync(join(p.outside, 'fifo.tar')); } });

// ---- unbounded reads ----

row({ cls: 'unbounded', name: 'oci-layout symlinked to /dev/zero: refused without reading',
  arrange: (p) => { rmSync(join(p.store, 'oci-layout')); symlinkSync('/dev/zero', join(p.store, 'oci-layout')); },
  act: async (p) => rejectsWith(openStore(p.store), 'FAILED_PRECONDITION', /oci-layout is a symlink/) });
row({ cls: 'unbounded', name: 'oci-layout of 1 MiB: refused by the bound while reading',
  arrange: (p) => writeFileSync(join(p.store, 'oci-layout'), Buffer.alloc(1024 * 1024, 0x20)),
  act: async (p) => rejectsWith(openStore(p.store), 'FAILED_PRECONDITION', /larger than 65536 bytes/) });
row({ cls: 'unbounded', name: 'index.json over the limit: refused naming both sizes',
  act: async (p) => rejectsWith(openStore(p.store, { maxIndexBytes: 100 }).then((s) => s.readIndex()), 'RESOURCE_EXHAUSTED', /index\.json: \d+ bytes is over the limit of 100 bytes for an index\.json/) });
row({ cls: 'unbounded', name: 'a manifest whose descriptor claims 1 GiB: not read, a BAD_DOCUMENT finding',
  arrange: (p) => {
    const index = JSON.parse(readFileSync(join(p.store, 'index.json'), 'utf8'));
    index.manifests[0].size = 1024 ** 3;
    writeFileSync(join(p.store, 'index.json'), JSON.stringify(index));
  },
  async act(p) {
    const r = await fsck(p.store);
    assert.ok(r.findings.some((f) => f.kind === 'BAD_DOCUMENT' && f.message.includes('over the limit of 4194304 bytes')));
  } });
row({ cls: 'unbounded', name: 'ingest stops one chunk past the declared size and leaves no temp file',
  async act(p) {
    const digest = 'sha256:' + 'e'.repeat(64);
    let yielded = 0;
    const endless = (function* () { for (;;) { yielded++; yield Buffer.alloc(64 * 1024); } })();
    await rejectsWith(ingestBlob(p.store, { digest: digest as never, size: 100_000 }, () => endless), 'DATA_LOSS', /more than the 100000 bytes expected/);
    assert.ok(yielded <= 2, `read ${yielded} chunks`);
  } });
row({ cls: 'unbounded', name: 'an archive of 26 top-level JSON entries of 4 MiB: refused at the total cap',
  async act(p) {
    const files: Record<string, string> = {};
    for (let i = 0; i < 26; i++) files[`c${i}.json`] = `"${'x'.repeat(4 * 1024 * 1024 - 16)}"`;
    const archive = join(p.outside, 'many.tar.gz');
    writeFileSync(archive, gzipSync(tarFile(files), { level: 1 }));
    await rejectsWith(importArchive(p.store, archive), 'RESOURCE_EXHAUSTED', /JSON entries hold more than 100663296 bytes together/);
    rmSync(archive);
  } });

// ---- outside the store ----

const TRAVERSING_STATE = ['_digests/../../victim', '../victim', 'a/../../victim', '/victim', '_digests/sha256/../../../victim', './../victim',
  '_digests/sha256/' + 'a'.repeat(64) + '/../../../../victim', 'victim/..', '..'];
for (const entry of TRAVERSING_STATE) {
  row({ cls: 'outside', name: `materialize with the state entry ${JSON.stringify(entry)} deletes nothing outside OUTDIR`,
    async act(p) {
      const out = join(p.outside, 'out');
      const victim = join(p.outside, 'victim');
      mkdirSync(join(victim, 'blobs', 'sha256'), { recursive: true });
      writeFileSync(join(victim, 'index.json'), 'victim\n');
      writeFileSync(join(victim, 'blobs', 'sha256', 'f'.repeat(64)), 'victim blob\n');
      mkdirSync(out);
      const path = entry === '/victim' ? victim : entry;
      const before = snapshot(victim);
      // The state of earlier versions, then this version's (checksum and all).
      for (const [name, bytes] of [['.layoutfs-materialized.json', JSON.stringify({ views: [path] })],
        ['.layoutfs-materialized', encodeState({ store: p.store, format: 'any', views: new Map([[path, 'x'.repeat(43)]]) })]] as const) {
        writeFileSync(join(out, name), bytes);
        await materialize(await openStore(p.store), out, undefined, () => undefined);
        assert.deepEqual(snapshot(victim), before);
      }
      rmSync(out, { recursive: true });
      rmSync(victim, { recursive: true });
    } });
}
row({ cls: 'outside', name: 'materialize: a view directory under OUTDIR that is a symlink out is not followed when removed',
  async act(p) {
    const out = join(p.outside, 'out');
    const victim = join(p.outside, 'victim');
    mkdirSync(join(victim, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(victim, 'index.json'), 'victim\n');
    mkdirSync(out);
    symlinkSync(victim, join(out, 'gone'));
    writeFileSync(join(out, '.layoutfs-materialized.json'), JSON.stringify({ views: ['gone'] }));
    const before = snapshot(victim);
    await materialize(await openStore(p.store), out, undefined, () => undefined);
    assert.deepEqual(snapshot(victim), before);
    rmSync(out, { recursive: true });
    rmSync(victim, { recursive: true });
  } });
row({ cls: 'outside', name: 'materialize: a symlinked store blob is refused, never written into the output',
  arrange: (p) => { const l = layerOf(p, p.fx.base); renameSync(blobOf(p, l), join(p.outside, 'moved')); symlinkSync(join(p.outside, 'moved'), blobOf(p, l)); },
  async act(p) {
    const out = join(p.dir, 'out');
    await rejectsWith(materialize(await openStore(p.store), out, ['docker.io/library/base:1'], () => undefined),
      'FAILED_PRECONDITION', /is a symlink; blobs must be regular files/);
    const links = [...snapshot(out).values()].filter((v) => v.includes('->'));
    assert.deepEqual(links, []);
  } });
for (const which of ['blobs', 'blobs/sha256']) {
  row({ cls: 'outside', name: `${which} swapped for a symlink after start-up: reads are refused`, storeChanges: true,
    async act(p) {
      const view = await View.open(await openStore(p.store));
      const copy = join(p.dir, 'copy-of-' + which.replace('/', '-'));
      execFileSync('cp', ['-a', join(p.store, which), copy]);
      renameSync(join(p.store, which), join(p.dir, 'aside'));
      symlinkSync(copy, join(p.store, which));
      await rejectsWith(view.openBlob(p.fx.base.digest as never, p.fx.base.size), 'FAILED_PRECONDITION', /resolves to .*copy-of-.*a path inside the store must not go through a symlink/);
    } });
}
row({ cls: 'outside', name: 'the store directory replaced after start-up: reads are refused', storeChanges: true,
  async act(p) {
    const view = await View.open(await openStore(p.store));
    renameSync(p.store, join(p.dir, 'old-store'));
    execFileSync('cp', ['-a', join(p.dir, 'old-store'), p.store]);
    await rejectsWith(view.openBlob(p.fx.base.digest as never, p.fx.base.size), 'FAILED_PRECONDITION', /the store directory was replaced since it was opened/);
  } });
function plantedSource(p: Place): { src: string; layer: Desc } {
  const src = join(p.dir, 'src');
  const b = new LayoutBuilder(src);
  const img = b.image({ layers: [{ planted: 'x' }] });
  b.add(img, 'src:1').write();
  const layer = JSON.parse(readFileSync(join(src, 'blobs/sha256', img.digest.slice(7)), 'utf8')).layers[0] as Desc;
  return { src, layer };
}
row({ cls: 'outside', name: 'a symlink planted at a blob path: import does not touch the outside file, and replaces the link', storeChanges: true,
  arrange(p) {
    const { src, layer } = plantedSource(p);
    const target = join(p.outside, 'planted');
    writeFileSync(target, readFileSync(join(src, 'blobs/sha256', layer.digest.slice(7))));
    utimesSync(target, new Date(1e12), new Date(1e12));
    symlinkSync(target, blobOf(p, layer));
  },
  async act(p) {
    const { src, layer } = plantedSource(p);
    await importLayout(p.store, src);
    assert.ok(lstatSync(blobOf(p, layer)).isFile(), 'the blob is a regular file now');
  } });
row({ cls: 'outside', name: 'a symlinked blob: fsck --verify reports it instead of reading the outside file',
  arrange: (p) => { const l = layerOf(p, p.fx.base); renameSync(blobOf(p, l), join(p.outside, 'moved')); symlinkSync(join(p.outside, 'moved'), blobOf(p, l)); },
  async act(p) {
    const r = await fsck(p.store, { verify: true });
    assert.ok(r.findings.some((f) => f.kind === 'NOT_REGULAR' && f.message.includes('is a symlink')));
    assert.equal(r.clean, false);
  } });
for (const [what, plant] of [['a symlink to a file outside', (p: Place) => symlinkSync(join(p.outside, 'secret'), join(p.store, VERIFIED_NAME))],
  ['a FIFO', (p: Place) => mkfifo(join(p.store, VERIFIED_NAME))]] as const) {
  row({ cls: 'outside', name: `fsck --verify's record of verified blobs ${what}: not read, replaced, nothing outside written`, storeChanges: true,
    arrange: plant,
    async act(p) {
      const r = await fsck(p.store, { verify: true });
      assert.equal(r.verified?.skipped, 0, 'nothing taken from it');
      assert.ok(r.verified.hashed > 0);
      assert.ok(lstatSync(join(p.store, VERIFIED_NAME)).isFile(), 'a regular file now');
    } });
}
for (const [what, plant] of [['a symlink to a file outside', (p: Place) => symlinkSync(join(p.outside, 'secret'), join(p.store, LISTING_NAME))],
  ['a FIFO', (p: Place) => mkfifo(join(p.store, LISTING_NAME))]] as const) {
  row({ cls: 'outside', name: `the saved blob listing ${what}: not read, blobs/ is listed`,
    arrange: plant,
    async act(p) {
      // Only a directory unchanged for a second has its saved listing looked for.
      await sleep(1100);
      const listed = (await (await openStore(p.store)).listAllBlobsSince(undefined)).blobs;
      assert.ok(listed.has(parseDigest(p.fx.base.digest, 'fixture')));
      assert.ok(listed.has(parseDigest(layerOf(p, p.fx.base).digest, 'fixture')));
    } });
}
for (const [what, plant] of [['a symlink to a file outside', (p: Place) => symlinkSync(join(p.outside, 'secret'), join(p.store, CLOSURES_NAME))],
  ['a FIFO', (p: Place) => mkfifo(join(p.store, CLOSURES_NAME))]] as const) {
  row({ cls: 'outside', name: `the recorded closures ${what}: not read, ls counts from the documents and replaces it`, storeChanges: true,
    arrange: plant,
    async act(p) {
      const inv = await inventory(await View.open(await openStore(p.store)));
      assert.ok(inv.references.length > 0 && inv.references.every((r) => r.totalBytes > 0));
      assert.ok(lstatSync(join(p.store, CLOSURES_NAME)).isFile(), 'a regular file now');
    } });
}
row({ cls: 'outside', name: 'index.json symlinked outside: refused, not followed',
  arrange: (p) => { rmSync(join(p.store, 'index.json')); symlinkSync(join(p.outside, 'index.json'), join(p.store, 'index.json')); },
  act: async (p) => rejectsWith(openStore(p.store).then((s) => s.readIndex()), 'FAILED_PRECONDITION', /index\.json is a symlink; store files must be regular files/) });
row({ cls: 'outside', name: 'blobs/sha256 a symlink out at start-up: refused',
  arrange: (p) => { renameSync(join(p.store, 'blobs/sha256'), join(p.outside, 'sha256')); symlinkSync(join(p.outside, 'sha256'), join(p.store, 'blobs/sha256')); },
  act: async (p) => rejectsWith(openStore(p.store), 'FAILED_PRECONDITION', /outside the store/) });

// ---- checks that missed ----

for (const [name, change] of [['shorter', (f: string) => truncateSync(f, 10)], ['longer', (f: string) => writeFileSync(f, Buffer.concat([readFileSync(f), Buffer.from('x')]))]] as const) {
  row({ cls: 'checks', name: `a layer ${name} than its descriptor: fsck reports SIZE_MISMATCH`,
    arrange: (p) => { const f = blobOf(p, layerOf(p, p.fx.base)); execFileSync('chmod', ['u+w', f]); change(f); },
    async act(p) {
      const r = await fsck(p.store);
      const f = r.findings.find((x) => x.kind === 'SIZE_MISMATCH');
      assert.ok(f, JSON.stringify(r.findings));
      assert.match(f.message, /the file has \d+ bytes, its descriptor says \d+/);
      assert.equal(r.damaged, true);
    } });
}
row({ cls: 'checks', name: 'a config shorter than its descriptor: fsck reports SIZE_MISMATCH',
  arrange: (p) => { const cfg = JSON.parse(readFileSync(blobOf(p, p.fx.base), 'utf8')).config as Desc; truncateSync(blobOf(p, cfg), 5); },
  async act(p) {
    const r = await fsck(p.store);
    assert.ok(r.findings.some((x) => x.kind === 'SIZE_MISMATCH'));
  } });
row({ cls: 'checks', name: 'a reference whose view path has a component over 255 bytes: a finding, not a listed view',
  arrange: (p) => {
    const index = JSON.parse(readFileSync(join(p.store, 'index.json'), 'utf8'));
    index.manifests.push({ ...index.manifests[0], annotations: { 'org.opencontainers.image.ref.name': 'repo:' + 't'.repeat(120) + '%'.repeat(50) } });
    writeFileSync(join(p.store, 'index.json'), JSON.stringify(index));
  },
  async act(p) {
    const r = await fsck(p.store);
    assert.ok(r.findings.some((f) => f.kind === 'UNMAPPABLE_NAME' && f.message.includes('is 270 bytes, over the 255')), JSON.stringify(r.findings));
  } });

// ---- output and protocol ----

const CONTROL_NAMES: [string, string][] = [['ESC', '\x1b]0;pwned\x07'], ['CSI (C1)', 'a\x9b2Jb'], ['BEL', 'x\x07'], ['CR', 'ok\rfake'],
  ['NL', 'one\ntwo'], ['DEL', 'a\x7f'], ['NUL', 'a\0b'], ['TAB', 'a\tb']];
for (const [what, name] of CONTROL_NAMES) {
  row({ cls: 'output', name: `a reference name with ${what} is escaped in tables`,
    act() {
      const table = formatTable(['REFERENCE'], [[name]]);
      // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
      assert.doesNotMatch(table.split('\n')[1]!, /[\u0000-\u001f\u007f-\u009f]/);
      assert.equal(escapeControls(name).length > name.length, true);
    } });
}
row({ cls: 'output', name: 'a lock dated in the future fails at once, naming how to recover',
  arrange: (p) => { mkdirSync(join(p.store, LOCK_NAME)); utimesSync(join(p.store, LOCK_NAME), new Date(Date.now() + 3600e3), new Date(Date.now() + 3600e3)); },
  act: (p) => rejectsWith(withStoreLock(p.store, () => Promise.resolve(undefined)), 'UNAVAILABLE', /in the future, so it never goes stale; if no layoutfs writer .* is running on this store, remove it: rmdir .*\.layoutfs\.lock/) });

/** A tar of regular files (512-byte headers, ustar). */
function tarFile(files: Record<string, string | Buffer>, types: Record<string, { type: string; link: string }> = {}): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const body = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const special = types[name];
    const h = Buffer.alloc(512);
    h.write(name, 0, 100);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write((special ? 0 : body.length).toString(8).padStart(11, '0') + '\0', 124);
    h.write('00000000000\0', 136);
    h.write(special?.type ?? '0', 156);
    if (special) h.write(special.link, 157, 100);
    h.write('ustar\0', 257);
    h.write('00', 263);
    h.fill(' ', 148, 156);
    let sum = 0;
    for (const byte of h) sum += byte;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    parts.push(h, special ? Buffer.alloc(0) : body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

// ---- classes that held: tar-slip forms ----

const TAR_SLIP: [string, Record<string, string>, Record<string, { type: string; link: string }>?][] = [
  ['../evil', { '../evil': 'x' }],
  ['/etc/evil', { '/etc/evil': 'x' }],
  ['a/../../evil', { 'a/../../evil': 'x' }],
  ['./../evil', { './../evil': 'x' }],
  ['blobs/../../evil', { 'blobs/../../evil': 'x' }],
  ['..', { '..': 'x' }],
  ['a symlink to ../../etc', { 'blobs/link': '' }, { 'blobs/link': { type: '2', link: '../../etc' } }],
  ['a hard link to /etc/passwd', { 'blobs/hard': '' }, { 'blobs/hard': { type: '1', link: '/etc/passwd' } }],
];
for (const [what, files, types] of TAR_SLIP) {
  row({ cls: 'tar-slip', name: `an archive entry ${what} is refused, nothing written`,
    async act(p) {
      const archive = join(p.outside, 'slip.tar');
      writeFileSync(archive, tarFile(files, types));
      await rejectsWith(importArchive(p.store, archive), 'INVALID_ARGUMENT', /points outside the archive \(tar-slip\); nothing was imported/);
      rmSync(archive);
    } });
}

// ---- classes that held: digest strings ----

const BAD_DIGESTS = ['sha256:', 'sha256:' + 'A'.repeat(64), 'sha256:' + 'a'.repeat(63), 'sha256:' + 'a'.repeat(65), 'sha256:../../etc/passwd',
  'sha256:' + 'a'.repeat(62) + '/x', 'md5:' + 'a'.repeat(32), 'sha512:' + 'a'.repeat(64), 'SHA256:' + 'a'.repeat(64), ' sha256:' + 'a'.repeat(64),
  'sha256:' + 'a'.repeat(64) + '\n', 'sha256:' + 'g'.repeat(64), 'sha256%3A' + 'a'.repeat(64), '', 'sha256::' + 'a'.repeat(63)];
for (const d of BAD_DIGESTS) {
  row({ cls: 'digest', name: `digest ${JSON.stringify(d)} is refused before any path is built`,
    act() {
      assert.throws(() => parseDigest(d), (err: Error & { code?: string }) => err.code === 'INVALID_ARGUMENT' && err.message.includes('is not a supported digest'));
    } });
}

// ---- classes that held, and output rules, over HTTP: one server over one store ----

let served: Served & { view: View };
let httpPlace: Place;
let httpStoreBefore: Map<string, string>;
const cleanups: (() => unknown)[] = [];
after(async () => { for (const fn of cleanups.reverse()) await fn(); });
let world: Promise<void> | undefined;
/** One server over one store for every HTTP row, started by the first of them. */
function httpWorld(): Promise<void> {
  return (world ??= (async () => {
    const ctx = { after: (fn: () => unknown) => cleanups.push(fn) } as unknown as TestContext;
    const dir = tempDir(ctx);
    const store = join(dir, 'store');
    const fx = buildFixtureStore(store);
    const html = fx.builder.blob('<script>alert(1)</script>', 'text/html');
    fx.builder.add(html, 'web:html').write();
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'outside bytes\n');
    httpPlace = { dir, store, outside, fx };
    served = await startInProcess(ctx, store);
    httpStoreBefore = snapshot(store);
  })());
}

interface HttpRow {
  cls: string;
  name: string;
  request: string;
  status: number;
  /** Matched against the response head. */
  head?: RegExp;
}

function httpRow(r: HttpRow): void {
  test(`[${r.cls}] ${r.name}`, async () => {
    await httpWorld();
    const res = await within(ROW_MS, rawRequest(served.hostPort, r.request));
    assert.equal(res.status, r.status, res.head);
    if (r.head) assert.match(res.head, r.head);
    assert.doesNotMatch(res.body.toString('latin1'), /outside bytes|root:x:0:0/);
    assert.deepEqual(snapshot(httpPlace.store), httpStoreBefore);
  });
}

const get = (target: string, extra = '') => `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${extra}\r\n`;

httpRow({ cls: 'output', name: 'a tag whose root is text/html is not a manifest', request: get('/v2/layoutfs/bare/manifests/html'), status: 404,
  head: /X-Content-Type-Options: nosniff/i });
httpRow({ cls: 'output', name: 'nosniff on the registry base', request: get('/v2/'), status: 200, head: /X-Content-Type-Options: nosniff/i });
httpRow({ cls: 'output', name: 'nosniff on a 404', request: get('/nowhere'), status: 404, head: /X-Content-Type-Options: nosniff/i });
httpRow({ cls: 'output', name: 'nosniff on a tree file', request: get('/layouts/latest/oci-layout'), status: 200, head: /X-Content-Type-Options: nosniff/i });
httpRow({ cls: 'output', name: 'an unknown blob in a repository is a 404', request: get(`/v2/layoutfs/bare/blobs/sha256:${'0'.repeat(64)}`), status: 404 });

const TRAVERSALS: [string, number][] = [
  ['/layouts/../../../../etc/passwd', 400], ['/layouts/%2e%2e/%2e%2e/etc/passwd', 400], ['/layouts/%2E%2E/store/oci-layout', 400],
  ['/layouts/..%2f..%2fetc%2fpasswd', 400], ['/layouts/%252e%252e/etc/passwd', 404], ['/layouts/latest/..%5c..%5cetc', 400],
  ['/layouts/latest/blobs/sha256/..', 400], ['/layouts/%00', 400], ['/layouts/latest%00/oci-layout', 400], ['/layouts//etc/passwd', 400],
  ['/layouts/./latest/oci-layout', 400], ['/v2/../../etc/passwd/manifests/x', 400], ['/v2/%2e%2e/manifests/latest', 400],
  ['/v2/layoutfs/bare/blobs/sha256:..%2f..%2fetc%2fpasswd', 400], ['/v2/layoutfs/bare/manifests/..%2f..%2f', 400],
  ['/layouts/latest/blobs/sha256/%2e%2e%2f%2e%2e%2fstore', 400],
];
for (const [target, status] of TRAVERSALS) {
  httpRow({ cls: 'traversal', name: `GET ${target}`, request: get(target), status });
}

const app = () => httpPlace.fx.base;
const RANGES: [string, number][] = [
  ['bytes=0-0', 206], ['bytes=-1', 206], ['bytes=0-', 206], ['bytes=999999999-', 200], ['bytes=5-1', 200], ['bytes=abc', 200],
  ['bytes=-0', 416], ['bytes=0-1,2-3', 206], [`bytes=${Array.from({ length: 300 }, (_, i) => `${i}-${i}`).join(',')}`, 200],
  ['items=0-1', 200], ['bytes=0-1,0-1', 200], ['bytes= 1-2', 206],
];
for (const [range, status] of RANGES) {
  test(`[range] Range: ${range.length > 40 ? range.slice(0, 40) + '…' : range} on a manifest blob -> ${status}`, async () => {
    await httpWorld();
    const res = await within(ROW_MS, fetch(`${served.url}/v2/docker.io/library/base/blobs/${app().digest}`, { headers: { range } }));
    await res.arrayBuffer();
    assert.equal(res.status, status);
    assert.deepEqual(snapshot(httpPlace.store), httpStoreBefore);
  });
}

const SMUGGLING: [string, string, number][] = [
  ['Content-Length and Transfer-Encoding', 'GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['two different Content-Lengths', 'GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
  ['a negative Content-Length', 'GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400],
  ['an obs-fold header line', 'GET /v2/ HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n', 400],
  ['a bare LF in the request line', 'GET /v2/ HTTP/1.1\nHost: x\r\n\r\n', 400],
  ['a space before the colon', 'GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length : 0\r\n\r\n', 400],
  ['a bad chunk size', 'POST /v2/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
];
for (const [what, request, status] of SMUGGLING) {
  httpRow({ cls: 'smuggling', name: what, request, status });
}

// ---- process-level rows: the mount and serve ----

test('[output] a directory removed by a refresh answers ENOENT in the mount', async (t) => {
  if (!requireFuse(t)) return;
  const p = place(t);
  const m = await startMount(t, p.store);
  const dir = join(m.dir, 'docker.io/library/base/1/blobs/sha256');
  readdirSync(dir);
  const index = JSON.parse(readFileSync(join(p.store, 'index.json'), 'utf8'));
  index.manifests = index.manifests.filter((e: { annotations?: Record<string, string> }) => e.annotations?.['org.opencontainers.image.ref.name'] !== 'docker.io/library/base:1');
  writeFileSync(join(p.store, 'index.json.new'), JSON.stringify(index));
  renameSync(join(p.store, 'index.json.new'), join(p.store, 'index.json'));
  await waitFor('the view to go', () => !existsSync(join(m.dir, 'docker.io/library/base/1')));
  for (const path of [dir, join(m.dir, 'docker.io/library/base/1'), join(m.dir, 'docker.io/library/base')]) {
    assert.throws(() => readdirSync(path), { code: 'ENOENT' }, path);
  }
});

test('[output] SIGTERM stops serve within a few seconds even with a stalled download', async (t) => {
  const p = place(t);
  const big = p.fx.builder.blob(Buffer.alloc(64 * 1024 * 1024, 1), 'application/vnd.oci.image.layer.v1.tar');
  const img = p.fx.builder.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: p.fx.base, layers: [big] },
    'application/vnd.oci.image.manifest.v1+json');
  p.fx.builder.add(img, 'big:1').write();
  const proc = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', p.store], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => proc.kill('SIGKILL'));
  let out = '';
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('serve to listen', () => /http:\/\/127\.0\.0\.1:\d+/.test(out));
  const port = Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const stalled = connect(port, '127.0.0.1');
  stalled.on('error', () => undefined);
  stalled.write(get(`/v2/layoutfs/bare/blobs/${big.digest}`).replace('Connection: close', 'Connection: keep-alive'));
  stalled.pause();
  await new Promise((r) => setTimeout(r, 300));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  const t0 = Date.now();
  proc.kill('SIGTERM');
  await within(6_000, exited);
  assert.ok(Date.now() - t0 < 6_000);
  stalled.destroy();
});
