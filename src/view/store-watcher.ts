import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { View } from './view.js';

export interface StoreWatcher {
  close(): void;
}

export interface WatchOptions {
  /** Stat index.json this often, for filesystems where inotify says nothing (NFS, SMB, FUSE). */
  pollMs?: number;
}

/**
 * Refreshes `view` when the store's index.json is replaced: fs.watch on the store directory for
 * the quick path, and a periodic stat of index.json (inode, size, mtime) as the fallback that
 * works everywhere. Writers replace index.json by rename, so either signal means a new file.
 */
export function watchStore(view: View, log: Logger, options: WatchOptions = {}): StoreWatcher {
  const indexFile = join(view.store.root, 'index.json');
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  /** The index.json that failed to load (ino:size:mtime), so the poll does not retry it every second. */
  let failed: string | undefined;
  const refresh = (why: string, identity?: string) => {
    if (closed || (identity !== undefined && identity === failed)) return;
    view.refresh().then(
      (changed) => {
        if (changed) {
          const s = view.snapshot;
          log.info({ why, generation: s.generation, references: s.named.length }, 'store changed; views refreshed');
        }
      },
      (err: unknown) => {
        failed = identity;
        log.error({ err }, 'refresh failed; still serving the previous state');
      },
    );
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(view.store.root, { persistent: false }, (_event, name) => {
      if (name === 'index.json') {
        // A burst of events (rename, then attribute changes) makes one refresh.
        clearTimeout(timer);
        timer = setTimeout(() => refresh('inotify'), 20);
      }
    });
    watcher.on('error', (err) => log.warn({ err }, 'fs.watch failed; relying on polling'));
  } catch (err) {
    log.warn({ err }, 'fs.watch unavailable; relying on polling');
  }

  // At once: it catches a change made while the view was opening, and opens the watch of the
  // blob directories (store/blobs/blob-watch.ts), so the first import is applied as a change too.
  refresh('start');

  const poll = setInterval(() => {
    // A refresh under way compares against the state it is replacing: it would look changed, and
    // schedule a second whole load. Whatever lands after its read is seen at the next tick.
    if (view.isRefreshing) return;
    stat(indexFile).then(
      (st) => {
        const s = view.snapshot;
        if (st.ino !== s.index.ino || st.mtimeMs !== s.index.mtimeMs) refresh('poll', `${st.ino}:${st.size}:${st.mtimeMs}`);
      },
      () => undefined,
    );
  }, options.pollMs ?? 1000);
  poll.unref();

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(poll);
      watcher?.close();
    },
  };
}
