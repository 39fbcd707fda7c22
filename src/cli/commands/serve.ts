import { InvalidArgumentError, type Command } from 'commander';
import { isConformingRepository } from '../../oci/reference.js';
import { DEFAULT_LISTEN, parseListen, type ListenAddress } from '../../server/listen-address.js';
import { DEFAULT_BARE_REPOSITORY } from '../../server/registry/registry-names.js';
import { startServer } from '../../server/server.js';
import { openStore } from '../../store/store-reader.js';
import { watchStore } from '../../view/store-watcher.js';
import { View } from '../../view/view.js';
import { commandLogger } from '../logger.js';
import { parseByteSize } from '../options.js';
import { untilSignal } from '../signals.js';

/** `--listen` (and mount's `--serve`): HOST:PORT, or a bad-usage error. */
export function parseListenOption(s: string): ListenAddress {
  const address = parseListen(s);
  if (!address) throw new InvalidArgumentError(`"${s}" is not HOST:PORT (examples: 127.0.0.1:5000, [::1]:5000, 0.0.0.0:5000)`);
  return address;
}

/** `--bare-repository`: must be a name registry clients can send. */
export function parseRepositoryOption(s: string): string {
  if (!isConformingRepository(s)) throw new InvalidArgumentError(`"${s}" is not a valid repository name (lowercase components, e.g. ${DEFAULT_BARE_REPOSITORY})`);
  return s;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve every view of STORE over HTTP: the tree under /layouts/, a read-only registry under /v2/ (foreground; Ctrl-C stops)')
    .argument('<store>', 'an OCI image layout directory')
    .option('--listen <host:port>', `address to listen on (default: ${DEFAULT_LISTEN.host}:${DEFAULT_LISTEN.port}; port 0 picks a free one)`, parseListenOption)
    .option('--bare-repository <name>', `repository that bare tags like "latest" are served under (default: ${DEFAULT_BARE_REPOSITORY})`, parseRepositoryOption)
    .option('--cache-size <bytes>', 'byte bound of the metadata cache (e.g. 64M)', parseByteSize)
    .action(async (storeDir: string, opts: { listen?: ListenAddress; bareRepository?: string; cacheSize?: number }, command: Command) => {
      const log = commandLogger(command, 'info');
      const store = await openStore(storeDir);
      const view = await View.open(store, { cacheBytes: opts.cacheSize });
      const server = await startServer(view, { listen: opts.listen ?? DEFAULT_LISTEN, log,
        bareRepository: opts.bareRepository ?? DEFAULT_BARE_REPOSITORY });
      const watcher = watchStore(view, log);
      const signal = await untilSignal();
      log.info({ signal }, 'stopping');
      watcher.close();
      await server.close();
    });
}
