import type { Command } from 'commander';
import { openStore } from '../../store/store-reader.js';
import { inventory } from '../../view/inventory.js';
import { View } from '../../view/view.js';
import { formatBytes, formatTable } from '../format.js';
import { commandLogger } from '../logger.js';
import { parseByteSize } from '../options.js';

export function registerLs(program: Command): void {
  program
    .command('ls')
    .description('list every reference of STORE with its view path, sizes and sharing')
    .argument('<store>', 'an OCI image layout directory')
    .option('--json', 'print JSON instead of a table')
    .option('--cache-size <bytes>', 'byte bound of the metadata cache (e.g. 64M)', parseByteSize)
    .action(async (storeDir: string, opts: { json?: boolean; cacheSize?: number }, command: Command) => {
      const log = commandLogger(command, 'warn');
      const started = Date.now();
      const store = await openStore(storeDir, { syncReads: true });
      const view = await View.open(store, { cacheBytes: opts.cacheSize });
      const inv = await inventory(view);
      log.debug({ store: store.root, references: inv.references.length, ms: Date.now() - started,
        cacheHits: view.cache.hits, cacheMisses: view.cache.misses }, 'listed store');
      if (opts.json) {
        process.stdout.write(JSON.stringify(inv, null, 2) + '\n');
        return;
      }
      const rows = inv.references.map((r) => [
        r.name, r.viewPath, r.digest.slice(0, 19), r.platforms.join(',') || '-',
        formatBytes(r.totalBytes), formatBytes(r.sharedBytes), formatBytes(r.uniqueBytes),
      ]);
      process.stdout.write(formatTable(['REFERENCE', 'VIEW PATH', 'DIGEST', 'PLATFORMS', 'SIZE', 'SHARED', 'UNIQUE'], rows) + '\n');
      for (const u of inv.unnamed) process.stdout.write(`(unnamed) ${u.digest} at ${u.viewPath}\n`);
      for (const f of inv.findings) process.stderr.write(`warning: ${f.message}\n`);
    });
}
