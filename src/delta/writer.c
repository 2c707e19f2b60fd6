/*
 * writer.c — Delta data files: rows (GROUP values of the table's read
 * schema) split by partition values into Parquet files under
 * `<k1>=<v1>/<k2>=<v2>/part-NNNNN-<uuid>-c000.<codec>.parquet` (Hive-style
 * escaping, __HIVE_DEFAULT_PARTITION__ for null), partition columns left
 * out of the files, with the per-file statistics Spark writes:
 *
 *   numRecords; minValues / maxValues for numbers, decimals, dates,
 *   timestamps and strings (strings cut to 32 characters: the min is the
 *   prefix, the max the prefix plus a tie-breaker character, or omitted);
 *   nullCount for every column (nested structs as nested objects; arrays,
 *   maps, binary and booleans get only nullCount).  Timestamp bounds are in
 *   milliseconds, the min rounded down and the max up, so they stay bounds.
 *
 * Column names in stats and partition values are the physical names when
 * column mapping is on (equal to the logical ones otherwise).  Each file is
 * buffered in memory, published with lks_store_put when it reaches
 * target_file_bytes or at close, and added to the transaction at close.
 */
#include "delta/delta_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define STRING_PREFIX 32
#define BATCH_ROWS 65536            /* rows buffered per column before lks_pq_write_column */
#define BATCH_BYTES_MAX ((size_t)16 << 20)

/* A flat file schema's column buffered for a batch: the present values in
 * physical array form (byte values as {offset, length} into part.bytes),
 * the definition levels when the column is optional. */
typedef struct colbuf {
    lks_buf vals, def;
    size_t nvals;
} colbuf;

typedef struct bref {
    size_t off, len;
} bref;

typedef struct acc {
    int64_t nulls;
    int has;                /* min/max set */
    int nan, inf;           /* float columns saw NaN / an infinity */
    lks_pq_value min, max;  /* scalars; byte values point into minb/maxb */
    lks_buf minb, maxb;
} acc;

typedef struct part {
    char *dir;              /* "k=v/k2=v2/" (escaped, not URI-encoded); "" unpartitioned */
    lks_delta_kv *pv;       /* partition values (malloc'd strings) */
    int npv;
    lks_pq_writer *pw;
    lks_store_writer *out;  /* the open file's bytes, published at finish_file */
    const char *path;       /* its path in the log (URI-encoded, relative; in w->a) */
    int64_t rows;
    acc *accs;
    colbuf *cb;             /* flat schemas: per data column, the pending batch */
    lks_buf bytes;          /* byte values of the pending batch */
    int by_ref;             /* the pending batch's byte values are slices of the caller's memory */
    int64_t brows;          /* rows in the pending batch */
    size_t braw;            /* its approximate size */
    struct part *next;      /* hash chain */
} part;

typedef struct leaf {
    const lks_delta_type *t;
} leaf;

struct lks_delta_writer {
    lks_delta_txn *x;
    lks_delta_table *t;
    lks_delta_writer_opts o;
    lks_arena a;            /* schema copies, finished adds */
    lks_delta_type *schema; /* table schema (root struct) */
    lks_delta_type file_root; /* the root without partition columns */
    int colmap;
    int *part_idx;          /* top-level index of each partition column */
    int npart;
    int *data_idx;          /* top-level index of each data column */
    int ndata;
    lks_pq_value *fitems;   /* scratch row for the file */
    lks_pq_value *wide;     /* scratch row of lks_delta_writer_write_cols (made on first use) */
    lks_pq_schema *fschema;
    leaf *leaves;           /* stats leaves of the data columns, pre-order */
    int nleaves;
    int *bloom_cols;
    int nbloom;
    int flat;               /* every data column is a top-level primitive: column batches */
    size_t batch_bytes;     /* end a batch past this many buffered bytes */
    lks_buf slices;         /* scratch: a byte column's lks_slice array */
    part **buckets;
    size_t nbuckets, nparts;
    int file_seq;
    lks_buf scratch, key;
    lks_delta_add *done;    /* finished files */
    size_t ndone, cdone;
    int64_t nfiles;         /* files finished in all */
    int failed;
};

/* ---- helpers ------------------------------------------------------------------------ */



static const char *phys_name(const lks_delta_writer *w, const lks_delta_type *t) {
    return w->colmap && t->physical_name ? t->physical_name : t->name;
}

/* Hive's escapePathName: these characters become %XX (upper case). */
static int hive_escape_char(unsigned char c) {
    return c < 0x20 || c == 0x7f || c == '"' || c == '#' || c == '%' || c == '\'' || c == '*' || c == '/' ||
           c == ':' || c == '=' || c == '?' || c == '\\' || c == '{' || c == '[' || c == ']' || c == '^';
}

static int hive_escape(lks_buf *b, const char *s, size_t n) {
    static const char hx[] = "0123456789ABCDEF";
    int rc = LKS_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (hive_escape_char(c)) {
            char e[3] = {'%', hx[c >> 4], hx[c & 15]};
            rc = lks_buf_append(b, e, 3);
        } else {
            rc = lks_buf_append_byte(b, c);
        }
    }
    return rc;
}

/* A path as java.net.URI quotes it (Hadoop Path.toUri): ASCII outside the
 * unreserved / punctuation / '/' '@' set becomes %XX; other UTF-8 stays. */
static int uri_encode(lks_buf *b, const char *s) {
    static const char hx[] = "0123456789ABCDEF";
    int rc = LKS_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
        unsigned char c = *p;
        int keep = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   strchr("-_.!~*'()/,;:$&+=@", c) != NULL;
        if (keep) rc = lks_buf_append_byte(b, c);
        else {
            char e[3] = {'%', hx[c >> 4], hx[c & 15]};
            rc = lks_buf_append(b, e, 3);
        }
    }
    return rc;
}

/* Serializes one partition value (PROTOCOL.md "Partition Value
 * Serialization").  *is_null set for null (and for an empty string). */
