/*
 * Encoding replies to the kernel. Every reply is one writev() of an
 * out_header plus the body pieces. ENOENT from the write means the request
 * was interrupted and is ignored; other failures are counted.
 */
#ifndef LAYOUTFS_REPLY_H
#define LAYOUTFS_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "fuse-protocol.h"

struct lfs_session;

/* Layout of an attribute record (Float64Array) shared with JS. */
enum {
	ATTR_NODEID = 0, ATTR_GENERATION, ATTR_ENTRY_VALID, ATTR_ATTR_VALID,
	ATTR_INO, ATTR_SIZE, ATTR_BLOCKS, ATTR_MTIME, ATTR_MTIME_NSEC,
	ATTR_MODE, ATTR_NLINK, ATTR_UID, ATTR_GID, ATTR_BLKSIZE,
	ATTR_LEN
};

/* 0 on success, -errno otherwise (-ENOENT: interrupted, not counted as an error). */
int reply_iov(struct lfs_session *s, uint64_t unique, int error, struct iovec *body, int nbody);
int reply_error(struct lfs_session *s, uint64_t unique, int err_positive);
int reply_entry(struct lfs_session *s, uint64_t unique, const double *attrs);
int reply_attr(struct lfs_session *s, uint64_t unique, const double *attrs);
int reply_open(struct lfs_session *s, uint64_t unique, uint64_t fh, uint32_t flags, int32_t backing_id);
int reply_data(struct lfs_session *s, uint64_t unique, const void *buf, size_t len);
int reply_statfs(struct lfs_session *s, uint64_t unique, const struct fuse_kstatfs *st);

/* Double -> integer conversions that never invoke undefined behaviour. */
uint64_t d2u64(double v);
uint32_t d2u32(double v);

void encode_attr(struct fuse_attr *out, const double *a);
void encode_entry(struct fuse_entry_out *out, const double *a);

/*
 * Append one dirent (plus = direntplus) to buf[*used..cap). Returns 1 if it
 * fit, 0 if not (nothing written).
 */
int pack_dirent(uint8_t *buf, size_t cap, size_t *used, int plus,
		const char *name, size_t namelen, const double *attrs, uint64_t off);

#endif
