/* store.c — opening a store by URI, key validation, the checked entry
 * points every backend is called through, and the store properties. */
#include "store/store.h"
#include "store/s3_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY_MAX 1024    /* bytes in a key (S3's limit) */
#define SEGMENT_MAX 255 /* bytes in one '/'-separated segment (NAME_MAX) */

int lks_store_is_temp_name(const char *name, size_t len) {
    if (len < 24 || name[0] != '.')
        return 0;
    const char *end = name + len, *p = end - 16;
    for (const char *q = p; q < end; q++)
        if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')))
            return 0;
    if (*--p != '.')
        return 0;
    const char *d = p;
    while (d > name && d[-1] >= '0' && d[-1] <= '9')
        d--;
    if (d == p || d - name < 6)
        return 0;
    return memcmp(d - 5, ".tmp.", 5) == 0;
}

/* A key's syntax; temp: 1 when the last segment must be a temporary name,
 * 0 when it must not. */
static int check_key(const char *key, int temp, lks_err *err) {
    if (!key || !*key)
        return lks_err_set(err, LKS_EINVAL, "empty object key");
    size_t len = strlen(key);
    if (len > KEY_MAX)
        return lks_err_set(err, LKS_EINVAL, "object key longer than %d bytes: '%.64s...'", KEY_MAX, key);
    if (key[0] == '/')
        return lks_err_set(err, LKS_EINVAL, "object key '%s' is absolute (starts with '/')", key);
    const char *seg = key;
    for (const char *p = key;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/' || c == 0) {
            size_t n = (size_t)(p - seg);
            if (n == 0)
                return lks_err_set(err, LKS_EINVAL, "object key '%s' has an empty segment", key);
            if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return lks_err_set(err, LKS_EINVAL, "object key '%s' has a '%.*s' segment", key, (int)n, seg);
            if (n > SEGMENT_MAX)
                return lks_err_set(err, LKS_EINVAL, "object key '%.64s...' has a segment longer than %d bytes", key,
                                   SEGMENT_MAX);
            if (c == 0) {
                if (!temp && lks_store_is_temp_name(seg, n))
                    return lks_err_set(err, LKS_EINVAL, "object key '%s' is reserved for temporary files", key);
                if (temp && !lks_store_is_temp_name(seg, n))
                    return lks_err_set(err, LKS_EINVAL, "object key '%s' is not a temporary file", key);
                break;
            }
            seg = p + 1;
        } else if (c == '\\') {
            return lks_err_set(err, LKS_EINVAL, "object key '%s' contains a backslash", key);
        } else if (c < 0x20 || c == 0x7F) {
            return lks_err_set(err, LKS_EINVAL, "object key '%.64s' contains control character 0x%02x", key, c);
        }
    }
    return LKS_OK;
}

int lks_store_check_key(const char *key, lks_err *err) { return check_key(key, 0, err); }

/* A list prefix is valid when prefix + "x" is a valid key. */
static int check_prefix(const char *prefix, lks_err *err) {
    size_t n = strlen(prefix);
    if (n == 0)
        return LKS_OK;
    if (n >= KEY_MAX)
        return lks_err_set(err, LKS_EINVAL, "list prefix longer than %d bytes", KEY_MAX - 1);
    char tmp[KEY_MAX + 2];
    memcpy(tmp, prefix, n);
    tmp[n] = 'x';
    tmp[n + 1] = 0;
    if (lks_store_check_key(tmp, err) != LKS_OK)
        return lks_err_set(err, LKS_EINVAL, "invalid list prefix '%s'", prefix);
    return LKS_OK;
}

const lks_conf_prop lks_conf_store[] = {
    {"s3.endpoint", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "S3 endpoint for s3:// locations, http(s)://host[:port] (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, "
     "the shared config file, else AWS's regional endpoint)."},
    {"s3.region", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "AWS region of s3:// locations (default: AWS_REGION, AWS_DEFAULT_REGION, the shared config file, else "
     "us-east-1)."},
    {"s3.path.style.access", LKS_CONF_BOOL, NULL, NULL, 0, 0, 0,
     "Address buckets as host/bucket/key instead of bucket.host/key (default: path style for a custom "
     "endpoint, virtual-hosted for AWS)."},
    {"s3.single.writer", LKS_CONF_BOOL, "false", NULL, 0, 0, 0,
     "Commit to S3 stores that ignore If-None-Match, promising that only this process writes the tables "
     "(also LAKESYNC_S3_SINGLE_WRITER=1)."},
    {NULL, 0, NULL, NULL, 0, 0, 0, NULL},
};

