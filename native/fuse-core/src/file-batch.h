/*
 * Calls on many store files in one job on a worker thread: one libuv request
 * per file cost more than the calls themselves, and a job runs beside the
 * JavaScript thread (fsck stats every blob while it reads the manifests).
 */
#ifndef LAYOUTFS_FILE_BATCH_H
#define LAYOUTFS_FILE_BATCH_H

#include <stddef.h>

/*
 * out[i] = mtime of paths[i] in milliseconds (as Node's mtimeMs), or NaN
 * when it cannot be had. lstat: a symlink is never followed (its own mtime).
 */
void lfs_lstat_mtimes(char *const *paths, size_t n, double *out);

/* Numbers lfs_lstat_in gives per name. */
enum { LFS_STAT_FIELDS = 7 };

/*
 * For each names[i] in the directory dir (opened O_NOFOLLOW: a symlinked
 * directory gives every name -ELOOP), fstatat without following a symlink:
 * out[i*7 ..] = file type (st_mode >> 12) or -errno, size, inode,
 * mtime seconds, mtime nanoseconds, ctime seconds, ctime nanoseconds; all
 * exact as doubles (the nanosecond times would not be).
 */
void lfs_lstat_in(const char *dir, char *const *names, size_t n, double *out);

/*
 * Asks the kernel to start reading each regular file at paths[i] into the
 * page cache (posix_fadvise WILLNEED) and returns without reading it: what
 * a reader opens next is then in memory, or on its way, when it gets there.
 * Opens with O_NOFOLLOW | O_NONBLOCK like every store open; reads nothing.
 */
void lfs_prefetch(char *const *paths, size_t n);

/*
 * The names in dir that are `width` bytes of digest in lowercase hex
 * (2 * width characters), decoded and sorted: *out (malloc'ed, the caller
 * frees it) gets *count records of `width` bytes in ascending order, no
 * duplicates. Other names (temp files, junk) are skipped. Returns 0, or
 * -errno when dir cannot be listed (-ENOMEM included).
 */
int lfs_list_digests(const char *dir, size_t width, unsigned char **out, size_t *count);

#endif
