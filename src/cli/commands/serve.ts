import type { Command } from 'commander';
import { DEFAULT_LISTEN, type ListenAddress } from '../../server/listen-address.js';
import { DEFAULT_BARE_REPOSITORY } from '../../server/registry/registry-names.js';
import { startServer } from '../../server/server.js';
import { watchStore } from '../../view/store-watcher.js';
import { commandLogger } from '../logger.js';
import { openView } from '../open-view.js';
import { cacheSizeOption, parseListenOption, parseRepositoryOption } from '../options.js';
import { untilSignal } from '../signals.js';
import { trimFreedMemory } from '../trim-freed-memory.js';

/** How long `serve` waits after SIGTERM/SIGINT for connections to close before it exits anyway. */
const STOP_TIMEOUT_MS = 3000;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve every view of STORE over HTTP: the tree under /layouts/, a read-only registry under /v2/ (foreground; Ctrl-C stops)')
    .argument('<store>', 'an OCI image layout directory')
    .option('--listen <host:port>', `address to listen on (default: ${DEFAULT_LISTEN.host}:${DEFAULT_LISTEN.port}; port 0 picks a free one)`, parseListenOption)
    .option('--bare-repository <name>', `repository that bare tags like "latest" are served under (default: ${DEFAULT_BARE_REPOSITORY})`, parseRepositoryOption)
    .addOption(cacheSizeOption())
    .action(async (storeDir: string, opts: { listen?: ListenAddress; bareRepository?: string; cacheSize?: number }, command: Command) => {
      const log = commandLogger(command, 'info');
      // Handlers first: a SIGTERM just after "serving" is logged must close the server cleanly.
      const signalled = untilSignal();
      const view = await openView(storeDir, { cacheBytes: opts.cacheSize });
      const server = await startServer(view, { listen: opts.listen ?? DEFAULT_LISTEN, log,
        bareRepository: opts.bareRepository ?? DEFAULT_BARE_REPOSITORY });
      const watcher = watchStore(view, log);
      const stopTrimming = trimFreedMemory();
      const signal = await signalled;
      log.info({ signal }, 'stopping');
      // Stalled clients or a stuck disk must not keep the process: it ends within seconds.
      setTimeout(() => process.exit(0), STOP_TIMEOUT_MS).unref();
      watcher.close();
      stopTrimming();
      await server.close();
    });
}
