import type { Command } from 'commander';
import { collectGarbage, DEFAULT_GC_GRACE_MS } from '../../store/gc/sweep.js';
import { formatBytes, printResult } from '../format.js';
import { parseDuration } from '../options.js';
import { progressOnStart } from '../progress.js';

export function registerGc(program: Command): void {
  program
    .command('gc')
    .description('delete blobs no reference reaches (and leftover temp files), older than the grace period')
    .argument('<store>', 'the shared store')
    .option('--dry-run', 'only say what would be deleted')
    .option('--grace <duration>', 'keep unreferenced files younger than this (default 1h: imports in flight)', parseDuration)
    .option('--json', 'print JSON')
    .action(async (store: string, opts: { dryRun?: boolean; grace?: number; json?: boolean }) => {
      const progress = progressOnStart('gc');
      const r = await collectGarbage(store, { graceMs: opts.grace ?? DEFAULT_GC_GRACE_MS, dryRun: opts.dryRun,
        onStart: progress.onStart, onProgress: progress.onProgress })
        .finally(progress.stop);
      const dangling = r.danglingReferrers.length;
      const entries = dangling === 0 ? '' : `; ${opts.dryRun ? 'would drop' : 'dropped'} ${dangling} index.json entries of referrers whose subject is gone`;
      printResult(opts.json, r, () => (opts.dryRun
        ? `would delete ${r.delete.length} files (${formatBytes(r.bytes)}); ${r.young} unreferenced but younger than the grace period, ${r.leased} leased by imports in flight`
        : `deleted ${r.deleted} files, freed ${formatBytes(r.freed)}; kept ${r.marked} reachable blobs, ${r.young} young unreferenced files, ${r.leased} leased by imports in flight`) + entries);
    });
}
