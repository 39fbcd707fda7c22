import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Digest } from '../oci/digest.js';
import type { Snapshot } from '../view/snapshot.js';
import type { View } from '../view/view.js';
import type { ServerMetrics } from './metrics.js';
import type { RegistryIndex } from './registry/registry-index.js';
import { sendBody, sendJson } from './send-json.js';

export const CONTROL_PREFIX = '/_layoutfs';

const NO_STORE = { 'Cache-Control': 'no-store' };

export interface ControlOptions {
  mountpoint?: string;
  fuseCounters?: Readonly<Record<string, number>>;
  /** How many node ids the kernel holds, for a mount. */
  fuseKernelNodes?: () => number;
}

/** Distinct blobs the views show and their bytes: one walk over the (cached) closures per store state. */
const totals = new WeakMap<Snapshot, Promise<{ blobs: number; bytes: number }>>();

function totalsOf(view: View): Promise<{ blobs: number; bytes: number }> {
  const snapshot = view.snapshot;
  let t = totals.get(snapshot);
  if (!t) {
    t = (async () => {
      const sizes = new Map<Digest, number>();
      for (const v of snapshot.views.values()) {
        for (const [digest, blob] of (await view.closureOf(v)).blobs) sizes.set(digest, blob.size);
      }
      let bytes = 0;
      for (const size of sizes.values()) bytes += size;
      return { blobs: sizes.size, bytes };
    })();
    totals.set(snapshot, t);
  }
  return t;
}

/** `GET /_layoutfs/status`: what is being served and how the cache does, as JSON. */
export async function serveStatus(req: IncomingMessage, res: ServerResponse, view: View, registry: RegistryIndex, options: ControlOptions): Promise<void> {
  const s = view.snapshot;
  const { blobs, bytes } = await totalsOf(view);
  const cache = view.cacheStats();
  const lookups = cache.hits + cache.misses;
  sendJson(req, res, {
    store: view.storeRoot,
    mountpoint: options.mountpoint ?? null,
    references: s.named.length,
    repositories: registry.names.length,
    unservedReferences: registry.unserved,
    storeBlobs: s.present.size,
    blobs,
    bytes,
    cache: { ...cache, hitRate: lookups === 0 ? null : cache.hits / lookups, fitsWorkingSet: cache.evictions === 0,
      ...(cache.evictions > 0 ? { note: `the metadata cache (${cache.maxBytes} bytes) has evicted ${cache.evictions} entries to stay in its bound: what is being read does not fit, and evicted closures are computed again; --cache-size raises the bound` } : {}) },
    generation: s.generation,
    lastRefresh: new Date(s.loadedAt).toISOString(),
    findings: s.findings.length,
  }, NO_STORE);
}

/** `GET /_layoutfs/metrics`: Prometheus text format. */
export function serveMetrics(req: IncomingMessage, res: ServerResponse, view: View, metrics: ServerMetrics, registry: RegistryIndex,
  options: ControlOptions): void {
  sendBody(req, res, metrics.render(view, registry, options.fuseCounters, options.fuseKernelNodes?.()), 'text/plain; version=0.0.4; charset=utf-8', NO_STORE);
}
