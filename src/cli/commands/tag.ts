import type { Command } from 'commander';
import { tagReference } from '../../store/index/name-changes.js';
import { formatNameChange, printResult } from '../format.js';

export function registerTag(program: Command): void {
  program
    .command('tag')
    .description('give the image named REF the name NEWREF too')
    .argument('<store>', 'the shared store')
    .argument('<ref>', 'an existing reference name')
    .argument('<newref>', 'the new name')
    .option('--force', 'move NEWREF if it already points at another image')
    .option('--json', 'print JSON')
    .action(async (store: string, ref: string, newRef: string, opts: { force?: boolean; json?: boolean }) => {
      const c = await tagReference(store, ref, newRef, opts.force ?? false);
      printResult(opts.json, c, () => formatNameChange(c));
    });
}
