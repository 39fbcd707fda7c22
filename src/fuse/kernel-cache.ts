import type { Logger } from 'pino';
import type { Snapshot } from '../view/snapshot.js';
import type { View } from '../view/view.js';

/**
 * getattr answers from the state current when it answers (src/fuse/operations.ts), but its reply
 * reaches the kernel a moment later, possibly just after the invalidation: a second invalidation
 * this much later drops such an entry.
 */
const SECOND_INVALIDATION_MS = 1000;

/** What drops the kernel's cached entries of a mount; false when it could not. */
export interface KernelCache {
  forgetTree(before: Snapshot, after: Snapshot): boolean;
}

/**
 * Drops the kernel's cached names and attributes of the mount at each refresh of `view`, and
 * again a second later. Failures are logged, never thrown: this runs inside View.refresh and
 * from a timer. The listener keeps `cache`, and with it the native state the invalidation thread
 * uses, alive. stop() ends it (at unmount).
 */
export function dropKernelCacheOnRefresh(view: View, cache: KernelCache, cacheTimeoutS: number, log: Logger): { stop(): void } {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const forget = (before: Snapshot, after: Snapshot) => {
    const failed = (err?: unknown) =>
      log.warn({ err, cacheTimeoutS }, 'could not drop the kernel caches; old names may show until they time out');
    try {
      if (!stopped && !cache.forgetTree(before, after)) failed();
    } catch (err) {
      failed(err);
    }
  };
  view.onRefresh((before, after) => {
    if (stopped) return;
    forget(before, after);
    const timer = setTimeout(() => {
      timers.delete(timer);
      forget(before, after);
    }, SECOND_INVALIDATION_MS);
    timers.add(timer);
  });
  return {
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
