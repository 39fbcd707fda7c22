import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLargeStore } from './generate-large-store.js';
import { median } from './timing.js';

/**
 * How every operation grows with the number of references: stores of 1k, 10k and 50k references
 * (LAYOUTFS_BENCH_SCALE=1000,10000,50000,100000 to choose), 10 blobs per reference, shared
 * layers. For each: `ls --json`, `fsck`, `gc --dry-run`, `du` (wall, peak RSS); mount ready; a
 * `tag` and an `import` visible in the mount (wall, and the mount's CPU for the refresh); the mount's RSS after
 * 20 changes; the first registry blob GET by digest after a change and the p50 of 50 more; a
 * crawl of every view through the mount (find | xargs stat) and the mount's RSS after it, and once idle. Each
 * size's figure is printed with its growth factor against the previous size.
 * LAYOUTFS_BENCH_PARTS=commands,mount,crawl,materialize (the default, all) chooses what runs:
 * `commands` is ls, fsck, gc and du; `mount` the mount's start, changes and registry GETs.
 */
const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const base = process.env.LAYOUTFS_BENCH_DIR ?? join(tmpdir(), 'layoutfs-bench-scale');
const sizes = (process.env.LAYOUTFS_BENCH_SCALE ?? '1000,10000,50000').split(',').map(Number);
const parts = new Set((process.env.LAYOUTFS_BENCH_PARTS ?? 'commands,mount,crawl,materialize').split(','));

function timed(args: string[]): { s: number; rssMiB: number } {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0 && !(args[0] === 'fsck' && r.status === 1)) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return { s, rssMiB: Number(r.stderr.trim().split('\n').pop()) / 1024 };
}

/**
 * CPU seconds (user + system, all threads) of the mount serving `url` so far, from its metrics:
 * getrusage's microseconds, where /proc/PID/stat counts 10 ms ticks, too coarse for a refresh of
 * 20-50 ms (one tick more read as x1.5).
 */
async function cpuSeconds(url: string): Promise<number> {
  const text = await (await fetch(`${url}/_layoutfs/metrics`)).text();
  return Number(/^process_cpu_seconds_total ([\d.]+)$/m.exec(text)![1]);
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

async function until(what: string, check: () => boolean, ms = 600_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function start(args: string[]): { proc: ChildProcess; out: () => string } {
  const proc = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] as const });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, out: () => out };
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

/** `registry.example/team{i%100}/app{i}:v{i%7}` (generate-large-store.ts). */
const nameOf = (i: number) => `registry.example/team${i % 100}/app${i}:v${i % 7}`;

/**
 * materialize at this size (issue 14: one new reference into an existing tree under 2 s at 50k):
 * the first run into an empty directory, then the run after one `tag`. The tree sits beside the
 * store, on its filesystem, so blobs are hard-linked. Peer of the first run: `cp -al` of the tree
 * it made, the same directories and links (the filesystem's own growth with size).
 */
function measureMaterializeOneNew(store: string): Record<string, number> {
  const tree = `${store}-materialized`;
  const copy = `${tree}-cp`;
  try {
    const first = timed(['materialize', store, tree]);
    const p = Date.now();
    const cp = spawnSync('cp', ['-al', tree, copy], { stdio: 'ignore' });
    if (cp.status !== 0) throw new Error(`cp -al ${tree} ${copy} failed`);
    const peer = (Date.now() - p) / 1000;
    rmSync(copy, { recursive: true, force: true });
    const tag = spawnSync(process.execPath, [cli, 'tag', store, nameOf(0), 'bench/materialized:1'], { encoding: 'utf8' });
    if (tag.status !== 0) throw new Error(tag.stderr);
    const oneNew = timed(['materialize', store, tree]).s;
    // The same crawl as the mount's, over real directories and hard links: the disk's figure.
    const c = Date.now();
    spawnSync('sh', ['-c', `find ${tree} -type f -print0 | xargs -0 stat > /dev/null`], { stdio: 'ignore' });
    return { 'materialize first run s': first.s, 'cp -al of that tree s (peer)': peer, 'materialize first run MiB': first.rssMiB,
      'materialize one new reference s': oneNew, 'crawl of the materialized tree s': (Date.now() - c) / 1000 };
  } finally {
    rmSync(tree, { recursive: true, force: true });
    rmSync(copy, { recursive: true, force: true });
  }
}

/** ls (first and later runs, with jq as its peer), fsck, gc --dry-run and du on `store`, into `fig`. */
function measureCommands(store: string, fig: Record<string, number>): void {
  // The first run reads every document and records the closures (and, once blobs/ has been
  // still for a second, the blob listing) beside index.json; later runs count from those.
  const first = timed(['ls', '--json', store]);
  fig['ls --json, first run s'] = first.s;
  fig['ls --json, first run MiB'] = first.rssMiB;
  const ls = timed(['ls', '--json', store]);
  fig['ls --json s'] = ls.s;
  fig['ls --json MiB'] = ls.rssMiB;
  // The peer for ls: jq reading the same index.json.
  const j = process.hrtime.bigint();
  if (spawnSync('jq', ['.manifests | length', join(store, 'index.json')], { stdio: 'ignore' }).status === 0) {
    fig['jq of index.json s (peer)'] = Number(process.hrtime.bigint() - j) / 1e9;
  }
  fig['fsck s'] = timed(['fsck', store]).s;
  fig['gc --dry-run s'] = timed(['gc', '--dry-run', store]).s;
  const du = timed(['du', store]);
  fig['du s'] = du.s;
  fig['du MiB'] = du.rssMiB;
}

