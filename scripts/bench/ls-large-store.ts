import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLargeStore } from './generate-large-store.js';

/**
 * `layoutfs ls --json` on a store of 10,000 references over 100,000 blobs: wall time and peak RSS
 * (issue 2 aims: under 3 s, under 300 MiB). Run by `npm run bench`; set LAYOUTFS_BENCH_DIR to keep
 * the generated store between runs.
 */
const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = process.env.LAYOUTFS_BENCH_DIR ?? join(tmpdir(), 'layoutfs-bench-10k');
const t0 = Date.now();
generateLargeStore(dir, 10_000, 100_000);
process.stdout.write(`store ${dir} ready in ${Date.now() - t0} ms\n`);

const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
for (const cacheSize of ['64M', '8M']) {
  const args = [cli, 'ls', '--json', '--cache-size', cacheSize, dir];
  const start = process.hrtime.bigint();
  const r = timeBin
    ? spawnSync(timeBin, ['-f', '%M', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 })
    : spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`ls failed: ${r.stderr}`);
  const refs = (JSON.parse(r.stdout) as { references: unknown[] }).references.length;
  const rssKiB = timeBin ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  process.stdout.write(`ls --json --cache-size ${cacheSize}: ${refs} refs, wall ${(ms / 1000).toFixed(2)} s, ` +
    `peak RSS ${(rssKiB / 1024).toFixed(0)} MiB (aim < 3 s, < 300 MiB)\n`);
}
