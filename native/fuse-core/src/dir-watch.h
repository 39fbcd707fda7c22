/*
 * Names added to or removed from a few directories since the last look, from
 * inotify, read without blocking when asked: a refresh after an import learns
 * the few blobs that came instead of listing 500,000 names again. No thread:
 * the kernel queues the events until they are drained.
 */
#ifndef LAYOUTFS_DIR_WATCH_H
#define LAYOUTFS_DIR_WATCH_H

#include <stddef.h>

/*
 * An inotify descriptor (non-blocking) watching each dirs[i] for names
 * created, deleted and moved in or out, and for the directory itself going
 * (deleted, moved, unmounted). wds[i] = its watch, or -errno (a directory
 * that does not exist yet). Returns the descriptor or -errno.
 */
int lfs_watch_open(char *const *dirs, size_t n, int *wds);

/* What lfs_watch_drain reports: one call per name event, and whether events were lost. */
typedef void (*lfs_watch_name_fn)(void *ctx, int wd, const char *name);

/*
 * Reads every pending event: on_name for each name created, deleted or moved;
 * returns 1 when the events cannot be trusted whole (the queue overflowed, a
 * watched directory went or was replaced), 0 otherwise, -errno on a read error.
 */
int lfs_watch_drain(int fd, lfs_watch_name_fn on_name, void *ctx);

#endif
