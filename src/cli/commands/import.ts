import type { Command } from 'commander';
import { importLayout, type ImportReport } from '../../store/import-layout.js';
import { formatBytes } from '../format.js';
import { printResult } from '../options.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import images from OCI image layout directories into STORE (verified, deduplicated, crash-safe)')
    .argument('<store>', 'the shared store')
    .argument('<source...>', 'OCI image layout directories (paths may contain ":"; choose references with --select)')
    .option('--select <name>', 'import only this reference of the source (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--ref <name>', 'the name to give the one imported image')
    .option('--force', 'move names that already point at another image')
    .option('--json', 'print JSON')
    .action(async (store: string, sources: string[], opts: { select?: string[]; ref?: string; force?: boolean; json?: boolean }) => {
      const reports: ImportReport[] = [];
      for (const source of sources) {
        reports.push(await importLayout(store, source, { select: opts.select, rename: opts.ref, force: opts.force }));
      }
      printResult(opts.json, reports, () => reports.flatMap((r) => [
        ...r.references.map((c) => `${c.action === 'moved' ? `moved ${c.name} from ${c.previous} to` : `${c.action} ${c.name} ->`} ${c.digest}`),
        `${r.source}: ${r.blobs} blobs, ${formatBytes(r.bytesWritten)} written, ${formatBytes(r.bytesSkipped)} already in the store`,
      ]).join('\n'));
    });
}
