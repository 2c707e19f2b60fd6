/*
 * reader.c — streams records out of the raw zone in (topic, partition,
 * offset) order, starting at per-partition bookmarks.
 *
 * Objects are listed once at open (list.c) and read one at a time.  Lines
 * are cut from a window that holds at most one line plus one chunk, filled
 * by inflating (gzip) or by reading the object in 256 KiB pieces (a local
 * store: the bytes are parsed while still in the caches, and a large object
 * never sits in memory whole); an object of a store that serves objects
 * whole (S3) is fetched whole and its lines cut in place.  Lines end with
 * "\n" or "\r\n"; a last line without a newline counts; an empty line has
 * no offset and is corrupt unless only empty lines follow it.  Lines are
 * not parsed here (the codec does that); a line "null" (or blank) is
 * flagged as a tombstone.
 *
 * Bookmarks: object k of a partition is skipped unopened when object k+1
 * starts at or below the bookmark (all of k's records then lie below it).
 * An opened object is read from its first line, lines below the bookmark
 * are passed over.  Objects of a partition must not overlap: after reading
 * object k whole (start s, n lines), object k+1 must start at s+n or
 * later; two objects with the same start (e.g. .json and .json.gz) are
 * ambiguous.  Both are LKS_ECORRUPT naming the two objects.
 */
#include "rawzone/rawzone.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define DEFAULT_MAX_LINE ((uint64_t)64 << 20)
#define INFLATE_CHUNK ((size_t)64 << 10)
#define READ_CHUNK ((size_t)256 << 10)

/* ---- line sources ---------------------------------------------------------------------- */

typedef struct linesrc {
    const char *name; /* object key, for messages */
    lks_store_stream *stream; /* plain object read in pieces (into win) */
    lks_buf raw;      /* the whole object as stored (gzip, or a store without streams) */
    size_t pos;       /* plain: next unread byte of raw */
    int gz;
    int zinit;
    int zdone; /* every gzip member inflated, input used up */
    z_stream zs;
    size_t in_pos; /* gzip: next compressed byte of raw */
    lks_buf win;   /* gzip: inflated bytes; [rpos, win.len) unread */
    size_t rpos, scan;
    int64_t line;        /* physical lines returned or passed so far */
    int64_t first_empty; /* line number of a pending empty line, 0: none */
    uint64_t max_line;
} linesrc;

static void ls_free(linesrc *s) {
    if (s->zinit)
        inflateEnd(&s->zs);
    s->zinit = 0;
    lks_store_stream_close(s->stream);
    s->stream = NULL;
    lks_buf_free(&s->raw);
    lks_buf_free(&s->win);
}

/* Prepares a source over s->raw (already filled). */
static int ls_start(linesrc *s, lks_err *err) {
    s->pos = s->in_pos = s->rpos = s->scan = 0;
    s->line = s->first_empty = 0;
    s->zdone = 0;
    if (s->stream) {
        s->win.max = s->max_line + READ_CHUNK + 64;
        return LKS_OK;
    }
    if (!s->gz)
        return LKS_OK;
    if (s->raw.len == 0)
        return lks_err_set(err, LKS_ECORRUPT, "%s: empty gzip object", s->name);
    memset(&s->zs, 0, sizeof s->zs);
    if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK)
        return lks_err_set(err, LKS_ENOMEM, "%s: cannot start inflate", s->name);
    s->zinit = 1;
    s->win.max = s->max_line + INFLATE_CHUNK + 64; /* one line and one chunk */
    return LKS_OK;
}

