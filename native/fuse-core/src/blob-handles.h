/*
 * Native file handles for blobs. Every blob open gets a slot; its fh is
 * BLOB_FH_BASE + slot index, so handles chosen by JS (< 2^52) never collide.
 * A slot is either "direct" (we pread its fd in the reader threads) or
 * "passthrough" (the kernel reads the backing file itself; the fd is kept
 * anyway, so a READ the kernel might still send is served). Passthrough
 * backing ids are shared by all opens of one nodeid and refcounted: the
 * kernel accepts only one backing file per inode at a time.
 */
#ifndef LAYOUTFS_BLOB_HANDLES_H
#define LAYOUTFS_BLOB_HANDLES_H

#include <pthread.h>
#include <stdint.h>

#define BLOB_FH_BASE (1ULL << 52)
#define BLOB_MAX_SLOTS (1u << 24)
#define BLOB_BACKING_BUCKETS 1024

struct blob_slot;
struct backing_ent;

struct blob_table {
	pthread_mutex_t mu;
	struct blob_slot *slots;
	uint32_t cap;
	uint32_t free_head;   /* UINT32_MAX: none */
	struct backing_ent *backing[BLOB_BACKING_BUCKETS];
};

enum blob_kind { BLOB_FREE = 0, BLOB_DIRECT = 1, BLOB_PASSTHROUGH = 2 };

static inline int blob_fh_is_native(uint64_t fh) { return fh >= BLOB_FH_BASE; }

int blob_table_init(struct blob_table *t);
/* Close every fd and backing id still registered; frees memory. */
void blob_table_destroy(struct blob_table *t, int devfd);

/*
 * Register an open of nodeid; takes ownership of fd in every case.
 * want_passthrough: try (or reuse) a backing id. On return *kind is
 * BLOB_PASSTHROUGH (with *backing_id) or BLOB_DIRECT; *pt_errno is the
 * errno of a failed FUSE_DEV_IOC_BACKING_OPEN (0 if none was tried or it
 * worked). Returns the fh, or 0 when out of slots/memory (fd closed).
 */
uint64_t blob_open(struct blob_table *t, int devfd, uint64_t nodeid, int fd,
		   int want_passthrough, enum blob_kind *kind, int32_t *backing_id,
		   int *pt_errno);

/* For a READ: 0, the fd (slot pinned) and the file's size at open, or -EBADF. Pair with blob_read_end. */
int blob_read_begin(struct blob_table *t, uint64_t fh, int *fd, uint64_t *size);
void blob_read_end(struct blob_table *t, uint64_t fh);

/* RELEASE of a native fh: 0 or -EBADF. */
int blob_release(struct blob_table *t, int devfd, uint64_t fh);

#endif
