import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';

const require = createRequire(import.meta.url);

export interface Progress {
  add: (bytes: number) => void;
  stop: () => void;
}

/**
 * A bytes/rate/ETA bar on stderr when it is a terminal; nothing otherwise (logs and --json
 * output stay clean in scripts and CI).
 */
export function byteProgress(label: string, total: number): Progress {
  if (!process.stderr.isTTY || total <= 0) return { add: () => undefined, stop: () => undefined };
  // Loaded only for terminals, to keep start-up short.
  const cliProgress = require('cli-progress') as typeof cliProgressModule;
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {value}/{total} MB | {rate} MB/s | ETA {eta_formatted}`,
    hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  const mb = (n: number) => Math.round(n / 1e5) / 10;
  let done = 0;
  const started = Date.now();
  bar.start(mb(total), 0, { rate: '0' });
  return {
    add(bytes) {
      done += bytes;
      bar.update(mb(done), { rate: (mb(done) / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) });
    },
    stop: () => bar.stop(),
  };
}

/**
 * A byteProgress for work that learns its total only once it starts (import, gc): pass
 * `onStart` and `onProgress` to the work, and call `stop` when it ends, however it ends.
 */
export function progressOnStart(label: string): { onStart: (total: number) => void; onProgress: (bytes: number) => void; stop: () => void } {
  let progress: Progress | undefined;
  return {
    onStart: (total) => void (progress = byteProgress(label, total)),
    onProgress: (bytes) => progress?.add(bytes),
    stop: () => progress?.stop(),
  };
}
