#define _GNU_SOURCE
#include "reply.h"
#include "session.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

uint64_t d2u64(double v)
{
	if (!(v > 0)) /* also NaN */
		return 0;
	if (v >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)v;
}

uint32_t d2u32(double v)
{
	if (!(v > 0))
		return 0;
	if (v >= 4294967295.0)
		return UINT32_MAX;
	return (uint32_t)v;
}

/* Seconds (possibly fractional) -> (sec, nsec). */
static void split_seconds(double v, uint64_t *sec, uint32_t *nsec)
{
	if (!(v > 0)) {
		*sec = 0;
		*nsec = 0;
		return;
	}
	double whole = floor(v);
	*sec = d2u64(whole);
	double ns = (v - whole) * 1e9;
	*nsec = ns >= 999999999.0 ? 999999999u : d2u32(ns);
}

void encode_attr(struct fuse_attr *o, const double *a)
{
	memset(o, 0, sizeof *o);
	o->ino = d2u64(a[ATTR_INO]);
	o->size = d2u64(a[ATTR_SIZE]);
	o->blocks = d2u64(a[ATTR_BLOCKS]);
	o->mtime = d2u64(a[ATTR_MTIME]);
	uint32_t ns = d2u32(a[ATTR_MTIME_NSEC]);
	o->mtimensec = ns > 999999999u ? 999999999u : ns;
	o->atime = o->ctime = o->mtime;
	o->atimensec = o->ctimensec = o->mtimensec;
	o->mode = d2u32(a[ATTR_MODE]);
	o->nlink = d2u32(a[ATTR_NLINK]);
	o->uid = d2u32(a[ATTR_UID]);
	o->gid = d2u32(a[ATTR_GID]);
	o->rdev = 0;
	o->blksize = d2u32(a[ATTR_BLKSIZE]);
}

void encode_entry(struct fuse_entry_out *o, const double *a)
{
	memset(o, 0, sizeof *o);
	o->nodeid = d2u64(a[ATTR_NODEID]);
	o->generation = d2u64(a[ATTR_GENERATION]);
	split_seconds(a[ATTR_ENTRY_VALID], &o->entry_valid, &o->entry_valid_nsec);
	split_seconds(a[ATTR_ATTR_VALID], &o->attr_valid, &o->attr_valid_nsec);
	encode_attr(&o->attr, a);
}

int reply_iov(struct lfs_session *s, uint64_t unique, int error, struct iovec *body, int nbody)
{
	struct iovec iov[8];
	struct fuse_out_header h;
	size_t total = sizeof h;
	if (nbody > 7)
		return -EINVAL;
	iov[0] = (struct iovec){ &h, sizeof h };
	for (int i = 0; i < nbody; i++) {
		iov[i + 1] = body[i];
		total += body[i].iov_len;
	}
	h.len = (uint32_t)total;
	h.error = error;
	h.unique = unique;
	ssize_t w;
	do
		w = writev(s->devfd, iov, nbody + 1);
	while (w < 0 && errno == EINTR);
	if (w >= 0)
		return 0;
	int e = errno;
	if (e == ENOENT) /* interrupted request: the kernel dropped it; not counted */
		return -ENOENT;
	__atomic_add_fetch(&s->stats.write_errors, 1, __ATOMIC_RELAXED);
	return -e;
}

int reply_error(struct lfs_session *s, uint64_t unique, int err)
{
	if (err <= 0 || err > 4095)
		err = EIO;
	return reply_iov(s, unique, -err, NULL, 0);
}

int reply_entry(struct lfs_session *s, uint64_t unique, const double *attrs)
{
	struct fuse_entry_out e;
	encode_entry(&e, attrs);
	struct iovec b = { &e, sizeof e };
	return reply_iov(s, unique, 0, &b, 1);
}

int reply_attr(struct lfs_session *s, uint64_t unique, const double *attrs)
{
	struct fuse_attr_out o;
	memset(&o, 0, sizeof o);
	split_seconds(attrs[ATTR_ATTR_VALID], &o.attr_valid, &o.attr_valid_nsec);
	encode_attr(&o.attr, attrs);
	struct iovec b = { &o, sizeof o };
	return reply_iov(s, unique, 0, &b, 1);
}

int reply_open(struct lfs_session *s, uint64_t unique, uint64_t fh, uint32_t flags, int32_t backing_id)
{
	struct fuse_open_out o = { .fh = fh, .open_flags = flags, .backing_id = backing_id };
	struct iovec b = { &o, sizeof o };
	return reply_iov(s, unique, 0, &b, 1);
}

int reply_data(struct lfs_session *s, uint64_t unique, const void *buf, size_t len)
{
	struct iovec b = { (void *)buf, len };
	return reply_iov(s, unique, 0, &b, len ? 1 : 0);
}

int reply_statfs(struct lfs_session *s, uint64_t unique, const struct fuse_kstatfs *st)
{
	struct fuse_statfs_out o;
	o.st = *st;
	struct iovec b = { &o, sizeof o };
	return reply_iov(s, unique, 0, &b, 1);
}

int pack_dirent(uint8_t *buf, size_t cap, size_t *used, int plus,
		const char *name, size_t namelen, const double *a, uint64_t off)
{
	size_t head = plus ? sizeof(struct fuse_direntplus) : sizeof(struct fuse_dirent);
	size_t rec = FUSE_DIRENT_ALIGN(head + namelen);
	if (*used > cap || cap - *used < rec)
		return 0;
	uint8_t *p = buf + *used;
	memset(p, 0, rec);
	struct fuse_dirent d;
	d.ino = d2u64(a[ATTR_INO]);
	d.off = off;
	d.namelen = (uint32_t)namelen;
	d.type = (d2u32(a[ATTR_MODE]) >> 12) & 15;
	if (plus) {
		struct fuse_entry_out e;
		encode_entry(&e, a);
		memcpy(p, &e, sizeof e);
		memcpy(p + sizeof e, &d, sizeof d);
	} else {
		memcpy(p, &d, sizeof d);
	}
	memcpy(p + head, name, namelen);
	*used += rec;
	return 1;
}
