import type { Command } from 'commander';
import { initStore } from '../../store/layout/init-store.js';
import { printResult } from '../format.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('make STORE an empty OCI image layout (does nothing to an existing one)')
    .argument('<store>', 'directory to create or check')
    .option('--json', 'print JSON')
    .action(async (store: string, opts: { json?: boolean }) => {
      const r = await initStore(store);
      printResult(opts.json, { store, ...r }, () => (r.created ? `initialized ${store}` : `${store} is already a layout`));
    });
}