/* Inflates up to one chunk more into win.  Sets zdone at the end of input. */
static int ls_inflate(linesrc *s, lks_err *err) {
    if (s->stream) { /* a plain object read in pieces */
        size_t got;
        int rc = lks_store_stream_read(s->stream, &s->win, READ_CHUNK, &got, err);
        if (rc)
            return lks_err_prefix(err, "%s: line %lld", s->name, (long long)s->line + 1);
        if (!got)
            s->zdone = 1;
        return LKS_OK;
    }
    int rc = lks_buf_reserve(&s->win, INFLATE_CHUNK);
    if (rc)
        return lks_err_set(err, rc, "%s: line %lld: cannot grow the inflate window", s->name, (long long)s->line + 1);
    for (;;) {
        size_t left = s->raw.len - s->in_pos;
        s->zs.next_in = s->raw.ptr + s->in_pos;
        s->zs.avail_in = left > UINT_MAX ? UINT_MAX : (uInt)left;
        s->zs.next_out = s->win.ptr + s->win.len;
        s->zs.avail_out = (uInt)INFLATE_CHUNK;
        int zr = inflate(&s->zs, Z_NO_FLUSH);
        size_t used = (size_t)(s->zs.next_in - (s->raw.ptr + s->in_pos));
        size_t made = (size_t)(s->zs.next_out - (s->win.ptr + s->win.len));
        s->in_pos += used;
        s->win.len += made;
        if (zr == Z_STREAM_END) {
            if (s->in_pos == s->raw.len) {
                s->zdone = 1;
                return LKS_OK;
            }
            /* another gzip member follows (concatenated members) */
            if (inflateReset(&s->zs) != Z_OK)
                return lks_err_set(err, LKS_EINTERNAL, "%s: inflateReset failed", s->name);
            if (made)
                return LKS_OK;
            continue;
        }
        if (zr == Z_OK) {
            if (made || used)
                return LKS_OK;
            return lks_err_set(err, LKS_ECORRUPT, "%s: gzip stream makes no progress at byte %zu", s->name,
                               s->in_pos);
        }
        if (zr == Z_BUF_ERROR && s->in_pos == s->raw.len)
            return lks_err_set(err, LKS_ECORRUPT, "%s: truncated gzip data (ends at byte %zu inside a member)",
                               s->name, s->in_pos);
        if (zr == Z_MEM_ERROR)
            return lks_err_set(err, LKS_ENOMEM, "%s: out of memory inflating", s->name);
        return lks_err_set(err, LKS_ECORRUPT, "%s: corrupt gzip data near byte %zu: %s", s->name, s->in_pos,
                           s->zs.msg ? s->zs.msg : "bad stream");
    }
}

/* Next physical line (terminator removed) of the source: 1 with a line, 0
 * at the end. */
static int ls_raw_line(linesrc *s, lks_slice *out, lks_err *err) {
    const uint8_t *p;
    size_t n;
    int terminated;
    if (!s->gz && !s->stream) {
        if (s->pos >= s->raw.len)
            return 0;
        p = s->raw.ptr + s->pos;
        size_t left = s->raw.len - s->pos;
        const uint8_t *nl = memchr(p, '\n', left);
        n = nl ? (size_t)(nl - p) : left;
        terminated = nl != NULL;
        s->pos += n + (terminated ? 1 : 0);
    } else {
        /* what earlier lines used is dropped only when more must come in
         * (then little is left to move: part of one line) */
        const uint8_t *nl;
        for (;;) {
            nl = s->win.len > s->scan ? memchr(s->win.ptr + s->scan, '\n', s->win.len - s->scan) : NULL;
            if (nl)
                break;
            s->scan = s->win.len;
            if (s->win.len - s->rpos > s->max_line + 1)
                return lks_err_set(err, LKS_ELIMIT, "%s: line %lld: longer than %llu bytes", s->name,
                                   (long long)s->line + 1, (unsigned long long)s->max_line);
            if (s->zdone)
                break;
            if (s->rpos > 0) {
                size_t keep = s->win.len - s->rpos;
                memmove(s->win.ptr, s->win.ptr + s->rpos, keep);
                s->win.len = keep;
                s->scan -= s->rpos;
                s->rpos = 0;
            }
            int rc = ls_inflate(s, err);
            if (rc)
                return rc;
        }
        if (!nl && s->rpos == s->win.len)
            return 0;
        p = s->win.ptr + s->rpos;
        n = nl ? (size_t)(nl - p) : s->win.len - s->rpos;
        terminated = nl != NULL;
        s->rpos += n + (terminated ? 1 : 0);
        s->scan = s->rpos;
    }
    if (n > 0 && p[n - 1] == '\r')
        n--;
    s->line++;
    if (n > s->max_line)
        return lks_err_set(err, LKS_ELIMIT, "%s: line %lld: longer than %llu bytes", s->name, (long long)s->line,
                           (unsigned long long)s->max_line);
    out->ptr = p;
    out->len = n;
    return 1;
}

