/*
 * fhandle encode PATH            -> prints "TYPE HEX" (name_to_handle_at)
 * fhandle open MOUNTPOINT TYPE HEX -> opens by handle (open_by_handle_at,
 *                                    needs CAP_DAC_READ_SEARCH) and prints
 *                                    the size of what it opened.
 * Used by smoke.mjs to check NFS-style export support.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HANDLE 128

static int encode(const char *path)
{
	struct file_handle *fh = calloc(1, sizeof *fh + MAX_HANDLE);
	if (!fh)
		return 1;
	fh->handle_bytes = MAX_HANDLE;
	int mount_id;
	if (name_to_handle_at(AT_FDCWD, path, fh, &mount_id, 0) < 0) {
		fprintf(stderr, "name_to_handle_at %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("%d ", fh->handle_type);
	for (unsigned i = 0; i < fh->handle_bytes; i++)
		printf("%02x", fh->f_handle[i]);
	printf("\n");
	return 0;
}

static int open_handle(const char *mnt, const char *type, const char *hex)
{
	size_t n = strlen(hex) / 2;
	if (n == 0 || n > MAX_HANDLE || strlen(hex) % 2) {
		fprintf(stderr, "bad handle hex\n");
		return 2;
	}
	struct file_handle *fh = calloc(1, sizeof *fh + n);
	if (!fh)
		return 1;
	fh->handle_bytes = (unsigned)n;
	fh->handle_type = atoi(type);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			fprintf(stderr, "bad handle hex\n");
			return 2;
		}
		fh->f_handle[i] = (unsigned char)v;
	}
	int mfd = open(mnt, O_RDONLY | O_DIRECTORY);
	if (mfd < 0) {
		fprintf(stderr, "open %s: %s\n", mnt, strerror(errno));
		return 1;
	}
	int fd = open_by_handle_at(mfd, fh, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "open_by_handle_at: %s\n", strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "fstat: %s\n", strerror(errno));
		return 1;
	}
	printf("%lld\n", (long long)st.st_size);
	close(fd);
	close(mfd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "encode"))
		return encode(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "open"))
		return open_handle(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: fhandle encode PATH | fhandle open MOUNTPOINT TYPE HEX\n");
	return 2;
}
