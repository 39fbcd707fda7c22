import type { Command } from 'commander';
import type { ListenAddress } from '../../server/listen-address.js';
import { DEFAULT_BARE_REPOSITORY } from '../../server/registry/registry-names.js';
import { startServer } from '../../server/server.js';
import { watchStore } from '../../view/store-watcher.js';
import { commandLogger } from '../logger.js';
import { openView } from '../open-view.js';
import { cacheSizeOption, parseId, parseListenOption, parseRepositoryOption } from '../options.js';
import { untilSignal } from '../signals.js';
import { trimFreedMemory } from '../trim-freed-memory.js';

interface MountCommandOptions {
  allowOther?: boolean;
  uid?: number;
  gid?: number;
  cacheSize?: number;
  serve?: ListenAddress;
  bareRepository?: string;
  fuseDebug?: boolean;
}

export function registerMount(program: Command): void {
  program
    .command('mount')
    .description('mount every reference of STORE as its own read-only OCI layout under DIR (foreground; Ctrl-C unmounts)')
    .argument('<store>', 'an OCI image layout directory')
    .argument('<dir>', 'the mount point (created when missing)')
    .option('--allow-other', 'let other users see the mount (needs user_allow_other in /etc/fuse.conf unless root)')
    .option('--uid <uid>', 'owner of the files (default: yours)', parseId)
    .option('--gid <gid>', 'group of the files (default: yours)', parseId)
    .addOption(cacheSizeOption())
    .option('--serve <host:port>', 'also serve the same views over HTTP (see `layoutfs serve`), sharing one view and cache', parseListenOption)
    .option('--bare-repository <name>', `with --serve: repository of bare tags (default: ${DEFAULT_BARE_REPOSITORY})`, parseRepositoryOption)
    .option('--fuse-debug', 'log every FUSE request that reaches JavaScript')
    .action(async (storeDir: string, dir: string, opts: MountCommandOptions, command: Command) => {
      const log = commandLogger(command, 'info');
      // Handlers first: a SIGTERM just after "mounted" is logged must unmount, not kill the
      // process by default with the mount left up (a second signal still kills a stuck start).
      const signalled = untilSignal();
      const view = await openView(storeDir, { cacheBytes: opts.cacheSize });
      // The native FUSE core loads only for this command.
      const { mountView } = await import('../../fuse/mount.js');
      const mounted = await mountView(view, dir, { allowOther: opts.allowOther, uid: opts.uid, gid: opts.gid, debug: opts.fuseDebug }, log);
      const server = opts.serve && await startServer(view, { listen: opts.serve, log,
        bareRepository: opts.bareRepository ?? DEFAULT_BARE_REPOSITORY, mountpoint: mounted.mountpoint, fuseCounters: mounted.counters,
        fuseKernelNodes: () => mounted.kernelNodes() })
        .catch(async (err: unknown) => {
          // The mount would otherwise stay up, and its session keep this process alive.
          await mounted.unmount();
          throw err;
        });
      const watcher = watchStore(view, log);
      const stopTrimming = trimFreedMemory();
      // Ctrl-C or SIGTERM, or an unmount from outside (fusermount -u): either way the command ends.
      const signal = await Promise.race([signalled, mounted.gone.then(() => 'unmounted from outside' as const)]);
      log.info({ signal }, 'unmounting');
      watcher.close();
      stopTrimming();
      await server?.close();
      await mounted.unmount();
      // A lazily detached mount's session may still hold the process (files open in it).
      process.exit(0);
    });
}
