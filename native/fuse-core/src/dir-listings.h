/*
 * Directory listings handed to the core before the kernel asks for them (a view's blobs and
 * blobs/<alg>, packed when JavaScript answers the view's own listing), answered on the reader
 * thread without the round trip through JavaScript.
 *
 * Lookup counts: each readdirplus entry gives the kernel one lookup, which JavaScript must know
 * before any FORGET of it arrives. A reply from a listing is announced to JavaScript first
 * (LFS_OP_COUNTED with the node ids of its entries), through the same FIFO queue the FORGETs it
 * makes possible take later. Until then JavaScript holds a listing's entries as "ahead", so a
 * refresh's invalidations reach ids whose announcement is still queued; the core hands back the
 * entries it will never serve (a listing replaced, evicted or dropped). Each record is served at
 * most once: a read must start where the last one ended (any other read goes to JavaScript). A
 * reply the kernel refused (an interrupted request) counts as served, as JavaScript's own do.
 *
 * Refreshes: replies are written under the table's lock, so once listings_drop returns no reply
 * from a dropped listing can still reach the kernel, and the refresh's invalidations go out after.
 *
 * Memory: a listing served to its end leaves (the kernel keeps it in its page cache,
 * FOPEN_CACHE_DIR); the oldest are evicted past LISTINGS_MAX_BYTES.
 */
#ifndef LAYOUTFS_DIR_LISTINGS_H
#define LAYOUTFS_DIR_LISTINGS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define LISTINGS_BUCKETS 1024
#define LISTINGS_MAX_BYTES (8u << 20)
/* One listing at most this big: the cap must hold many. */
#define LISTING_MAX_BYTES (LISTINGS_MAX_BYTES / 16)

struct dir_listing {
	struct dir_listing *chain;         /* the next in its bucket */
	struct dir_listing *older, *newer; /* age order, for eviction */
	uint64_t nodeid;
	uint32_t n;                        /* records, `.` and `..` included */
	uint32_t next;                     /* records served: where the next read must start */
	size_t size;                       /* the whole allocation, counted against the cap */
	uint32_t *at;                      /* n + 1 record starts in data */
	uint64_t *ids;                     /* the node id each record gives a lookup to, 0 for none */
	uint8_t *data;                     /* fuse_direntplus records, off = index + 1 */
};

struct dir_listings {
	pthread_mutex_t mu;
	struct dir_listing *bucket[LISTINGS_BUCKETS];
	struct dir_listing *oldest, *newest;
	size_t bytes;
	uint64_t served;                   /* replies written from listings (stats) */
};

/* Node ids whose counted lookups the kernel never got: JavaScript takes one lookup off each. */
struct id_list {
	uint64_t *v;
	size_t n, cap;
};

struct lfs_session;

/* A listing of n records of data_len bytes in one allocation (at, ids, data set up, unfilled). */
struct dir_listing *listing_new(uint64_t nodeid, uint32_t n, size_t data_len);
/* Keeps `l` (replacing one of the same node), evicting the oldest past the cap; unserved ids go to `back`. */
void listings_put(struct dir_listings *d, struct dir_listing *l, struct id_list *back);
/* Drops every listing; unserved ids go to `back` (NULL: nobody counts any more). */
void listings_drop(struct dir_listings *d, struct id_list *back);
/* Answers a READDIRPLUS of `nodeid` at `offset` from its listing; 1 if answered, 0 to leave it to JavaScript. */
int listings_serve(struct lfs_session *s, uint64_t unique, uint64_t nodeid, uint64_t offset, uint32_t size);

#endif
