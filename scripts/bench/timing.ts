import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';

// Every figure writes to /dev/null: a regular file there (a rename over it) would make every
// baseline write to disk (see README.md).
if (!statSync('/dev/null').isCharacterDevice()) {
  throw new Error('/dev/null is not the null device here (ls -l /dev/null); restore it: rm /dev/null && mknod -m 666 /dev/null c 1 3');
}

/** Wall time of a shell command in seconds (throws when it fails). */
export function timeShell(command: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr.toString()}`);
  return seconds;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Drops the page cache when allowed (root outside a restricted container); false otherwise. */
export function dropCaches(): boolean {
  return spawnSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches']).status === 0;
}
