/*
 * Reader threads: read one request from /dev/fuse, answer it here or hand
 * it to JS, repeat. INIT is negotiated here. A blob READ is answered by
 * splice through the thread's pipe (pread() into its buffer and one writev()
 * where that cannot be done).
 */
#define _GNU_SOURCE
#include "session.h"
#include "fuse-protocol.h"
#include "reply.h"
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DEFAULT_MAX_PAGES 32 /* the kernel's per-request default without FUSE_MAX_PAGES */
#define DATA_BUFFER_MIN (1u << 20)
#define REQUEST_SLACK (64u << 10)

struct reader {
	struct lfs_session *s;
	uint8_t *buf;
	/* A pipe for spliced blob replies (-1: pread + writev), and how many bytes it holds. */
	int pipe_r, pipe_w;
	size_t pipe_cap;
};

static void record_error(struct lfs_session *s, int e)
{
	int zero = 0;
	__atomic_compare_exchange_n(&s->end_errno, &zero, e, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static void to_js(struct lfs_session *s, int op, uint64_t unique, uint64_t nodeid,
		  double a, double b, double c, const char *name, size_t namelen, int needs_reply)
{
	struct js_request *q = malloc(sizeof *q + namelen + 1);
	if (!q) {
		if (needs_reply)
			reply_error(s, unique, ENOMEM);
		return;
	}
	q->op = op;
	q->unique = unique;
	q->nodeid = nodeid;
	q->a = a;
	q->b = b;
	q->c = c;
	q->namelen = (uint32_t)namelen;
	if (namelen)
		memcpy(q->name, name, namelen);
	q->name[namelen] = 0;
	if (s->deliver(s, q) != 0) {
		free(q);
		if (needs_reply)
			reply_error(s, unique, EIO);
	}
}

static uint32_t kernel_max_pages_limit(void)
{
	uint32_t v = 256; /* FUSE_MAX_MAX_PAGES before the sysctl existed */
	int fd = open("/proc/sys/fs/fuse/max_pages_limit", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char b[32];
		ssize_t k = read(fd, b, sizeof b - 1);
		if (k > 0) {
			b[k] = 0;
			unsigned long x = strtoul(b, NULL, 10);
			if (x > 0 && x <= 65535)
				v = (uint32_t)x;
		}
		close(fd);
	}
	return v;
}

static void do_init(struct lfs_session *s, const struct fuse_in_header *in,
		    const uint8_t *body, size_t blen)
{
	struct fuse_init_in ii;
	memset(&ii, 0, sizeof ii);
	/* INIT comes once (twice only after we answered a newer major); a
	 * repeated one after negotiation is a protocol violation. */
	if (blen < FUSE_COMPAT_INIT_IN_SIZE || __atomic_load_n(&s->initialized, __ATOMIC_ACQUIRE)) {
		reply_error(s, in->unique, EIO);
		return;
	}
	memcpy(&ii, body, blen < sizeof ii ? blen : sizeof ii);
	struct fuse_init_out out;
	memset(&out, 0, sizeof out);
	out.major = FUSE_KERNEL_VERSION;
	out.minor = FUSE_OUR_MINOR;
	if (ii.major > FUSE_KERNEL_VERSION) {
		/* Tell a newer kernel our major; it re-sends INIT if it can. */
		struct iovec b = { &out, sizeof out };
		reply_iov(s, in->unique, 0, &b, 1);
		return;
	}
	if (ii.major < FUSE_KERNEL_VERSION || ii.minor < FUSE_MIN_KERNEL_MINOR) {
		fprintf(stderr, "layoutfs fuse-core: kernel FUSE protocol %u.%u is too old (need 7.%u)\n",
			ii.major, ii.minor, FUSE_MIN_KERNEL_MINOR);
		record_error(s, EPROTO);
		reply_error(s, in->unique, EPROTO);
		return;
	}
	uint64_t offered = ii.flags;
	if (offered & FUSE_INIT_EXT)
		offered |= (uint64_t)ii.flags2 << 32;
	uint64_t want = FUSE_ASYNC_READ | FUSE_EXPORT_SUPPORT | FUSE_DO_READDIRPLUS |
			FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES | FUSE_EXPLICIT_INVAL_DATA |
			FUSE_INIT_EXT;
	if (s->want_passthrough && geteuid() == 0)
		want |= FUSE_PASSTHROUGH;
	uint64_t got = offered & want;
	long pagesize = sysconf(_SC_PAGESIZE);
	if (pagesize <= 0)
		pagesize = 4096;
	int pt = (got & FUSE_PASSTHROUGH) != 0;
	/*
	 * Without passthrough blob replies are spliced through the readers' pipes;
	 * where a pipe cannot hold a header and max_pages pages (without root it is
	 * capped at pipe-max-size, 1 MiB by default), ask for a page less per request.
	 */
	uint32_t req = s->max_pages_req;
	size_t cap = s->pipe_cap;
	if (!pt && cap > 2 * (size_t)pagesize && cap < (size_t)(req + 1) * (size_t)pagesize)
		req = (uint32_t)(cap / (size_t)pagesize) - 1;
	uint64_t ra = (uint64_t)req * (uint64_t)pagesize;

	out.minor = ii.minor < FUSE_OUR_MINOR ? ii.minor : FUSE_OUR_MINOR;
	out.max_readahead = ii.max_readahead < ra ? ii.max_readahead : (uint32_t)ra;
	out.flags = (uint32_t)got;
	out.flags2 = (uint32_t)(got >> 32);
	out.max_background = 64;
	out.congestion_threshold = 48;
	out.max_write = 4096;
	out.time_gran = 1;
	uint32_t pages = DEFAULT_MAX_PAGES;
	if (got & FUSE_MAX_PAGES) {
		out.max_pages = (uint16_t)req;
		uint32_t lim = kernel_max_pages_limit();
		pages = req < lim ? req : lim;
	}
	out.max_stack_depth = pt ? 2 : 0; /* 2: the blob store may be on overlayfs */

	s->minor = out.minor;
	s->max_pages = pages;
	s->passthrough = pt;
	s->no_opendir = (offered & FUSE_NO_OPENDIR_SUPPORT) != 0;
	__atomic_store_n(&s->initialized, 1, __ATOMIC_RELEASE);

	/* JS hears INIT before any request that the reply lets in. */
	to_js(s, FUSE_INIT, 0, out.minor, pages, pt, 0, NULL, 0, 0);
	struct iovec b = { &out, sizeof out };
	if (reply_iov(s, in->unique, 0, &b, 1) < 0)
		record_error(s, EIO);
}

/* Empties a reader's pipe after a spliced reply went wrong halfway. */
static void drain_pipe(struct reader *r)
{
	int left = 0;
	while (ioctl(r->pipe_r, FIONREAD, &left) == 0 && left > 0) {
		ssize_t n = read(r->pipe_r, r->buf, (size_t)left < r->s->bufsize ? (size_t)left : r->s->bufsize);
		if (n <= 0 && errno != EINTR)
			break;
	}
}

/*
 * A blob reply by splice: the header is written into the reader's pipe, the
 * file's pages are spliced in after it (page references, no copy), and the
 * whole message is spliced into /dev/fuse, where the kernel copies it into the
 * mount's page cache: one copy of the data instead of pread's two. Returns 0
 * when the reply went out (or the request was interrupted), -1 to fall back to
 * pread (nothing was sent; the pipe is empty again).
 */
static int splice_reply(struct lfs_session *s, struct reader *r, uint64_t unique, int fd, uint64_t offset, size_t len)
{
	struct fuse_out_header h = { .len = (uint32_t)(sizeof h + len), .error = 0, .unique = unique };
	if (r->pipe_w < 0 || len == 0 || sizeof h + len > r->pipe_cap)
		return -1;
	if (write(r->pipe_w, &h, sizeof h) != (ssize_t)sizeof h) {
		drain_pipe(r);
		return -1;
	}
	loff_t off = (loff_t)offset;
	size_t moved = 0;
	while (moved < len) {
		ssize_t n = splice(fd, &off, r->pipe_w, NULL, len - moved, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) { /* an error, or the file is shorter than at open */
			drain_pipe(r);
			return -1;
		}
		moved += (size_t)n;
	}
	ssize_t n;
	do
		n = splice(r->pipe_r, NULL, s->devfd, NULL, sizeof h + len, 0);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)(sizeof h + len))
		return 0;
	int e = errno;
	drain_pipe(r);
	if (n < 0 && e == ENOENT) /* the request was interrupted: nothing to answer */
		return 0;
	return -1;
}

