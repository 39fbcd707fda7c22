/*
 * N-API glue: argument checking, the threadsafe function that carries
 * requests to the JS handler, and the session object's methods.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob-handles.h"
#include "dir-watch.h"
#include "file-batch.h"
#include "fuse-protocol.h"
#include "mount.h"
#include "notify.h"
#include "reply.h"
#include "session.h"

#define NAME_MAX_BYTES 1024
#define MAX_SAFE 9007199254740991.0

struct addon_session {
	struct lfs_session core; /* first: deliver() casts back */
	napi_threadsafe_function tsfn;
	int refs;          /* JS wrapper + threadsafe function */
	int started;       /* reader threads were started */
	int closed;        /* JS thread: END handled, device closed */
	int unmounted;     /* unmount() succeeded once */
	int tearing_down;  /* atomic: the Node environment is going away */
	uint8_t *dirbuf;
	size_t dirbuf_cap;
};

struct addon_data {
	napi_ref ctor;
};

/* ---------- small helpers ---------- */

static napi_value throw_msg(napi_env env, const char *code, const char *msg, int type)
{
	if (type == 1)
		napi_throw_type_error(env, code, msg);
	else if (type == 2)
		napi_throw_range_error(env, code, msg);
	else
		napi_throw_error(env, code, msg);
	return NULL;
}
#define THROW(env, msg) throw_msg(env, NULL, msg, 0)
#define THROW_TYPE(env, msg) throw_msg(env, NULL, msg, 1)
#define THROW_RANGE(env, msg) throw_msg(env, NULL, msg, 2)

static napi_value undef(napi_env env)
{
	napi_value v;
	napi_get_undefined(env, &v);
	return v;
}

static napi_value num(napi_env env, double d)
{
	napi_value v;
	napi_create_double(env, d, &v);
	return v;
}

static int is_type(napi_env env, napi_value v, napi_valuetype t)
{
	napi_valuetype got;
	return v && napi_typeof(env, v, &got) == napi_ok && got == t;
}

/* A non-negative integer-valued number below 2^64 (and finite). */
static int arg_u64(napi_env env, napi_value v, const char *what, uint64_t *out)
{
	double d;
	if (!is_type(env, v, napi_number) || napi_get_value_double(env, v, &d) != napi_ok) {
		char m[96];
		snprintf(m, sizeof m, "%s must be a number", what);
		THROW_TYPE(env, m);
		return -1;
	}
	if (!isfinite(d) || d < 0 || d >= 18446744073709551616.0) {
		char m[96];
		snprintf(m, sizeof m, "%s out of range", what);
		THROW_RANGE(env, m);
		return -1;
	}
	*out = (uint64_t)d;
	return 0;
}

static int arg_i64(napi_env env, napi_value v, const char *what, int64_t *out)
{
	double d;
	if (!is_type(env, v, napi_number) || napi_get_value_double(env, v, &d) != napi_ok) {
		char m[96];
		snprintf(m, sizeof m, "%s must be a number", what);
		THROW_TYPE(env, m);
		return -1;
	}
	if (!isfinite(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
		char m[96];
		snprintf(m, sizeof m, "%s out of range", what);
		THROW_RANGE(env, m);
		return -1;
	}
	*out = (int64_t)d;
	return 0;
}

/* Reads a JS string into a malloc'd NUL-terminated buffer. */
static char *arg_string(napi_env env, napi_value v, const char *what, size_t *lenp)
{
	size_t len;
	if (!is_type(env, v, napi_string) ||
	    napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
		char m[96];
		snprintf(m, sizeof m, "%s must be a string", what);
		THROW_TYPE(env, m);
		return NULL;
	}
	char *s = malloc(len + 1);
	if (!s) {
		THROW(env, "out of memory");
		return NULL;
	}
	napi_get_value_string_utf8(env, v, s, len + 1, &len);
	if (strlen(s) != len) {
		free(s);
		char m[96];
		snprintf(m, sizeof m, "%s must not contain NUL", what);
		THROW_TYPE(env, m);
		return NULL;
	}
	if (lenp)
		*lenp = len;
	return s;
}

/* Float64Array with at least `need` elements. */
static int arg_attrs(napi_env env, napi_value v, size_t need, const double **out)
{
	bool is_ta = false;
	napi_typedarray_type t;
	size_t len;
	void *data;
	if (!v || napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
	    napi_get_typedarray_info(env, v, &t, &len, &data, NULL, NULL) != napi_ok ||
	    t != napi_float64_array) {
		THROW_TYPE(env, "attrs must be a Float64Array");
		return -1;
	}
	if (len < need) {
		THROW_RANGE(env, "attrs is shorter than the records it must hold (ATTR_LEN each)");
		return -1;
	}
	*out = data;
	return 0;
}

/* Bytes of a Buffer / TypedArray / DataView / ArrayBuffer. */
static int arg_bytes(napi_env env, napi_value v, const uint8_t **data, size_t *len)
{
	bool b = false;
	void *p = NULL;
	if (!v)
		goto bad;
	if (napi_is_typedarray(env, v, &b) == napi_ok && b) {
		napi_typedarray_type t;
		size_t n;
		if (napi_get_typedarray_info(env, v, &t, &n, &p, NULL, NULL) != napi_ok)
			goto bad;
		size_t el = 1;
		switch (t) {
		case napi_int16_array: case napi_uint16_array: el = 2; break;
		case napi_int32_array: case napi_uint32_array: case napi_float32_array: el = 4; break;
		case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: el = 8; break;
		default: el = 1;
		}
		*data = p;
		*len = n * el;
		return 0;
	}
	if (napi_is_dataview(env, v, &b) == napi_ok && b) {
		size_t n;
		if (napi_get_dataview_info(env, v, &n, &p, NULL, NULL) != napi_ok)
			goto bad;
		*data = p;
		*len = n;
		return 0;
	}
	if (napi_is_arraybuffer(env, v, &b) == napi_ok && b) {
		size_t n;
		if (napi_get_arraybuffer_info(env, v, &p, &n) != napi_ok)
			goto bad;
		*data = p;
		*len = n;
		return 0;
	}
bad:
	THROW_TYPE(env, "buffer must be a Buffer, TypedArray, DataView or ArrayBuffer");
	return -1;
}

/* ---------- session lifetime ---------- */

static void session_free(struct addon_session *as)
{
	free(as->core.mountpoint);
	free(as->core.fusermount);
	free(as->dirbuf);
	pthread_mutex_destroy(&as->core.blobs.mu);
	pthread_mutex_destroy(&as->core.dir_ends.mu);
	listings_drop(&as->core.listings, NULL);
	pthread_mutex_destroy(&as->core.listings.mu);
	free(as);
}

static void session_unref(struct addon_session *as)
{
	if (__atomic_sub_fetch(&as->refs, 1, __ATOMIC_SEQ_CST) != 0)
		return;
	/* Reader threads may still run when Node tears down a live mount; then
	 * the memory is left to process exit rather than freed under them. */
	if (as->started && !as->core.finished)
		return;
	session_free(as);
}

static void wrapper_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	session_unref(data);
}

static void tsfn_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	session_unref(data);
}

static void env_cleanup(void *arg)
{
	struct addon_session *as = arg;
	__atomic_store_n(&as->tearing_down, 1, __ATOMIC_SEQ_CST);
}

static int deliver(struct lfs_session *s, struct js_request *req)
{
	struct addon_session *as = (struct addon_session *)s;
	if (__atomic_load_n(&as->tearing_down, __ATOMIC_SEQ_CST))
		return -1;
	return napi_call_threadsafe_function(as->tsfn, req, napi_tsfn_nonblocking) == napi_ok ? 0 : -1;
}

