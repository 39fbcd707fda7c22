/*
 * A mounted FUSE session: N reader threads on one /dev/fuse descriptor.
 * Requests for JS are copied into a struct js_request and handed to the
 * deliver callback (a napi threadsafe function in addon.c); everything
 * else is answered in the reader thread.
 */
#ifndef LAYOUTFS_SESSION_H
#define LAYOUTFS_SESSION_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "blob-handles.h"
#include "notify.h"
#include "dir-ends.h"
#include "dir-listings.h"

#define LFS_OP_END (-1)
/* A reply from a listing handed over ahead: name holds the node ids (doubles) it gives lookups to. */
#define LFS_OP_COUNTED (-2)

struct js_request {
	int32_t op;
	uint32_t namelen;
	uint64_t unique;
	uint64_t nodeid;
	double a, b, c;
	char name[]; /* namelen bytes + NUL */
};

struct lfs_stats {
	uint64_t passthrough_opens;
	uint64_t direct_opens;
	uint64_t direct_reads;
	uint64_t spliced_reads;
	uint64_t write_errors;
	uint64_t notify_sent;
	uint64_t notify_failed;
	int passthrough_errno;  /* last BACKING_OPEN failure */
};

struct lfs_session;
struct reader;
typedef int (*lfs_deliver_fn)(struct lfs_session *s, struct js_request *req);

struct lfs_session {
	/* configuration (immutable after start) */
	char *mountpoint;
	char *fusermount;
	uint32_t max_pages_req;
	int want_passthrough;
	int nthreads;
	size_t bufsize;
	size_t pipe_cap;        /* the smallest reader pipe (0: no splice) */

	/* kernel connection */
	int devfd;
	int commfd;
	int watchdog;
	pid_t helper;

	/* negotiated at INIT (written once by a reader thread) */
	int initialized;
	uint32_t minor;
	uint32_t max_pages;
	int passthrough;
	int no_opendir;        /* the kernel opens directories itself when OPENDIR is ENOSYS */

	/* threads */
	pthread_t *threads;
	struct reader *readers;
	int finished;
	int started_threads;
	int running_threads;   /* atomic */
	int end_errno;         /* atomic: first fatal error */

	struct blob_table blobs;
	struct notify_queue notify;
	struct dir_ends dir_ends;
	struct dir_listings listings;
	struct lfs_stats stats; /* updated with __atomic builtins */

	lfs_deliver_fn deliver;
	void *user;            /* addon state */
};

/* Allocates buffers, starts the notify thread and the readers. 0 or -errno. */
int session_start(struct lfs_session *s);
/* After END has been delivered (all readers exited): join, close handles
 * and the device. Idempotent. Must not run concurrently with replies. */
void session_finish(struct lfs_session *s);

#endif
