import type { Command } from 'commander';
import { spaceReport } from '../../view/removal-space.js';
import { formatBytes, formatTable, printResult } from '../format.js';
import { openView } from '../open-view.js';

export function registerDu(program: Command): void {
  program
    .command('du')
    .description('bytes each reference holds alone, and what removing REFs would free at the next gc')
    .argument('<store>', 'the shared store')
    .argument('[ref...]', 'references whose removal to price')
    .option('--json', 'print JSON')
    .action(async (store: string, refs: string[], opts: { json?: boolean }) => {
      const r = await spaceReport(await openView(store, { syncReads: true }), refs);
      printResult(opts.json, r, () => [
        formatTable(['REFERENCE', 'SIZE', 'ONLY IT HOLDS'], r.references.map((x) => [x.name, formatBytes(x.totalBytes), formatBytes(x.uniqueBytes)])),
        ...(refs.length ? [`rm ${refs.join(' ')} would free ${formatBytes(r.freedByRemoving)} at the next gc`] : []),
      ].join('\n'));
    });
}
