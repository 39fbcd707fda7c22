import type { Command } from 'commander';
import { collectGarbage, DEFAULT_GC_GRACE_MS } from '../../store/gc/sweep.js';
import { fsck, storeBytes } from '../../store/fsck.js';
import { formatBytes } from '../format.js';
import { byteProgress, type Progress } from '../progress.js';
import { parseDuration, printResult } from '../options.js';

export function registerGc(program: Command): void {
  program
    .command('gc')
    .description('delete blobs no reference reaches (and leftover temp files), older than the grace period')
    .argument('<store>', 'the shared store')
    .option('--dry-run', 'only say what would be deleted')
    .option('--grace <duration>', 'keep unreferenced files younger than this (default 1h: imports in flight)', parseDuration)
    .option('--json', 'print JSON')
    .action(async (store: string, opts: { dryRun?: boolean; grace?: number; json?: boolean }) => {
      let progress: Progress | undefined;
      const r = await collectGarbage(store, { graceMs: opts.grace ?? DEFAULT_GC_GRACE_MS, dryRun: opts.dryRun,
        onStart: (bytes) => (progress = byteProgress('gc', bytes)), onProgress: (bytes) => progress?.add(bytes) })
        .finally(() => progress?.stop());
      printResult(opts.json, r, () => opts.dryRun
        ? `would delete ${r.delete.length} files (${formatBytes(r.bytes)}); ${r.young} unreferenced but younger than the grace period`
        : `deleted ${r.deleted} files, freed ${formatBytes(r.freed)}; kept ${r.marked} reachable blobs, ${r.young} young unreferenced files`);
    });
}

export function registerFsck(program: Command): void {
  program
    .command('fsck')
    .description('check STORE: layout, index.json entries, names, manifests, missing blobs, orphans, temp files')
    .argument('<store>', 'the shared store')
    .option('--verify', 're-hash every blob')
    .option('--json', 'print JSON')
    .action(async (store: string, opts: { verify?: boolean; json?: boolean }) => {
      const progress = opts.verify ? byteProgress('verify', await storeBytes(store)) : undefined;
      const r = await fsck(store, { verify: opts.verify, onVerify: progress?.add });
      progress?.stop();
      printResult(opts.json, r, () => [...r.findings.map((f) => `${f.kind}: ${f.message}`),
        r.clean ? `${r.store}: clean (${r.references} references, ${r.blobs} blobs)`
          : `${r.store}: ${r.findings.length} findings${r.damaged ? ', DAMAGED' : ' (garbage only: layoutfs gc removes it)'}`].join('\n'));
      // Exit 0: clean or garbage only; 1: damage (missing or wrong data).
      if (r.damaged) process.exitCode = 1;
    });
}