static int op_needs_reply(int op)
{
	return op == FUSE_LOOKUP || op == FUSE_GETATTR || op == FUSE_OPEN || op == FUSE_READ ||
	       op == FUSE_STATFS || op == FUSE_READDIR || op == FUSE_READDIRPLUS;
}

static void call_js(napi_env env, napi_value js_cb, void *context, void *data)
{
	struct addon_session *as = context;
	struct js_request *q = data;
	if (!env || !js_cb) { /* environment going away */
		free(q);
		return;
	}
	int is_end = q->op == LFS_OP_END;
	if (is_end) {
		session_finish(&as->core);
		as->closed = 1;
		napi_remove_env_cleanup_hook(env, env_cleanup, as);
	} else if (as->closed) {
		free(q);
		return;
	}
	napi_value argv[8], name, global;
	argv[0] = num(env, q->op);
	argv[1] = num(env, (double)q->unique);
	argv[2] = num(env, (double)q->nodeid);
	argv[3] = num(env, q->a);
	argv[4] = num(env, q->b);
	argv[5] = num(env, q->c);
	napi_get_undefined(env, &argv[7]);
	if (q->op == LFS_OP_COUNTED) {
		/* The node ids ride where a name would: handler(..., '', ids). */
		void *bytes = NULL;
		napi_value ab;
		napi_create_string_utf8(env, "", 0, &name);
		if (napi_create_arraybuffer(env, q->namelen, &bytes, &ab) == napi_ok &&
		    napi_create_typedarray(env, napi_float64_array, q->namelen / sizeof(double), ab, 0, &argv[7]) == napi_ok)
			memcpy(bytes, q->name, q->namelen);
	} else if (napi_create_string_utf8(env, q->name, q->namelen, &name) != napi_ok) {
		napi_create_string_utf8(env, "", 0, &name);
	}
	argv[6] = name;
	napi_get_undefined(env, &global);
	napi_status st = napi_call_function(env, global, js_cb, 8, argv, NULL);
	napi_value exc = NULL;
	if (st == napi_pending_exception)
		napi_get_and_clear_last_exception(env, &exc);
	if (exc && !is_end && op_needs_reply(q->op) && !as->closed)
		reply_error(&as->core, q->unique, EIO); /* never leave the caller hanging */
	free(q);
	if (is_end)
		napi_release_threadsafe_function(as->tsfn, napi_tsfn_release);
	if (exc)
		napi_fatal_exception(env, exc); /* like any throwing callback: 'uncaughtException' */
}

static struct addon_session *this_session(napi_env env, napi_callback_info info, size_t *argc,
					  napi_value *argv)
{
	napi_value self;
	void *p = NULL;
	if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok ||
	    napi_unwrap(env, self, &p) != napi_ok || !p) {
		THROW_TYPE(env, "not a FUSE session (use mount())");
		return NULL;
	}
	return p;
}

/* ---------- session methods ---------- */

static napi_value m_error(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	struct addon_session *as = this_session(env, info, &argc, argv);
	uint64_t unique, err;
	if (!as || arg_u64(env, argc > 0 ? argv[0] : NULL, "unique", &unique) ||
	    arg_u64(env, argc > 1 ? argv[1] : NULL, "errno", &err))
		return NULL;
	if (err == 0 || err > 4095)
		return THROW_RANGE(env, "errno must be a positive errno value");
	if (!as->closed)
		reply_error(&as->core, unique, (int)err);
	return undef(env);
}

/* entry() and attr(): (unique, attrs) answered with one attribute record. */
static napi_value reply_attrs(napi_env env, napi_callback_info info,
			      int (*reply)(struct lfs_session *, uint64_t, const double *))
{
	size_t argc = 2;
	napi_value argv[2];
	struct addon_session *as = this_session(env, info, &argc, argv);
	uint64_t unique;
	const double *a;
	if (!as || arg_u64(env, argc > 0 ? argv[0] : NULL, "unique", &unique) ||
	    arg_attrs(env, argc > 1 ? argv[1] : NULL, ATTR_LEN, &a))
		return NULL;
	if (!as->closed)
		reply(&as->core, unique, a);
	return undef(env);
}

static napi_value m_entry(napi_env env, napi_callback_info info)
{
	return reply_attrs(env, info, reply_entry);
}

static napi_value m_attr(napi_env env, napi_callback_info info)
{
	return reply_attrs(env, info, reply_attr);
}

static napi_value m_open(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	struct addon_session *as = this_session(env, info, &argc, argv);
	uint64_t unique, fh, flags = 0;
	if (!as || arg_u64(env, argc > 0 ? argv[0] : NULL, "unique", &unique) ||
	    arg_u64(env, argc > 1 ? argv[1] : NULL, "fh", &fh))
		return NULL;
	if (argc > 2 && !is_type(env, argv[2], napi_undefined) &&
	    arg_u64(env, argv[2], "openFlags", &flags))
		return NULL;
	if (fh == 0 || blob_fh_is_native(fh))
		return THROW_RANGE(env, "fh must be in [1, 2^52): handles from 2^52 up are native blob handles");
	if (flags > UINT32_MAX)
		return THROW_RANGE(env, "openFlags out of range");
	if (!as->closed)
		reply_open(&as->core, unique, fh, (uint32_t)flags & ~FOPEN_PASSTHROUGH, 0);
	return undef(env);
}

static napi_value m_open_blob(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], res;
	struct addon_session *as = this_session(env, info, &argc, argv);
	uint64_t unique, nodeid, fd64;
	if (!as || arg_u64(env, argc > 0 ? argv[0] : NULL, "unique", &unique) ||
	    arg_u64(env, argc > 1 ? argv[1] : NULL, "nodeid", &nodeid) ||
	    arg_u64(env, argc > 2 ? argv[2] : NULL, "fd", &fd64))
		return NULL;
	if (fd64 > INT32_MAX || fcntl((int)fd64, F_GETFD) < 0)
		return THROW_RANGE(env, "fd is not an open file descriptor");
	int fd = (int)fd64;
	if (as->closed) {
		close(fd);
		napi_create_string_utf8(env, "direct", NAPI_AUTO_LENGTH, &res);
		return res;
	}
	struct lfs_session *s = &as->core;
	enum blob_kind kind;
	int32_t bid;
	int pterr;
	/* The handle (and backing id) is registered before the reply is written,
	 * so the RELEASE that may follow at once always finds it. */
	uint64_t fh = blob_open(&s->blobs, s->devfd, nodeid, fd, s->passthrough, &kind, &bid, &pterr);
	if (pterr)
		__atomic_store_n(&s->stats.passthrough_errno, pterr, __ATOMIC_RELAXED);
	if (!fh) {
		reply_error(s, unique, ENFILE);
		return THROW(env, "openBlob: no native handle slot left (ENFILE); the open was answered with ENFILE");
	}
	uint32_t flags = kind == BLOB_PASSTHROUGH ? FOPEN_PASSTHROUGH : FOPEN_KEEP_CACHE;
	if (reply_open(s, unique, fh, flags, kind == BLOB_PASSTHROUGH ? bid : 0) < 0) {
		blob_release(&s->blobs, s->devfd, fh); /* no RELEASE will come */
	} else if (kind == BLOB_PASSTHROUGH) {
		__atomic_add_fetch(&s->stats.passthrough_opens, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_add_fetch(&s->stats.direct_opens, 1, __ATOMIC_RELAXED);
	}
	napi_create_string_utf8(env, kind == BLOB_PASSTHROUGH ? "passthrough" : "direct",
				NAPI_AUTO_LENGTH, &res);
	return res;
}

