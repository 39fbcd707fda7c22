/*
 * Where each directory's listing ends, as JavaScript last answered it: the kernel reads a
 * directory until a reply comes back empty, and that last, empty READDIRPLUS is answered here
 * instead of by a round trip to JavaScript (half the requests of a cold walk). A small
 * direct-mapped cache: a slot lost to another directory only means the round trip again.
 * JavaScript records the end with each reply that reaches it and clears it with one that does
 * not; a store change that alters a listing clears it (notifyInvalInode of the directory).
 */
#ifndef LAYOUTFS_DIR_ENDS_H
#define LAYOUTFS_DIR_ENDS_H

#include <pthread.h>
#include <stdint.h>

#define DIR_END_SLOTS 4096

struct dir_ends {
	pthread_mutex_t mu;
	struct { uint64_t nodeid, end; } slot[DIR_END_SLOTS];
};

static inline uint32_t dir_end_slot(uint64_t nodeid)
{
	return (uint32_t)((nodeid * 0x9E3779B97F4A7C15ULL) >> 52) % DIR_END_SLOTS;
}

/* Records that `nodeid`'s listing ends at `end` (end 0: forget it). */
static inline void dir_end_set(struct dir_ends *d, uint64_t nodeid, uint64_t end)
{
	uint32_t i = dir_end_slot(nodeid);
	pthread_mutex_lock(&d->mu);
	if (end > 0) {
		d->slot[i].nodeid = nodeid;
		d->slot[i].end = end;
	} else if (d->slot[i].nodeid == nodeid) {
		d->slot[i].nodeid = 0;
	}
	pthread_mutex_unlock(&d->mu);
}

/* Whether a read of `nodeid`'s listing at `offset` is past its known end. */
static inline int dir_end_past(struct dir_ends *d, uint64_t nodeid, uint64_t offset)
{
	uint32_t i = dir_end_slot(nodeid);
	pthread_mutex_lock(&d->mu);
	int past = nodeid != 0 && d->slot[i].nodeid == nodeid && offset >= d->slot[i].end;
	pthread_mutex_unlock(&d->mu);
	return past;
}

#endif
