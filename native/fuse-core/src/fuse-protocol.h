/*
 * FUSE kernel wire protocol, the subset layoutfs speaks (protocol 7.40).
 *
 * Written for this project from the published layout of the kernel's
 * include/uapi/linux/fuse.h; only what the session needs is declared.
 * All structures are naturally aligned, little-endian host order, no
 * packing pragmas needed (sizes are checked with static asserts below).
 */
#ifndef LAYOUTFS_FUSE_PROTOCOL_H
#define LAYOUTFS_FUSE_PROTOCOL_H

#include <stdint.h>
#include <sys/ioctl.h>

#define FUSE_KERNEL_VERSION 7
#define FUSE_OUR_MINOR 40          /* highest minor this code implements */
#define FUSE_MIN_KERNEL_MINOR 31   /* older kernels are refused (EPROTO) */
#define FUSE_ROOT_ID 1
#define FUSE_MIN_READ_BUFFER 8192

/* INIT flags (64-bit view: bits 32..63 travel in flags2 with FUSE_INIT_EXT) */
#define FUSE_ASYNC_READ          (1ULL << 0)
#define FUSE_EXPORT_SUPPORT      (1ULL << 4)
#define FUSE_DO_READDIRPLUS      (1ULL << 13)
#define FUSE_READDIRPLUS_AUTO    (1ULL << 14)
#define FUSE_PARALLEL_DIROPS     (1ULL << 18)
#define FUSE_MAX_PAGES           (1ULL << 22)
#define FUSE_NO_OPENDIR_SUPPORT  (1ULL << 24)
#define FUSE_EXPLICIT_INVAL_DATA (1ULL << 25)
#define FUSE_INIT_EXT            (1ULL << 30)
#define FUSE_PASSTHROUGH         (1ULL << 37)

/* open_out.open_flags */
#define FOPEN_DIRECT_IO   (1u << 0)
#define FOPEN_KEEP_CACHE  (1u << 1)
#define FOPEN_CACHE_DIR   (1u << 3)
#define FOPEN_PASSTHROUGH (1u << 7)

/* getattr_in.getattr_flags */
#define FUSE_GETATTR_FH (1u << 0)

enum fuse_opcode {
	FUSE_LOOKUP = 1, FUSE_FORGET = 2, FUSE_GETATTR = 3, FUSE_SETATTR = 4,
	FUSE_READLINK = 5, FUSE_SYMLINK = 6, FUSE_MKNOD = 8, FUSE_MKDIR = 9,
	FUSE_UNLINK = 10, FUSE_RMDIR = 11, FUSE_RENAME = 12, FUSE_LINK = 13,
	FUSE_OPEN = 14, FUSE_READ = 15, FUSE_WRITE = 16, FUSE_STATFS = 17,
	FUSE_RELEASE = 18, FUSE_FSYNC = 20, FUSE_SETXATTR = 21,
	FUSE_GETXATTR = 22, FUSE_LISTXATTR = 23, FUSE_REMOVEXATTR = 24,
	FUSE_FLUSH = 25, FUSE_INIT = 26, FUSE_OPENDIR = 27, FUSE_READDIR = 28,
	FUSE_RELEASEDIR = 29, FUSE_FSYNCDIR = 30, FUSE_GETLK = 31,
	FUSE_SETLK = 32, FUSE_SETLKW = 33, FUSE_ACCESS = 34, FUSE_CREATE = 35,
	FUSE_INTERRUPT = 36, FUSE_BMAP = 37, FUSE_DESTROY = 38, FUSE_IOCTL = 39,
	FUSE_POLL = 40, FUSE_NOTIFY_REPLY = 41, FUSE_BATCH_FORGET = 42,
	FUSE_FALLOCATE = 43, FUSE_READDIRPLUS = 44, FUSE_RENAME2 = 45,
	FUSE_LSEEK = 46, FUSE_COPY_FILE_RANGE = 47, FUSE_SETUPMAPPING = 48,
	FUSE_REMOVEMAPPING = 49, FUSE_SYNCFS = 50, FUSE_TMPFILE = 51,
	FUSE_STATX = 52, FUSE_COPY_FILE_RANGE_64 = 53,
};

enum fuse_notify_code {
	FUSE_NOTIFY_INVAL_INODE = 2,
	FUSE_NOTIFY_INVAL_ENTRY = 3,
};

struct fuse_in_header {
	uint32_t len;
	uint32_t opcode;
	uint64_t unique;
	uint64_t nodeid;
	uint32_t uid;
	uint32_t gid;
	uint32_t pid;
	uint16_t total_extlen;
	uint16_t padding;
};

struct fuse_out_header {
	uint32_t len;
	int32_t error;
	uint64_t unique;
};

struct fuse_attr {
	uint64_t ino;
	uint64_t size;
	uint64_t blocks;
	uint64_t atime;
	uint64_t mtime;
	uint64_t ctime;
	uint32_t atimensec;
	uint32_t mtimensec;
	uint32_t ctimensec;
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint32_t rdev;
	uint32_t blksize;
	uint32_t flags;
};

