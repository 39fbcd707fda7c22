#define _GNU_SOURCE
#include "blob-handles.h"
#include "fuse-protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

struct blob_slot {
	int fd;               /* kept for passthrough too: serves any READ the kernel still sends */
	uint8_t kind;         /* enum blob_kind */
	uint8_t closing;      /* released while a read was using it */
	uint32_t busy;        /* reads in progress */
	uint32_t next_free;
	uint64_t nodeid;
	uint64_t size;        /* the file's size at open (blobs never change): bounds a spliced reply */
};

struct backing_ent {
	uint64_t nodeid;
	int32_t id;
	uint32_t refs;
	struct backing_ent *next;
};

int blob_table_init(struct blob_table *t)
{
	memset(t, 0, sizeof *t);
	t->free_head = UINT32_MAX;
	return -pthread_mutex_init(&t->mu, NULL);
}

static void close_backing(int devfd, int32_t id)
{
	uint32_t bid = (uint32_t)id;
	if (devfd >= 0)
		(void)ioctl(devfd, FUSE_DEV_IOC_BACKING_CLOSE, &bid);
}

void blob_table_destroy(struct blob_table *t, int devfd)
{
	pthread_mutex_lock(&t->mu);
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->slots[i].kind != BLOB_FREE && t->slots[i].fd >= 0)
			close(t->slots[i].fd);
	free(t->slots);
	t->slots = NULL;
	t->cap = 0;
	t->free_head = UINT32_MAX;
	for (int b = 0; b < BLOB_BACKING_BUCKETS; b++) {
		struct backing_ent *e = t->backing[b];
		while (e) {
			struct backing_ent *n = e->next;
			close_backing(devfd, e->id);
			free(e);
			e = n;
		}
		t->backing[b] = NULL;
	}
	pthread_mutex_unlock(&t->mu);
}

static struct backing_ent **backing_bucket(struct blob_table *t, uint64_t nodeid)
{
	uint64_t h = nodeid * 0x9E3779B97F4A7C15ULL;
	return &t->backing[(h >> 32) % BLOB_BACKING_BUCKETS];
}

/* Called with mu held. Returns slot index or UINT32_MAX. */
static uint32_t slot_alloc(struct blob_table *t)
{
	if (t->free_head == UINT32_MAX) {
		if (t->cap >= BLOB_MAX_SLOTS)
			return UINT32_MAX;
		uint32_t ncap = t->cap ? t->cap * 2 : 64;
		if (ncap > BLOB_MAX_SLOTS)
			ncap = BLOB_MAX_SLOTS;
		struct blob_slot *ns = realloc(t->slots, (size_t)ncap * sizeof *ns);
		if (!ns)
			return UINT32_MAX;
		for (uint32_t i = t->cap; i < ncap; i++) {
			ns[i].fd = -1;
			ns[i].kind = BLOB_FREE;
			ns[i].closing = 0;
			ns[i].busy = 0;
			ns[i].nodeid = 0;
			ns[i].next_free = (i + 1 < ncap) ? i + 1 : UINT32_MAX;
		}
		t->free_head = t->cap;
		t->slots = ns;
		t->cap = ncap;
	}
	uint32_t i = t->free_head;
	t->free_head = t->slots[i].next_free;
	return i;
}

static void slot_free(struct blob_table *t, uint32_t i)
{
	t->slots[i].kind = BLOB_FREE;
	t->slots[i].fd = -1;
	t->slots[i].closing = 0;
	t->slots[i].busy = 0;
	t->slots[i].next_free = t->free_head;
	t->free_head = i;
}

