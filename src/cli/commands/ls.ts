import type { Command } from 'commander';
import { inventory } from '../../view/inventory.js';
import { escapeControls, formatBytes, formatTable, printResult } from '../format.js';
import { commandLogger } from '../logger.js';
import { openView } from '../open-view.js';
import { cacheSizeOption } from '../options.js';

export function registerLs(program: Command): void {
  program
    .command('ls')
    .description('list every reference of STORE with its view path, sizes and sharing')
    .argument('<store>', 'an OCI image layout directory')
    .option('--json', 'print JSON instead of a table')
    .addOption(cacheSizeOption())
    .action(async (storeDir: string, opts: { json?: boolean; cacheSize?: number }, command: Command) => {
      const log = commandLogger(command, 'warn');
      const started = Date.now();
      const view = await openView(storeDir, { syncReads: true, cacheBytes: opts.cacheSize });
      const inv = await inventory(view);
      log.debug({ store: view.store.root, references: inv.references.length, ms: Date.now() - started,
        cacheHits: view.cache.hits, cacheMisses: view.cache.misses }, 'listed store');
      printResult(opts.json, inv, () => [
        formatTable(['REFERENCE', 'VIEW PATH', 'DIGEST', 'PLATFORMS', 'SIZE', 'SHARED', 'UNIQUE'], inv.references.map((r) => [
          r.name, r.viewPath, r.digest.slice(0, 19), r.platforms.join(',') || '-',
          formatBytes(r.totalBytes), formatBytes(r.sharedBytes), formatBytes(r.uniqueBytes),
        ])),
        ...inv.unnamed.map((u) => `(unnamed) ${u.digest} at ${u.viewPath}`),
      ].join('\n'));
      // With --json the findings are in the output.
      if (!opts.json) for (const f of inv.findings) process.stderr.write(`warning: ${escapeControls(f.message)}\n`);
    });
}