/* Next record line: empty lines are passed over only when nothing but
 * empty lines follows them. */
static int ls_next(linesrc *s, lks_slice *out, lks_err *err) {
    for (;;) {
        int rc = ls_raw_line(s, out, err);
        if (rc <= 0)
            return rc;
        if (out->len == 0) {
            if (!s->first_empty)
                s->first_empty = s->line;
            continue;
        }
        if (s->first_empty)
            return lks_err_set(err, LKS_ECORRUPT, "%s: line %lld: empty line (a record without a value)", s->name,
                               (long long)s->first_empty);
        return 1;
    }
}

/* ---- the reader ------------------------------------------------------------------------ */

struct lks_rz_reader {
    lks_store *st;
    lks_arena arena;
    lks_rz_object *objs;
    size_t nobj;
    size_t *obj_pos; /* index into pos per object */
    lks_rz_bookmark *pos;
    size_t npos;
    int64_t max_records, returned;
    uint64_t max_line;
    /* walking */
    size_t idx;       /* current (or next) object */
    int open;         /* objs[idx] is open */
    int64_t prev_end; /* end offset of the last object read whole in this partition, -1: unknown */
    size_t prev_idx;
    linesrc vals, keys;
    char *keys_name;
    int failed; /* sticky error code */
    lks_err fail_err;
};

static int cmp_bookmark(const void *x, const void *y) {
    const lks_rz_bookmark *a = x, *b = y;
    int c = strcmp(a->topic, b->topic);
    if (c)
        return c;
    return a->partition < b->partition ? -1 : a->partition > b->partition;
}

static int same_partition(const lks_rz_object *a, const lks_rz_object *b) {
    return a->partition == b->partition && !strcmp(a->topic, b->topic);
}