static napi_value m_data(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	struct addon_session *as = this_session(env, info, &argc, argv);
	uint64_t unique, length;
	const uint8_t *bytes;
	size_t blen;
	if (!as || arg_u64(env, argc > 0 ? argv[0] : NULL, "unique", &unique) ||
	    arg_bytes(env, argc > 1 ? argv[1] : NULL, &bytes, &blen))
		return NULL;
	length = blen;
	if (argc > 2 && !is_type(env, argv[2], napi_undefined) &&
	    arg_u64(env, argv[2], "length", &length))
		return NULL;
	if (length > blen)
		return THROW_RANGE(env, "length is larger than the buffer");
	if (!as->closed)
		reply_data(&as->core, unique, bytes, (size_t)length);
	return undef(env);
}

/* names[i]: a directory entry name of 1…1024 bytes without '/' or NUL, copied into buf (NAME_MAX_BYTES + 1). */
static int arg_name(napi_env env, napi_value names, uint32_t i, char *buf, size_t *len)
{
	napi_value v;
	if (napi_get_element(env, names, i, &v) != napi_ok || !is_type(env, v, napi_string) ||
	    napi_get_value_string_utf8(env, v, NULL, 0, len) != napi_ok) {
		THROW_TYPE(env, "names must be an array of strings");
		return -1;
	}
	if (*len == 0 || *len > NAME_MAX_BYTES) {
		THROW_RANGE(env, "a directory entry name is empty or longer than 1024 bytes");
		return -1;
	}
	napi_get_value_string_utf8(env, v, buf, NAME_MAX_BYTES + 1, len);
	if (memchr(buf, '/', *len) || strlen(buf) != *len) {
		THROW_TYPE(env, "a directory entry name contains '/' or NUL");
		return -1;
	}
	return 0;
}

/* argv[1] names (an array), argv[2] attrs (ATTR_LEN numbers for each): how many, and the records. */
static int arg_listing(napi_env env, size_t argc, napi_value *argv, uint32_t *n, const double **attrs)
{
	bool isarr = false;
	*n = 0;
	if (argc < 2 || napi_is_array(env, argv[1], &isarr) != napi_ok || !isarr ||
	    napi_get_array_length(env, argv[1], n) != napi_ok) {
		THROW_TYPE(env, "names must be an array of strings");
		return -1;
	}
	return arg_attrs(env, argc > 2 ? argv[2] : NULL, (size_t)*n * ATTR_LEN, attrs);
}

static napi_value dir_common(napi_env env, napi_callback_info info, int plus)
{
	size_t argc = 7;
	napi_value argv[7];
	struct addon_session *as = this_session(env, info, &argc, argv);
	uint64_t unique, start, size;
	if (!as || arg_u64(env, argc > 0 ? argv[0] : NULL, "unique", &unique))
		return NULL;
	uint32_t n;
	const double *attrs;
	if (arg_listing(env, argc, argv, &n, &attrs) ||
	    arg_u64(env, argc > 3 ? argv[3] : NULL, "startOffset", &start) ||
	    arg_u64(env, argc > 4 ? argv[4] : NULL, "size", &size))
		return NULL;
	size_t cap = size;
	if (cap > as->core.bufsize)
		cap = as->core.bufsize;
	if (cap > as->dirbuf_cap) {
		uint8_t *nb = realloc(as->dirbuf, cap);
		if (!nb)
			return THROW(env, "out of memory");
		as->dirbuf = nb;
		as->dirbuf_cap = cap;
	}
	size_t used = 0;
	uint32_t packed = 0;
	char name[NAME_MAX_BYTES + 1];
	for (uint32_t i = 0; i < n; i++) {
		size_t len;
		if (arg_name(env, argv[1], i, name, &len))
			return NULL;
		if (!pack_dirent(as->dirbuf, cap, &used, plus, name, len,
				 attrs + (size_t)i * ATTR_LEN, start + i + 1))
			break;
		packed++;
	}
	/* dirplus(..., nodeid, total): where the listing ends, for the kernel's last, empty read. */
	uint64_t nodeid = 0, total = 0;
	if (plus && argc > 6 && (arg_u64(env, argv[5], "nodeid", &nodeid) || arg_u64(env, argv[6], "total", &total)))
		return NULL;
	if (nodeid != 0)
		dir_end_set(&as->core.dir_ends, nodeid, start + packed >= total ? total : 0);
	if (!as->closed)
		reply_data(&as->core, unique, as->dirbuf, used);
	return num(env, packed);
}

static napi_value m_dirplus(napi_env env, napi_callback_info info) { return dir_common(env, info, 1); }
static napi_value m_dir(napi_env env, napi_callback_info info) { return dir_common(env, info, 0); }

/* Node ids as a Float64Array (they are below 2^53); frees the list. */
static napi_value id_array(napi_env env, struct id_list *ids)
{
	napi_value ab, ta;
	void *bytes = NULL;
	if (napi_create_arraybuffer(env, ids->n * sizeof(double), &bytes, &ab) != napi_ok ||
	    napi_create_typedarray(env, napi_float64_array, ids->n, ab, 0, &ta) != napi_ok) {
		free(ids->v);
		return THROW(env, "out of memory");
	}
	for (size_t i = 0; i < ids->n; i++)
		((double *)bytes)[i] = (double)ids->v[i];
	free(ids->v);
	return ta;
}

/*
 * preList(nodeid, names, attrs) → Float64Array | null: the whole listing of `nodeid`, `.` and
 * `..` first, kept to answer the kernel's reads of it natively (src/dir-listings.h). null: not
 * kept (too big, or the session ended). Otherwise the node ids of entries whose lookups were
 * counted and will never be served (a listing replaced or evicted): one lookup each to take back.
 */
static napi_value m_pre_list(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], res;
	struct addon_session *as = this_session(env, info, &argc, argv);
	uint64_t nodeid;
	if (!as || arg_u64(env, argc > 0 ? argv[0] : NULL, "nodeid", &nodeid))
		return NULL;
	uint32_t n;
	const double *attrs;
	if (arg_listing(env, argc, argv, &n, &attrs))
		return NULL;
	/* The names twice: their lengths size the listing, then they are packed into it. */
	char name[NAME_MAX_BYTES + 1];
	size_t len, total = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (arg_name(env, argv[1], i, name, &len))
			return NULL;
		total += FUSE_DIRENT_ALIGN(sizeof(struct fuse_direntplus) + len);
	}
	if (as->closed || nodeid == 0 || n == 0 || total > LISTING_MAX_BYTES) {
		napi_get_null(env, &res);
		return res;
	}
	struct dir_listing *l = listing_new(nodeid, n, total);
	if (!l)
		return THROW(env, "out of memory");
	size_t used = 0;
	for (uint32_t i = 0; i < n; i++) {
		arg_name(env, argv[1], i, name, &len);
		const double *a = attrs + (size_t)i * ATTR_LEN;
		l->at[i] = (uint32_t)used;
		pack_dirent(l->data, total, &used, 1, name, len, a, (uint64_t)i + 1);
		/* The kernel takes a lookup for every entry with a node id but `.` and `..`. */
		int dot = name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.'));
		l->ids[i] = dot ? 0 : d2u64(a[ATTR_NODEID]);
	}
	l->at[n] = (uint32_t)used;
	struct id_list back = { 0 };
	listings_put(&as->core.listings, l, &back);
	return id_array(env, &back);
}

