/*
 * Mounting. Root: open /dev/fuse and mount(2) it ourselves, with a watchdog
 * child of our own for auto-unmount. Others: run fusermount3 (setuid) with
 * _FUSE_COMMFD and receive the /dev/fuse descriptor over a unix socket
 * (SCM_RIGHTS); the socket stays open for auto_unmount: fusermount3 waits on
 * it and unmounts when it closes.
 */
#define _GNU_SOURCE
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *lfs_errno_name(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EXDEV: return "EXDEV";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ETXTBSY: return "ETXTBSY";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case EPIPE: return "EPIPE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS: return "ENOSYS";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ELOOP: return "ELOOP";
	case EPROTO: return "EPROTO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ECONNABORTED: return "ECONNABORTED";
	case ENOTCONN: return "ENOTCONN";
	case ETIMEDOUT: return "ETIMEDOUT";
	default: {
		static __thread char buf[32];
		snprintf(buf, sizeof buf, "errno %d", e);
		return buf;
	}
	}
}

static void *reaper_main(void *arg);

/* Reap `pid` on a detached thread (no thread: a zombie until we exit; harmless). */
static void reap_later(pid_t pid)
{
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 64 * 1024);
	pthread_create(&t, &at, reaper_main, (void *)(intptr_t)pid);
	pthread_attr_destroy(&at);
}

/*
 * Root's auto_unmount (what fusermount3 does for other users): a child that
 * waits on a pipe. A clean end writes one byte first (lfs_watchdog_release)
 * and the child just exits; if the process dies instead (SIGKILL, a crash),
 * the pipe reaches EOF and the child detaches the mount, so no dead mount
 * ("Transport endpoint is not connected") is left behind. The child of a
 * multi-threaded process may only make async-signal-safe calls: it reads,
 * unmounts and _exits. It ignores the terminal's signals, so Ctrl-C reaches
 * the mount process, which unmounts cleanly. Returns the pipe's write end,
 * or -1 (the mount then works without auto-unmount).
 */
static int start_watchdog(const char *mountpoint, pid_t *pid)
{
	char path[4096];
	size_t len = strlen(mountpoint);
	if (len >= sizeof path)
		return -1;
	memcpy(path, mountpoint, len + 1);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t c = fork();
	if (c < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (c == 0) {
		struct sigaction ign;
		memset(&ign, 0, sizeof ign);
		ign.sa_handler = SIG_IGN;
		const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2 };
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			sigaction(sigs[i], &ign, NULL);
		prctl(PR_SET_NAME, "layoutfs-umount", 0, 0, 0);
		close(p[1]);
		char b;
		ssize_t n;
		do
			n = read(p[0], &b, 1);
		while (n < 0 && errno == EINTR);
		if (n == 0)
			umount2(path, MNT_DETACH);
		_exit(0);
	}
	close(p[0]);
	reap_later(c);
	*pid = c;
	return p[1];
}

void lfs_watchdog_release(int fd)
{
	if (fd < 0)
		return;
	ssize_t n;
	do
		n = write(fd, "x", 1);
	while (n < 0 && errno == EINTR);
	close(fd);
}

static int root_mount(const struct lfs_mount_opts *o, struct lfs_mount_result *r,
		      char *err, size_t errlen)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open /dev/fuse: %s%s", lfs_errno_name(e),
			 e == ENOENT || e == ENODEV || e == ENXIO
				 ? " (no FUSE in this kernel or container: --device /dev/fuse)" : "");
		return -1;
	}
	char data[256];
	int n = snprintf(data, sizeof data,
			 "fd=%d,rootmode=40000,user_id=%u,group_id=%u,default_permissions,max_read=%u%s",
			 fd, o->uid, o->gid, o->max_read, o->allow_other ? ",allow_other" : "");
	char type[128];
	int m = snprintf(type, sizeof type, "fuse.%s", o->subtype);
	if (n < 0 || (size_t)n >= sizeof data || m < 0 || (size_t)m >= sizeof type) {
		close(fd);
		snprintf(err, errlen, "mount options too long");
		return -1;
	}
	unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV;
	int rc = mount(o->fsname, o->mountpoint, type, flags, data);
	if (rc < 0 && errno == ENODEV) /* kernel without fuse.<subtype> types */
		rc = mount(o->fsname, o->mountpoint, "fuse", flags, data);
	if (rc < 0) {
		int e = errno;
		close(fd);
		snprintf(err, errlen, "mount(2) of %s failed: %s", o->mountpoint, lfs_errno_name(e));
		return -1;
	}
	r->devfd = fd;
	r->commfd = -1;
	r->helper = 0;
	r->watchdog = start_watchdog(o->mountpoint, &r->helper);
	return 0;
}

