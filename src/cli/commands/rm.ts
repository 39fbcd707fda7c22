import type { Command } from 'commander';
import { removeReferences } from '../../store/index/name-changes.js';
import { printResult } from '../format.js';

export function registerRm(program: Command): void {
  program
    .command('rm')
    .description('remove reference names from STORE (their blobs go at the next gc)')
    .argument('<store>', 'the shared store')
    .argument('<ref...>', 'reference names')
    .option('--json', 'print JSON')
    .action(async (store: string, refs: string[], opts: { json?: boolean }) => {
      const r = await removeReferences(store, refs);
      if (opts.json || r.removed.length > 0) printResult(opts.json, r, () => r.removed.map((x) => `removed ${x.name} (${x.digest})`).join('\n'));
      // A missing name is an error, said on stderr the way every error is.
      if (!opts.json) for (const m of r.missing) process.stderr.write(`layoutfs: no reference named ${JSON.stringify(m)} in the store\n`);
      // Exit 1 when a name was not there: the caller's list was wrong.
      if (r.missing.length > 0) process.exitCode = 1;
    });
}