int lks_rz_reader_open(lks_store *st, const lks_rz_reader_opts *o, lks_rz_reader **out, lks_err *err) {
    if (!st || !out)
        return lks_err_set(err, LKS_EINVAL, "rawzone reader: missing argument");
    *out = NULL;
    lks_rz_reader_opts def = {0};
    if (!o)
        o = &def;
    if (o->max_records < 0)
        return lks_err_set(err, LKS_EINVAL, "rawzone reader: negative max_records");
    if (o->nstart && !o->start)
        return lks_err_set(err, LKS_EINVAL, "rawzone reader: %zu bookmarks without an array", o->nstart);
    lks_rz_reader *r = calloc(1, sizeof *r);
    if (!r)
        return lks_err_set(err, LKS_ENOMEM, "rawzone reader: out of memory");
    r->st = st;
    lks_arena_init(&r->arena, 0);
    r->max_records = o->max_records;
    r->max_line = o->max_line_bytes ? o->max_line_bytes : DEFAULT_MAX_LINE;
    if (r->max_line > ((uint64_t)1 << 40))
        r->max_line = (uint64_t)1 << 40;
    r->prev_end = -1;
    int rc = lks_rz_list(st, o->topics_dir, o->topic, &r->arena, &r->objs, &r->nobj, NULL, err);
    if (rc)
        goto fail;

    /* positions: the given bookmarks plus every partition listed */
    size_t cap = o->nstart + r->nobj;
    if (cap) {
        r->pos = lks_arena_alloc(&r->arena, cap * sizeof *r->pos);
        r->obj_pos = lks_arena_alloc(&r->arena, (r->nobj ? r->nobj : 1) * sizeof *r->obj_pos);
        if (!r->pos || !r->obj_pos) {
            rc = lks_err_set(err, LKS_ENOMEM, "rawzone reader: out of memory for %zu positions", cap);
            goto fail;
        }
    }
    for (size_t i = 0; i < o->nstart; i++) {
        const lks_rz_bookmark *b = &o->start[i];
        if (!b->topic || !*b->topic || b->partition < 0 || b->next_offset < 0) {
            rc = lks_err_set(err, LKS_EINVAL, "rawzone reader: invalid bookmark %zu (%s:%d at %lld)", i,
                             b->topic ? b->topic : "(null)", b->partition, (long long)b->next_offset);
            goto fail;
        }
        lks_rz_bookmark *d = &r->pos[r->npos++];
        d->topic = lks_arena_strdup(&r->arena, b->topic);
        if (!d->topic) {
            rc = lks_err_set(err, LKS_ENOMEM, "rawzone reader: out of memory");
            goto fail;
        }
        d->partition = b->partition;
        d->next_offset = b->next_offset;
    }
    if (r->npos > 1) {
        qsort(r->pos, r->npos, sizeof *r->pos, cmp_bookmark);
        for (size_t i = 1; i < r->npos; i++)
            if (!cmp_bookmark(&r->pos[i - 1], &r->pos[i])) {
                rc = lks_err_set(err, LKS_EINVAL, "rawzone reader: two bookmarks for %s:%d", r->pos[i].topic,
                                 r->pos[i].partition);
                goto fail;
            }
    }
    /* add the listed partitions missing from the bookmarks (objects are
     * sorted, so each new partition is seen once) */
    size_t ngiven = r->npos;
    for (size_t i = 0; i < r->nobj; i++) {
        if (i > 0 && same_partition(&r->objs[i - 1], &r->objs[i]))
            continue;
        lks_rz_bookmark key = {.topic = r->objs[i].topic, .partition = r->objs[i].partition};
        if (ngiven && bsearch(&key, r->pos, ngiven, sizeof *r->pos, cmp_bookmark))
            continue;
        r->pos[r->npos++] = key; /* next_offset 0; topic lives in the arena already */
    }
    if (r->npos > ngiven)
        qsort(r->pos, r->npos, sizeof *r->pos, cmp_bookmark);
    for (size_t i = 0; i < r->nobj; i++) {
        lks_rz_bookmark key = {.topic = r->objs[i].topic, .partition = r->objs[i].partition};
        const lks_rz_bookmark *hit = bsearch(&key, r->pos, r->npos, sizeof *r->pos, cmp_bookmark);
        if (!hit) {
            rc = lks_err_set(err, LKS_EINTERNAL, "rawzone reader: lost partition %s:%d", key.topic, key.partition);
            goto fail;
        }
        r->obj_pos[i] = (size_t)(hit - r->pos);
    }
    *out = r;
    return LKS_OK;
fail:
    lks_arena_free(&r->arena);
    free(r);
    return rc;
}

/* The values buffer is kept, emptied, for the next object (freed by
 * lks_rz_reader_free): a fresh buffer of tens of MB per object costs a page
 * fault per page on first touch, which was most of the reading time. */
static void close_object(lks_rz_reader *r) {
    lks_buf raw = r->vals.raw, win = r->vals.win;
    lks_buf_init(&r->vals.raw, 0);
    lks_buf_init(&r->vals.win, 0);
    ls_free(&r->vals);
    r->vals.raw = raw;
    r->vals.win = win;
    lks_buf_reset(&r->vals.raw);
    lks_buf_reset(&r->vals.win);
    ls_free(&r->keys);
    r->open = 0;
}

/* Opens s's object: in pieces where the store allows, else whole. */
static int ls_open(lks_rz_reader *r, linesrc *s, const char *key, lks_err *err) {
    if (!s->gz) {
        int rc = lks_store_stream_open(r->st, key, &s->stream, err);
        if (rc != LKS_EUNSUPPORTED)
            return rc;
        lks_err_clear(err);
    }
    return lks_store_get(r->st, key, &s->raw, err);
}

