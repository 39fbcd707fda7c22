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

/* What lfs_read_beneath found per file: out[i*2] is one of these, out[i*2+1] its value. */
enum { LFS_READ_FIELDS = 2 };
enum {
	LFS_READ_OK = 0,           /* value: bytes read */
	LFS_READ_ERRNO = 1,        /* value: errno of open, fstat, readlink or pread */
	LFS_READ_NOT_REGULAR = 2,  /* value: st_mode */
	LFS_READ_ELSEWHERE = 3,    /* the descriptor's path is elsewhere[i] (malloc'ed) */
	LFS_READ_ROOT_ERRNO = 4,   /* value: errno of stat(root) */
	LFS_READ_ROOT_REPLACED = 5 /* root is no longer (dev, ino) */
};

/*
 * Reads each whole file paths[i] (root/relative, as the caller joined it)
 * through one descriptor, with the rules of src/store/safe-open.ts, in its
 * order: open O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC; fstat, a regular
 * file only; readlink(/proc/self/fd/N) must be paths[i] exactly (no
 * /proc: not checked); root still (dev, ino). Only then at most max[i] bytes
 * are read, into data at the sum of the max before i. A file that breaks a
 * rule is not read; what broke it goes to out (LFS_READ_*), and the caller
 * words the error as its own checks do.
 */
void lfs_read_beneath(const char *root, double dev, double ino, char *const *paths, size_t n,
		      const double *max, unsigned char *data, double *out, char **elsewhere);

#endif
