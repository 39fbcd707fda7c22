/*
 * Kernel cache invalidation from a thread of its own. The kernel's
 * inval_entry takes the parent directory's lock; an in-flight LOOKUP that
 * waits for JS holds it, so writing it from the JS thread would deadlock.
 */
#ifndef LAYOUTFS_NOTIFY_H
#define LAYOUTFS_NOTIFY_H

#include <pthread.h>
#include <stdint.h>
#include <stddef.h>

struct notify_item;
struct lfs_session;

struct notify_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct notify_item *head, *tail;
	int stop;
	int started;
	pthread_t thread;
};

int notify_start(struct lfs_session *s);
void notify_stop(struct lfs_session *s);
/* Queue; 0 or -ENOMEM / -ENAMETOOLONG / -ESHUTDOWN. Never blocks on the kernel. */
int notify_inval_entry(struct lfs_session *s, uint64_t parent, const char *name, size_t namelen);
int notify_inval_inode(struct lfs_session *s, uint64_t ino, int64_t off, int64_t len);

#endif