/* Build environ plus _FUSE_COMMFD=fd (dropping any inherited one). */
static char **env_with_commfd(int fd, char *slot, size_t slotlen)
{
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(char *));
	if (!env)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "_FUSE_COMMFD=", 13) != 0)
			env[j++] = environ[i];
	snprintf(slot, slotlen, "_FUSE_COMMFD=%d", fd);
	env[j++] = slot;
	env[j] = NULL;
	return env;
}

/* First line of what a child wrote to a pipe, read until EOF. */
static void read_first_line(int fd, char *out, size_t outlen)
{
	size_t used = 0;
	char buf[512];
	out[0] = 0;
	for (;;) {
		ssize_t k = read(fd, buf, sizeof buf);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		for (ssize_t i = 0; i < k && used + 1 < outlen; i++)
			out[used++] = buf[i];
	}
	out[used] = 0;
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
}

static int wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

static void *reaper_main(void *arg)
{
	wait_child((pid_t)(intptr_t)arg);
	return NULL;
}

/* Spawn argv with stderr to a pipe (and keepfd inherited, if >= 0). */
static int spawn_captured(char *const argv[], char **envp, int keepfd, pid_t *pid, int *errfd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	if (keepfd >= 0) /* same number: glibc clears FD_CLOEXEC in the child */
		posix_spawn_file_actions_adddup2(&fa, keepfd, keepfd);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	int rc = posix_spawn(pid, argv[0], &fa, NULL, argv, envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		return -rc;
	}
	*errfd = p[0];
	return 0;
}

static void describe_exit(int st, char *out, size_t outlen)
{
	if (st < 0)
		snprintf(out, outlen, "lost");
	else if (WIFEXITED(st))
		snprintf(out, outlen, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, outlen, "signal %d", WTERMSIG(st));
	else
		snprintf(out, outlen, "status %d", st);
}

static int fusermount_mount(const struct lfs_mount_opts *o, struct lfs_mount_result *r,
			    char *err, size_t errlen)
{
	if (!o->fusermount || !*o->fusermount) {
		snprintf(err, errlen, "non-root mounts need fusermount3 (setuid) from the fuse3 package; not found");
		return -1;
	}
	char opts[1024];
	int n = snprintf(opts, sizeof opts,
			 "ro,nosuid,nodev,default_permissions,fsname=%s,subtype=%s,max_read=%u%s,auto_unmount",
			 o->fsname, o->subtype, o->max_read, o->allow_other ? ",allow_other" : "");
	if (n < 0 || (size_t)n >= sizeof opts) {
		snprintf(err, errlen, "mount options too long");
		return -1;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair for fusermount3 failed: %s", lfs_errno_name(errno));
		return -1;
	}
	char slot[48];
	char **env = env_with_commfd(sv[0], slot, sizeof slot);
	if (!env) {
		close(sv[0]);
		close(sv[1]);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *argv[] = { (char *)o->fusermount, "-o", opts, "--", (char *)o->mountpoint, NULL };
	pid_t pid;
	int errfd;
	int rc = spawn_captured(argv, env, sv[0], &pid, &errfd);
	free(env);
	close(sv[0]);
	if (rc < 0) {
		close(sv[1]);
		snprintf(err, errlen, "cannot run %s: %s", o->fusermount, lfs_errno_name(-rc));
		return -1;
	}

	/* fusermount3 sends one byte with the descriptor attached. */
	char byte;
	struct iovec iov = { &byte, 1 };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } cbuf;
	struct msghdr msg = { 0 };
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof cbuf.buf;
	ssize_t k;
	do
		k = recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC);
	while (k < 0 && errno == EINTR);
	int devfd = -1;
	if (k > 0) {
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(int)))
				memcpy(&devfd, CMSG_DATA(c), sizeof(int));
	}
	if (devfd < 0) {
		int e = k < 0 ? errno : 0;
		char line[300];
		read_first_line(errfd, line, sizeof line);
		close(errfd);
		close(sv[1]);
		char how[48];
		describe_exit(wait_child(pid), how, sizeof how);
		if (line[0])
			snprintf(err, errlen, "%s failed (%s): %s", o->fusermount, how, line);
		else
			snprintf(err, errlen, "%s failed (%s)%s%s", o->fusermount, how,
				 e ? ": " : "", e ? lfs_errno_name(e) : "");
		return -1;
	}
	/* Success: the helper lives on (auto_unmount) until sv[1] closes. */
	close(errfd);
	reap_later(pid);
	r->devfd = devfd;
	r->commfd = sv[1];
	r->helper = pid;
	r->watchdog = -1;
	return 0;
}