uint64_t blob_open(struct blob_table *t, int devfd, uint64_t nodeid, int fd,
		   int want_passthrough, enum blob_kind *kind, int32_t *backing_id,
		   int *pt_errno)
{
	*pt_errno = 0;
	*backing_id = 0;
	pthread_mutex_lock(&t->mu);
	uint32_t i = slot_alloc(t);
	if (i == UINT32_MAX) {
		pthread_mutex_unlock(&t->mu);
		close(fd);
		return 0;
	}
	struct blob_slot *s = &t->slots[i];
	struct stat st;
	s->size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	s->nodeid = nodeid;
	s->busy = 0;
	s->closing = 0;
	*kind = BLOB_DIRECT;
	if (want_passthrough) {
		struct backing_ent **bk = backing_bucket(t, nodeid);
		struct backing_ent *e = *bk;
		while (e && e->nodeid != nodeid)
			e = e->next;
		if (e) {
			e->refs++;
			*kind = BLOB_PASSTHROUGH;
			*backing_id = e->id;
		} else {
			e = malloc(sizeof *e);
			if (!e) {
				*pt_errno = ENOMEM;
			} else {
				struct fuse_backing_map map = { .fd = fd, .flags = 0, .padding = 0 };
				int id = ioctl(devfd, FUSE_DEV_IOC_BACKING_OPEN, &map);
				if (id < 0 || id == 0) {
					/* id 0 is never handed out; treat as failure */
					*pt_errno = id < 0 ? errno : EIO;
					free(e);
				} else {
					e->nodeid = nodeid;
					e->id = id;
					e->refs = 1;
					e->next = *bk;
					*bk = e;
					*kind = BLOB_PASSTHROUGH;
					*backing_id = id;
				}
			}
		}
	}
	s->kind = (uint8_t)*kind;
	s->fd = fd;
	pthread_mutex_unlock(&t->mu);
	return BLOB_FH_BASE + i;
}

static struct blob_slot *slot_of(struct blob_table *t, uint64_t fh, uint32_t *idx)
{
	if (fh < BLOB_FH_BASE || fh - BLOB_FH_BASE >= t->cap)
		return NULL;
	*idx = (uint32_t)(fh - BLOB_FH_BASE);
	struct blob_slot *s = &t->slots[*idx];
	return s->kind == BLOB_FREE ? NULL : s;
}

int blob_read_begin(struct blob_table *t, uint64_t fh, int *fd, uint64_t *size)
{
	uint32_t i;
	int rc = -EBADF;
	pthread_mutex_lock(&t->mu);
	struct blob_slot *s = slot_of(t, fh, &i);
	if (s && !s->closing) {
		s->busy++;
		*fd = s->fd;
		*size = s->size;
		rc = 0;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void blob_read_end(struct blob_table *t, uint64_t fh)
{
	uint32_t i;
	int close_fd = -1;
	pthread_mutex_lock(&t->mu);
	struct blob_slot *s = slot_of(t, fh, &i);
	if (s && s->busy > 0) {
		s->busy--;
		if (s->busy == 0 && s->closing) {
			close_fd = s->fd;
			slot_free(t, i);
		}
	}
	pthread_mutex_unlock(&t->mu);
	if (close_fd >= 0)
		close(close_fd);
}

int blob_release(struct blob_table *t, int devfd, uint64_t fh)
{
	uint32_t i;
	int close_fd = -1;
	int32_t close_id = 0;
	pthread_mutex_lock(&t->mu);
	struct blob_slot *s = slot_of(t, fh, &i);
	if (!s || s->closing) {
		pthread_mutex_unlock(&t->mu);
		return -EBADF;
	}
	if (s->kind == BLOB_PASSTHROUGH) {
		struct backing_ent **pp = backing_bucket(t, s->nodeid);
		while (*pp && (*pp)->nodeid != s->nodeid)
			pp = &(*pp)->next;
		if (*pp && --(*pp)->refs == 0) {
			struct backing_ent *e = *pp;
			*pp = e->next;
			close_id = e->id;
			free(e);
			/* Closed under the lock: a concurrent open of this node must
			 * not find the entry gone while the id is still registered. */
			close_backing(devfd, close_id);
		}
		s->kind = BLOB_DIRECT; /* what is left is the fd */
	}
	if (s->busy > 0) {
		s->closing = 1; /* the last reader closes it */
	} else {
		close_fd = s->fd;
		slot_free(t, i);
	}
	pthread_mutex_unlock(&t->mu);
	if (close_fd >= 0)
		close(close_fd);
	return 0;
}
