#define _GNU_SOURCE
#include "file-batch.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

void lfs_lstat_mtimes(char *const *paths, size_t n, double *out)
{
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		out[i] = lstat(paths[i], &st) == 0
			? (double)st.st_mtim.tv_sec * 1e3 + (double)st.st_mtim.tv_nsec / 1e6
			: NAN;
	}
}

void lfs_lstat_in(const char *dir, char *const *names, size_t n, double *out)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int dir_err = dfd < 0 ? errno : 0;
	for (size_t i = 0; i < n; i++) {
		double *o = out + i * LFS_STAT_FIELDS;
		struct stat st;
		if (dfd < 0 || fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
			o[0] = -(double)(dfd < 0 ? dir_err : errno);
			for (int k = 1; k < LFS_STAT_FIELDS; k++)
				o[k] = NAN;
			continue;
		}
		o[0] = (double)(st.st_mode >> 12);
		o[1] = (double)st.st_size;
		o[2] = (double)st.st_ino;
		o[3] = (double)st.st_mtim.tv_sec;
		o[4] = (double)st.st_mtim.tv_nsec;
		o[5] = (double)st.st_ctim.tv_sec;
		o[6] = (double)st.st_ctim.tv_nsec;
	}
	if (dfd >= 0)
		close(dfd);
}

void lfs_prefetch(char *const *paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int fd = open(paths[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
		close(fd);
	}
}
