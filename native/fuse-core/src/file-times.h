/*
 * Modification times of many store files in one call, for one job on a
 * worker thread: a FUSE listing of a view's blobs needs each blob's mtime,
 * and one libuv request per blob cost more than the lstats themselves.
 */
#ifndef LAYOUTFS_FILE_TIMES_H
#define LAYOUTFS_FILE_TIMES_H

#include <stddef.h>

/*
 * out[i] = mtime of paths[i] in milliseconds (as Node's mtimeMs), or NaN
 * when it cannot be had. lstat: a symlink is never followed (its own mtime).
 */
void lfs_lstat_mtimes(char *const *paths, size_t n, double *out);

#endif
