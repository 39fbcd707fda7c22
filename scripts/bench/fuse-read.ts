import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnMount } from '../../test/fixtures/mount.js';
import { bigStore, generateLargeStore } from './generate-large-store.js';
import { dropCaches, median, timeShell } from './timing.js';

/**
 * The mount's speed, each figure against the direct path in the same run:
 * 1. sequential read of a 1 GiB blob through the mount, first read (store file in the page cache)
 *    and second read, against `dd` of the store file;
 * 2. `find -type f | xargs stat` over a store of 1,000 references, against the same tree
 *    materialized on disk with real hard links (`cp -a` of the mount), cold and warm.
 * Each in the modes below.
 */
const base = process.env.LAYOUTFS_BENCH_DIR ?? join(tmpdir(), 'layoutfs-bench-fuse');
const GiB = 1024 ** 3;
/**
 * The two data paths of the native FUSE core: passthrough as root (the kernel reads the store
 * file), and the native threads' pread that a mount without root uses (LAYOUTFS_FUSE_PASSTHROUGH=0
 * takes that path as root). Aims: first read, second read.
 */
const MODES = [
  ['passthrough (root): the kernel reads the store file', {}, [0.9, 0.9]],
  ['LAYOUTFS_FUSE_PASSTHROUGH=0 (the path without root): native threads pread, 1 MiB requests', { LAYOUTFS_FUSE_PASSTHROUGH: '0' }, [0.3, 0.7]],
] as const;

async function readBench(): Promise<void> {
  const store = bigStore(join(base, 'big'));
  const { readFileSync } = await import('node:fs');
  const digest = readFileSync(join(store, 'layer-digest'), 'utf8');
  const storeFile = join(store, 'blobs', 'sha256', digest.slice(7));
  const dd = (f: string) => `dd if=${f} of=/dev/null bs=1M status=none`;
  const gbps = (s: number) => (GiB / s / 1e9).toFixed(2);
  timeShell(dd(storeFile));
  process.stdout.write('1 GiB blob through the mount against dd of the (page-cached) store file, each read right after a direct one:\n');
  // This machine's speed drifts within a run: each mount read is paired with a direct read taken
  // just before it, and the figure is the median of the pairs' ratios.
  const pair = (file: string) => {
    const direct = timeShell(dd(storeFile));
    const mount = timeShell(dd(file));
    return { direct, mount, ratio: direct / mount };
  };
  const show = (what: string, pairs: { direct: number; mount: number; ratio: number }[], aim: number) => {
    const mount = median(pairs.map((p) => p.mount));
    const direct = median(pairs.map((p) => p.direct));
    const ratios = pairs.map((p) => p.ratio.toFixed(2)).join(' ');
    process.stdout.write(`    ${what}: ${mount.toFixed(3)} s (${gbps(mount)} GB/s) against ${direct.toFixed(3)} s (${gbps(direct)} GB/s): ` +
      `ratio ${median(pairs.map((p) => p.ratio)).toFixed(2)} of direct [${ratios}] (aim >= ${aim})\n`);
  };
  for (const [label, env, [firstAim, secondAim]] of MODES) {
    const first = [];
    const second = [];
    for (let i = 0; i < 5; i++) {
      const mnt = mkdtempSync(join(tmpdir(), 'layoutfs-bench-mnt-'));
      const m = await spawnMount(store, mnt, [], env);
      const file = join(mnt, 'big/1/blobs/sha256', digest.slice(7));
      first.push(pair(file));
      second.push(pair(file));
      await m.stop();
      rmSync(mnt, { recursive: true, force: true });
    }
    process.stdout.write(`  ${label}:\n`);
    show('first read ', first, firstAim);
    show('second read', second, secondAim);
  }
}

async function statBench(): Promise<void> {
  const store = join(base, 'refs-1000');
  generateLargeStore(store, 1000, 10_000);
  const mnt = mkdtempSync(join(tmpdir(), 'layoutfs-bench-mnt-'));
  const tree = join(base, 'materialized-1000');
  if (!existsSync(tree)) {
    const m = await spawnMount(store, mnt);
    timeShell(`cp -a ${mnt} ${tree}`);
    await m.stop();
  }
  const walk = (dir: string) => `cd ${dir} && find . -type f -print0 | xargs -0 stat > /dev/null`;
  process.stdout.write('find | xargs stat over 1,000 references:\n');
  for (const [label, env] of MODES) {
    // Cold: a fresh mount (empty kernel and view caches) against a dropped page cache.
    const canDrop = dropCaches();
    const coldDisk = timeShell(walk(tree));
    const m = await spawnMount(store, mnt, [], env);
    const coldMount = timeShell(walk(mnt));
    const warmDisk = median([1, 2, 3].map(() => timeShell(walk(tree))));
    const warmMount = median([1, 2, 3].map(() => timeShell(walk(mnt))));
    await m.stop();
    process.stdout.write(`  ${label}${canDrop ? '' : ' (page cache NOT dropped: the cold disk figure is warm)'}:\n`);
    process.stdout.write(`    cold: mount ${coldMount.toFixed(2)} s, hard-link tree ${coldDisk.toFixed(2)} s, ratio ${(coldMount / coldDisk).toFixed(2)}x the disk time (aim <= 2)\n`);
    process.stdout.write(`    warm: mount ${warmMount.toFixed(2)} s, hard-link tree ${warmDisk.toFixed(2)} s, ratio ${(warmMount / warmDisk).toFixed(2)}x the disk time (aim <= 1.3)\n`);
  }
  rmSync(mnt, { recursive: true, force: true });
}

// `fuse-read.js read` or `fuse-read.js stat` runs one half; no argument runs both.
const only = process.argv[2];
if (only !== 'stat') await readBench();
if (only !== 'read') await statBench();