async function measure(refs: number): Promise<Record<string, number>> {
  const store = join(base, `refs-${refs}`);
  generateLargeStore(store, refs, refs * 10);
  const fig: Record<string, number> = {};
  if (parts.has('commands')) measureCommands(store, fig);
  if (!parts.has('mount')) {
    if (parts.has('materialize')) Object.assign(fig, measureMaterializeOneNew(store));
    rmSync(store, { recursive: true, force: true });
    return fig;
  }
  const mnt = mkdtempSync(join(tmpdir(), 'layoutfs-bench-mnt-'));
  const t0 = Date.now();
  const mount = start(['mount', store, mnt, '--serve', '127.0.0.1:0']);
  try {
    await until('the mount', () => mount.out().includes('"msg":"serving"'));
    fig['mount ready s'] = (Date.now() - t0) / 1000;
    const pid = mount.proc.pid!;
    const url = /"url":"(http:\/\/[^"]+)"/.exec(mount.out())![1]!;
    const manifest = JSON.parse(readFileSync(join(mnt, 'registry.example/team0/app0/v0/index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const blobUrl = `${url}/v2/registry.example/team0/app0/blobs/${manifest.manifests[0]!.digest}`;
    // fetch() loads its HTTP client on first use (tens of ms): that is this process's cost, not the server's.
    await (await fetch(`${url}/v2/`)).arrayBuffer();
    const visible: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < 20; i++) {
      const before = await cpuSeconds(url);
      const t = Date.now();
      const tag = spawnSync(process.execPath, [cli, 'tag', store, nameOf(i), `bench/moved${i}:1`], { encoding: 'utf8' });
      if (tag.status !== 0) throw new Error(tag.stderr);
      await until('the tag in the mount', () => existsSync(join(mnt, `bench/moved${i}/1/index.json`)));
      visible.push((Date.now() - t) / 1000);
      // The refresh's CPU: let it settle (the change is visible once the new state is in).
      await new Promise((r) => setTimeout(r, 200));
      cpu.push(await cpuSeconds(url) - before);
      if (i === 0) {
        const g = Date.now();
        const res = await fetch(blobUrl);
        await res.arrayBuffer();
        fig['first blob GET after a change ms'] = Date.now() - g;
        const times: number[] = [];
        for (let k = 0; k < 50; k++) {
          const s = process.hrtime.bigint();
          await (await fetch(blobUrl)).arrayBuffer();
          times.push(Number(process.hrtime.bigint() - s) / 1e6);
        }
        fig['blob GET p50 ms'] = median(times);
      }
    }
    fig['tag visible in mount s (median of 20)'] = median(visible);
    fig['refresh CPU s (median of 20)'] = median(cpu);
    // An import brings blobs too: the refresh learns them from the blob directories' watch.
    const imported: number[] = [];
    const importCpu: number[] = [];
    for (let i = 0; i < 5; i++) {
      const src = mkdtempSync(join(tmpdir(), 'layoutfs-bench-src-'));
      generateLargeStore(src, 1, 3);
      const before = await cpuSeconds(url);
      const t = Date.now();
      const imp = spawnSync(process.execPath, [cli, 'import', store, src, '--ref', `bench/imported${i}:1`], { encoding: 'utf8' });
      rmSync(src, { recursive: true, force: true });
      if (imp.status !== 0) throw new Error(imp.stderr);
      await until('the import in the mount', () => existsSync(join(mnt, `bench/imported${i}/1/index.json`)));
      imported.push((Date.now() - t) / 1000);
      await new Promise((r) => setTimeout(r, 200));
      importCpu.push(await cpuSeconds(url) - before);
    }
    fig['import visible in mount s, command included (median of 5)'] = median(imported);
    fig['import refresh CPU s (median of 5)'] = median(importCpu);
    fig['mount RSS after 20 changes MiB'] = rssMiB(pid);
    if (parts.has('crawl')) {
      // Every view walked and stat'ed once, cold (the mount's own tables fill, the cache churns).
      const c = Date.now();
      const walk = spawnSync('sh', ['-c', `find ${mnt} -type f -print0 | xargs -0 stat > /dev/null`], { stdio: 'ignore' });
      if (walk.status !== 0) throw new Error('the crawl of the mount failed');
      fig['crawl of every view (find | xargs stat) s'] = (Date.now() - c) / 1000;
      fig['mount RSS after the crawl MiB'] = rssMiB(pid);
      // What the mount keeps once idle: its garbage collected (src/cli/trim-freed-memory.ts, every 10 s).
      await new Promise((r) => setTimeout(r, 25_000));
      fig['mount RSS 25 s after the crawl MiB'] = rssMiB(pid);
    }
    await stop(mount.proc);
    if (parts.has('materialize')) Object.assign(fig, measureMaterializeOneNew(store));
  } finally {
    await stop(mount.proc);
    spawnSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
    // The next size starts from the generated store again.
    rmSync(store, { recursive: true, force: true });
  }
  return fig;
}

let previous: Record<string, number> | undefined;
for (const refs of sizes) {
  const fig = await measure(refs);
  process.stdout.write(`${refs} references:\n`);
  for (const [k, v] of Object.entries(fig)) {
    const growth = previous?.[k] ? ` (x${(v / previous[k]).toFixed(2)})` : '';
    process.stdout.write(`  ${k}: ${v < 10 ? v.toFixed(3) : v.toFixed(1)}${growth}\n`);
  }
  previous = fig;
}