struct fuse_entry_out {
	uint64_t nodeid;
	uint64_t generation;
	uint64_t entry_valid;
	uint64_t attr_valid;
	uint32_t entry_valid_nsec;
	uint32_t attr_valid_nsec;
	struct fuse_attr attr;
};

struct fuse_forget_in { uint64_t nlookup; };
struct fuse_forget_one { uint64_t nodeid; uint64_t nlookup; };
struct fuse_batch_forget_in { uint32_t count; uint32_t dummy; };

struct fuse_getattr_in {
	uint32_t getattr_flags;
	uint32_t dummy;
	uint64_t fh;
};

struct fuse_attr_out {
	uint64_t attr_valid;
	uint32_t attr_valid_nsec;
	uint32_t dummy;
	struct fuse_attr attr;
};

struct fuse_open_in {
	uint32_t flags;
	uint32_t open_flags;
};

struct fuse_open_out {
	uint64_t fh;
	uint32_t open_flags;
	int32_t backing_id;     /* 7.40: with FOPEN_PASSTHROUGH */
};

struct fuse_release_in {
	uint64_t fh;
	uint32_t flags;
	uint32_t release_flags;
	uint64_t lock_owner;
};

struct fuse_read_in {
	uint64_t fh;
	uint64_t offset;
	uint32_t size;
	uint32_t read_flags;
	uint64_t lock_owner;
	uint32_t flags;
	uint32_t padding;
};

struct fuse_kstatfs {
	uint64_t blocks;
	uint64_t bfree;
	uint64_t bavail;
	uint64_t files;
	uint64_t ffree;
	uint32_t bsize;
	uint32_t namelen;
	uint32_t frsize;
	uint32_t padding;
	uint32_t spare[6];
};

struct fuse_statfs_out { struct fuse_kstatfs st; };

/* What kernels before 7.36 send: the first four words only. */
#define FUSE_COMPAT_INIT_IN_SIZE 16

struct fuse_init_in {
	uint32_t major;
	uint32_t minor;
	uint32_t max_readahead;
	uint32_t flags;
	uint32_t flags2;
	uint32_t unused[11];
};

struct fuse_init_out {
	uint32_t major;
	uint32_t minor;
	uint32_t max_readahead;
	uint32_t flags;
	uint16_t max_background;
	uint16_t congestion_threshold;
	uint32_t max_write;
	uint32_t time_gran;
	uint16_t max_pages;
	uint16_t map_alignment;
	uint32_t flags2;
	uint32_t max_stack_depth; /* 7.40 */
	uint32_t unused[6];
};

struct fuse_dirent {
	uint64_t ino;
	uint64_t off;
	uint32_t namelen;
	uint32_t type;
	/* char name[]; padded to 8 bytes */
};

struct fuse_direntplus {
	struct fuse_entry_out entry_out;
	struct fuse_dirent dirent;
};

#define FUSE_DIRENT_ALIGN(x) (((x) + sizeof(uint64_t) - 1) & ~(sizeof(uint64_t) - 1))

struct fuse_notify_inval_inode_out {
	uint64_t ino;
	int64_t off;
	int64_t len;
};

struct fuse_notify_inval_entry_out {
	uint64_t parent;
	uint32_t namelen;
	uint32_t flags;
};

/* Passthrough backing files (7.40), ioctls on the /dev/fuse fd. */
struct fuse_backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};

#define FUSE_DEV_IOC_MAGIC 229
#define FUSE_DEV_IOC_BACKING_OPEN _IOW(FUSE_DEV_IOC_MAGIC, 1, struct fuse_backing_map)
#define FUSE_DEV_IOC_BACKING_CLOSE _IOW(FUSE_DEV_IOC_MAGIC, 2, uint32_t)

_Static_assert(sizeof(struct fuse_in_header) == 40, "in_header");
_Static_assert(sizeof(struct fuse_out_header) == 16, "out_header");
_Static_assert(sizeof(struct fuse_attr) == 88, "attr");
_Static_assert(sizeof(struct fuse_entry_out) == 128, "entry_out");
_Static_assert(sizeof(struct fuse_attr_out) == 104, "attr_out");
_Static_assert(sizeof(struct fuse_open_out) == 16, "open_out");
_Static_assert(sizeof(struct fuse_read_in) == 40, "read_in");
_Static_assert(sizeof(struct fuse_release_in) == 24, "release_in");
_Static_assert(sizeof(struct fuse_statfs_out) == 80, "statfs_out");
_Static_assert(sizeof(struct fuse_init_in) == 64, "init_in");
_Static_assert(sizeof(struct fuse_init_out) == 64, "init_out");
_Static_assert(sizeof(struct fuse_dirent) == 24, "dirent");
_Static_assert(sizeof(struct fuse_direntplus) == 152, "direntplus");
_Static_assert(sizeof(struct fuse_backing_map) == 16, "backing_map");
_Static_assert(sizeof(struct fuse_notify_inval_entry_out) == 16, "inval_entry");
_Static_assert(sizeof(struct fuse_notify_inval_inode_out) == 24, "inval_inode");

#endif
