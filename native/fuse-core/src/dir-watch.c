#define _GNU_SOURCE
#include "dir-watch.h"

#include <errno.h>
#include <sys/inotify.h>
#include <unistd.h>

#define NAME_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)
#define SELF_EVENTS (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED | IN_Q_OVERFLOW)

int lfs_watch_open(char *const *dirs, size_t n, int *wds)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		int wd = inotify_add_watch(fd, dirs[i], NAME_EVENTS | IN_DELETE_SELF | IN_MOVE_SELF |
					   IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK);
		wds[i] = wd < 0 ? -errno : wd;
	}
	return fd;
}

int lfs_watch_drain(int fd, lfs_watch_name_fn on_name, void *ctx)
{
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	int lost = 0;
	for (;;) {
		ssize_t got = read(fd, buf, sizeof buf);
		if (got < 0) {
			if (errno == EAGAIN)
				return lost;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (ssize_t at = 0; at < got;) {
			const struct inotify_event *e = (const struct inotify_event *)(buf + at);
			at += (ssize_t)(sizeof *e + e->len);
			if (e->mask & SELF_EVENTS)
				lost = 1;
			else if ((e->mask & NAME_EVENTS) && e->len > 0)
				on_name(ctx, e->wd, e->name);
		}
	}
}
