#define _GNU_SOURCE
#include "notify.h"
#include "fuse-protocol.h"
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define NOTIFY_NAME_MAX 1024

struct notify_item {
	struct notify_item *next;
	int code;
	uint64_t node;
	int64_t off, len;
	uint32_t namelen;
	char name[];
};

static void send_item(struct lfs_session *s, struct notify_item *it)
{
	struct fuse_out_header h = { 0 };
	struct iovec iov[4];
	int n = 0;
	struct fuse_notify_inval_entry_out ent;
	struct fuse_notify_inval_inode_out ino;
	iov[n++] = (struct iovec){ &h, sizeof h };
	if (it->code == FUSE_NOTIFY_INVAL_ENTRY) {
		ent = (struct fuse_notify_inval_entry_out){ .parent = it->node, .namelen = it->namelen, .flags = 0 };
		iov[n++] = (struct iovec){ &ent, sizeof ent };
		iov[n++] = (struct iovec){ it->name, (size_t)it->namelen + 1 };
	} else {
		ino = (struct fuse_notify_inval_inode_out){ .ino = it->node, .off = it->off, .len = it->len };
		iov[n++] = (struct iovec){ &ino, sizeof ino };
	}
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	h.len = (uint32_t)total;
	h.error = it->code;
	h.unique = 0;
	ssize_t w;
	do
		w = writev(s->devfd, iov, n);
	while (w < 0 && errno == EINTR);
	/* ENOENT: the kernel had nothing cached; that is success for us. */
	if (w >= 0 || errno == ENOENT)
		__atomic_add_fetch(&s->stats.notify_sent, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&s->stats.notify_failed, 1, __ATOMIC_RELAXED);
}

static void *notify_main(void *arg)
{
	struct lfs_session *s = arg;
	struct notify_queue *q = &s->notify;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->head && !q->stop)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop)
			break;
		struct notify_item *it = q->head;
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->mu);
		send_item(s, it);
		free(it);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int notify_start(struct lfs_session *s)
{
	struct notify_queue *q = &s->notify;
	memset(q, 0, sizeof *q);
	int rc = pthread_mutex_init(&q->mu, NULL);
	if (rc)
		return -rc;
	rc = pthread_cond_init(&q->cv, NULL);
	if (rc) {
		pthread_mutex_destroy(&q->mu);
		return -rc;
	}
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 * 1024);
	rc = pthread_create(&q->thread, &at, notify_main, s);
	pthread_attr_destroy(&at);
	if (rc) {
		pthread_cond_destroy(&q->cv);
		pthread_mutex_destroy(&q->mu);
		return -rc;
	}
	q->started = 1;
	return 0;
}

void notify_stop(struct lfs_session *s)
{
	struct notify_queue *q = &s->notify;
	if (!q->started)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	q->started = 0;
	struct notify_item *it = q->head;
	while (it) {
		struct notify_item *n = it->next;
		free(it);
		it = n;
	}
	q->head = q->tail = NULL;
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
}

static int push(struct lfs_session *s, struct notify_item *it)
{
	struct notify_queue *q = &s->notify;
	if (!q->started) {
		free(it);
		return -ESHUTDOWN;
	}
	pthread_mutex_lock(&q->mu);
	if (q->stop) {
		pthread_mutex_unlock(&q->mu);
		free(it);
		return -ESHUTDOWN;
	}
	it->next = NULL;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

int notify_inval_entry(struct lfs_session *s, uint64_t parent, const char *name, size_t namelen)
{
	if (namelen == 0 || namelen > NOTIFY_NAME_MAX)
		return -ENAMETOOLONG;
	struct notify_item *it = malloc(sizeof *it + namelen + 1);
	if (!it)
		return -ENOMEM;
	it->code = FUSE_NOTIFY_INVAL_ENTRY;
	it->node = parent;
	it->off = it->len = 0;
	it->namelen = (uint32_t)namelen;
	memcpy(it->name, name, namelen);
	it->name[namelen] = 0;
	return push(s, it);
}

int notify_inval_inode(struct lfs_session *s, uint64_t ino, int64_t off, int64_t len)
{
	struct notify_item *it = malloc(sizeof *it + 1);
	if (!it)
		return -ENOMEM;
	it->code = FUSE_NOTIFY_INVAL_INODE;
	it->node = ino;
	it->off = off;
	it->len = len;
	it->namelen = 0;
	it->name[0] = 0;
	return push(s, it);
}