static int pv_string(lks_buf *b, const lks_delta_type *t, const lks_pq_value *v, int *is_null) {
    char tmp[64];
    *is_null = 0;
    if (!v || v->kind == LKS_PQ_V_NULL) {
        *is_null = 1;
        return LKS_OK;
    }
    switch (t->kind) {
    case LKS_DT_STRING:
    case LKS_DT_BINARY:
        if (v->kind != LKS_PQ_V_BYTES) return LKS_EINVAL;
        if (v->u.bytes.len == 0) {
            *is_null = 1;
            return LKS_OK;
        }
        return lks_buf_append(b, v->u.bytes.ptr, v->u.bytes.len);
    case LKS_DT_BOOLEAN:
        if (v->kind != LKS_PQ_V_BOOL) return LKS_EINVAL;
        return lks_buf_printf(b, "%s", v->u.b ? "true" : "false");
    case LKS_DT_BYTE:
    case LKS_DT_SHORT:
    case LKS_DT_INTEGER:
        if (v->kind != LKS_PQ_V_INT32) return LKS_EINVAL;
        return lks_buf_printf(b, "%" PRId32, v->u.i32);
    case LKS_DT_LONG:
        if (v->kind != LKS_PQ_V_INT64) return LKS_EINVAL;
        return lks_buf_printf(b, "%" PRId64, v->u.i64);
    case LKS_DT_FLOAT:
    case LKS_DT_DOUBLE: {
        if (t->kind == LKS_DT_FLOAT && v->kind != LKS_PQ_V_FLOAT) return LKS_EINVAL;
        if (t->kind == LKS_DT_DOUBLE && v->kind != LKS_PQ_V_DOUBLE) return LKS_EINVAL;
        int n = t->kind == LKS_DT_FLOAT ? lks_fmt_float(tmp, v->u.f32) : lks_fmt_double(tmp, v->u.f64);
        tmp[n] = 0;
        /* Java prints integral values with ".0" */
        if (!strpbrk(tmp, ".eEIN")) strcat(tmp, ".0");
        return lks_buf_printf(b, "%s", tmp);
    }
    case LKS_DT_DECIMAL:
        if (v->kind == LKS_PQ_V_INT32) return lks_fmt_decimal_i64(b, v->u.i32, t->scale);
        if (v->kind == LKS_PQ_V_INT64) return lks_fmt_decimal_i64(b, v->u.i64, t->scale);
        if (v->kind == LKS_PQ_V_BYTES && v->u.bytes.len >= 1 && v->u.bytes.len <= 32)
            return lks_fmt_decimal_be(b, v->u.bytes.ptr, v->u.bytes.len, t->scale);
        return LKS_EINVAL;
    case LKS_DT_DATE: {
        if (v->kind != LKS_PQ_V_INT32) return LKS_EINVAL;
        int n = lks_fmt_date(tmp, v->u.i32);
        return lks_buf_append(b, tmp, (size_t)n);
    }
    case LKS_DT_TIMESTAMP: {
        if (v->kind != LKS_PQ_V_INT64) return LKS_EINVAL;
        int n = lks_fmt_timestamp_us(tmp, v->u.i64, 1); /* ISO 8601, UTC, as the spec recommends */
        return lks_buf_append(b, tmp, (size_t)n);
    }
    case LKS_DT_TIMESTAMP_NTZ: {
        if (v->kind != LKS_PQ_V_INT64) return LKS_EINVAL;
        int n = lks_fmt_timestamp_us(tmp, v->u.i64, 0);
        char *tt = strchr(tmp, 'T');
        if (tt) *tt = ' ';
        return lks_buf_append(b, tmp, (size_t)n);
    }
    default:
        return LKS_EUNSUPPORTED;
    }
}

/* ---- statistics ------------------------------------------------------------------------ */

static int minmax_kind(int k) {
    switch (k) {
    case LKS_DT_BYTE: case LKS_DT_SHORT: case LKS_DT_INTEGER: case LKS_DT_LONG: case LKS_DT_FLOAT:
    case LKS_DT_DOUBLE: case LKS_DT_DECIMAL: case LKS_DT_DATE: case LKS_DT_TIMESTAMP: case LKS_DT_TIMESTAMP_NTZ:
    case LKS_DT_STRING:
        return 1;
    default:
        return 0;
    }
}

static int collect_leaves(lks_delta_writer *w, const lks_delta_type *t, leaf *out, int n) {
    if (t->kind == LKS_DT_STRUCT) {
        for (int i = 0; i < t->nchildren; i++) n = collect_leaves(w, &t->children[i], out, n);
        return n;
    }
    if (out) out[n].t = t;
    return n + 1;
}

/* -1, 0, 1 comparing two present values of a leaf's type. */
static int cmp_vals(const lks_delta_type *t, const lks_pq_value *a, const lks_pq_value *b) {
    switch (a->kind) {
    case LKS_PQ_V_INT32: return (a->u.i32 > b->u.i32) - (a->u.i32 < b->u.i32);
    case LKS_PQ_V_INT64: return (a->u.i64 > b->u.i64) - (a->u.i64 < b->u.i64);
    case LKS_PQ_V_FLOAT: return (a->u.f32 > b->u.f32) - (a->u.f32 < b->u.f32);
    case LKS_PQ_V_DOUBLE: return (a->u.f64 > b->u.f64) - (a->u.f64 < b->u.f64);
    case LKS_PQ_V_BYTES: {
        const uint8_t *p = a->u.bytes.ptr, *q = b->u.bytes.ptr;
        size_t n = a->u.bytes.len, m = b->u.bytes.len;
        if (t->kind == LKS_DT_DECIMAL) { /* two's complement big endian, same width */
            int sa = n && (p[0] & 0x80), sb = m && (q[0] & 0x80);
            if (sa != sb) return sa ? -1 : 1;
            if (n != m) return n < m ? (sa ? 1 : -1) : (sa ? -1 : 1);
            return lks_bytes_cmp(p, n, q, n);
        }
        return lks_bytes_cmp(p, n, q, m);
    }
    default: return 0;
    }
}

static int set_bound(lks_pq_value *dst, lks_buf *store, const lks_pq_value *v) {
    *dst = *v;
    if (v->kind == LKS_PQ_V_BYTES) {
        lks_buf_reset(store);
        if (v->u.bytes.len && lks_buf_append(store, v->u.bytes.ptr, v->u.bytes.len)) return LKS_ENOMEM;
        dst->u.bytes.ptr = store->ptr;
    }
    return LKS_OK;
}

static int expect_kind(const lks_delta_type *t) {
    switch (t->kind) {
    case LKS_DT_BYTE: case LKS_DT_SHORT: case LKS_DT_INTEGER: case LKS_DT_DATE: return LKS_PQ_V_INT32;
    case LKS_DT_LONG: case LKS_DT_TIMESTAMP: case LKS_DT_TIMESTAMP_NTZ: return LKS_PQ_V_INT64;
    case LKS_DT_FLOAT: return LKS_PQ_V_FLOAT;
    case LKS_DT_DOUBLE: return LKS_PQ_V_DOUBLE;
    case LKS_DT_STRING: case LKS_DT_BINARY: return LKS_PQ_V_BYTES;
    case LKS_DT_DECIMAL: return t->precision <= 9 ? LKS_PQ_V_INT32 : t->precision <= 18 ? LKS_PQ_V_INT64 : LKS_PQ_V_BYTES;
    default: return -1;
    }
}

/* Adds one value (NULL or a NULL value: a null) of leaf type t to ac. */
static inline int stats_leaf(acc *ac, const lks_delta_type *t, const lks_pq_value *v) {
    if (!v || v->kind == LKS_PQ_V_NULL) {
        ac->nulls++;
        return LKS_OK;
    }
    if (!minmax_kind(t->kind)) return LKS_OK;
    if (v->kind != expect_kind(t)) return LKS_EINVAL;
    if (v->kind == LKS_PQ_V_FLOAT || v->kind == LKS_PQ_V_DOUBLE) {
        double d = v->kind == LKS_PQ_V_FLOAT ? (double)v->u.f32 : v->u.f64;
        if (isnan(d)) {
            ac->nan = 1;
            return LKS_OK;
        }
        if (isinf(d)) ac->inf = 1;
    }
    if (!ac->has) {
        ac->has = 1;
        if (set_bound(&ac->min, &ac->minb, v) || set_bound(&ac->max, &ac->maxb, v)) return LKS_ENOMEM;
        return LKS_OK;
    }
    if (cmp_vals(t, v, &ac->min) < 0 && set_bound(&ac->min, &ac->minb, v)) return LKS_ENOMEM;
    if (cmp_vals(t, v, &ac->max) > 0 && set_bound(&ac->max, &ac->maxb, v)) return LKS_ENOMEM;
    return LKS_OK;
}

