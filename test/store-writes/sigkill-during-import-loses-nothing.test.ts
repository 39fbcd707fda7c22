import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { CLI, runCli } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';

/** Starts an import and SIGKILLs it after `ms`; resolves with whether the kill landed before it finished. */
function killImportAfter(store: string, src: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, 'import', store, src], { stdio: 'ignore' });
    const timer = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL');
    });
  });
}

test('SIGKILL at many points of an import leaves at most garbage; a re-import succeeds and gc cleans up', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  const b = new LayoutBuilder(src);
  for (let i = 0; i < 3; i++) {
    const big = b.blob(randomBytes(8 * 1024 * 1024), 'application/vnd.oci.image.layer.v1.tar');
    const config = b.json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [big.digest] } }, 'application/vnd.oci.image.config.v1+json');
    b.add(b.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [big] }, 'application/vnd.oci.image.manifest.v1+json'), `big:${i}`);
  }
  b.write();
  const freshStore = (name: string) => {
    const store = join(dir, name);
    assert.equal(runCli(['init', store]).code, 0);
    return store;
  };

  // Kill points are fractions of how long a whole import takes on this machine (the same import
  // into a fresh store each time), so they spread over start-up, blob writes and the index
  // commit however fast the machine is. The fastest of three: on a loaded machine one slow
  // measurement would put most kill points after the end.
  const whole = Math.min(...[0, 1, 2].map((i) => {
    const started = performance.now();
    assert.equal(runCli(['import', freshStore(`whole-${i}`), src]).code, 0);
    return performance.now() - started;
  }));
  const stores: string[] = [];
  let killed = 0;
  for (const fraction of [0.15, 0.22, 0.29, 0.36, 0.43, 0.5, 0.57, 0.64, 0.71, 0.78, 0.85, 0.92]) {
    const store = freshStore(`store-${stores.length}`);
    stores.push(store);
    if (await killImportAfter(store, src, whole * fraction)) killed++;
    const fsck = JSON.parse(runCli(['fsck', '--json', store]).stdout);
    assert.equal(fsck.damaged, false, `after a kill at ${fraction} of an import: ${JSON.stringify(fsck.findings)}`);
    assert.ok(fsck.findings.every((f: { kind: string }) => ['ORPHAN_BLOB', 'TEMP_FILE'].includes(f.kind)));
  }
  assert.ok(killed >= 6, `most kills landed before the import finished (${killed} of 12)`);
  for (const store of [stores[4]!, stores[8]!]) {
    const again = runCli(['import', store, src]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(runCli(['gc', '--grace', '0s', store]).code, 0);
    const fsck = JSON.parse(runCli(['fsck', '--verify', '--json', store]).stdout);
    assert.deepEqual(fsck.findings, []);
    assert.equal(fsck.clean, true);
    assert.equal(fsck.references, 3);
  }
});

/** Starts an import and SIGKILLs it once a blob temp file has reached `bytes`; resolves when it is gone. */
function killImportAtByte(store: string, src: string, bytes: number): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, 'import', store, src], { stdio: 'ignore' });
    let hit = false;
    const dir = join(store, 'blobs', 'sha256');
    const poll = setInterval(() => {
      for (const name of readdirSync(dir).filter((n) => n.includes('.tmp-'))) {
        const size = statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0;
        if (size >= bytes && !hit) {
          hit = true;
          p.kill('SIGKILL');
        }
      }
    }, 1);
    p.on('exit', () => {
      clearInterval(poll);
      resolve(hit);
    });
  });
}

test('SIGKILL at byte offsets inside blob writes leaves only temp files; a re-import completes', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'store');
  assert.equal(runCli(['init', store]).code, 0);
  const src = join(dir, 'src');
  const b = new LayoutBuilder(src);
  const big = b.blob(randomBytes(64 * 1024 * 1024), 'application/vnd.oci.image.layer.v1.tar');
  const config = b.json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [big.digest] } }, 'application/vnd.oci.image.config.v1+json');
  b.add(b.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [big] }, 'application/vnd.oci.image.manifest.v1+json'), 'big:1');
  b.write();
  let hits = 0;
  for (const offset of [1, 4 << 20, 16 << 20, 32 << 20, 48 << 20]) {
    if (await killImportAtByte(store, src, offset)) hits++;
    const fsck = JSON.parse(runCli(['fsck', '--json', store]).stdout);
    assert.equal(fsck.damaged, false, `after a kill at byte ${offset}: ${JSON.stringify(fsck.findings)}`);
    assert.ok(!existsSync(join(store, 'blobs', 'sha256', big.digest.slice(7))), 'no partial blob under its final name');
  }
  assert.ok(hits >= 3, `the harness killed mid-blob (${hits} of 5)`);
  assert.equal(runCli(['import', store, src]).code, 0);
  assert.equal(runCli(['gc', '--grace', '0s', store]).code, 0);
  assert.deepEqual(JSON.parse(runCli(['fsck', '--verify', '--json', store]).stdout).findings, []);
});
