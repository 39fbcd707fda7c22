import type { View } from '../view/view.js';
import type { RegistryIndex } from './registry/registry-index.js';

/** Prometheus label values may not carry raw quotes, backslashes or newlines. */
function label(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

/**
 * Counters of the server, rendered in the Prometheus text format. The route label is a fixed set
 * chosen by the dispatcher (never the request path), so the series count stays bounded.
 */
export class ServerMetrics {
  private readonly requests = new Map<string, number>();
  /** Body bytes of responses that finished (handed whole to the kernel). */
  bytesServed = 0;

  countRequest(route: string, status: number): void {
    const key = `${route}\t${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  render(view: View, registry: Pick<RegistryIndex, 'repositoriesBuilt' | 'blobMapsBuilt'>, fuseCounters?: Readonly<Record<string, number>>,
    fuseKernelNodes?: number): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric('layoutfs_http_requests_total', 'counter', 'HTTP requests by route and status.',
      [...this.requests].map(([key, n]) => {
        const [route, status] = key.split('\t');
        return [`{route="${label(route!)}",status="${status}"}`, n];
      }));
    metric('layoutfs_http_response_bytes_total', 'counter', 'Body bytes of completed HTTP responses.', [['', this.bytesServed]]);
    metric('layoutfs_cache_hits_total', 'counter', 'Metadata cache hits.', [['', view.cacheStats().hits]]);
    metric('layoutfs_cache_misses_total', 'counter', 'Metadata cache misses.', [['', view.cacheStats().misses]]);
    metric('layoutfs_cache_evictions_total', 'counter', 'Metadata cache entries evicted to stay in the byte bound.', [['', view.cacheStats().evictions]]);
    metric('layoutfs_store_generation', 'gauge', 'Store states loaded so far (1 = the first load).', [['', view.snapshot.generation]]);
    metric('layoutfs_references', 'gauge', 'Named references in the store.', [['', view.snapshot.named.length]]);
    metric('layoutfs_registry_repositories_built_total', 'counter',
      'Registry repositories built: all at start, then at each store change those whose references changed.', [['', registry.repositoriesBuilt]]);
    metric('layoutfs_registry_blob_maps_built_total', 'counter',
      'Repository blob maps built (the access rule of blob GETs); a store change leaving a repository alone keeps its map.',
      [['', registry.blobMapsBuilt]]);
    if (fuseCounters) {
      metric('layoutfs_fuse_operations_total', 'counter', 'FUSE operations by name.',
        Object.entries(fuseCounters).map(([op, n]) => [`{op="${label(op)}"}`, n]));
    }
    if (fuseKernelNodes !== undefined) {
      metric('layoutfs_fuse_kernel_nodes', 'gauge', 'Node ids the kernel holds (looked up and not yet forgotten): the rows of the mount\'s node table.',
        [['', fuseKernelNodes]]);
    }
    // The names prom-client gives these, so dashboards made for Node processes read them as they are.
    const memory = process.memoryUsage();
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', [['', memory.rss]]);
    metric('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap size in bytes, used and free.', [['', memory.heapTotal]]);
    metric('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap bytes in use.', [['', memory.heapUsed]]);
    metric('nodejs_external_memory_bytes', 'gauge', 'Bytes outside the V8 heap that its objects hold (buffers, typed arrays).', [['', memory.external]]);
    // getrusage: every thread's time, exited ones too (the FUSE readers, the thread pool), in microseconds.
    const cpu = process.cpuUsage();
    metric('process_cpu_user_seconds_total', 'counter', 'User CPU time spent in seconds.', [['', cpu.user / 1e6]]);
    metric('process_cpu_system_seconds_total', 'counter', 'System CPU time spent in seconds.', [['', cpu.system / 1e6]]);
    metric('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.', [['', (cpu.user + cpu.system) / 1e6]]);
    return lines.join('\n') + '\n';
  }
}