/* Derives the keys object key from the values object key. */
static char *keys_key(lks_arena *a, const lks_rz_object *obj) {
    size_t n = strlen(obj->key);
    size_t suf = obj->gzip ? 8 : 5; /* ".json.gz" / ".json" */
    if (n < suf)
        return NULL;
    return lks_arena_printf(a, "%.*s.keys%s", (int)(n - suf), obj->key, obj->key + n - suf);
}

static int open_object(lks_rz_reader *r, lks_err *err) {
    const lks_rz_object *obj = &r->objs[r->idx];
    lks_buf raw = r->vals.raw, win = r->vals.win; /* empty, kept by close_object */
    memset(&r->vals, 0, sizeof r->vals);
    memset(&r->keys, 0, sizeof r->keys);
    r->vals.name = obj->key;
    r->vals.gz = obj->gzip;
    r->vals.max_line = r->max_line;
    if (raw.ptr)
        r->vals.raw = raw;
    else
        lks_buf_init(&r->vals.raw, 0);
    if (win.ptr)
        r->vals.win = win;
    else
        lks_buf_init(&r->vals.win, 0);
    lks_buf_init(&r->keys.raw, 0);
    lks_buf_init(&r->keys.win, 0);
    r->open = 1;
    int rc = ls_open(r, &r->vals, obj->key, err);
    if (rc)
        return lks_err_prefix(err, "rawzone object %s", obj->key);
    rc = ls_start(&r->vals, err);
    if (rc)
        return rc;
    if (obj->has_keys) {
        char *kk = keys_key(&r->arena, obj);
        if (!kk)
            return lks_err_set(err, LKS_ENOMEM, "rawzone: out of memory");
        r->keys.name = kk;
        r->keys.gz = obj->gzip;
        r->keys.max_line = r->max_line;
        rc = ls_open(r, &r->keys, kk, err);
        if (rc)
            return lks_err_prefix(err, "rawzone keys object %s", kk);
        rc = ls_start(&r->keys, err);
        if (rc)
            return rc;
    }
    return LKS_OK;
}

static int is_blank_or_null(lks_slice v) {
    size_t b = 0, e = v.len;
    while (b < e && (v.ptr[b] == ' ' || v.ptr[b] == '\t'))
        b++;
    while (e > b && (v.ptr[e - 1] == ' ' || v.ptr[e - 1] == '\t'))
        e--;
    return e == b || (e - b == 4 && !memcmp(v.ptr + b, "null", 4));
}

/* Makes the error sticky: later calls return it again. */
static int fail(lks_rz_reader *r, int rc, lks_err *err) {
    r->failed = rc;
    r->fail_err = *err;
    close_object(r);
    return rc;
}