void lks_store_opts_init(lks_store_opts *o) {
    memset(o, 0, sizeof *o);
    o->s3_path_style = -1;
    o->s3_single_writer = -1;
}

void lks_store_opts_from_config(lks_store_opts *o, const lks_config *cfg) {
    lks_store_opts_init(o);
    if (!cfg)
        return;
    if (lks_config_is_set(cfg, "s3.endpoint"))
        o->s3_endpoint = lks_config_get_str(cfg, "s3.endpoint");
    if (lks_config_is_set(cfg, "s3.region"))
        o->s3_region = lks_config_get_str(cfg, "s3.region");
    if (lks_config_is_set(cfg, "s3.path.style.access"))
        o->s3_path_style = lks_config_get_bool(cfg, "s3.path.style.access");
    if (lks_config_is_set(cfg, "s3.single.writer"))
        o->s3_single_writer = lks_config_get_bool(cfg, "s3.single.writer");
}

int lks_store_open(const char *uri, lks_store **out, lks_err *err) { return lks_store_open_opts(uri, NULL, out, err); }

int lks_store_open_opts(const char *uri, const lks_store_opts *opts, lks_store **out, lks_err *err) {
    *out = NULL;
    if (!uri || !*uri)
        return lks_err_set(err, LKS_EINVAL, "empty store location");
    if (strncmp(uri, "s3://", 5) == 0) {
        lks_s3_opts so = {NULL, NULL, -1, -1};
        if (opts) {
            so.endpoint = opts->s3_endpoint;
            so.region = opts->s3_region;
            so.path_style = opts->s3_path_style;
            so.single_writer = opts->s3_single_writer;
        }
        return lks_store_s3_open(uri, &so, out, err);
    }
    if (strncmp(uri, "file:", 5) == 0) {
        const char *p = uri + 5;
        if (strncmp(p, "//", 2) != 0)
            return lks_err_set(err, LKS_EINVAL, "%s: expected file:///absolute/path", uri);
        p += 2;
        if (strncmp(p, "localhost/", 10) == 0)
            p += 9;
        if (*p != '/')
            return lks_err_set(err, LKS_EINVAL, "%s: expected file:///absolute/path (no host)", uri);
        /* percent-decode */
        size_t n = strlen(p);
        char *path = malloc(n + 1);
        if (!path)
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] != '%') {
                path[o++] = p[i];
                continue;
            }
            int hi = i + 2 < n ? lks_hex_value(p[i + 1]) : -1, lo = i + 2 < n ? lks_hex_value(p[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi | lo) == 0) {
                free(path);
                return lks_err_set(err, LKS_EINVAL, "%s: bad percent escape", uri);
            }
            path[o++] = (char)(hi << 4 | lo);
            i += 2;
        }
        path[o] = 0;
        int rc = lks_store_local_open(path, out, err);
        free(path);
        return rc;
    }
    const char *colon = strstr(uri, "://");
    if (colon) {
        int scheme = 1;
        for (const char *q = uri; q < colon; q++)
            if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '+' ||
                  *q == '-' || *q == '.'))
                scheme = 0;
        if (scheme && colon > uri)
            return lks_err_set(err, LKS_EUNSUPPORTED,
                               "%s: unknown store scheme '%.*s' (expected a path, file:// or s3://)", uri,
                               (int)(colon - uri), uri);
    }
    return lks_store_local_open(uri, out, err);
}

void lks_store_close(lks_store *st) {
    if (st)
        st->ops->close(st);
}

int lks_store_get(lks_store *st, const char *key, lks_buf *out, lks_err *err) {
    int rc = lks_store_check_key(key, err);
    return rc ? rc : st->ops->get(st, key, 0, 0, 0, out, err);
}