static int stats_walk(part *p, const lks_delta_type *t, const lks_pq_value *v, int *li) {
    int is_null = !v || v->kind == LKS_PQ_V_NULL;
    if (t->kind == LKS_DT_STRUCT) {
        if (!is_null && (v->kind != LKS_PQ_V_GROUP || v->u.list.n != (size_t)t->nchildren)) return LKS_EINVAL;
        for (int i = 0; i < t->nchildren; i++) {
            int rc = stats_walk(p, &t->children[i], is_null ? NULL : &v->u.list.items[i], li);
            if (rc) return rc;
        }
        return LKS_OK;
    }
    return stats_leaf(&p->accs[(*li)++], t, v);
}

/* Length in bytes of the UTF-8 sequence at p (1 for invalid bytes). */
static size_t u8len(const uint8_t *p, size_t left) {
    size_t n = p[0] < 0x80 ? 1 : p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 1;
    return n <= left ? n : 1;
}

/* Byte offset after `chars` characters (UTF-16 units counted as Java does
 * when `utf16`), or len when the string is shorter. */
static size_t prefix_bytes(const uint8_t *s, size_t len, size_t chars, int utf16, size_t *units_out) {
    size_t i = 0, u = 0;
    while (i < len) {
        size_t n = u8len(s + i, len - i);
        size_t w = utf16 && n == 4 ? 2 : 1;
        if (u + w > chars) break;
        u += w;
        i += n;
    }
    if (units_out) *units_out = u;
    return i;
}

/* Appends the JSON value of a bound; returns 0 (nothing written) when
 * the bound must be omitted. */
static int bound_json(lks_buf *b, const lks_delta_type *t, const acc *ac, int is_max, int *wrote) {
    const lks_pq_value *v = is_max ? &ac->max : &ac->min;
    char tmp[64];
    int n;
    *wrote = 0;
    switch (t->kind) {
    case LKS_DT_BYTE: case LKS_DT_SHORT: case LKS_DT_INTEGER:
        *wrote = 1;
        return lks_buf_printf(b, "%" PRId32, v->u.i32);
    case LKS_DT_LONG:
        *wrote = 1;
        return lks_buf_printf(b, "%" PRId64, v->u.i64);
    case LKS_DT_FLOAT: case LKS_DT_DOUBLE: {
        if ((is_max && ac->nan) || ac->inf) return LKS_OK; /* NaN sorts last; JSON has no infinities */
        n = t->kind == LKS_DT_FLOAT ? lks_fmt_float(tmp, v->u.f32) : lks_fmt_double(tmp, v->u.f64);
        *wrote = 1;
        return lks_buf_append(b, tmp, (size_t)n);
    }
    case LKS_DT_DECIMAL:
        *wrote = 1;
        if (v->kind == LKS_PQ_V_INT32) return lks_fmt_decimal_i64(b, v->u.i32, t->scale);
        if (v->kind == LKS_PQ_V_INT64) return lks_fmt_decimal_i64(b, v->u.i64, t->scale);
        if (v->u.bytes.len < 1 || v->u.bytes.len > 32) {
            *wrote = 0;
            return LKS_OK;
        }
        return lks_fmt_decimal_be(b, v->u.bytes.ptr, v->u.bytes.len, t->scale);
    case LKS_DT_DATE:
        n = lks_fmt_date(tmp, v->u.i32);
        *wrote = 1;
        return lks_json_quote(b, tmp, (size_t)n);
    case LKS_DT_TIMESTAMP: case LKS_DT_TIMESTAMP_NTZ: {
        int64_t us = v->u.i64, ms = us / 1000;
        if (us % 1000 != 0) {
            if (us < 0 && !is_max) ms -= 1; /* floor */
            if (us > 0 && is_max) ms += 1;  /* ceil */
        }
        n = lks_fmt_timestamp_us(tmp, ms * 1000, t->kind == LKS_DT_TIMESTAMP);
        tmp[n] = 0;
        /* "....SS.ffffff[Z]" → "....SS.fff[Z]" as Spark prints them */
        char *dot = strrchr(tmp, '.');
        if (dot && strlen(dot) >= 7) {
            memmove(dot + 4, dot + 7, strlen(dot + 7) + 1);
            n = (int)strlen(tmp);
        }
        *wrote = 1;
        return lks_json_quote(b, tmp, (size_t)n);
    }
    case LKS_DT_STRING: {
        const uint8_t *s = v->u.bytes.ptr;
        size_t len = v->u.bytes.len;
        if (!is_max) {
            size_t cut = prefix_bytes(s, len, STRING_PREFIX, 0, NULL);
            *wrote = 1;
            return lks_json_quote(b, (const char *)s, cut);
        }
        size_t units;
        size_t cut = prefix_bytes(s, len, STRING_PREFIX, 1, &units);
        if (cut == len) {
            *wrote = 1;
            return lks_json_quote(b, (const char *)s, len);
        }
        /* Spark's truncateMaxStringAgg: at the cut, append a character that
         * sorts after the next one (DEL if it is ASCII below DEL, else
         * U+10FFFF), moving the cut forward over U+10FFFF itself, up to
         * twice the prefix length; else no max. */
        size_t i = cut;
        while (i < len && units < 2 * STRING_PREFIX) {
            size_t cl = u8len(s + i, len - i);
            int is_max_cp = cl == 4 && memcmp(s + i, "\xF4\x8F\xBF\xBF", 4) == 0;
            if (!is_max_cp) {
                lks_buf tb;
                lks_buf_init(&tb, 0);
                int rc = lks_buf_append(&tb, s, i);
                if (!rc) rc = s[i] < 0x7f ? lks_buf_append_byte(&tb, 0x7f) : lks_buf_append(&tb, "\xF4\x8F\xBF\xBF", 4);
                if (!rc) rc = lks_json_quote(b, (const char *)tb.ptr, tb.len);
                lks_buf_free(&tb);
                *wrote = rc == LKS_OK;
                return rc;
            }
            i += cl;
            units += 2;
        }
        return LKS_OK;
    }
    default:
        return LKS_OK;
    }
}

enum { ST_MIN, ST_MAX, ST_NULL };

/* Writes the members of one stats object for struct t; *count gets the
 * number of members written. */
