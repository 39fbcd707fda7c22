import { open, rename, stat, unlink } from 'node:fs/promises';
import { constants, fstatSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { writeArchiveSync } from '../../archive/archive-writer.js';
import { LayoutfsError } from '../../errors.js';
import { syncDirectory, writeTempFile } from '../../store/atomic-file.js';
import { openView } from '../open-view.js';
import { parsePlatformOption } from '../options.js';
import { byteProgress } from '../progress.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write an archive of REFs (one image, or an air-gap bundle holding each blob once) that docker/podman load, ctr import and skopeo read')
    .argument('<store>', 'the shared store')
    .argument('<ref...>', 'reference names')
    .option('-o, --output <file>', 'the archive file, or - for standard output (default when it is not a terminal)')
    .option('--platform <os/arch[/variant]>', 'narrow multi-platform images to this platform (linux/arm64 is linux/arm64/v8)', parsePlatformOption)
    .option('--referrers', 'carry the signatures and SBOMs of the images (the default for several REFs)')
    .option('--no-referrers', 'leave out the signatures and SBOMs of the images')
    .action(async (storeDir: string, refs: string[], opts: { output?: string; platform?: string; referrers?: boolean }) => {
      const view = await openView(storeDir);
      const plan = await view.planArchive(refs, { platform: opts.platform, referrers: opts.referrers });
      const toStdout = opts.output === '-' || opts.output === undefined;
      if (toStdout && process.stdout.isTTY) {
        throw new LayoutfsError('INVALID_ARGUMENT', 'refusing to write an archive to a terminal; use -o FILE or a pipe');
      }
      const progress = byteProgress('export', toStdout ? 0 : plan.size);
      try {
        if (toStdout) {
          // Node leaves a pipe on fd 1 non-blocking; a new open of the same pipe blocks, so plain
          // writeSync works without spinning on EAGAIN. Files and the rest take fd 1 as it is.
          const out = fstatSync(1).isFIFO() ? openSync('/proc/self/fd/1', constants.O_WRONLY) : 1;
          writeArchiveSync(plan, view.store, out);
          return;
        }
        // A device or a pipe (/dev/null, a FIFO) is written into: renaming a temp file over it
        // would replace it with a regular file.
        const existing = await stat(opts.output!).catch(() => undefined);
        if (existing && (existing.isCharacterDevice() || existing.isFIFO() || existing.isSocket())) {
          const handle = await open(opts.output!, 'w');
          try {
            writeArchiveSync(plan, view.store, handle.fd, progress.add);
          } finally {
            await handle.close();
          }
          return;
        }
        // Never a half-written archive under the final name.
        const temp = await writeTempFile(opts.output!, (handle) => { writeArchiveSync(plan, view.store, handle.fd, progress.add); return Promise.resolve(); });
        await rename(temp, opts.output!).catch(async (err: unknown) => {
          await unlink(temp).catch(() => undefined);
          throw err;
        });
        await syncDirectory(dirname(opts.output!));
      } finally {
        progress.stop();
      }
    });
}