int lks_store_get_range(lks_store *st, const char *key, uint64_t off, uint64_t len, lks_buf *out, lks_err *err) {
    int rc = lks_store_check_key(key, err);
    if (rc)
        return rc;
    if (off + len < off)
        return lks_err_set(err, LKS_ECORRUPT, "%s: range %llu+%llu overflows", key, (unsigned long long)off,
                           (unsigned long long)len);
    return st->ops->get(st, key, off, len, 1, out, err);
}

struct lks_store_stream {
    int fd;
    char *name; /* "uri/key" for messages */
};

int lks_store_stream_open(lks_store *st, const char *key, lks_store_stream **out, lks_err *err) {
    *out = NULL;
    int rc = lks_store_check_key(key, err);
    if (rc)
        return rc;
    if (!st->ops->open_fd)
        return lks_err_set(err, LKS_EUNSUPPORTED, "%s: %s objects are read whole", key, st->ops->scheme);
    lks_store_stream *s = calloc(1, sizeof *s);
    size_t ul = strlen(st->uri), kl = strlen(key);
    char *name = malloc(ul + kl + 2);
    if (!s || !name) {
        free(s);
        free(name);
        return lks_err_set(err, LKS_ENOMEM, "%s: out of memory", key);
    }
    memcpy(name, st->uri, ul);
    name[ul] = '/';
    memcpy(name + ul + 1, key, kl + 1);
    s->name = name;
    rc = st->ops->open_fd(st, key, &s->fd, err);
    if (rc) {
        free(name);
        free(s);
        return rc;
    }
    *out = s;
    return LKS_OK;
}

int lks_store_stream_read(lks_store_stream *s, lks_buf *out, size_t max, size_t *got, lks_err *err) {
    *got = 0;
    if (lks_buf_reserve(out, max) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "%s: %zu more bytes do not fit the buffer", s->name, max);
    ssize_t r;
    do
        r = read(s->fd, out->ptr + out->len, max);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return lks_err_set(err, LKS_EIO, "read %s: %s", s->name, strerror(errno));
    out->len += (size_t)r;
    *got = (size_t)r;
    return LKS_OK;
}

void lks_store_stream_close(lks_store_stream *s) {
    if (!s)
        return;
    close(s->fd);
    free(s->name);
    free(s);
}

int lks_store_head(lks_store *st, const char *key, lks_store_entry *ent, lks_err *err) {
    int rc = lks_store_check_key(key, err);
    if (rc)
        return rc;
    rc = st->ops->head(st, key, ent, err);
    ent->key = NULL;
    return rc;
}

int lks_store_put(lks_store *st, const char *key, const void *data, size_t len, lks_err *err) {
    int rc = lks_store_check_key(key, err);
    return rc ? rc : st->ops->put(st, key, data, len, 0, err);
}

int lks_store_put_if_absent(lks_store *st, const char *key, const void *data, size_t len, lks_err *err) {
    int rc = lks_store_check_key(key, err);
    return rc ? rc : st->ops->put(st, key, data, len, 1, err);
}

/* ---- writing in pieces ------------------------------------------------------------------ */

struct lks_store_writer {
    lks_store *st;
    char *key;
    void *h;     /* the backend's temporary object; NULL: buf holds the whole object */
    lks_buf buf; /* bytes not yet handed to the backend */
    uint64_t size;
    int failed;
};

int lks_store_writer_open(lks_store *st, const char *key, lks_store_writer **out, lks_err *err) {
    *out = NULL;
    int rc = lks_store_check_key(key, err);
    if (rc)
        return rc;
    lks_store_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->key = strdup(key))) {
        free(w);
        return lks_err_set(err, LKS_ENOMEM, "%s: out of memory", key);
    }
    w->st = st;
    lks_buf_init(&w->buf, 0);
    if (st->ops->wopen && (rc = st->ops->wopen(st, key, &w->h, err)) != LKS_OK) {
        free(w->key);
        free(w);
        return rc;
    }
    *out = w;
    return LKS_OK;
}

