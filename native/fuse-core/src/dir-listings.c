#define _GNU_SOURCE
#include "dir-listings.h"
#include "reply.h"
#include "session.h"

#include <stdlib.h>
#include <string.h>

static uint32_t bucket_of(uint64_t nodeid)
{
	return (uint32_t)((nodeid * 0x9E3779B97F4A7C15ULL) >> 54) % LISTINGS_BUCKETS;
}

struct dir_listing *listing_new(uint64_t nodeid, uint32_t n, size_t data_len)
{
	size_t at_len = ((size_t)n + 1) * sizeof(uint32_t);
	size_t head = sizeof(struct dir_listing) + at_len;
	head = (head + 7) & ~(size_t)7;
	size_t size = head + (size_t)n * sizeof(uint64_t) + data_len;
	struct dir_listing *l = calloc(1, size);
	if (!l)
		return NULL;
	l->nodeid = nodeid;
	l->n = n;
	l->size = size;
	l->at = (uint32_t *)(l + 1);
	l->ids = (uint64_t *)((uint8_t *)l + head);
	l->data = (uint8_t *)(l->ids + n);
	return l;
}

static void give_back(struct dir_listing *l, struct id_list *back)
{
	if (!back)
		return;
	for (uint32_t i = l->next; i < l->n; i++) {
		if (!l->ids[i])
			continue;
		if (back->n == back->cap) {
			size_t cap = back->cap ? back->cap * 2 : 64;
			uint64_t *v = realloc(back->v, cap * sizeof *v);
			if (!v) /* the ids stay counted: held a little longer in JS's table, never too few */
				return;
			back->v = v;
			back->cap = cap;
		}
		back->v[back->n++] = l->ids[i];
	}
}

/* Unlinks `l` from its bucket and the age order, and frees it. Under d->mu. */
static void remove_listing(struct dir_listings *d, struct dir_listing *l)
{
	struct dir_listing **p = &d->bucket[bucket_of(l->nodeid)];
	while (*p != l)
		p = &(*p)->chain;
	*p = l->chain;
	if (l->older)
		l->older->newer = l->newer;
	else
		d->oldest = l->newer;
	if (l->newer)
		l->newer->older = l->older;
	else
		d->newest = l->older;
	d->bytes -= l->size;
	free(l);
}

static struct dir_listing *find(struct dir_listings *d, uint64_t nodeid)
{
	struct dir_listing *l = d->bucket[bucket_of(nodeid)];
	while (l && l->nodeid != nodeid)
		l = l->chain;
	return l;
}

void listings_put(struct dir_listings *d, struct dir_listing *l, struct id_list *back)
{
	pthread_mutex_lock(&d->mu);
	struct dir_listing *old = find(d, l->nodeid);
	if (old) {
		give_back(old, back);
		remove_listing(d, old);
	}
	uint32_t b = bucket_of(l->nodeid);
	l->chain = d->bucket[b];
	d->bucket[b] = l;
	l->older = d->newest;
	l->newer = NULL;
	if (d->newest)
		d->newest->newer = l;
	else
		d->oldest = l;
	d->newest = l;
	d->bytes += l->size;
	while (d->bytes > LISTINGS_MAX_BYTES && d->oldest != l) {
		struct dir_listing *gone = d->oldest;
		give_back(gone, back);
		remove_listing(d, gone);
	}
	pthread_mutex_unlock(&d->mu);
}

void listings_drop(struct dir_listings *d, struct id_list *back)
{
	pthread_mutex_lock(&d->mu);
	while (d->oldest) {
		struct dir_listing *gone = d->oldest;
		give_back(gone, back);
		remove_listing(d, gone);
	}
	pthread_mutex_unlock(&d->mu);
}

/*
 * Tells JavaScript which lookups records [from, to) give the kernel, before they are written: the
 * threadsafe function's queue is FIFO, so any FORGET of them comes after. -1 if it cannot be told.
 */
static int announce(struct lfs_session *s, const struct dir_listing *l, uint32_t from, uint32_t to)
{
	uint32_t k = 0;
	for (uint32_t i = from; i < to; i++)
		k += l->ids[i] != 0;
	if (k == 0)
		return 0;
	struct js_request *q = malloc(sizeof *q + (size_t)k * sizeof(double) + 1);
	if (!q)
		return -1;
	memset(q, 0, sizeof *q);
	q->op = LFS_OP_COUNTED;
	q->nodeid = l->nodeid;
	q->namelen = k * (uint32_t)sizeof(double);
	double *ids = (double *)(void *)q->name;
	for (uint32_t i = from, j = 0; i < to; i++)
		if (l->ids[i])
			ids[j++] = (double)l->ids[i];
	if (s->deliver(s, q) != 0) {
		free(q);
		return -1;
	}
	return 0;
}

int listings_serve(struct lfs_session *s, uint64_t unique, uint64_t nodeid, uint64_t offset, uint32_t size)
{
	struct dir_listings *d = &s->listings;
	int answered = 0;
	pthread_mutex_lock(&d->mu);
	struct dir_listing *l = find(d, nodeid);
	if (l && offset == l->next) {
		uint32_t from = l->next, to = from;
		while (to < l->n && l->at[to + 1] - l->at[from] <= size)
			to++;
		if (to > from && announce(s, l, from, to) == 0) {
			struct iovec b = { l->data + l->at[from], l->at[to] - l->at[from] };
			/* The end first: the kernel's next, empty read may reach another reader as soon as this is written. */
			if (to == l->n)
				dir_end_set(&s->dir_ends, nodeid, l->n);
			/* Written under the lock: a drop returns only after it (see dir-listings.h). */
			reply_iov(s, unique, 0, &b, 1);
			answered = 1;
			l->next = to;
			d->served++;
			if (to == l->n)
				remove_listing(d, l);
		}
	}
	pthread_mutex_unlock(&d->mu);
	return answered;
}
