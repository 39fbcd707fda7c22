#define _GNU_SOURCE
#include "file-batch.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* getdents64's record (glibc declares no wrapper before 2.30's getdents64, which is not everywhere). */
struct dirent64_rec {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int compare_records(const void *a, const void *b, void *width)
{
	return memcmp(a, b, *(size_t *)width);
}

int lfs_list_digests(const char *dir, size_t width, unsigned char **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	if (width == 0 || width > 64)
		return -EINVAL;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, n = 0;
	unsigned char *recs = malloc(cap * width);
	char *buf = malloc(1 << 20);
	int rc = 0;
	if (!recs || !buf) {
		rc = -ENOMEM;
		goto done;
	}
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, 1 << 20);
		if (got < 0) {
			rc = -errno;
			goto done;
		}
		if (got == 0)
			break;
		for (long at = 0; at < got;) {
			struct dirent64_rec *d = (struct dirent64_rec *)(buf + at);
			at += d->d_reclen;
			if (strlen(d->d_name) != 2 * width)
				continue;
			if (n == cap) {
				unsigned char *more = realloc(recs, cap * 2 * width);
				if (!more) {
					rc = -ENOMEM;
					goto done;
				}
				recs = more;
				cap *= 2;
			}
			unsigned char *r = recs + n * width;
			size_t k = 0;
			for (; k < width; k++) {
				int hi = nibble(d->d_name[2 * k]), lo = nibble(d->d_name[2 * k + 1]);
				if (hi < 0 || lo < 0)
					break;
				r[k] = (unsigned char)(hi << 4 | lo);
			}
			if (k == width)
				n++;
		}
	}
	qsort_r(recs, n, width, compare_records, &width);
	/* A directory lists each name once; equal records cannot occur, but a search must never see them. */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept > 0 && memcmp(recs + (kept - 1) * width, recs + i * width, width) == 0)
			continue;
		if (kept != i)
			memcpy(recs + kept * width, recs + i * width, width);
		kept++;
	}
	*out = recs;
	*count = kept;
	recs = NULL;
done:
	free(recs);
	free(buf);
	close(fd);
	return rc;
}

void lfs_read_beneath(const char *root, double dev, double ino, char *const *paths, size_t n,
		      const double *max, unsigned char *data, double *out, char **elsewhere)
{
	for (size_t i = 0, off = 0; i < n; off += (size_t)max[i], i++) {
		double *o = out + i * LFS_READ_FIELDS;
		unsigned char *at = data + off;
		size_t want = (size_t)max[i];
		o[0] = LFS_READ_ERRNO;
		o[1] = 0;
		int fd = open(paths[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			o[1] = errno;
			continue;
		}
		struct stat st, rs;
		char proc[32], link[4097];
		ssize_t len;
		if (fstat(fd, &st) != 0) {
			o[1] = errno;
		} else if (!S_ISREG(st.st_mode)) {
			o[0] = LFS_READ_NOT_REGULAR;
			o[1] = st.st_mode;
		} else if (snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd),
			   (len = readlink(proc, link, sizeof link - 1)) < 0 && errno != ENOENT) {
			o[1] = errno;
		} else if (len >= 0 && ((link[len] = '\0'), strcmp(link, paths[i]) != 0)) {
			o[0] = LFS_READ_ELSEWHERE;
			elsewhere[i] = strdup(link);
		} else if (stat(root, &rs) != 0) {
			o[0] = LFS_READ_ROOT_ERRNO;
			o[1] = errno;
		} else if ((double)rs.st_dev != dev || (double)rs.st_ino != ino) {
			o[0] = LFS_READ_ROOT_REPLACED;
		} else {
			size_t got = 0;
			ssize_t r = 0;
			while (got < want && ((r = pread(fd, at + got, want - got, (off_t)got)) > 0 || (r < 0 && errno == EINTR)))
				if (r > 0)
					got += (size_t)r;
			if (r < 0) {
				o[1] = errno;
			} else {
				o[0] = LFS_READ_OK;
				o[1] = (double)got;
			}
		}
		close(fd);
	}
}
