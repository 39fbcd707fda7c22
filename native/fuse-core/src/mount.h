/* Mounting and unmounting a FUSE filesystem without libfuse. */
#ifndef LAYOUTFS_MOUNT_H
#define LAYOUTFS_MOUNT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lfs_mount_opts {
	const char *mountpoint;
	const char *fsname;
	const char *subtype;
	const char *fusermount;   /* used only when geteuid() != 0 */
	int allow_other;
	uint32_t uid, gid;
	uint32_t max_read;        /* bytes */
};

struct lfs_mount_result {
	int devfd;      /* /dev/fuse, O_CLOEXEC */
	int commfd;     /* fusermount3 socket kept open for auto_unmount, or -1 */
	pid_t helper;   /* fusermount3 or watchdog pid (reaped by a detached thread), or 0 */
	int watchdog;   /* root: the watchdog's pipe (see lfs_watchdog_release), or -1 */
};

/* Returns 0, or -1 with a one-line message in err. */
int lfs_mount(const struct lfs_mount_opts *o, struct lfs_mount_result *r,
	      char *err, size_t errlen);
/* Unmount: root umount2 (MNT_DETACH on EBUSY); otherwise fusermount3 -u, then -uz. */
int lfs_unmount(const char *mountpoint, const char *fusermount, char *err, size_t errlen);
/* Lazy unmount of a possibly dead mount. */
int lfs_detach(const char *path, const char *fusermount, char *err, size_t errlen);

/* A clean end (unmounted, by us or from outside): the root watchdog exits without unmounting. */
void lfs_watchdog_release(int fd);

const char *lfs_errno_name(int e);

#endif