static int stats_obj(lks_delta_writer *w, lks_buf *b, const lks_delta_type *t, const part *p, int *li, int what,
                     int *count) {
    int rc = LKS_OK;
    *count = 0;
    for (int i = 0; i < t->nchildren && !rc; i++) {
        const lks_delta_type *c = &t->children[i];
        const char *nm = phys_name(w, c);
        size_t mark = b->len;
        if (*count) rc = lks_buf_append_byte(b, ',');
        if (!rc) rc = lks_json_quote(b, nm, strlen(nm));
        if (!rc) rc = lks_buf_append_byte(b, ':');
        if (rc) break;
        int wrote = 0;
        if (c->kind == LKS_DT_STRUCT) {
            int sub = 0;
            rc = lks_buf_append_byte(b, '{');
            if (!rc) rc = stats_obj(w, b, c, p, li, what, &sub);
            if (!rc) rc = lks_buf_append_byte(b, '}');
            wrote = sub > 0;
        } else {
            const acc *ac = &p->accs[(*li)++];
            if (what == ST_NULL) {
                rc = lks_buf_printf(b, "%" PRId64, ac->nulls);
                wrote = 1;
            } else if (ac->has && minmax_kind(c->kind)) {
                rc = bound_json(b, c, ac, what == ST_MAX, &wrote);
            }
        }
        if (rc) break;
        if (wrote) (*count)++;
        else b->len = mark;
    }
    return rc;
}

static int stats_json(lks_delta_writer *w, const part *p, lks_buf *b) {
    int rc = lks_buf_printf(b, "{\"numRecords\":%" PRId64, p->rows);
    static const char *names[] = {"minValues", "maxValues", "nullCount"};
    for (int what = ST_MIN; what <= ST_NULL && !rc; what++) {
        size_t mark = b->len;
        int li = 0, count = 0;
        rc = lks_buf_printf(b, ",\"%s\":{", names[what]);
        if (!rc) rc = stats_obj(w, b, &w->file_root, p, &li, what, &count);
        if (!rc) rc = lks_buf_append_byte(b, '}');
        if (!rc && count == 0 && what != ST_NULL) b->len = mark;
    }
    if (!rc) rc = lks_buf_append_byte(b, '}');
    return rc;
}

/* ---- files ---------------------------------------------------------------------------- */

static void acc_reset(part *p, int n) {
    for (int i = 0; i < n; i++) {
        acc *a = &p->accs[i];
        a->nulls = 0;
        a->has = a->nan = a->inf = 0;
        lks_buf_reset(&a->minb);
        lks_buf_reset(&a->maxb);
    }
}

static int sink_store(void *ud, const void *b, size_t n, lks_err *err) {
    return lks_store_writer_write(ud, b, n, err);
}

static const char *codec_ext(int codec);

/* Names p's next file and opens it in the store and as a Parquet writer. */
static int start_file(lks_delta_writer *w, part *p, lks_err *err) {
    p->rows = 0;
    acc_reset(p, w->nleaves);
    char id[37];
    lks_uuid4(id);
    lks_buf *rel = &w->scratch, *enc = &w->key;
    lks_buf_reset(rel);
    lks_buf_reset(enc);
    int rc = lks_buf_printf(rel, "%spart-%05d-%s-c000%s.parquet", p->dir, w->file_seq++, id, codec_ext(w->o.parquet.codec));
    if (!rc) rc = lks_buf_cstr(rel);
    if (!rc) rc = uri_encode(enc, (const char *)rel->ptr);
    if (!rc) rc = lks_buf_cstr(enc);
    if (rc) return lks_err_set(err, rc, "delta writer: out of memory");
    p->path = lks_arena_strndup(&w->a, (const char *)enc->ptr, enc->len);
    const char *key = p->path ? lks_delta_table_key(w->t, p->path, &w->a) : NULL;
    if (!key) return lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
    rc = lks_store_writer_open(w->t->st, key, &p->out, err);
    if (rc) return lks_err_prefix(err, "delta writer: writing %s", key);
    rc = lks_pq_writer_open(w->fschema, &w->o.parquet, sink_store, p->out, &p->pw, err);
    if (rc) {
        lks_store_writer_abort(p->out);
        p->out = NULL;
        return lks_err_prefix(err, "delta writer");
    }
    for (int i = 0; i < w->nbloom && !rc; i++) rc = lks_pq_writer_set_bloom(p->pw, w->bloom_cols[i], 100000, 0.01);
    if (rc) return lks_err_set(err, rc, "delta writer: bloom filter setup failed");
    return LKS_OK;
}

/* Hands p's pending column batch to its Parquet writer. */
static int flush_batch(lks_delta_writer *w, part *p, lks_err *err) {
    if (!p->brows) return LKS_OK;
    int rc = LKS_OK;
    for (int j = 0; j < w->ndata && !rc; j++) {
        const lks_pq_column *col = &w->fschema->cols[j];
        colbuf *c = &p->cb[j];
        const void *vals = c->vals.ptr;
        if ((col->type == LKS_PQ_BYTE_ARRAY || col->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY) && !p->by_ref) {
            lks_buf_reset(&w->slices);
            if (lks_buf_reserve(&w->slices, c->nvals * sizeof(lks_slice) + 1) != LKS_OK)
                return lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
            lks_slice *sl = (lks_slice *)(void *)w->slices.ptr;
            const bref *br = (const bref *)(const void *)c->vals.ptr;
            for (size_t i = 0; i < c->nvals; i++) {
                sl[i].ptr = br[i].len ? p->bytes.ptr + br[i].off : (const uint8_t *)"";
                sl[i].len = br[i].len;
            }
            vals = sl;
        }
        rc = lks_pq_write_column(p->pw, j, vals, col->max_def ? (const uint16_t *)(const void *)c->def.ptr : NULL,
                                 NULL, (size_t)p->brows, err);
    }
    if (!rc) rc = lks_pq_writer_end_batch(p->pw, p->brows, err);
    for (int j = 0; j < w->ndata; j++) {
        lks_buf_reset(&p->cb[j].vals);
        lks_buf_reset(&p->cb[j].def);
        p->cb[j].nvals = 0;
    }
    lks_buf_reset(&p->bytes);
    p->by_ref = 0;
    p->brows = 0;
    p->braw = 0;
    if (rc) return lks_err_prefix(err, "delta writer");
    return LKS_OK;
}

static const lks_pq_value null_value; /* kind LKS_PQ_V_NULL */

/* Whether flat column bounds of type t come from the Parquet writer's
 * statistics (the same order: signed integers, decimals, strings) rather
 * than from add_chunk; floats stay here for their NaN and infinity flags. */
static int pq_bounds(const lks_delta_writer *w, const lks_delta_type *t) {
    return w->o.parquet.stats && t->kind != LKS_DT_FLOAT && t->kind != LKS_DT_DOUBLE;
}

