/*
 * store.h — the object-store interface: the only way lakesync touches files.
 *
 * A store is opened on a location URI (`file:///abs/dir`, a plain path, or
 * `s3://bucket/prefix`) and addresses objects by keys relative to that
 * location, '/'-separated, never starting with '/', never containing "." or
 * ".." segments or empty segments (LKS_EINVAL otherwise).
 *
 * Every backend gives the same guarantees:
 *  - an object becomes visible whole or not at all (no partial reads);
 *  - put overwrites; put_if_absent publishes only when the key is free and
 *    fails with LKS_EEXIST otherwise, safely between processes (a backend
 *    that cannot promise this refuses put_if_absent with LKS_EUNSUPPORTED
 *    rather than risk two winners: see the S3 backend's check);
 *  - list returns keys in ascending byte order.
 */
#ifndef LKS_STORE_H
#define LKS_STORE_H

#include "core/config.h"
#include "core/core.h"

typedef struct lks_store lks_store;

typedef struct lks_store_entry {
    const char *key;  /* relative to the store root; borrowed for the callback */
    uint64_t size;    /* 0 if unknown (listing with LKS_STORE_LIST_NAMES) */
    int64_t mtime_us; /* last modification, microseconds since epoch (0 if unknown) */
} lks_store_entry;

/* Flags of lks_store_list_flags(). */
enum {
    /* The caller needs only the keys: a backend may report size and
     * mtime_us as 0 (unknown) instead of paying a metadata call per object
     * (the local backend then stats only what its directory entries do not
     * tell apart: symbolic links, or every entry on filesystems without
     * d_type).  Use lks_store_head() for the few objects whose size or
     * mtime matters. */
    LKS_STORE_LIST_NAMES = 1,
    /* Also list the temporary files of writers that are running or were
     * killed (local stores: names lks_store_is_temp_name() accepts), for
     * vacuum to reclaim old ones with lks_store_delete_temp(). */
    LKS_STORE_LIST_TEMP = 2
};

/* Return non-zero to stop listing early (lks_store_list then returns LKS_OK). */
typedef int lks_store_list_fn(void *ud, const lks_store_entry *ent);

/* A backend is a table of functions (STYLE.md rule 6).  The checked entry
 * points below validate keys and prefixes before calling them. */
typedef struct lks_store_ops {
    const char *scheme; /* "file", "s3" */
    int (*get)(lks_store *st, const char *key, uint64_t off, uint64_t len, int ranged, lks_buf *out, lks_err *err);
    int (*head)(lks_store *st, const char *key, lks_store_entry *ent, lks_err *err);
    int (*put)(lks_store *st, const char *key, const void *data, size_t len, int if_absent, lks_err *err);
    /* flags: LKS_STORE_LIST_*; a backend whose listing carries sizes and
     * times anyway (S3) may ignore them */
    int (*list)(lks_store *st, const char *prefix, int flags, lks_store_list_fn *fn, void *ud, lks_err *err);
    int (*del)(lks_store *st, const char *key, lks_err *err);
    /* deletes n valid keys; NULL: lks_store_delete_many calls del per key */
    int (*del_many)(lks_store *st, const char *const *keys, size_t n, lks_err *err);
    void (*close)(lks_store *st);
    /* opens the object for reading in pieces (a descriptor of a regular
     * file); NULL: objects are only read whole */
    int (*open_fd)(lks_store *st, const char *key, int *fd, lks_err *err);
    /* writing an object in pieces (NULL: lks_store_writer holds the object
     * and puts it whole): wopen starts a hidden temporary object, wappend
     * adds bytes to it, wcommit adds the last bytes and publishes it (put
     * semantics) and wabort discards it; both end the handle, wcommit also
     * when it fails */
    int (*wopen)(lks_store *st, const char *key, void **h, lks_err *err);
    int (*wappend)(lks_store *st, void *h, const void *p, size_t n, lks_err *err);
    int (*wcommit)(lks_store *st, void *h, const void *p, size_t n, lks_err *err);
    void (*wabort)(lks_store *st, void *h);
    /* aborts unfinished uploads of writers (NULL: the backend leaves none) */
    int (*purge_uploads)(lks_store *st, const char *prefix, int64_t before_us, int dry_run, int64_t *n, lks_err *err);
} lks_store_ops;

struct lks_store {
    const lks_store_ops *ops;
    char *uri; /* normalised location, e.g. "file:///tmp/wh" */
};

/* Settings of the backends beyond the location, for what the environment
 * does not say (pipeline files, `-o`).  Pointers are borrowed for the call
 * of lks_store_open_opts; NULL / -1 means "not set": the backend then
 * follows the environment (AWS_ENDPOINT_URL_S3, AWS_REGION, ...). */
typedef struct lks_store_opts {
    const char *s3_endpoint; /* "https://host[:port]" (s3.endpoint) */
    const char *s3_region;   /* "eu-west-1" (s3.region) */
    int s3_path_style;       /* 1 path style, 0 virtual-hosted (s3.path.style.access) */
    int s3_single_writer;    /* 1: commit even where If-None-Match is not honoured
                                (s3.single.writer; else LAKESYNC_S3_SINGLE_WRITER) */
} lks_store_opts;

/* Every field "not set". */
void lks_store_opts_init(lks_store_opts *o);

/* The store properties (s3.endpoint, s3.region, s3.path.style.access,
 * s3.single.writer), for the CLI's list of property tables. */
extern const lks_conf_prop lks_conf_store[];

/* Fills o from the properties of lks_conf_store set in cfg (those left at
 * their default stay "not set", so the environment still applies).
 * Strings are borrowed from cfg. */
