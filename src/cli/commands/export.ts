import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { readArchiveRange } from '../../archive/archive-reader.js';
import { planViewArchive } from '../../archive/view-archive.js';
import { LayoutfsError } from '../../errors.js';
import { tempName } from '../../store/atomic-file.js';
import { openStore } from '../../store/store-reader.js';
import { View } from '../../view/view.js';
import { byteProgress } from '../progress.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write an archive of REFs (one image, or an air-gap bundle holding each blob once) that docker/podman load, ctr import and skopeo read')
    .argument('<store>', 'the shared store')
    .argument('<ref...>', 'reference names')
    .option('-o, --output <file>', 'the archive file, or - for standard output (default when it is not a terminal)')
    .option('--platform <os/arch[/variant]>', 'narrow multi-platform images to this platform')
    .action(async (storeDir: string, refs: string[], opts: { output?: string; platform?: string }) => {
      const view = await View.open(await openStore(storeDir));
      const plan = await planViewArchive(view, refs, { platform: opts.platform });
      const toStdout = opts.output === '-' || opts.output === undefined;
      if (toStdout && process.stdout.isTTY) {
        throw new LayoutfsError('INVALID_ARGUMENT', 'refusing to write an archive to a terminal; use -o FILE or a pipe');
      }
      const progress = byteProgress('export', toStdout ? 0 : plan.size);
      const bytes = Readable.from(readArchiveRange(plan, 0, plan.size, view.store), { objectMode: false });
      bytes.on('data', (b: Buffer) => progress.add(b.length));
      try {
        if (toStdout) {
          await pipeline(bytes, process.stdout);
          return;
        }
        // Never a half-written archive under the final name.
        const temp = tempName(opts.output!);
        try {
          await pipeline(bytes, createWriteStream(temp, { flags: 'wx' }));
          await rename(temp, opts.output!);
        } catch (err) {
          await unlink(temp).catch(() => undefined);
          throw err;
        }
      } finally {
        progress.stop();
      }
    });
}
