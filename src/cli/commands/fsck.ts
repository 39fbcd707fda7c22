import type { Command } from 'commander';
import { fsck } from '../../store/fsck.js';
import { printResult } from '../format.js';
import { progressOnStart } from '../progress.js';

export function registerFsck(program: Command): void {
  program
    .command('fsck')
    .description('check STORE: layout, index.json entries, names, manifests, missing blobs, orphans, temp files')
    .argument('<store>', 'the shared store')
    .option('--verify', 're-hash the blobs (those hashed correctly before and unchanged since are skipped)')
    .option('--full', 're-hash every blob, verified before or not (implies --verify)')
    .option('--json', 'print JSON')
    .action(async (store: string, opts: { verify?: boolean; full?: boolean; json?: boolean }) => {
      const progress = progressOnStart('verify');
      const r = await fsck(store, { verify: opts.verify === true || opts.full === true, full: opts.full, onVerifyStart: progress.onStart, onVerify: progress.onProgress })
        .finally(progress.stop);
      const v = r.verified;
      const hashed = !v ? '' : `; ${v.hashed} blobs hashed${v.skipped > 0 ? `, ${v.skipped} skipped as verified earlier and unchanged since (--full hashes them too)` : ''}`;
      printResult(opts.json, r, () => [...r.findings.map((f) => `${f.kind}: ${f.message}`),
        (r.clean ? `${r.store}: clean (${r.references} references, ${r.blobs} blobs)`
          : `${r.store}: ${r.findings.length} findings${r.damaged ? ', DAMAGED' : ' (garbage only: layoutfs gc removes it)'}`) + hashed].join('\n'));
      // Exit 0: clean or garbage only; 1: damage (missing or wrong data).
      if (r.damaged) process.exitCode = 1;
    });
}
