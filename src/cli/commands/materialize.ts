import type { Command } from 'commander';
import { materialize } from '../../materialize/materialize.js';
import { escapeControls, formatBytes, printResult } from '../format.js';
import { openStore } from '../../store/store-reader.js';

export function registerMaterialize(program: Command): void {
  program
    .command('materialize')
    .description('write each reference as a real standalone layout under OUTDIR, blobs hard-linked to the store (re-runs sync what changed)')
    .argument('<store>', 'the shared store')
    .argument('<outdir>', 'where the layouts go (view paths as in the mount)')
    .argument('[ref...]', 'only these references (default: all, and views of removed references are deleted)')
    .option('--full', 'check every view file by file, repairing files changed or deleted by hand (by default a view whose reference is unchanged since the last run is not looked at)')
    .option('--json', 'print JSON')
    .action(async (store: string, out: string, refs: string[], opts: { json?: boolean; full?: boolean }) => {
      // It serves nothing meanwhile: the documents of the views it syncs are read with blocking calls (2-3x cheaper, scripts/bench/README.md).
      const r = await materialize(await openStore(store, { syncReads: true }), out, refs, (msg) => process.stderr.write(`warning: ${escapeControls(msg)}\n`), { full: opts.full });
      printResult(opts.json, r, () => [
        ...r.added.map((n) => `added ${n}`), ...r.updated.map((n) => `updated ${n}`), ...r.removed.map((p) => `removed ${p}`),
        `${r.unchanged} unchanged; ${r.linked} blobs linked, ${r.copied} copied (${formatBytes(r.copiedBytes)})`,
      ].join('\n'));
    });
}
