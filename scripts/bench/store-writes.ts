import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LayoutBuilder } from '../../test/fixtures/layout-builder.js';
import { generateLargeStore } from './generate-large-store.js';

/**
 * Issue 5's figures: importing 5 images that share a ~100 MB base into an empty store, against
 * `skopeo copy oci:SRC:TAG oci:STORE:TAG` per image in the same run (with the bytes each wrote);
 * and gc and fsck on 10,000 references over 100,000 blobs (wall time and peak RSS).
 */
const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'layoutfs-bench-writes-'));
const src = join(work, 'src');
const b = new LayoutBuilder(src);
const base = b.blob(randomBytes(100 * 1024 * 1024), 'application/vnd.oci.image.layer.v1.tar');
const tags: string[] = [];
for (let i = 0; i < 5; i++) {
  const top = b.blob(randomBytes(1024 * 1024), 'application/vnd.oci.image.layer.v1.tar');
  const config = b.json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [base.digest, top.digest] }, n: i }, 'application/vnd.oci.image.config.v1+json');
  const manifest = b.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [base, top] }, 'application/vnd.oci.image.manifest.v1+json');
  b.add(manifest, `img${i}`);
  tags.push(`img${i}`);
}
b.write();

const time = (cmd: string, args: string[]) => {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
};
const storeBytes = (dir: string) => readdirSync(join(dir, 'blobs', 'sha256')).reduce((s, n) => s + statSync(join(dir, 'blobs', 'sha256', n)).size, 0);
const unique = storeBytes(src);

const ours = join(work, 'layoutfs-store');
spawnSync(process.execPath, [cli, 'init', ours]);
const tOurs = time(process.execPath, [cli, 'import', ours, src]);
const skopeoStore = join(work, 'skopeo-store');
let tSkopeo = 0;
for (const tag of tags) tSkopeo += time('skopeo', ['copy', '-q', `oci:${src}:${tag}`, `oci:${skopeoStore}:${tag}`]);
process.stdout.write(`import 5 images sharing a 100 MiB base: layoutfs ${tOurs.toFixed(2)} s, skopeo copy x5 ${tSkopeo.toFixed(2)} s, ` +
  `ratio ${(tOurs / tSkopeo).toFixed(2)} of skopeo's time (aim <= 1.0); bytes stored ${storeBytes(ours)} (unique ${unique})\n`);
rmSync(work, { recursive: true, force: true });

const big = process.env.LAYOUTFS_BENCH_DIR ?? join(tmpdir(), 'layoutfs-bench-10k');
generateLargeStore(big, 10_000, 100_000);
for (const args of [['gc', '--dry-run', '--grace', '0s', big], ['fsck', big]]) {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cli, ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  const rss = Number(r.stderr.trim().split('\n').pop()) / 1024;
  process.stdout.write(`${args[0]}${args[1] === '--dry-run' ? ' --dry-run' : ''} on 10,000 references / 100,000 blobs: ${s.toFixed(2)} s, peak RSS ${rss.toFixed(0)} MiB\n`);
}