/* Hands the pending bytes to the backend. */
static int writer_drain(lks_store_writer *w, lks_err *err) {
    if (!w->buf.len)
        return LKS_OK;
    int rc = w->st->ops->wappend(w->st, w->h, w->buf.ptr, w->buf.len, err);
    lks_buf_reset(&w->buf);
    return rc;
}

int lks_store_writer_write(lks_store_writer *w, const void *p, size_t n, lks_err *err) {
    if (w->failed)
        return lks_err_set(err, LKS_EINVAL, "%s: an earlier write failed", w->key);
    int rc = LKS_OK;
    if (w->h && w->buf.len + n > LKS_STORE_WRITER_CHUNK) {
        rc = writer_drain(w, err);
        if (!rc && n >= LKS_STORE_WRITER_CHUNK)
            rc = w->st->ops->wappend(w->st, w->h, p, n, err);
        else if (!rc)
            rc = lks_buf_append(&w->buf, p, n);
    } else {
        rc = lks_buf_append(&w->buf, p, n);
    }
    if (rc == LKS_ENOMEM || rc == LKS_ELIMIT) /* the buffer's own failures carry no message */
        rc = lks_err_set(err, rc, "%s: %s holding %zu more bytes", w->key, lks_strerror(rc), n);
    if (rc) {
        w->failed = 1;
        return rc;
    }
    w->size += n;
    return LKS_OK;
}

uint64_t lks_store_writer_size(const lks_store_writer *w) { return w->size; }

static void writer_free(lks_store_writer *w) {
    lks_buf_free(&w->buf);
    free(w->key);
    free(w);
}

int lks_store_writer_commit(lks_store_writer *w, lks_err *err) {
    if (w->failed) {
        int rc = lks_err_set(err, LKS_EINVAL, "%s: an earlier write failed", w->key);
        lks_store_writer_abort(w);
        return rc;
    }
    int rc;
    if (w->h) {
        rc = w->st->ops->wcommit(w->st, w->h, w->buf.ptr ? w->buf.ptr : (const uint8_t *)"", w->buf.len, err);
    } else {
        rc = w->st->ops->put(w->st, w->key, w->buf.ptr ? w->buf.ptr : (const uint8_t *)"", w->buf.len, 0, err);
    }
    writer_free(w);
    return rc;
}

void lks_store_writer_abort(lks_store_writer *w) {
    if (!w)
        return;
    if (w->h)
        w->st->ops->wabort(w->st, w->h);
    writer_free(w);
}

int lks_store_list_flags(lks_store *st, const char *prefix, int flags, lks_store_list_fn *fn, void *ud, lks_err *err) {
    if (!prefix)
        prefix = "";
    int rc = check_prefix(prefix, err);
    if (rc)
        return rc;
    return st->ops->list(st, prefix, flags, fn, ud, err);
}

int lks_store_list(lks_store *st, const char *prefix, lks_store_list_fn *fn, void *ud, lks_err *err) {
    return lks_store_list_flags(st, prefix, 0, fn, ud, err);
}

int lks_store_purge_uploads(lks_store *st, const char *prefix, int64_t before_us, int dry_run, int64_t *n,
                            lks_err *err) {
    *n = 0;
    return st->ops->purge_uploads ? st->ops->purge_uploads(st, prefix, before_us, dry_run, n, err) : LKS_OK;
}

int lks_store_delete_temp(lks_store *st, const char *key, lks_err *err) {
    int rc = check_key(key, 1, err);
    return rc ? rc : st->ops->del(st, key, err);
}

int lks_store_delete(lks_store *st, const char *key, lks_err *err) {
    int rc = lks_store_check_key(key, err);
    return rc ? rc : st->ops->del(st, key, err);
}

int lks_store_delete_many(lks_store *st, const char *const *keys, size_t n, lks_err *err) {
    for (size_t i = 0; i < n; i++) {
        int rc = lks_store_check_key(keys[i], err);
        if (rc)
            return rc;
    }
    if (st->ops->del_many)
        return n ? st->ops->del_many(st, keys, n, err) : LKS_OK;
    for (size_t i = 0; i < n; i++) {
        int rc = st->ops->del(st, keys[i], err);
        if (rc)
            return rc;
    }
    return LKS_OK;
}