int lfs_mount(const struct lfs_mount_opts *o, struct lfs_mount_result *r, char *err, size_t errlen)
{
	if (geteuid() == 0)
		return root_mount(o, r, err, errlen);
	return fusermount_mount(o, r, err, errlen);
}

/* Run fusermount3 with flag ("-u" or "-uz"); 0 or -1 with message. */
static int run_fusermount(const char *fm, const char *flag, const char *path, char *err, size_t errlen)
{
	char *argv[] = { (char *)fm, (char *)flag, "--", (char *)path, NULL };
	pid_t pid;
	int errfd;
	int rc = spawn_captured(argv, NULL, -1, &pid, &errfd);
	if (rc < 0) {
		snprintf(err, errlen, "cannot run %s: %s", fm, lfs_errno_name(-rc));
		return -1;
	}
	char line[300];
	read_first_line(errfd, line, sizeof line);
	close(errfd);
	int st = wait_child(pid);
	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	char how[48];
	describe_exit(st, how, sizeof how);
	snprintf(err, errlen, "%s %s %s failed (%s)%s%s", fm, flag, path, how,
		 line[0] ? ": " : "", line);
	return -1;
}

int lfs_unmount(const char *mountpoint, const char *fusermount, char *err, size_t errlen)
{
	if (geteuid() == 0) {
		if (umount2(mountpoint, 0) == 0)
			return 0;
		int e = errno;
		if (e == EBUSY && umount2(mountpoint, MNT_DETACH) == 0)
			return 0;
		if (e == EBUSY)
			e = errno;
		snprintf(err, errlen, "umount2(%s) failed: %s", mountpoint, lfs_errno_name(e));
		return -1;
	}
	if (!fusermount || !*fusermount) {
		snprintf(err, errlen, "non-root unmount needs fusermount3 (setuid) from the fuse3 package; not found");
		return -1;
	}
	if (run_fusermount(fusermount, "-u", mountpoint, err, errlen) == 0)
		return 0;
	return run_fusermount(fusermount, "-uz", mountpoint, err, errlen);
}

int lfs_detach(const char *path, const char *fusermount, char *err, size_t errlen)
{
	if (geteuid() == 0) {
		if (umount2(path, MNT_DETACH) == 0)
			return 0;
		snprintf(err, errlen, "umount2(%s, MNT_DETACH) failed: %s", path, lfs_errno_name(errno));
		return -1;
	}
	if (!fusermount || !*fusermount) {
		snprintf(err, errlen, "non-root detach needs fusermount3 (setuid) from the fuse3 package; not found");
		return -1;
	}
	return run_fusermount(fusermount, "-uz", path, err, errlen);
}