/* dropListings() → Float64Array: drops every listing (a refresh); the ids to take a lookup back from. */
static napi_value m_drop_listings(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct addon_session *as = this_session(env, info, &argc, NULL);
	if (!as)
		return NULL;
	struct id_list back = { 0 };
	if (!as->closed)
		listings_drop(&as->core.listings, &back);
	return id_array(env, &back);
}

static napi_value m_statfs(napi_env env, napi_callback_info info)
{
	size_t argc = 9;
	napi_value argv[9];
	struct addon_session *as = this_session(env, info, &argc, argv);
	uint64_t v[9];
	static const char *names[9] = { "unique", "blocks", "bfree", "bavail", "files",
					"ffree", "bsize", "namelen", "frsize" };
	if (!as)
		return NULL;
	for (int i = 0; i < 9; i++)
		if (arg_u64(env, (size_t)i < argc ? argv[i] : NULL, names[i], &v[i]))
			return NULL;
	for (int i = 6; i < 9; i++)
		if (v[i] > UINT32_MAX)
			return THROW_RANGE(env, "bsize/namelen/frsize out of range");
	struct fuse_kstatfs st;
	memset(&st, 0, sizeof st);
	st.blocks = v[1];
	st.bfree = v[2];
	st.bavail = v[3];
	st.files = v[4];
	st.ffree = v[5];
	st.bsize = (uint32_t)v[6];
	st.namelen = (uint32_t)v[7];
	st.frsize = (uint32_t)v[8];
	if (!as->closed)
		reply_statfs(&as->core, v[0], &st);
	return undef(env);
}

static napi_value m_notify_entry(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], res;
	struct addon_session *as = this_session(env, info, &argc, argv);
	uint64_t parent;
	size_t len;
	if (!as || arg_u64(env, argc > 0 ? argv[0] : NULL, "parentNodeid", &parent))
		return NULL;
	char *name = arg_string(env, argc > 1 ? argv[1] : NULL, "name", &len);
	if (!name)
		return NULL;
	if (len == 0 || len > NAME_MAX_BYTES) {
		free(name);
		return THROW_RANGE(env, "name is empty or longer than 1024 bytes");
	}
	int rc = as->closed ? -ESHUTDOWN : notify_inval_entry(&as->core, parent, name, len);
	free(name);
	napi_get_boolean(env, rc == 0, &res);
	return res;
}

static napi_value m_notify_inode(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], res;
	struct addon_session *as = this_session(env, info, &argc, argv);
	uint64_t node;
	int64_t off = 0, len = 0;
	if (!as || arg_u64(env, argc > 0 ? argv[0] : NULL, "nodeid", &node))
		return NULL;
	if (argc > 1 && !is_type(env, argv[1], napi_undefined) && arg_i64(env, argv[1], "offset", &off))
		return NULL;
	if (argc > 2 && !is_type(env, argv[2], napi_undefined) && arg_i64(env, argv[2], "length", &len))
		return NULL;
	if (off >= 0)
		dir_end_set(&as->core.dir_ends, node, 0); /* its listing may have changed */
	int rc = as->closed ? -ESHUTDOWN : notify_inval_inode(&as->core, node, off, len);
	napi_get_boolean(env, rc == 0, &res);
	return res;
}

static napi_value m_unmount(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct addon_session *as = this_session(env, info, &argc, NULL);
	if (!as)
		return NULL;
	if (as->closed || as->unmounted)
		return undef(env); /* already ended or unmounted: END is (or was) on its way */
	char err[512];
	if (lfs_unmount(as->core.mountpoint, as->core.fusermount, err, sizeof err) < 0)
		return THROW(env, err);
	as->unmounted = 1;
	return undef(env);
}

static void set_num(napi_env env, napi_value o, const char *k, double v)
{
	napi_set_named_property(env, o, k, num(env, v));
}

static napi_value m_stats(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct addon_session *as = this_session(env, info, &argc, NULL);
	if (!as)
		return NULL;
	struct lfs_session *s = &as->core;
	napi_value o, b;
	napi_create_object(env, &o);
	int init = __atomic_load_n(&s->initialized, __ATOMIC_ACQUIRE);
	set_num(env, o, "minor", init ? s->minor : 0);
	set_num(env, o, "maxPages", init ? s->max_pages : 0);
	napi_get_boolean(env, init && s->passthrough, &b);
	napi_set_named_property(env, o, "passthrough", b);
	set_num(env, o, "passthroughOpens", (double)__atomic_load_n(&s->stats.passthrough_opens, __ATOMIC_RELAXED));
	set_num(env, o, "passthroughErrno", __atomic_load_n(&s->stats.passthrough_errno, __ATOMIC_RELAXED));
	set_num(env, o, "directOpens", (double)__atomic_load_n(&s->stats.direct_opens, __ATOMIC_RELAXED));
	set_num(env, o, "directReads", (double)__atomic_load_n(&s->stats.direct_reads, __ATOMIC_RELAXED));
	set_num(env, o, "splicedReads", (double)__atomic_load_n(&s->stats.spliced_reads, __ATOMIC_RELAXED));
	set_num(env, o, "writeErrors", (double)__atomic_load_n(&s->stats.write_errors, __ATOMIC_RELAXED));
	set_num(env, o, "notifySent", (double)__atomic_load_n(&s->stats.notify_sent, __ATOMIC_RELAXED));
	set_num(env, o, "notifyFailed", (double)__atomic_load_n(&s->stats.notify_failed, __ATOMIC_RELAXED));
	pthread_mutex_lock(&s->listings.mu);
	set_num(env, o, "listingsServed", (double)s->listings.served);
	pthread_mutex_unlock(&s->listings.mu);
	return o;
}

static napi_value m_ctor(napi_env env, napi_callback_info info)
{
	napi_value self;
	napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
	return self;
}

/* ---------- mount / detach ---------- */

static int opt_prop(napi_env env, napi_value obj, const char *key, napi_value *out)
{
	bool has = false;
	if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has)
		return 0;
	if (napi_get_named_property(env, obj, key, out) != napi_ok)
		return 0;
	napi_valuetype t;
	napi_typeof(env, *out, &t);
	return t != napi_undefined && t != napi_null;
}

static int opt_bool(napi_env env, napi_value obj, const char *key, int dflt, int *out)
{
	napi_value v;
	*out = dflt;
	if (!opt_prop(env, obj, key, &v))
		return 0;
	bool b;
	if (napi_get_value_bool(env, v, &b) != napi_ok) {
		char m[96];
		snprintf(m, sizeof m, "options.%s must be a boolean", key);
		THROW_TYPE(env, m);
		return -1;
	}
	*out = b;
	return 0;
}

static int opt_u32(napi_env env, napi_value obj, const char *key, uint32_t dflt, uint32_t *out)
{
	napi_value v;
	*out = dflt;
	if (!opt_prop(env, obj, key, &v))
		return 0;
	char what[64];
	snprintf(what, sizeof what, "options.%s", key);
	uint64_t x;
	if (arg_u64(env, v, what, &x))
		return -1;
	if (x > UINT32_MAX) {
		THROW_RANGE(env, what);
		return -1;
	}
	*out = (uint32_t)x;
	return 0;
}

static char *opt_str(napi_env env, napi_value obj, const char *key, const char *dflt, int *err)
{
	napi_value v;
	*err = 0;
	if (!opt_prop(env, obj, key, &v))
		return dflt ? strdup(dflt) : NULL;
	char what[64];
	snprintf(what, sizeof what, "options.%s", key);
	char *s = arg_string(env, v, what, NULL);
	if (!s)
		*err = 1;
	return s;
}

