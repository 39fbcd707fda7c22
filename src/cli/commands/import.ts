import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { importArchive } from '../../archive/import-archive.js';
import { importLayout, type ImportReport } from '../../store/import/import-layout.js';
import { formatBytes, formatNameChange, printResult } from '../format.js';
import { collectRepeated, parseByteSize } from '../options.js';
import { progressOnStart } from '../progress.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import images into STORE from OCI layout directories, OCI archives (.tar, .tar.gz) and docker save tars (verified, deduplicated, crash-safe)')
    .argument('<store>', 'the shared store')
    .argument('<source...>', 'layout directories or archive files (paths may contain ":"; choose references with --select)')
    .option('--select <name>', 'import only this reference of the source (repeatable)', collectRepeated)
    .option('--ref <name>', 'the name to give the one imported image')
    .option('--force', 'move names that already point at another image')
    .option('--no-referrers', 'leave out the artifacts (signatures, SBOMs) whose subject is an imported image')
    .option('--max-unpacked-bytes <bytes>', 'refuse archives that expand to more (default 256G)', parseByteSize)
    .option('--json', 'print JSON')
    .action(async (store: string, sources: string[], opts: { select?: string[]; ref?: string; force?: boolean; referrers: boolean; maxUnpackedBytes?: number; json?: boolean }) => {
      const reports: ImportReport[] = [];
      for (const source of sources) {
        const progress = progressOnStart('import');
        const options = { select: opts.select, rename: opts.ref, force: opts.force, referrers: opts.referrers, maxUnpackedBytes: opts.maxUnpackedBytes,
          onStart: progress.onStart, onProgress: progress.onProgress };
        const isDir = (await stat(source).catch(() => undefined))?.isDirectory();
        try {
          reports.push(await (isDir ? importLayout(store, source, options) : importArchive(store, source, options)));
        } finally {
          progress.stop();
        }
      }
      printResult(opts.json, reports, () => reports.flatMap((r) => [
        ...r.references.map(formatNameChange),
        ...r.referrers.map((d) => `referrer ${d}: kept with its subject`),
        ...r.warnings.map((w) => `warning: ${w}`),
        `${r.source}: ${r.blobs} blobs, ${formatBytes(r.bytesWritten)} written, ${formatBytes(r.bytesSkipped)} already in the store`,
      ]).join('\n'));
    });
}
