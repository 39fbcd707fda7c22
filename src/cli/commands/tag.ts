import type { Command } from 'commander';
import { removeReferences, tagReference } from '../../store/index/name-changes.js';
import { printResult } from '../options.js';

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
      printResult(opts.json, c, () => c.action === 'moved' ? `moved ${c.name} from ${c.previous} to ${c.digest}` : `${c.action} ${c.name} -> ${c.digest}`);
    });
}

export function registerRm(program: Command): void {
  program
    .command('rm')
    .description('remove reference names from STORE (their blobs go at the next gc)')
    .argument('<store>', 'the shared store')
    .argument('<ref...>', 'reference names')
    .option('--json', 'print JSON')
    .action(async (store: string, refs: string[], opts: { json?: boolean }) => {
      const r = await removeReferences(store, refs);
      printResult(opts.json, r, () => [...r.removed.map((x) => `removed ${x.name} (${x.digest})`), ...r.missing.map((m) => `no reference named ${m}`)].join('\n'));
      if (r.missing.length > 0) process.exitCode = 1;
    });
}
