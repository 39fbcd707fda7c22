import { getSystemErrorName } from 'node:util';
import type { Logger } from 'pino';
import type { FuseCounters } from './operations.js';
import { mountGrants } from './patched-binding.js';

/**
 * For a mount granted passthrough: counts its passthrough opens in `counters` (they never reach
 * the read operation), and logs once when the kernel refuses a blob as a backing file (a store
 * on a stacked filesystem, say): such blobs are read by the FUSE threads instead. Returns stop.
 */
export function reportPassthrough(counters: FuseCounters, log: Logger): () => void {
  Object.defineProperty(counters, 'open_passthrough', { enumerable: true, get: () => mountGrants()!.passthroughOpens });
  const timer = setInterval(() => {
    const errno = mountGrants()!.passthroughErrno;
    if (errno === 0) return;
    log.warn({ errno, code: getSystemErrorName(-errno) }, 'the kernel refused a blob as a passthrough backing file; such blobs are read by the FUSE threads');
    clearInterval(timer);
  }, 5000).unref();
  return () => clearInterval(timer);
}