int lks_rz_reader_next(lks_rz_reader *r, lks_rz_record *rec, lks_err *err) {
    if (!r || !rec)
        return lks_err_set(err, LKS_EINVAL, "rawzone reader: missing argument");
    if (r->failed) {
        if (err)
            *err = r->fail_err;
        return r->failed;
    }
    lks_err local;
    if (!err) {
        lks_err_clear(&local);
        err = &local;
    }
    for (;;) {
        if (r->max_records && r->returned >= r->max_records)
            return 0;
        if (!r->open) {
            if (r->idx >= r->nobj)
                return 0;
            const lks_rz_object *obj = &r->objs[r->idx];
            lks_rz_bookmark *bm = &r->pos[r->obj_pos[r->idx]];
            int has_prev = r->idx > 0 && same_partition(&r->objs[r->idx - 1], obj);
            int has_next = r->idx + 1 < r->nobj && same_partition(&r->objs[r->idx + 1], obj);
            if (!has_prev)
                r->prev_end = -1;
            if (has_next && r->objs[r->idx + 1].start_offset <= bm->next_offset) {
                r->prev_end = -1; /* not read: its end is unknown */
                r->idx++;
                continue;
            }
            if (has_prev && r->objs[r->idx - 1].start_offset == obj->start_offset)
                return fail(r,
                            lks_err_set(err, LKS_ECORRUPT, "rawzone: objects %s and %s both start at offset %lld",
                                        r->objs[r->idx - 1].key, obj->key, (long long)obj->start_offset),
                            err);
            if (has_next && r->objs[r->idx + 1].start_offset == obj->start_offset)
                return fail(r,
                            lks_err_set(err, LKS_ECORRUPT, "rawzone: objects %s and %s both start at offset %lld",
                                        obj->key, r->objs[r->idx + 1].key, (long long)obj->start_offset),
                            err);
            if (r->prev_end >= 0 && obj->start_offset < r->prev_end)
                return fail(r,
                            lks_err_set(err, LKS_ECORRUPT,
                                        "rawzone: object %s starts at offset %lld, inside object %s "
                                        "(offsets %lld..%lld)",
                                        obj->key, (long long)obj->start_offset, r->objs[r->prev_idx].key,
                                        (long long)r->objs[r->prev_idx].start_offset, (long long)r->prev_end - 1),
                            err);
            int rc = open_object(r, err);
            if (rc)
                return fail(r, rc, err);
        }
        const lks_rz_object *obj = &r->objs[r->idx];
        lks_rz_bookmark *bm = &r->pos[r->obj_pos[r->idx]];
        lks_slice v, k = {NULL, 0};
        int rc = ls_next(&r->vals, &v, err);
        if (rc < 0)
            return fail(r, rc, err);
        if (rc == 0) {
            if (obj->has_keys) {
                rc = ls_next(&r->keys, &k, err);
                if (rc < 0)
                    return fail(r, rc, err);
                if (rc > 0)
                    return fail(r,
                                lks_err_set(err, LKS_ECORRUPT,
                                            "rawzone: keys object %s has more lines than values object %s "
                                            "(line %lld has no value)",
                                            r->keys.name, obj->key, (long long)r->keys.line),
                                err);
            }
            int64_t nlines = r->vals.line - (r->vals.first_empty ? r->vals.line - r->vals.first_empty + 1 : 0);
            r->prev_end = obj->start_offset + nlines;
            r->prev_idx = r->idx;
            close_object(r);
            r->idx++;
            continue;
        }
        int64_t line = r->vals.line;
        if (obj->has_keys) {
            rc = ls_next(&r->keys, &k, err);
            if (rc < 0)
                return fail(r, rc, err);
            if (rc == 0)
                return fail(r,
                            lks_err_set(err, LKS_ECORRUPT,
                                        "rawzone: values object %s line %lld has no key in keys object %s "
                                        "(%lld lines)",
                                        obj->key, (long long)line, r->keys.name, (long long)r->keys.line),
                            err);
        }
        if (obj->start_offset > INT64_MAX - (line - 1) - 1)
            return fail(r,
                        lks_err_set(err, LKS_ECORRUPT, "rawzone: %s line %lld: offset past 2^63-1", obj->key,
                                    (long long)line),
                        err);
        int64_t off = obj->start_offset + (line - 1);
        if (off < bm->next_offset)
            continue;
        rec->topic = obj->topic;
        rec->partition = obj->partition;
        rec->offset = off;
        rec->value = v;
        rec->key = k;
        rec->tombstone = is_blank_or_null(v);
        rec->object = obj->key;
        rec->line = line;
        bm->next_offset = off + 1;
        r->returned++;
        return 1;
    }
}

int lks_rz_reader_positions(const lks_rz_reader *r, const lks_rz_bookmark **out, size_t *n) {
    if (!r || !out || !n)
        return LKS_EINVAL;
    *out = r->pos;
    *n = r->npos;
    return LKS_OK;
}

void lks_rz_reader_free(lks_rz_reader *r) {
    if (!r)
        return;
    close_object(r);
    lks_buf_free(&r->vals.raw);
    lks_buf_free(&r->vals.win);
    lks_arena_free(&r->arena);
    free(r);
}