static int safe_word(const char *s)
{
	if (!*s)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == ',' || *p == '\\' || *p == '=' || *p == 0x7f)
			return 0;
	return 1;
}

static napi_value js_mount(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	void *ad_p = NULL;
	napi_get_cb_info(env, info, &argc, argv, NULL, &ad_p);
	if (argc < 2 || !is_type(env, argv[0], napi_object))
		return THROW_TYPE(env, "mount(options, handler): options must be an object");
	if (!is_type(env, argv[1], napi_function))
		return THROW_TYPE(env, "mount(options, handler): handler must be a function");
	napi_value o = argv[0];

	int e1, e2, e3, e4;
	char *mp = opt_str(env, o, "mountpoint", NULL, &e1);
	char *fsname = e1 ? NULL : opt_str(env, o, "fsname", "layoutfs", &e2);
	char *subtype = (e1 || e2) ? NULL : opt_str(env, o, "subtype", "layoutfs", &e3);
	char *fm = (e1 || e2 || e3) ? NULL : opt_str(env, o, "fusermount", NULL, &e4);
	int allow_other, passthrough;
	uint32_t uid, gid, max_pages, threads;
	napi_value ret = NULL;
	if (e1 || e2 || e3 || e4)
		goto out;
	if (!mp || mp[0] != '/') {
		THROW_TYPE(env, "options.mountpoint must be an absolute path");
		goto out;
	}
	if (!fsname || !subtype || !safe_word(fsname) || !safe_word(subtype)) {
		THROW_TYPE(env, "options.fsname/subtype must be non-empty without spaces, ',', '=' or '\\'");
		goto out;
	}
	if (opt_bool(env, o, "allowOther", 0, &allow_other) ||
	    opt_bool(env, o, "passthrough", 1, &passthrough) ||
	    opt_u32(env, o, "uid", getuid(), &uid) || opt_u32(env, o, "gid", getgid(), &gid) ||
	    opt_u32(env, o, "maxPages", 256, &max_pages) || opt_u32(env, o, "threads", 4, &threads))
		goto out;
	if (max_pages < 1)
		max_pages = 1;
	if (max_pages > 1024)
		max_pages = 1024;
	if (threads < 1)
		threads = 1;
	if (threads > 64)
		threads = 64;

	struct addon_session *as = calloc(1, sizeof *as);
	if (!as) {
		THROW(env, "out of memory");
		goto out;
	}
	struct lfs_session *s = &as->core;
	s->devfd = s->commfd = s->watchdog = -1;
	s->max_pages_req = max_pages;
	s->want_passthrough = passthrough;
	s->nthreads = (int)threads;
	s->deliver = deliver;
	if (blob_table_init(&s->blobs) != 0) {
		free(as);
		THROW(env, "cannot initialise the handle table");
		goto out;
	}
	pthread_mutex_init(&s->dir_ends.mu, NULL);
	pthread_mutex_init(&s->listings.mu, NULL);
	s->mountpoint = mp;
	s->fusermount = fm;
	mp = fm = NULL;

	long pagesize = sysconf(_SC_PAGESIZE);
	if (pagesize <= 0)
		pagesize = 4096;
	struct lfs_mount_opts mo = {
		.mountpoint = s->mountpoint, .fsname = fsname, .subtype = subtype,
		.fusermount = s->fusermount, .allow_other = allow_other, .uid = uid, .gid = gid,
		.max_read = max_pages * (uint32_t)pagesize,
	};
	struct lfs_mount_result mr;
	char err[512];
	if (lfs_mount(&mo, &mr, err, sizeof err) < 0) {
		session_free(as);
		THROW(env, err);
		goto out;
	}
	s->devfd = mr.devfd;
	s->commfd = mr.commfd;
	s->watchdog = mr.watchdog;
	s->helper = mr.helper;

	napi_value rname;
	napi_create_string_utf8(env, "layoutfs-fuse", NAPI_AUTO_LENGTH, &rname);
	if (napi_create_threadsafe_function(env, argv[1], NULL, rname, 0, 1, as, tsfn_finalize, as,
					    call_js, &as->tsfn) != napi_ok) {
		close(s->devfd);
		if (s->commfd >= 0)
			close(s->commfd);
		lfs_watchdog_release(s->watchdog);
		lfs_detach(s->mountpoint, s->fusermount, err, sizeof err);
		session_free(as);
		THROW(env, "cannot create the threadsafe function for the handler");
		goto out;
	}
	as->refs = 1; /* the threadsafe function's */
	int rc = session_start(s);
	if (rc < 0) {
		close(s->devfd);
		s->devfd = -1;
		if (s->commfd >= 0)
			close(s->commfd);
		s->commfd = -1;
		lfs_watchdog_release(s->watchdog);
		s->watchdog = -1;
		lfs_detach(s->mountpoint, s->fusermount, err, sizeof err);
		napi_release_threadsafe_function(as->tsfn, napi_tsfn_release); /* frees as */
		snprintf(err, sizeof err, "cannot start FUSE reader threads: %s", lfs_errno_name(-rc));
		THROW(env, err);
		goto out;
	}
	as->started = 1;
	napi_add_env_cleanup_hook(env, env_cleanup, as);

	struct addon_data *ad = ad_p;
	napi_value ctor, obj;
	if (napi_get_reference_value(env, ad->ctor, &ctor) == napi_ok &&
	    napi_new_instance(env, ctor, 0, NULL, &obj) == napi_ok) {
		__atomic_add_fetch(&as->refs, 1, __ATOMIC_SEQ_CST);
		if (napi_wrap(env, obj, as, wrapper_finalize, NULL, NULL) != napi_ok)
			__atomic_sub_fetch(&as->refs, 1, __ATOMIC_SEQ_CST);
		ret = obj;
	}
out:
	free(mp);
	free(fsname);
	free(subtype);
	free(fm);
	return ret;
}

static napi_value js_detach(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	char *path = arg_string(env, argc > 0 ? argv[0] : NULL, "path", NULL);
	if (!path)
		return NULL;
	char *fm = NULL;
	if (argc > 1 && !is_type(env, argv[1], napi_undefined) && !is_type(env, argv[1], napi_null)) {
		fm = arg_string(env, argv[1], "fusermountPath", NULL);
		if (!fm) {
			free(path);
			return NULL;
		}
	}
	char err[512];
	int rc = lfs_detach(path, fm, err, sizeof err);
	free(path);
	free(fm);
	if (rc < 0)
		return THROW(env, err);
	return undef(env);
}

/* ---------- store files, one job for many (file-batch.h) ---------- */

#define BATCH_MAX_PATHS (1u << 20)

enum batch_kind { BATCH_MTIMES, BATCH_STAT_IN, BATCH_PREFETCH, BATCH_LIST_DIGESTS, BATCH_READ_BENEATH };

static const char *const batch_names[] = { "lstatMtimes", "lstatIn", "prefetch", "listDigests", "readBeneath" };