void lks_store_opts_from_config(lks_store_opts *o, const lks_config *cfg);

/* Opens the store at `uri`.  A plain path is taken as a local directory
 * (created if missing).  Caller closes with lks_store_close(). */
int lks_store_open(const char *uri, lks_store **out, lks_err *err);
/* lks_store_open with settings (opts NULL: none, as lks_store_open). */
int lks_store_open_opts(const char *uri, const lks_store_opts *opts, lks_store **out, lks_err *err);
void lks_store_close(lks_store *st);

/* Reads the whole object into `out` (appended; out is not reset).
 * LKS_ENOTFOUND when absent. */
int lks_store_get(lks_store *st, const char *key, lks_buf *out, lks_err *err);
/* Reads bytes [off, off+len) of the object, appended to out.  A range past
 * the end is LKS_ECORRUPT (callers compute ranges from sizes they trust). */
int lks_store_get_range(lks_store *st, const char *key, uint64_t off, uint64_t len, lks_buf *out, lks_err *err);
/* Reading an object from its start in pieces, so a large one need not be
 * held whole: local files, through one descriptor (what is read is the
 * object as opened, whatever replaces it meanwhile).  LKS_EUNSUPPORTED for
 * stores that serve objects whole (S3: lks_store_get), LKS_ENOTFOUND when
 * absent. */
typedef struct lks_store_stream lks_store_stream;
int lks_store_stream_open(lks_store *st, const char *key, lks_store_stream **out, lks_err *err);
/* Appends up to max bytes to out; *got is how many (0: the end). */
int lks_store_stream_read(lks_store_stream *s, lks_buf *out, size_t max, size_t *got, lks_err *err);
void lks_store_stream_close(lks_store_stream *s);
/* Size and mtime of one object; LKS_ENOTFOUND when absent.  ent->key is
 * set to NULL. */
int lks_store_head(lks_store *st, const char *key, lks_store_entry *ent, lks_err *err);
/* Publishes the object atomically, replacing any previous one. */
int lks_store_put(lks_store *st, const char *key, const void *data, size_t len, lks_err *err);
/* Publishes the object only if the key is free: LKS_EEXIST otherwise. */
int lks_store_put_if_absent(lks_store *st, const char *key, const void *data, size_t len, lks_err *err);
/* Writing an object in pieces, for objects too large to want in memory
 * whole (data files).  It is published at commit, with lks_store_put's
 * semantics, and never seen partially; abort (or a crash) publishes
 * nothing.  Local stores write through a temporary file in LKS_STORE_WRITER_CHUNK
 * pieces; S3 holds up to a multipart part (16 MiB) and uploads the object
 * part by part beyond that (a killed writer leaves an incomplete upload,
 * which S3 keeps until aborted: lks_store_purge_uploads).  After a failed
 * write the writer only aborts; commit and abort free it. */
#define LKS_STORE_WRITER_CHUNK ((size_t)1 << 20)
typedef struct lks_store_writer lks_store_writer;
int lks_store_writer_open(lks_store *st, const char *key, lks_store_writer **out, lks_err *err);
int lks_store_writer_write(lks_store_writer *w, const void *p, size_t n, lks_err *err);
/* Bytes written so far. */
uint64_t lks_store_writer_size(const lks_store_writer *w);
int lks_store_writer_commit(lks_store_writer *w, lks_err *err);
void lks_store_writer_abort(lks_store_writer *w);
/* Calls fn for every object whose key starts with prefix (byte prefix, not
 * only a folder), in ascending key order.  "" lists everything. */
int lks_store_list(lks_store *st, const char *prefix, lks_store_list_fn *fn, void *ud, lks_err *err);
/* lks_store_list with LKS_STORE_LIST_* flags (0: the same as lks_store_list,
 * every entry's size and mtime_us filled in). */
int lks_store_list_flags(lks_store *st, const char *prefix, int flags, lks_store_list_fn *fn, void *ud, lks_err *err);
/* Deletes one object; deleting an absent key is LKS_OK. */
int lks_store_delete(lks_store *st, const char *key, lks_err *err);
/* Deletes n objects (absent ones are LKS_OK), in as few requests as the
 * backend allows (S3: DeleteObjects of up to 1000 keys).  Every key is
 * checked first: LKS_EINVAL deletes nothing.  On another error some of the
 * keys may be deleted; the message names the key or request that failed. */
int lks_store_delete_many(lks_store *st, const char *const *keys, size_t n, lks_err *err);
/* Aborts the unfinished uploads of killed writers (S3 multipart uploads)
 * under prefix that began before before_us (µs since the epoch); *n counts
 * them (with dry_run: counts only).  LKS_OK with *n 0 for a backend that
 * leaves none (local stores' temporary files are listed instead). */
int lks_store_purge_uploads(lks_store *st, const char *prefix, int64_t before_us, int dry_run, int64_t *n,
                            lks_err *err);
/* Deletes a writer's temporary file (listed with LKS_STORE_LIST_TEMP); a
 * key whose last segment is not a temporary name is LKS_EINVAL. */
int lks_store_delete_temp(lks_store *st, const char *key, lks_err *err);

/* LKS_OK if key is a valid relative object key, LKS_EINVAL with detail. */
int lks_store_check_key(const char *key, lks_err *err);

/* Backends. */
int lks_store_local_open(const char *path, lks_store **out, lks_err *err);

/* Non-zero when the last key segment `name` (len bytes) has the form of the
 * local backend's temporary files, ".<name>.tmp.<pid>.<16 hex digits>":
 * such names are hidden from list and refused as keys. */
int lks_store_is_temp_name(const char *name, size_t len);

#endif