/* The Parquet writer's bounds of p's flat columns into their stats. */
static int fold_pq_bounds(lks_delta_writer *w, part *p, lks_err *err) {
    for (int j = 0; j < w->ndata; j++) {
        const lks_delta_type *t = &w->file_root.children[j];
        if (!minmax_kind(t->kind) || !pq_bounds(w, t)) continue;
        lks_slice b[2];
        int r = lks_pq_writer_bounds(p->pw, j, &b[0], &b[1]);
        if (r < 0)
            return lks_err_set(err, LKS_EINTERNAL, "delta writer: no Parquet statistics for column %s",
                               w->fschema->cols[j].path);
        for (int k = 0; k < r * 2; k++) {
            lks_pq_value v;
            memset(&v, 0, sizeof v);
            v.kind = expect_kind(t);
            if (v.kind == LKS_PQ_V_INT32 && b[k].len == 4) v.u.i32 = (int32_t)lks_load_le32(b[k].ptr);
            else if (v.kind == LKS_PQ_V_INT64 && b[k].len == 8) v.u.i64 = (int64_t)lks_load_le64(b[k].ptr);
            else if (v.kind == LKS_PQ_V_BYTES) v.u.bytes.ptr = b[k].ptr, v.u.bytes.len = b[k].len;
            else return lks_err_set(err, LKS_EINTERNAL, "delta writer: Parquet bounds of column %s have %zu bytes",
                                    w->fschema->cols[j].path, b[k].len);
            if (stats_leaf(&p->accs[j], t, &v)) return lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
        }
    }
    return LKS_OK;
}

/* Adds rows sel[at..at+m) (NULL sel: at..at+m-1) of top-level values cv
 * (NULL: all null) to flat data column j of p's pending batch (brows is the
 * caller's): each value checked against the column as the Parquet writer
 * would, counted into the column's stats (stats_leaf's rules) and stored
 * (byte values as slices of cv's memory when p->by_ref: the batch is then
 * flushed before the caller's values go). */