struct batch_job {
	napi_async_work work;
	napi_deferred deferred;
	enum batch_kind kind;
	size_t n;
	char *dir;      /* BATCH_STAT_IN, BATCH_LIST_DIGESTS; BATCH_READ_BENEATH: the root */
	char **paths;   /* into arena */
	char *arena;
	/*
	 * n * fields numbers, written by the worker straight into the ArrayBuffer
	 * the promise resolves with (held by `result`; JavaScript cannot reach it
	 * before then): no copy of 28 MB for fsck's 500,000 blobs.
	 */
	double *out;
	napi_ref result;
	size_t fields;
	/* BATCH_LIST_DIGESTS: the record width, and what lfs_list_digests gave. */
	size_t width;
	unsigned char *records;
	size_t count;
	int rc;
	/* BATCH_READ_BENEATH: the root's identity, each file's bound, where the bytes go (held by `data`), paths found elsewhere. */
	double dev, ino;
	double *max;
	unsigned char *bytes;
	napi_ref data;
	char **elsewhere;
};

static void batch_job_free(napi_env env, struct batch_job *job)
{
	if (job->work)
		napi_delete_async_work(env, job->work);
	if (job->result)
		napi_delete_reference(env, job->result);
	if (job->data)
		napi_delete_reference(env, job->data);
	for (size_t i = 0; job->elsewhere && i < job->n; i++)
		free(job->elsewhere[i]);
	free(job->elsewhere);
	free(job->max);
	free(job->dir);
	free(job->records);
	free(job->paths);
	free(job->arena);
	free(job);
}

static void batch_execute(napi_env env, void *data)
{
	(void)env;
	struct batch_job *job = data;
	switch (job->kind) {
	case BATCH_MTIMES:
		lfs_lstat_mtimes(job->paths, job->n, job->out);
		break;
	case BATCH_STAT_IN:
		lfs_lstat_in(job->dir, job->paths, job->n, job->out);
		break;
	case BATCH_PREFETCH:
		lfs_prefetch(job->paths, job->n);
		break;
	case BATCH_LIST_DIGESTS:
		job->rc = lfs_list_digests(job->dir, job->width, &job->records, &job->count);
		break;
	case BATCH_READ_BENEATH:
		lfs_read_beneath(job->dir, job->dev, job->ino, job->paths, job->n, job->max, job->bytes, job->out, job->elsewhere);
		break;
	}
}

/* readBeneath's result: [Float64Array of LFS_READ_FIELDS per file, Uint8Array of the bytes, the paths found elsewhere (or undefined)]. */
static bool read_beneath_result(napi_env env, struct batch_job *job, napi_value *result)
{
	napi_value ab, out, bytes, links, v;
	size_t total = 0;
	for (size_t i = 0; i < job->n; i++)
		total += (size_t)job->max[i];
	if (napi_get_reference_value(env, job->result, &ab) != napi_ok ||
	    napi_create_typedarray(env, napi_float64_array, job->n * job->fields, ab, 0, &out) != napi_ok ||
	    napi_get_reference_value(env, job->data, &ab) != napi_ok ||
	    napi_create_typedarray(env, napi_uint8_array, total, ab, 0, &bytes) != napi_ok ||
	    napi_create_array_with_length(env, job->n, &links) != napi_ok ||
	    napi_create_array_with_length(env, 3, result) != napi_ok)
		return false;
	for (size_t i = 0; i < job->n; i++) {
		if (!job->elsewhere[i])
			continue;
		if (napi_create_string_utf8(env, job->elsewhere[i], NAPI_AUTO_LENGTH, &v) != napi_ok ||
		    napi_set_element(env, links, (uint32_t)i, v) != napi_ok)
			return false;
	}
	return napi_set_element(env, *result, 0, out) == napi_ok && napi_set_element(env, *result, 1, bytes) == napi_ok &&
	       napi_set_element(env, *result, 2, links) == napi_ok;
}

static void batch_complete(napi_env env, napi_status status, void *data)
{
	struct batch_job *job = data;
	napi_value result, ab, err, msg;
	void *bytes = NULL;
	size_t len = job->count * job->width;
	int made = status == napi_ok && (job->kind == BATCH_READ_BENEATH ? read_beneath_result(env, job, &result)
		: job->kind == BATCH_LIST_DIGESTS
		? (job->rc < 0 ? napi_create_int32(env, job->rc, &result) == napi_ok
		   : napi_create_arraybuffer(env, len, &bytes, &ab) == napi_ok &&
		     napi_create_typedarray(env, napi_uint8_array, len, ab, 0, &result) == napi_ok)
		: job->fields == 0
		? napi_get_undefined(env, &result) == napi_ok
		: napi_get_reference_value(env, job->result, &ab) == napi_ok &&
		  napi_create_typedarray(env, napi_float64_array, job->n * job->fields, ab, 0, &result) == napi_ok);
	if (made) {
		if (len)
			memcpy(bytes, job->records, len);
		napi_resolve_deferred(env, job->deferred, result);
	} else {
		char m[96];
		snprintf(m, sizeof m, "%s: the job was cancelled or its result could not be made", batch_names[job->kind]);
		napi_create_string_utf8(env, m, NAPI_AUTO_LENGTH, &msg);
		napi_create_error(env, NULL, msg, &err);
		napi_reject_deferred(env, job->deferred, err);
	}
	batch_job_free(env, job);
}

/* Copies the strings of `list` into job->paths (one arena); false after throwing. */
static bool batch_strings(napi_env env, napi_value list, struct batch_job *job)
{
	bool is_array = false;
	uint32_t n = 0;
	napi_value v;
	if (napi_is_array(env, list, &is_array) != napi_ok || !is_array) {
		THROW_TYPE(env, "paths must be an array of strings");
		return false;
	}
	napi_get_array_length(env, list, &n);
	if (n > BATCH_MAX_PATHS) {
		THROW_RANGE(env, "paths: more than 2^20 in one call");
		return false;
	}
	/* Two passes: the lengths, then one arena for every path. */
	size_t total = 0;
	for (uint32_t i = 0; i < n; i++) {
		size_t len;
		if (napi_get_element(env, list, i, &v) != napi_ok || !is_type(env, v, napi_string) ||
		    napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
			THROW_TYPE(env, "paths must be an array of strings");
			return false;
		}
		if (len == 0 || len >= 4096) {
			THROW_RANGE(env, "paths: each must be 1 to 4095 bytes");
			return false;
		}
		total += len + 1;
	}
	job->n = n;
	job->paths = malloc((n ? n : 1) * sizeof *job->paths);
	job->arena = malloc(total ? total : 1);
	if (!job->paths || !job->arena) {
		THROW(env, "out of memory");
		return false;
	}
	if (job->fields) {
		napi_value ab;
		void *bytes = NULL;
		if (napi_create_arraybuffer(env, n * job->fields * sizeof(double), &bytes, &ab) != napi_ok ||
		    napi_create_reference(env, ab, 1, &job->result) != napi_ok) {
			THROW(env, "out of memory");
			return false;
		}
		job->out = bytes;
	}
	char *at = job->arena;
	for (uint32_t i = 0; i < n; i++) {
		size_t len;
		napi_get_element(env, list, i, &v);
		napi_get_value_string_utf8(env, v, at, (size_t)(job->arena + total - at), &len);
		if (strlen(at) != len) {
			THROW_TYPE(env, "paths must not contain NUL");
			return false;
		}
		job->paths[i] = at;
		at += len + 1;
	}
	return true;
}

/* Per file at most this many bytes (DEFAULT_MAX_DOCUMENT_BYTES + 1 is far below), and in all. */
#define READ_MAX_FILE (64u << 20)
#define READ_MAX_TOTAL (256u << 20)