static void do_native_read(struct lfs_session *s, struct reader *r, uint64_t unique,
			   const struct fuse_read_in *ri)
{
	int fd;
	uint64_t size;
	if (blob_read_begin(&s->blobs, ri->fh, &fd, &size) < 0) {
		reply_error(s, unique, EBADF);
		return;
	}
	size_t want = ri->size;
	if (want > s->bufsize || ri->offset > (uint64_t)INT64_MAX) {
		blob_read_end(&s->blobs, ri->fh);
		reply_error(s, unique, EINVAL);
		return;
	}
	size_t len = ri->offset >= size ? 0 : (size - ri->offset < want ? (size_t)(size - ri->offset) : want);
	if (splice_reply(s, r, unique, fd, ri->offset, len) == 0) {
		blob_read_end(&s->blobs, ri->fh);
		__atomic_add_fetch(&s->stats.direct_reads, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&s->stats.spliced_reads, 1, __ATOMIC_RELAXED);
		return;
	}
	size_t got = 0;
	int err = 0;
	while (got < want) {
		ssize_t k = pread(fd, r->buf + got, want - got, (off_t)(ri->offset + got));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	blob_read_end(&s->blobs, ri->fh);
	if (err && got == 0) {
		reply_error(s, unique, err);
		return;
	}
	__atomic_add_fetch(&s->stats.direct_reads, 1, __ATOMIC_RELAXED);
	reply_data(s, unique, r->buf, got);
}

static int is_write_op(uint32_t op)
{
	switch (op) {
	case FUSE_SETATTR: case FUSE_SYMLINK: case FUSE_MKNOD: case FUSE_MKDIR:
	case FUSE_UNLINK: case FUSE_RMDIR: case FUSE_RENAME: case FUSE_LINK:
	case FUSE_WRITE: case FUSE_SETXATTR: case FUSE_REMOVEXATTR: case FUSE_CREATE:
	case FUSE_FALLOCATE: case FUSE_RENAME2: case FUSE_COPY_FILE_RANGE:
	case FUSE_COPY_FILE_RANGE_64: case FUSE_TMPFILE:
		return 1;
	default:
		return 0;
	}
}

static void dispatch(struct lfs_session *s, struct reader *r, size_t n)
{
	if (n < sizeof(struct fuse_in_header))
		return; /* nothing to answer: no unique */
	struct fuse_in_header in;
	memcpy(&in, r->buf, sizeof in);
	uint32_t op = in.opcode;
	uint64_t u = in.unique;
	int noreply = op == FUSE_FORGET || op == FUSE_BATCH_FORGET ||
		      op == FUSE_INTERRUPT || op == FUSE_NOTIFY_REPLY;
	if (in.len != n) {
		if (!noreply)
			reply_error(s, u, EIO);
		return;
	}
	const uint8_t *body = r->buf + sizeof in;
	size_t blen = n - sizeof in;
	if (op != FUSE_INIT && !__atomic_load_n(&s->initialized, __ATOMIC_ACQUIRE)) {
		if (!noreply)
			reply_error(s, u, EIO);
		return;
	}
	if (is_write_op(op)) {
		reply_error(s, u, EROFS);
		return;
	}

	switch (op) {
	case FUSE_INIT:
		do_init(s, &in, body, blen);
		return;

	case FUSE_LOOKUP: {
		const uint8_t *nul = blen ? memchr(body, 0, blen) : NULL;
		size_t namelen = nul ? (size_t)(nul - body) : 0;
		if (!nul || namelen == 0) {
			reply_error(s, u, EIO);
			return;
		}
		to_js(s, FUSE_LOOKUP, u, in.nodeid, 0, 0, 0, (const char *)body, namelen, 1);
		return;
	}

	case FUSE_FORGET: {
		struct fuse_forget_in f;
		if (blen < sizeof f)
			return;
		memcpy(&f, body, sizeof f);
		to_js(s, FUSE_FORGET, 0, in.nodeid, (double)f.nlookup, 0, 0, NULL, 0, 0);
		return;
	}

	case FUSE_BATCH_FORGET: {
		struct fuse_batch_forget_in bf;
		if (blen < sizeof bf)
			return;
		memcpy(&bf, body, sizeof bf);
		if ((blen - sizeof bf) / sizeof(struct fuse_forget_one) < bf.count)
			return; /* malformed: no reply exists for FORGET */
		for (uint32_t i = 0; i < bf.count; i++) {
			struct fuse_forget_one one;
			memcpy(&one, body + sizeof bf + (size_t)i * sizeof one, sizeof one);
			to_js(s, FUSE_FORGET, 0, one.nodeid, (double)one.nlookup, 0, 0, NULL, 0, 0);
		}
		return;
	}

	case FUSE_GETATTR: {
		struct fuse_getattr_in g;
		if (blen < sizeof g) {
			reply_error(s, u, EIO);
			return;
		}
		memcpy(&g, body, sizeof g);
		double fh = (g.getattr_flags & FUSE_GETATTR_FH) ? (double)g.fh : 0;
		to_js(s, FUSE_GETATTR, u, in.nodeid, fh, 0, 0, NULL, 0, 1);
		return;
	}

	case FUSE_OPEN: {
		struct fuse_open_in o;
		if (blen < sizeof o) {
			reply_error(s, u, EIO);
			return;
		}
		memcpy(&o, body, sizeof o);
		to_js(s, FUSE_OPEN, u, in.nodeid, o.flags, 0, 0, NULL, 0, 1);
		return;
	}

	case FUSE_READ:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS: {
		struct fuse_read_in ri;
		if (blen < sizeof ri) {
			reply_error(s, u, EIO);
			return;
		}
		memcpy(&ri, body, sizeof ri);
		if (op == FUSE_READ && blob_fh_is_native(ri.fh)) {
			do_native_read(s, r, u, &ri);
			return;
		}
		if (op == FUSE_READDIRPLUS && dir_end_past(&s->dir_ends, in.nodeid, ri.offset)) {
			reply_data(s, u, NULL, 0);
			return;
		}
		if (op == FUSE_READDIRPLUS && listings_serve(s, u, in.nodeid, ri.offset, ri.size))
			return;
		to_js(s, (int)op, u, in.nodeid, (double)ri.fh, (double)ri.offset, ri.size, NULL, 0, 1);
		return;
	}

	case FUSE_RELEASE: {
		struct fuse_release_in rel;
		if (blen < sizeof rel) {
			reply_error(s, u, EIO);
			return;
		}
		memcpy(&rel, body, sizeof rel);
		if (blob_fh_is_native(rel.fh)) {
			blob_release(&s->blobs, s->devfd, rel.fh);
			reply_iov(s, u, 0, NULL, 0);
			return;
		}
		reply_iov(s, u, 0, NULL, 0);
		to_js(s, FUSE_RELEASE, 0, in.nodeid, (double)rel.fh, 0, 0, NULL, 0, 0);
		return;
	}

	case FUSE_STATFS:
		to_js(s, FUSE_STATFS, u, in.nodeid, 0, 0, 0, NULL, 0, 1);
		return;

	case FUSE_OPENDIR:
		/*
		 * The kernel keeps a directory's listing in its page cache across opens (a warm
		 * walk costs no request); a store change that alters a listing drops it with
		 * notifyInvalInode(dir, 0, 0). A kernel offering NO_OPENDIR_SUPPORT takes ENOSYS
		 * as "open every directory so yourself": FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE, fh 0,
		 * and no OPENDIR or RELEASEDIR again (two requests a directory a walk saves).
		 */
		if (s->no_opendir)
			reply_error(s, u, ENOSYS);
		else
			reply_open(s, u, 0, FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE, 0);
		return;

	case FUSE_RELEASEDIR:
	case FUSE_DESTROY:
		reply_iov(s, u, 0, NULL, 0);
		return;

	case FUSE_READLINK:
		reply_error(s, u, EINVAL);
		return;

	case FUSE_INTERRUPT:
	case FUSE_NOTIFY_REPLY:
		return;

	default: /* FLUSH, FSYNC, FSYNCDIR, GETXATTR, LISTXATTR, ACCESS, LSEEK, POLL,
		    IOCTL, STATX, GETLK, SETLK, BMAP, SYNCFS, unknown */
		reply_error(s, u, ENOSYS);
		return;
	}
}

static void reader_exit(struct lfs_session *s)
{
	if (__atomic_sub_fetch(&s->running_threads, 1, __ATOMIC_SEQ_CST) == 0) {
		int e = __atomic_load_n(&s->end_errno, __ATOMIC_SEQ_CST);
		to_js(s, LFS_OP_END, 0, 0, e, 0, 0, NULL, 0, 0);
	}
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct lfs_session *s = r->s;
	for (;;) {
		ssize_t n = read(s->devfd, r->buf, s->bufsize + REQUEST_SLACK);
		if (n < 0) {
			int e = errno;
			if (e == EINTR || e == EAGAIN || e == ENOENT)
				continue; /* ENOENT: the request was interrupted */
			if (e != ENODEV) /* ENODEV: unmounted, a clean end */
				record_error(s, e);
			break;
		}
		if (n == 0)
			break;
		dispatch(s, r, (size_t)n);
	}
	free(r->buf);
	r->buf = NULL;
	if (r->pipe_r >= 0) {
		close(r->pipe_r);
		close(r->pipe_w);
		r->pipe_r = r->pipe_w = -1;
	}
	reader_exit(s);
	return NULL;
}

/*
 * A reader's splice pipe, as large as one reply: a header and max_pages pages.
 * Without root a pipe is capped at /proc/sys/fs/pipe-max-size (1 MiB by
 * default, one page short of a 1 MiB reply); returns the capacity in bytes,
 * or 0 with no pipe (splice is then not used).
 */
static size_t open_reply_pipe(struct reader *r, size_t want)
{
	int p[2];
	r->pipe_r = r->pipe_w = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return 0;
	int cap = fcntl(p[1], F_SETPIPE_SZ, (int)want);
	if (cap < 0) {
		int fd = open("/proc/sys/fs/pipe-max-size", O_RDONLY | O_CLOEXEC);
		char buf[32] = { 0 };
		if (fd >= 0) {
			if (read(fd, buf, sizeof buf - 1) < 0)
				buf[0] = 0;
			close(fd);
		}
		long max = strtol(buf, NULL, 10);
		cap = max > 0 ? fcntl(p[1], F_SETPIPE_SZ, (int)max) : -1;
	}
	if (cap <= 0) {
		close(p[0]);
		close(p[1]);
		return 0;
	}
	r->pipe_r = p[0];
	r->pipe_w = p[1];
	r->pipe_cap = (size_t)cap;
	return (size_t)cap;
}

/* Frees what session_start gave readers that never ran (or all, on a failed start). */
static void free_readers(struct reader *readers, int n)
{
	for (int j = 0; j < n; j++) {
		free(readers[j].buf);
		if (readers[j].pipe_r >= 0) {
			close(readers[j].pipe_r);
			close(readers[j].pipe_w);
		}
	}
	free(readers);
}

int session_start(struct lfs_session *s)
{
	long pagesize = sysconf(_SC_PAGESIZE);
	if (pagesize <= 0)
		pagesize = 4096;
	size_t data = (size_t)s->max_pages_req * (size_t)pagesize;
	s->bufsize = data < DATA_BUFFER_MIN ? DATA_BUFFER_MIN : data;
	s->running_threads = 0;
	s->started_threads = 0;

	struct reader *readers = calloc((size_t)s->nthreads, sizeof *readers);
	s->threads = calloc((size_t)s->nthreads, sizeof *s->threads);
	if (!readers || !s->threads) {
		free(readers);
		free(s->threads);
		s->threads = NULL;
		return -ENOMEM;
	}
	/* Splice pipes; INIT sizes requests to the smallest (see do_init). */
	s->pipe_cap = 0;
	for (int i = 0; i < s->nthreads; i++) {
		size_t cap = open_reply_pipe(&readers[i], data + (size_t)pagesize);
		s->pipe_cap = i == 0 || cap < s->pipe_cap ? cap : s->pipe_cap;
	}
	for (int i = 0; i < s->nthreads; i++) {
		readers[i].s = s;
		readers[i].buf = malloc(s->bufsize + REQUEST_SLACK);
		if (!readers[i].buf) {
			free_readers(readers, s->nthreads);
			free(s->threads);
			s->threads = NULL;
			return -ENOMEM;
		}
	}
	s->readers = readers;

	/* Our threads take no signals: they stay with Node's main thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);

	int rc = notify_start(s);
	if (rc < 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		free_readers(readers, s->nthreads);
		free(s->threads);
		s->threads = NULL;
		s->readers = NULL;
		return rc;
	}
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 * 1024);
	__atomic_store_n(&s->running_threads, s->nthreads, __ATOMIC_SEQ_CST);
	int created = 0;
	for (int i = 0; i < s->nthreads; i++) {
		rc = pthread_create(&s->threads[i], &at, reader_main, &readers[i]);
		if (rc != 0)
			break;
		created++;
	}
	pthread_attr_destroy(&at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	s->started_threads = created;
	if (created == 0) {
		notify_stop(s);
		free_readers(readers, s->nthreads);
		free(s->threads);
		s->threads = NULL;
		s->readers = NULL;
		return -rc;
	}
	for (int j = created; j < s->nthreads; j++) {
		free(readers[j].buf);
		readers[j].buf = NULL;
		if (readers[j].pipe_r >= 0) {
			close(readers[j].pipe_r);
			close(readers[j].pipe_w);
			readers[j].pipe_r = readers[j].pipe_w = -1;
		}
	}
	int missing = s->nthreads - created;
	if (missing > 0 &&
	    __atomic_sub_fetch(&s->running_threads, missing, __ATOMIC_SEQ_CST) == 0) {
		int e = __atomic_load_n(&s->end_errno, __ATOMIC_SEQ_CST);
		to_js(s, LFS_OP_END, 0, 0, e, 0, 0, NULL, 0, 0);
	}
	return 0;
}

void session_finish(struct lfs_session *s)
{
	if (s->finished)
		return;
	s->finished = 1;
	for (int i = 0; i < s->started_threads; i++)
		pthread_join(s->threads[i], NULL);
	s->started_threads = 0;
	free(s->threads);
	s->threads = NULL;
	free(s->readers);
	s->readers = NULL;
	notify_stop(s);
	blob_table_destroy(&s->blobs, s->devfd);
	listings_drop(&s->listings, NULL);
	if (s->devfd >= 0)
		close(s->devfd);
	s->devfd = -1;
	lfs_watchdog_release(s->watchdog);
	s->watchdog = -1;
	if (s->commfd >= 0)
		close(s->commfd); /* fusermount3 (auto_unmount) sees EOF and exits */
	s->commfd = -1;
}