static int add_chunk(lks_delta_writer *w, part *p, int j, const lks_pq_value *cv, const uint32_t *sel, size_t at,
                     size_t m, lks_err *err) {
    const lks_pq_column *col = &w->fschema->cols[j];
    const lks_delta_type *t = &w->file_root.children[j];
    acc *ac = &p->accs[j];
    colbuf *c = &p->cb[j];
    int mm = minmax_kind(t->kind), ek = expect_kind(t), here = mm && !pq_bounds(w, t);
    size_t width;
    int want;
    switch (col->type) {
    case LKS_PQ_BOOLEAN: want = LKS_PQ_V_BOOL, width = 1; break;
    case LKS_PQ_INT32: want = LKS_PQ_V_INT32, width = 4; break;
    case LKS_PQ_INT64: want = LKS_PQ_V_INT64, width = 8; break;
    case LKS_PQ_INT96: want = LKS_PQ_V_INT96, width = 12; break;
    case LKS_PQ_FLOAT: want = LKS_PQ_V_FLOAT, width = 4; break;
    case LKS_PQ_DOUBLE: want = LKS_PQ_V_DOUBLE, width = 8; break;
    default: want = LKS_PQ_V_BYTES, width = sizeof(bref); break;
    }
    if ((col->max_def && lks_buf_reserve(&c->def, m * 2) != LKS_OK) || lks_buf_reserve(&c->vals, m * width) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
    uint16_t *def = (uint16_t *)(void *)(c->def.ptr + c->def.len);
    uint8_t *out = c->vals.ptr + c->vals.len;
    size_t nv = 0, nnull = 0, raw = 0;
    const lks_pq_value *lo = NULL, *hi = NULL;
    int rc = LKS_OK;
    for (size_t k = 0; k < m; k++) {
        const lks_pq_value *v = cv ? &cv[sel ? sel[at + k] : at + k] : &null_value;
        if (v->kind == LKS_PQ_V_NULL) {
            if (!col->max_def)
                return lks_err_set(err, LKS_EINVAL, "delta writer: parquet writer: required field %s is null", col->path);
            def[k] = 0;
            nnull++;
            continue;
        }
        if (mm) {
            if (v->kind != ek) return lks_err_set(err, LKS_EINVAL, "delta writer: a value does not match its column's type");
            int skip = 0;
            if (v->kind == LKS_PQ_V_FLOAT || v->kind == LKS_PQ_V_DOUBLE) {
                double d = v->kind == LKS_PQ_V_FLOAT ? (double)v->u.f32 : v->u.f64;
                if (isnan(d)) ac->nan = 1, skip = 1;
                else if (isinf(d)) ac->inf = 1;
            }
            if (skip || !here) {
            } else if (!lo) {
                lo = hi = v;
            } else if (v->kind == LKS_PQ_V_INT64) { /* the common kinds without a call */
                if (v->u.i64 < lo->u.i64) lo = v;
                else if (v->u.i64 > hi->u.i64) hi = v;
            } else if (v->kind == LKS_PQ_V_INT32) {
                if (v->u.i32 < lo->u.i32) lo = v;
                else if (v->u.i32 > hi->u.i32) hi = v;
            } else if (cmp_vals(t, v, lo) < 0) {
                lo = v;
            } else if (cmp_vals(t, v, hi) > 0) {
                hi = v;
            }
        }
        if (v->kind != want || (col->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY && v->u.bytes.len != (size_t)col->type_length))
            return lks_err_set(err, LKS_EINVAL,
                               "delta writer: parquet writer: column %s: value of kind %d does not fit the column",
                               col->path, v->kind);
        if (col->max_def) def[k] = (uint16_t)col->max_def;
        switch (col->type) {
        case LKS_PQ_BOOLEAN: out[nv] = v->u.b != 0, raw += 1; break;
        case LKS_PQ_INT32: memcpy(out + nv * 4, &v->u.i32, 4), raw += 4; break;
        case LKS_PQ_INT64: memcpy(out + nv * 8, &v->u.i64, 8), raw += 8; break;
        case LKS_PQ_INT96: memcpy(out + nv * 12, &v->u.i96, 12), raw += 12; break;
        case LKS_PQ_FLOAT: memcpy(out + nv * 4, &v->u.f32, 4), raw += 4; break;
        case LKS_PQ_DOUBLE: memcpy(out + nv * 8, &v->u.f64, 8), raw += 8; break;
        default: {
            _Static_assert(sizeof(bref) == sizeof(lks_slice), "one width for both forms");
            if (p->by_ref) {
                lks_slice sl = {v->u.bytes.len ? v->u.bytes.ptr : (const uint8_t *)"", v->u.bytes.len};
                memcpy(out + nv * sizeof sl, &sl, sizeof sl);
                raw += sl.len + 4;
                break;
            }
            bref br = {p->bytes.len, v->u.bytes.len};
            if (br.len && (rc = lks_buf_append(&p->bytes, v->u.bytes.ptr, br.len)) != LKS_OK)
                return lks_err_set(err, rc, "delta writer: out of memory");
            memcpy(out + nv * sizeof br, &br, sizeof br);
            raw += br.len + 4;
            break;
        }
        }
        nv++;
    }
    if (col->max_def) c->def.len += m * 2;
    c->vals.len += nv * width;
    c->nvals += nv;
    p->braw += raw;
    ac->nulls += (int64_t)nnull;
    /* the chunk's bounds into the file's, as single values */
    if (lo && (stats_leaf(ac, t, lo) || (hi != lo && stats_leaf(ac, t, hi))))
        return lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
    return LKS_OK;
}

static const char *codec_ext(int codec) {
    switch (codec) {
    case LKS_PQ_UNCOMPRESSED: return "";
    case LKS_PQ_SNAPPY: return ".snappy";
    case LKS_PQ_GZIP: return ".gz";
    case LKS_PQ_BROTLI: return ".br";
    case LKS_PQ_LZ4: return ".lz4";
    case LKS_PQ_ZSTD: return ".zstd";
    case LKS_PQ_LZ4_RAW: return ".lz4raw";
    default: return "";
    }
}

/* Ends p's Parquet file, publishes it and records its add (a file without
 * rows is dropped). */
static int finish_file(lks_delta_writer *w, part *p, lks_err *err) {
    if (!p->pw) return LKS_OK;
    int rc = flush_batch(w, p, err);
    if (!rc && (rc = lks_pq_writer_close(p->pw, err)) != LKS_OK) lks_err_prefix(err, "delta writer");
    if (!rc && p->cb) rc = fold_pq_bounds(w, p, err);
    lks_pq_writer_free(p->pw);
    p->pw = NULL;
    lks_store_writer *out = p->out;
    p->out = NULL;
    if (rc || p->rows == 0) {
        lks_store_writer_abort(out);
        return rc;
    }
    int64_t size = (int64_t)lks_store_writer_size(out);
    rc = lks_store_writer_commit(out, err);
    if (rc) return lks_err_prefix(err, "delta writer: writing %s", p->path);
    lks_buf *rel = &w->scratch;
    lks_buf_reset(rel);
    rc = stats_json(w, p, rel);
    if (!rc) rc = lks_buf_cstr(rel);
    if (rc) return lks_err_set(err, rc, "delta writer: stats of %s: %s", p->path, lks_strerror(rc));
    if (w->ndone == w->cdone) {
        size_t nc = w->cdone ? w->cdone * 2 : 16;
        lks_delta_add *d = realloc(w->done, nc * sizeof *d);
        if (!d) return lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
        w->done = d;
        w->cdone = nc;
    }
    lks_delta_add *a = &w->done[w->ndone];
    memset(a, 0, sizeof *a);
    a->path = p->path;
    a->npartition_values = p->npv;
    a->partition_values = p->npv ? lks_arena_alloc(&w->a, (size_t)p->npv * sizeof *a->partition_values) : NULL;
    if (p->npv && !a->partition_values) return lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
    for (int i = 0; i < p->npv; i++) {
        a->partition_values[i].key = lks_arena_strdup(&w->a, p->pv[i].key);
        a->partition_values[i].value = p->pv[i].value ? lks_arena_strdup(&w->a, p->pv[i].value) : NULL;
    }
    a->size = size;
    a->modification_time = lks_now_us() / 1000;
    a->data_change = 1;
    a->stats = lks_arena_strndup(&w->a, (const char *)rel->ptr, rel->len);
    a->base_row_id = a->default_row_commit_version = -1;
    a->dv.offset = -1;
    if (!a->stats) return lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
    w->ndone++;
    w->nfiles++;
    return LKS_OK;
}

static void part_free(lks_delta_writer *w, part *p) {
    lks_pq_writer_free(p->pw);
    lks_store_writer_abort(p->out);
    for (int i = 0; i < w->nleaves; i++) {
        lks_buf_free(&p->accs[i].minb);
        lks_buf_free(&p->accs[i].maxb);
    }
    free(p->accs);
    for (int j = 0; p->cb && j < w->ndata; j++) {
        lks_buf_free(&p->cb[j].vals);
        lks_buf_free(&p->cb[j].def);
    }
    free(p->cb);
    lks_buf_free(&p->bytes);
    for (int i = 0; i < p->npv; i++) free((char *)p->pv[i].value);
    free(p->pv);
    free(p->dir);
    free(p);
}

/* ---- public -------------------------------------------------------------------------- */

/* The table a transaction writes to (txn.c). */
lks_delta_table *lks_delta__txn_table(const lks_delta_txn *x);

int lks_delta_writer_open(lks_delta_txn *x, const lks_delta_metadata *meta, const lks_delta_writer_opts *o,
                          lks_delta_writer **out, lks_err *err) {
    *out = NULL;
    if (!x || !meta) return lks_err_set(err, LKS_EINVAL, "delta writer: no transaction or metadata");
    lks_delta_writer *w = calloc(1, sizeof *w);
    if (!w) return lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
    lks_arena_init(&w->a, 0);
    lks_buf_init(&w->scratch, 0);
    lks_buf_init(&w->key, 0);
    lks_buf_init(&w->slices, 0);
    w->x = x;
    w->t = lks_delta__txn_table(x);
    if (o) w->o = *o;
    else {
        memset(&w->o, 0, sizeof w->o);
        lks_pq_writer_opts_default(&w->o.parquet);
    }
    if (w->o.target_file_bytes <= 0) w->o.target_file_bytes = (int64_t)128 << 20;
    if (!w->o.parquet.row_group_bytes || w->o.parquet.row_group_bytes > (size_t)w->o.target_file_bytes)
        w->o.parquet.row_group_bytes = (size_t)w->o.target_file_bytes;
    int rc = LKS_OK;
    w->schema = meta->schema;
    if (!w->schema) {
        if (!meta->schema_string) {
            rc = lks_err_set(err, LKS_EINVAL, "delta writer: metadata has no schema");
            goto fail;
        }
        rc = lks_delta_schema_parse(meta->schema_string, strlen(meta->schema_string), &w->a, &w->schema, err);
        if (rc) goto fail;
    }
    const char *cm = NULL;
    for (int i = 0; i < meta->nconfiguration; i++)
        if (meta->configuration[i].key && strcmp(meta->configuration[i].key, "delta.columnMapping.mode") == 0)
            cm = meta->configuration[i].value;
    w->colmap = cm && (strcmp(cm, "name") == 0 || strcmp(cm, "id") == 0);
    int nf = w->schema->nchildren;
    w->part_idx = calloc((size_t)meta->npartition_columns + 1, sizeof *w->part_idx);
    w->data_idx = calloc((size_t)nf + 1, sizeof *w->data_idx);
    w->fitems = calloc((size_t)nf + 1, sizeof *w->fitems);
    lks_delta_type *fch = lks_arena_alloc(&w->a, ((size_t)nf + 1) * sizeof *fch);
    if (!w->part_idx || !w->data_idx || !w->fitems || !fch) {
        rc = lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
        goto fail;
    }
    for (int k = 0; k < meta->npartition_columns; k++) {
        int found = -1;
        for (int i = 0; i < nf; i++)
            if (strcmp(w->schema->children[i].name, meta->partition_columns[k]) == 0) found = i;
        if (found < 0) {
            rc = lks_err_set(err, LKS_EINVAL, "delta writer: partition column '%s' is not in the schema",
                             meta->partition_columns[k]);
            goto fail;
        }
        int pk = w->schema->children[found].kind;
        if (pk == LKS_DT_STRUCT || pk == LKS_DT_ARRAY || pk == LKS_DT_MAP || pk == LKS_DT_VOID) {
            rc = lks_err_set(err, LKS_EUNSUPPORTED, "delta writer: partition column '%s' has a nested type",
                             meta->partition_columns[k]);
            goto fail;
        }
        w->part_idx[w->npart++] = found;
    }
    for (int i = 0; i < nf; i++) {
        int is_part = 0;
        for (int k = 0; k < w->npart; k++) is_part |= w->part_idx[k] == i;
        if (!is_part) {
            fch[w->ndata] = w->schema->children[i];
            w->data_idx[w->ndata++] = i;
        }
    }
    w->file_root = *w->schema;
    w->file_root.children = fch;
    w->file_root.nchildren = w->ndata;
    rc = lks_delta_schema_to_parquet(&w->file_root, w->colmap, &w->fschema, err);
    if (rc) {
        lks_err_prefix(err, "delta writer");
        goto fail;
    }
    w->nleaves = collect_leaves(w, &w->file_root, NULL, 0);
    w->leaves = calloc((size_t)w->nleaves + 1, sizeof *w->leaves);
    w->bloom_cols = calloc((size_t)w->o.nbloom_columns + 1, sizeof *w->bloom_cols);
    w->nbuckets = 64;
    w->buckets = calloc(w->nbuckets, sizeof *w->buckets);
    if (!w->leaves || !w->bloom_cols || !w->buckets) {
        rc = lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
        goto fail;
    }
    collect_leaves(w, &w->file_root, w->leaves, 0);
    for (int i = 0; i < w->o.nbloom_columns; i++) {
        const char *bn = w->o.bloom_columns[i];
        int col = -1;
        for (int j = 0; j < w->ndata; j++)
            if (strcmp(fch[j].name, bn) == 0) col = lks_pq_schema_find(w->fschema, phys_name(w, &fch[j]));
        if (col < 0) {
            rc = lks_err_set(err, LKS_EINVAL, "delta writer: bloom filter column '%s' is not a primitive data column",
                             bn);
            goto fail;
        }
        w->bloom_cols[w->nbloom++] = col;
    }
    w->flat = w->fschema->num_cols == w->ndata;
    for (int j = 0; j < w->ndata && w->flat; j++) {
        int k = fch[j].kind;
        const lks_pq_column *col = &w->fschema->cols[j];
        if (k == LKS_DT_STRUCT || k == LKS_DT_ARRAY || k == LKS_DT_MAP || col->max_rep != 0 || col->max_def > 1 ||
            w->fschema->parent[col->field] != 0)
            w->flat = 0;
    }
    w->batch_bytes = w->o.parquet.row_group_bytes / 8;
    if (w->batch_bytes > BATCH_BYTES_MAX) w->batch_bytes = BATCH_BYTES_MAX;
    if (w->batch_bytes < 1) w->batch_bytes = 1;
    *out = w;
    return LKS_OK;
fail:
    lks_delta_writer_free(w);
    return rc;
}

static part *find_part(lks_delta_writer *w, const char *dir, size_t n, uint64_t h) {
    for (part *p = w->buckets[h % w->nbuckets]; p; p = p->next)
        if (strlen(p->dir) == n && memcmp(p->dir, dir, n) == 0) return p;
    return NULL;
}

static int rehash(lks_delta_writer *w) {
    size_t nb = w->nbuckets * 4;
    part **b = calloc(nb, sizeof *b);
    if (!b) return LKS_ENOMEM;
    for (size_t i = 0; i < w->nbuckets; i++) {
        part *p = w->buckets[i];
        while (p) {
            part *nx = p->next;
            uint64_t h = lks_hash(p->dir, strlen(p->dir));
            p->next = b[h % nb];
            b[h % nb] = p;
            p = nx;
        }
    }
    free(w->buckets);
    w->buckets = b;
    w->nbuckets = nb;
    return LKS_OK;
}

/* The part of partition directory ds (partition values vals), made on
 * first sight; NULL with err set when out of memory. */
static part *part_for(lks_delta_writer *w, const char *ds, size_t dlen, const char *const *vals, lks_err *err) {
    uint64_t h = lks_hash(ds, dlen);
    part *p = find_part(w, ds, dlen, h);
    if (p) return p;
    p = calloc(1, sizeof *p);
    if (!p) {
        lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
        return NULL;
    }
    p->dir = strdup(ds);
    p->accs = calloc((size_t)w->nleaves + 1, sizeof *p->accs);
    p->pv = calloc((size_t)w->npart + 1, sizeof *p->pv);
    lks_buf_init(&p->bytes, LKS_BUF_MAX_DEFAULT);
    if (w->flat) {
        p->cb = calloc((size_t)w->ndata + 1, sizeof *p->cb);
        for (int j = 0; p->cb && j < w->ndata; j++) {
            lks_buf_init(&p->cb[j].vals, LKS_BUF_MAX_DEFAULT);
            lks_buf_init(&p->cb[j].def, LKS_BUF_MAX_DEFAULT);
        }
    }
    int bad = !p->dir || !p->accs || !p->pv || (w->flat && !p->cb);
    for (int i = 0; !bad && i < w->nleaves; i++) {
        lks_buf_init(&p->accs[i].minb, 0);
        lks_buf_init(&p->accs[i].maxb, 0);
    }
    for (int k = 0; !bad && k < w->npart; k++) {
        p->pv[k].key = phys_name(w, &w->schema->children[w->part_idx[k]]);
        if (vals[k] && !(p->pv[k].value = strdup(vals[k]))) bad = 1;
        p->npv = k + 1;
    }
    if (bad) {
        part_free(w, p);
        lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
        return NULL;
    }
    p->next = w->buckets[h % w->nbuckets];
    w->buckets[h % w->nbuckets] = p;
    if (++w->nparts > w->nbuckets * 2 && rehash(w)) {
        lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
        return NULL;
    }
    return p;
}

int lks_delta_writer_write(lks_delta_writer *w, const lks_pq_value *row, lks_err *err) {
    if (w->failed) return lks_err_set(err, LKS_EINVAL, "delta writer: an earlier write failed");
    int nf = w->schema->nchildren;
    if (!row || row->kind != LKS_PQ_V_GROUP || row->u.list.n != (size_t)nf)
        return lks_err_set(err, LKS_EINVAL, "delta writer: a row must be a group of %d values", nf);
    /* partition directory and values */
    lks_buf *dir = &w->key;
    lks_buf_reset(dir);
    int rc = LKS_OK;
    const char *vals[64];
    size_t offs[64];
    int nulls[64];
    if (w->npart > 64) return lks_err_set(err, LKS_ELIMIT, "delta writer: more than 64 partition columns");
    lks_buf *sv = &w->scratch;
    lks_buf_reset(sv);
    for (int k = 0; k < w->npart && !rc; k++) {
        const lks_delta_type *ct = &w->schema->children[w->part_idx[k]];
        offs[k] = sv->len;
        rc = pv_string(sv, ct, &row->u.list.items[w->part_idx[k]], &nulls[k]);
        if (!rc) rc = lks_buf_append_byte(sv, 0);
        if (rc) {
            w->failed = 1;
            return lks_err_set(err, rc == LKS_ENOMEM ? rc : LKS_EINVAL,
                               "delta writer: partition column '%s': value does not fit its type", ct->name);
        }
    }
    for (int k = 0; k < w->npart && !rc; k++) {
        const lks_delta_type *ct = &w->schema->children[w->part_idx[k]];
        const char *nm = phys_name(w, ct);
        vals[k] = nulls[k] ? NULL : (const char *)sv->ptr + offs[k];
        rc = hive_escape(dir, nm, strlen(nm));
        if (!rc) rc = lks_buf_append_byte(dir, '=');
        if (!rc) {
            if (nulls[k]) rc = lks_buf_append(dir, "__HIVE_DEFAULT_PARTITION__", 26);
            else rc = hive_escape(dir, vals[k], strlen(vals[k]));
        }
        if (!rc) rc = lks_buf_append_byte(dir, '/');
    }
    if (!rc) rc = lks_buf_cstr(dir);
    if (rc) {
        w->failed = 1;
        return lks_err_set(err, rc, "delta writer: out of memory");
    }
    const char *ds = dir->len ? (const char *)dir->ptr : "";
    part *p = part_for(w, ds, dir->len, vals, err);
    if (!p) return err ? err->code : LKS_ENOMEM;
    if (!p->pw && (rc = start_file(w, p, err)) != LKS_OK) {
        w->failed = 1;
        return rc;
    }
    if (w->flat) {
        for (int j = 0; j < w->ndata && !rc; j++)
            rc = add_chunk(w, p, j, &row->u.list.items[w->data_idx[j]], NULL, 0, 1, err);
        if (rc) {
            w->failed = 1;
            return rc;
        }
        p->brows++;
        p->rows++;
        if (p->brows < BATCH_ROWS && p->braw < w->batch_bytes) return LKS_OK;
        rc = flush_batch(w, p, err);
        if (rc) {
            w->failed = 1;
            return rc;
        }
    } else {
        for (int j = 0; j < w->ndata; j++) w->fitems[j] = row->u.list.items[w->data_idx[j]];
        lks_pq_value frow;
        frow.kind = LKS_PQ_V_GROUP;
        frow.u.list.items = w->fitems;
        frow.u.list.n = (size_t)w->ndata;
        int li = 0;
        for (int j = 0; j < w->ndata && !rc; j++) rc = stats_walk(p, &w->file_root.children[j], &w->fitems[j], &li);
        if (rc) {
            w->failed = 1;
            return lks_err_set(err, rc == LKS_ENOMEM ? rc : LKS_EINVAL,
                               "delta writer: a value does not match its column's type");
        }
        rc = lks_pq_write_row(p->pw, &frow, err);
        if (rc) {
            w->failed = 1;
            return lks_err_prefix(err, "delta writer");
        }
        p->rows++;
    }
    if ((int64_t)lks_store_writer_size(p->out) >= w->o.target_file_bytes) {
        rc = finish_file(w, p, err);
        if (rc) w->failed = 1;
    }
    return rc;
}

#define COLS_STEP 1024 /* rows per step of lks_delta_writer_write_cols (bounds a batch's overshoot) */

int lks_delta_writer_write_cols(lks_delta_writer *w, const lks_pq_value *const *cols, int ncols, const uint32_t *sel,
                                size_t n, lks_err *err) {
    if (w->failed) return lks_err_set(err, LKS_EINVAL, "delta writer: an earlier write failed");
    int nf = w->schema->nchildren;
    if (!w->flat || w->npart > 0) {
        /* rows of a partitioned or nested table may go to different files: one by one */
        if (!w->wide && !(w->wide = calloc((size_t)nf + 1, sizeof *w->wide)))
            return lks_err_set(err, LKS_ENOMEM, "delta writer: out of memory");
        lks_pq_value row;
        row.kind = LKS_PQ_V_GROUP;
        row.u.list.items = w->wide;
        row.u.list.n = (size_t)nf;
        for (size_t i = 0; i < n; i++) {
            size_t r = sel ? sel[i] : i;
            for (int c = 0; c < nf; c++) w->wide[c] = c < ncols && cols[c] ? cols[c][r] : null_value;
            int rc = lks_delta_writer_write(w, &row, err);
            if (rc) return rc;
        }
        return LKS_OK;
    }
    part *p = part_for(w, "", 0, NULL, err);
    if (!p) return err ? err->code : LKS_ENOMEM;
    int rc = LKS_OK;
    for (size_t at = 0; at < n;) {
        if (!p->pw && (rc = start_file(w, p, err)) != LKS_OK) break;
        size_t m = n - at < COLS_STEP ? n - at : COLS_STEP;
        /* with nothing pending, the chunk goes to the Parquet writer at once,
         * its byte values not copied on the way */
        p->by_ref = p->brows == 0;
        for (int j = 0; j < w->ndata && !rc; j++) {
            int c = w->data_idx[j];
            rc = add_chunk(w, p, j, c < ncols ? cols[c] : NULL, sel, at, m, err);
        }
        if (rc) break;
        p->brows += (int64_t)m;
        p->rows += (int64_t)m;
        at += m;
        if (!p->by_ref && p->brows < BATCH_ROWS && p->braw < w->batch_bytes) continue;
        if ((rc = flush_batch(w, p, err)) != LKS_OK) break;
        if ((int64_t)lks_store_writer_size(p->out) >= w->o.target_file_bytes && (rc = finish_file(w, p, err)) != LKS_OK)
            break;
    }
    if (rc) w->failed = 1;
    return rc;
}

int64_t lks_delta_writer_files(const lks_delta_writer *w) { return w->nfiles; }

int lks_delta_writer_close(lks_delta_writer *w, lks_err *err) {
    if (w->failed) return lks_err_set(err, LKS_EINVAL, "delta writer: an earlier write failed");
    for (size_t i = 0; i < w->nbuckets; i++)
        for (part *p = w->buckets[i]; p; p = p->next) {
            int rc = finish_file(w, p, err);
            if (rc) {
                w->failed = 1;
                return rc;
            }
        }
    for (size_t i = 0; i < w->ndone; i++) {
        int rc = lks_delta_txn_add(w->x, &w->done[i]);
        if (rc) return lks_err_set(err, rc, "delta writer: adding %s to the transaction", w->done[i].path);
    }
    w->ndone = 0;
    return LKS_OK;
}

void lks_delta_writer_free(lks_delta_writer *w) {
    if (!w) return;
    for (size_t i = 0; w->buckets && i < w->nbuckets; i++) {
        part *p = w->buckets[i];
        while (p) {
            part *nx = p->next;
            part_free(w, p);
            p = nx;
        }
    }
    free(w->buckets);
    lks_pq_schema_free(w->fschema);
    free(w->leaves);
    free(w->bloom_cols);
    free(w->part_idx);
    free(w->data_idx);
    free(w->fitems);
    free(w->wide);
    free(w->done);
    lks_buf_free(&w->scratch);
    lks_buf_free(&w->key);
    lks_buf_free(&w->slices);
    lks_arena_free(&w->a);
    free(w);
}