/* readBeneath(root, dev, ino, paths, max): the job's arguments, and the buffer the bytes go to; false after throwing. */
static bool read_beneath_args(napi_env env, napi_value *argv, struct batch_job *job)
{
	const double *max;
	size_t n, total = 0;
	void *bytes = NULL;
	napi_value ab;
	if (!(job->dir = arg_string(env, argv[0], "root", NULL)) ||
	    !is_type(env, argv[1], napi_number) || napi_get_value_double(env, argv[1], &job->dev) != napi_ok ||
	    !is_type(env, argv[2], napi_number) || napi_get_value_double(env, argv[2], &job->ino) != napi_ok) {
		if (job->dir)
			THROW_TYPE(env, "readBeneath: dev and ino must be numbers");
		return false;
	}
	if (!batch_strings(env, argv[3], job))
		return false;
	n = job->n;
	bool is_ta = false;
	napi_typedarray_type t;
	size_t len;
	void *p;
	if (napi_is_typedarray(env, argv[4], &is_ta) != napi_ok || !is_ta ||
	    napi_get_typedarray_info(env, argv[4], &t, &len, &p, NULL, NULL) != napi_ok || t != napi_float64_array || len != n) {
		THROW_TYPE(env, "readBeneath: max must be a Float64Array, one number per path");
		return false;
	}
	max = p;
	for (size_t i = 0; i < n; i++) {
		if (!(max[i] >= 0 && max[i] <= READ_MAX_FILE) || max[i] != (double)(size_t)max[i]) {
			THROW_RANGE(env, "readBeneath: each max must be a whole number of bytes up to 64 MiB");
			return false;
		}
		total += (size_t)max[i];
	}
	if (total > READ_MAX_TOTAL) {
		THROW_RANGE(env, "readBeneath: more than 256 MiB in one call");
		return false;
	}
	job->max = malloc((n ? n : 1) * sizeof *job->max);
	job->elsewhere = calloc(n ? n : 1, sizeof *job->elsewhere);
	if (!job->max || !job->elsewhere || napi_create_arraybuffer(env, total, &bytes, &ab) != napi_ok ||
	    napi_create_reference(env, ab, 1, &job->data) != napi_ok) {
		THROW(env, "out of memory");
		return false;
	}
	memcpy(job->max, max, n * sizeof *job->max);
	job->bytes = bytes;
	return true;
}

/*
 * lstatMtimes(paths) / lstatIn(dir, names) / prefetch(paths) /
 * readBeneath(root, dev, ino, paths, max) → Promise
 * (API.md): one job on libuv's thread pool.
 */
static napi_value js_batch(napi_env env, napi_callback_info info)
{
	size_t argc = 5;
	napi_value argv[5], promise, name;
	void *data;
	napi_get_cb_info(env, info, &argc, argv, NULL, &data);
	enum batch_kind kind = (enum batch_kind)(intptr_t)data;
	size_t want = kind == BATCH_READ_BENEATH ? 5 : kind == BATCH_STAT_IN || kind == BATCH_LIST_DIGESTS ? 2 : 1;
	if (argc < want)
		return THROW_TYPE(env, kind == BATCH_STAT_IN ? "lstatIn(dir, names)"
			: kind == BATCH_LIST_DIGESTS ? "listDigests(dir, width)"
			: kind == BATCH_READ_BENEATH ? "readBeneath(root, dev, ino, paths, max)" : "an array of paths is required");
	struct batch_job *job = calloc(1, sizeof *job);
	if (!job)
		return THROW(env, "out of memory");
	job->kind = kind;
	job->fields = kind == BATCH_MTIMES ? 1 : kind == BATCH_STAT_IN ? LFS_STAT_FIELDS : kind == BATCH_READ_BENEATH ? LFS_READ_FIELDS : 0;
	uint64_t width = 0;
	if (kind == BATCH_READ_BENEATH) {
		if (!read_beneath_args(env, argv, job)) {
			batch_job_free(env, job);
			return NULL;
		}
	} else if (kind == BATCH_LIST_DIGESTS
		? !(job->dir = arg_string(env, argv[0], "dir", NULL)) || arg_u64(env, argv[1], "width", &width) != 0
		: (kind == BATCH_STAT_IN && !(job->dir = arg_string(env, argv[0], "dir", NULL))) || !batch_strings(env, argv[want - 1], job)) {
		batch_job_free(env, job);
		return NULL;
	}
	if (kind == BATCH_LIST_DIGESTS && (width == 0 || width > 64)) {
		batch_job_free(env, job);
		return THROW_RANGE(env, "listDigests: width must be 1 to 64 bytes");
	}
	job->width = (size_t)width;
	char label[40];
	snprintf(label, sizeof label, "layoutfs.%s", batch_names[kind]);
	napi_create_string_utf8(env, label, NAPI_AUTO_LENGTH, &name);
	if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
	    napi_create_async_work(env, NULL, name, batch_execute, batch_complete, job, &job->work) != napi_ok ||
	    napi_queue_async_work(env, job->work) != napi_ok) {
		/* A promise made but never settled is dropped with the job. */
		batch_job_free(env, job);
		char m[64];
		snprintf(m, sizeof m, "%s: cannot queue the job", batch_names[kind]);
		return THROW(env, m);
	}
	return promise;
}

/* ---------- directory watches (dir-watch.h) ---------- */

/* watchDirs(dirs) → [fd, wd per dir]: each -errno where it failed (fd < 0: none made). */
static napi_value js_watch_dirs(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	struct batch_job paths = { 0 };
	if (argc < 1 || !batch_strings(env, argv[0], &paths) || paths.n > 16) {
		if (argc >= 1 && paths.n > 16)
			THROW_RANGE(env, "watchDirs: at most 16 directories");
		free(paths.paths);
		free(paths.arena);
		return argc < 1 ? THROW_TYPE(env, "watchDirs(dirs)") : NULL;
	}
	int wds[16];
	int fd = lfs_watch_open(paths.paths, paths.n, wds);
	napi_create_array_with_length(env, paths.n + 1, &out);
	napi_set_element(env, out, 0, num(env, fd));
	for (size_t i = 0; i < paths.n; i++)
		napi_set_element(env, out, (uint32_t)i + 1, num(env, fd < 0 ? fd : wds[i]));
	free(paths.paths);
	free(paths.arena);
	return out;
}

/* The one argument of watchDrain and watchClose; -1 after throwing. */
static int watch_fd_arg(napi_env env, napi_callback_info info, const char *usage, int64_t *fd)
{
	size_t argc = 1;
	napi_value argv[1];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 1) {
		THROW_TYPE(env, usage);
		return -1;
	}
	return arg_i64(env, argv[0], "fd", fd);
}

struct drained {
	napi_env env;
	napi_value out;
	uint32_t n;
};

static void drained_name(void *ctx, int wd, const char *name)
{
	struct drained *d = ctx;
	napi_value v;
	napi_set_element(d->env, d->out, d->n++, num(d->env, wd));
	napi_create_string_utf8(d->env, name, NAPI_AUTO_LENGTH, &v);
	napi_set_element(d->env, d->out, d->n++, v);
}

/*
 * watchDrain(fd) → [lost, wd, name, wd, name, …]: lost is 1 when events were
 * lost or a watched directory went, -errno on a read error, else 0.
 */
static napi_value js_watch_drain(napi_env env, napi_callback_info info)
{
	int64_t fd;
	if (watch_fd_arg(env, info, "watchDrain(fd)", &fd) != 0)
		return NULL;
	struct drained d = { env, NULL, 1 };
	napi_create_array(env, &d.out);
	int lost = lfs_watch_drain((int)fd, drained_name, &d);
	napi_set_element(env, d.out, 0, num(env, lost));
	return d.out;
}

/* watchClose(fd): closes the watch descriptor. */
static napi_value js_watch_close(napi_env env, napi_callback_info info)
{
	int64_t fd;
	if (watch_fd_arg(env, info, "watchClose(fd)", &fd) != 0)
		return NULL;
	close((int)fd);
	return undef(env);
}

/* ---------- module ---------- */

static void addon_data_free(napi_env env, void *data, void *hint)
{
	(void)hint;
	struct addon_data *ad = data;
	napi_delete_reference(env, ad->ctor);
	free(ad);
}

/*
 * trimMemory() → Promise<boolean>: hands the pages malloc holds free back to the kernel (glibc's
 * malloc_trim: the main heap's top and, since 2.8, whole free pages inside every arena), on
 * libuv's thread pool: after a burst of frees it madvises for tens of milliseconds (120 ms for
 * 190 MiB of scattered pages, measured), which must not hold the JavaScript thread. A
 * long-running mount frees tables of megabytes at each refresh and churns small buffers per
 * request; glibc keeps what was freed, so RSS stays at the high-water mark. Resolves whether
 * anything was released; false where the C library has no malloc_trim.
 */
struct trim_job {
	napi_async_work work;
	napi_deferred deferred;
	bool released;
};

static void trim_execute(napi_env env, void *data)
{
	(void)env;
	struct trim_job *job = data;
#ifdef __GLIBC__
	job->released = malloc_trim(0) == 1;
#else
	job->released = false;
#endif
}

static void trim_complete(napi_env env, napi_status status, void *data)
{
	struct trim_job *job = data;
	napi_value result;
	napi_get_boolean(env, status == napi_ok && job->released, &result);
	napi_resolve_deferred(env, job->deferred, result);
	napi_delete_async_work(env, job->work);
	free(job);
}

static napi_value js_trim_memory(napi_env env, napi_callback_info info)
{
	(void)info;
	struct trim_job *job = calloc(1, sizeof *job);
	napi_value promise, name;
	if (!job)
		return THROW(env, "trimMemory: out of memory");
	napi_create_string_utf8(env, "layoutfs.trimMemory", NAPI_AUTO_LENGTH, &name);
	if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) {
		free(job);
		return THROW(env, "trimMemory: cannot make a promise");
	}
	if (napi_create_async_work(env, NULL, name, trim_execute, trim_complete, job, &job->work) != napi_ok ||
	    napi_queue_async_work(env, job->work) != napi_ok) {
		napi_value f;
		napi_get_boolean(env, false, &f);
		napi_resolve_deferred(env, job->deferred, f);
		if (job->work)
			napi_delete_async_work(env, job->work);
		free(job);
	}
	return promise;
}

static napi_value init(napi_env env, napi_value exports)
{
	struct addon_data *ad = calloc(1, sizeof *ad);
	if (!ad)
		return THROW(env, "out of memory");
	napi_property_descriptor methods[] = {
		{ "error", NULL, m_error, NULL, NULL, NULL, napi_default_method, NULL },
		{ "entry", NULL, m_entry, NULL, NULL, NULL, napi_default_method, NULL },
		{ "attr", NULL, m_attr, NULL, NULL, NULL, napi_default_method, NULL },
		{ "open", NULL, m_open, NULL, NULL, NULL, napi_default_method, NULL },
		{ "openBlob", NULL, m_open_blob, NULL, NULL, NULL, napi_default_method, NULL },
		{ "data", NULL, m_data, NULL, NULL, NULL, napi_default_method, NULL },
		{ "dirplus", NULL, m_dirplus, NULL, NULL, NULL, napi_default_method, NULL },
		{ "dir", NULL, m_dir, NULL, NULL, NULL, napi_default_method, NULL },
		{ "preList", NULL, m_pre_list, NULL, NULL, NULL, napi_default_method, NULL },
		{ "dropListings", NULL, m_drop_listings, NULL, NULL, NULL, napi_default_method, NULL },
		{ "statfs", NULL, m_statfs, NULL, NULL, NULL, napi_default_method, NULL },
		{ "notifyInvalEntry", NULL, m_notify_entry, NULL, NULL, NULL, napi_default_method, NULL },
		{ "notifyInvalInode", NULL, m_notify_inode, NULL, NULL, NULL, napi_default_method, NULL },
		{ "unmount", NULL, m_unmount, NULL, NULL, NULL, napi_default_method, NULL },
		{ "stats", NULL, m_stats, NULL, NULL, NULL, napi_default_method, NULL },
	};
	napi_value ctor;
	if (napi_define_class(env, "FuseSession", NAPI_AUTO_LENGTH, m_ctor, NULL,
			      sizeof methods / sizeof methods[0], methods, &ctor) != napi_ok ||
	    napi_create_reference(env, ctor, 1, &ad->ctor) != napi_ok) {
		free(ad);
		return THROW(env, "cannot define FuseSession");
	}
	napi_set_instance_data(env, ad, addon_data_free, NULL);

	napi_value op, fn;
	napi_create_object(env, &op);
	static const struct { const char *k; int v; } ops[] = {
		{ "LOOKUP", FUSE_LOOKUP }, { "FORGET", FUSE_FORGET }, { "GETATTR", FUSE_GETATTR },
		{ "OPEN", FUSE_OPEN }, { "READ", FUSE_READ }, { "STATFS", FUSE_STATFS },
		{ "RELEASE", FUSE_RELEASE }, { "INIT", FUSE_INIT }, { "READDIR", FUSE_READDIR },
		{ "READDIRPLUS", FUSE_READDIRPLUS }, { "END", LFS_OP_END }, { "COUNTED", LFS_OP_COUNTED },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		set_num(env, op, ops[i].k, ops[i].v);
	napi_object_freeze(env, op);
	napi_set_named_property(env, exports, "OP", op);
	set_num(env, exports, "ATTR_LEN", ATTR_LEN);
	set_num(env, exports, "FOPEN_DIRECT_IO", FOPEN_DIRECT_IO);
	set_num(env, exports, "FOPEN_KEEP_CACHE", FOPEN_KEEP_CACHE);
	set_num(env, exports, "BLOB_FH_BASE", (double)BLOB_FH_BASE);
	napi_create_function(env, "mount", NAPI_AUTO_LENGTH, js_mount, ad, &fn);
	napi_set_named_property(env, exports, "mount", fn);
	napi_create_function(env, "detach", NAPI_AUTO_LENGTH, js_detach, NULL, &fn);
	napi_set_named_property(env, exports, "detach", fn);
	napi_create_function(env, "watchDirs", NAPI_AUTO_LENGTH, js_watch_dirs, NULL, &fn);
	napi_set_named_property(env, exports, "watchDirs", fn);
	napi_create_function(env, "watchDrain", NAPI_AUTO_LENGTH, js_watch_drain, NULL, &fn);
	napi_set_named_property(env, exports, "watchDrain", fn);
	napi_create_function(env, "watchClose", NAPI_AUTO_LENGTH, js_watch_close, NULL, &fn);
	napi_set_named_property(env, exports, "watchClose", fn);
	napi_create_function(env, "trimMemory", NAPI_AUTO_LENGTH, js_trim_memory, NULL, &fn);
	napi_set_named_property(env, exports, "trimMemory", fn);
	for (intptr_t k = BATCH_MTIMES; k <= BATCH_READ_BENEATH; k++) {
		napi_create_function(env, batch_names[k], NAPI_AUTO_LENGTH, js_batch, (void *)k, &fn);
		napi_set_named_property(env, exports, batch_names[k], fn);
	}
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
