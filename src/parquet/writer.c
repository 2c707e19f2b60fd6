/*
 * writer.c — the Parquet file writer: column batches → pages → column
 * chunks → row groups → footer.
 *
 * Each column keeps the page being built (levels as uint16 arrays, values
 * either as dictionary indices or PLAIN-encoded bytes) and the finished,
 * compressed data pages of the current row group.  Dictionary encoding is
 * tried first for every column but BOOLEAN; at the first page of a chunk a
 * dictionary holding more than half as many entries as values (or the
 * chunk's first 8192 values all distinct) does not pay and the page is
 * re-encoded PLAIN, as are the column's later chunks in the file (mostly
 * unique values stay so); a dictionary growing past
 * dict_max_bytes is closed and the rest of the chunk is PLAIN.  Pages end
 * at row boundaries (entries with rep == 0).
 */
#include "parquet/bloom.h"
#include "parquet/compress.h"
#include "parquet/encoding.h"
#include "parquet/parquet.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STAT_TRUNC 64 /* byte-array min/max longer than this are truncated */
#define DICT_PROBE 8192 /* a chunk's first values, all distinct, refuse the dictionary */

typedef struct colw {
    const lks_pq_column *col;
    int type;
    size_t width; /* fixed value width in bytes; 0 for BYTE_ARRAY */
    int max_def, max_rep;
    int sort;    /* SORT_* */
    int no_dict; /* never dictionary-encode (BOOLEAN, option off) */
    int dict_refused; /* an earlier chunk's first page found the dictionary not paying */
    const char **path;
    int path_len;

    /* the page being built */
    lks_buf def, rep; /* uint16 levels */
    size_t page_entries, page_nvals;
    lks_buf vals; /* PLAIN bytes (BOOLEAN: one byte per value) */
    lks_buf idx;  /* uint32 dictionary indices */

    /* dictionary of the current chunk */
    int dict_on;      /* current page uses the dictionary */
    int dict_decided; /* first page of the chunk flushed */
    uint32_t *slots;  /* open addressing: entry + 1, 0 empty */
    size_t nslots;
    lks_buf dict;     /* PLAIN-encoded entries */
    lks_buf dict_off; /* BYTE_ARRAY: uint32 offset of each entry's length */
    uint32_t ndict;
    int dict_pages, plain_pages;

    /* the chunk */
    lks_buf chunk; /* compressed data pages, headers included */
    int64_t chunk_values, chunk_uncompressed, nulls;
    int64_t rows_pending; /* rows received since the last end_batch */

    /* statistics of the chunk */
    int has_minmax;
    uint8_t minf[16], maxf[16]; /* fixed-width min/max */
    lks_buf minb, maxb;         /* byte arrays */
    /* bounds of the chunks written so far (lks_pq_writer_bounds) */
    int fhas;
    uint8_t fminf[16], fmaxf[16];
    lks_buf fminb, fmaxb;

    /* bloom filter */
    uint64_t bloom_ndv;
    double bloom_fpp;
    uint8_t *bloom;
    size_t bloom_bytes;

    /* write_row staging */
    lks_buf st_def, st_rep, st_vals;
    size_t st_n;
} colw;

enum { SORT_NONE, SORT_SIGNED, SORT_UNSIGNED, SORT_FLOAT, SORT_DOUBLE, SORT_BYTES, SORT_DECIMAL_BE, SORT_BOOL };

struct lks_pq_writer {
    const lks_pq_schema *s;
    lks_pq_writer_opts o;
    lks_pq_sink_fn *sink;
    void *ud;
    uint64_t off;
    colw *cols;
    int ncols;
    int64_t rg_rows, total_rows;
    lks_pq_row_group *rgs;
    int nrg, caprg;
    lks_arena meta;
    lks_pq_kv *kv;
    int nkv, capkv;
    lks_buf body, zbuf, hdr;
    lks_pq_file_meta fm;
    int closed;
    int failed; /* a sink or encoding error happened: the file is unusable */
};

void lks_pq_writer_opts_default(lks_pq_writer_opts *o) {
    memset(o, 0, sizeof *o);
    o->codec = LKS_PQ_SNAPPY;
    o->row_group_bytes = (size_t)128 << 20;
    o->row_group_rows = (int64_t)1 << 17;
    o->page_bytes = (size_t)1 << 20;
    o->dict_max_bytes = (size_t)1 << 20;
    o->dictionary = 1;
    o->stats = 1;
}

static size_t type_width(int type, int type_length) {
    switch (type) {
    case LKS_PQ_BOOLEAN: return 1;
    case LKS_PQ_INT32:
    case LKS_PQ_FLOAT: return 4;
    case LKS_PQ_INT64:
    case LKS_PQ_DOUBLE: return 8;
    case LKS_PQ_INT96: return 12;
    case LKS_PQ_FIXED_LEN_BYTE_ARRAY: return (size_t)type_length;
    default: return 0;
    }
}

/* Size of one element of the value arrays callers pass. */
static size_t value_size(const colw *c) {
    return c->type == LKS_PQ_BYTE_ARRAY || c->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY ? sizeof(lks_slice) : c->width;
}

static int sort_order(const lks_pq_column *col) {
    const lks_pq_logical *lt = &col->logical;
    switch (col->type) {
    case LKS_PQ_BOOLEAN: return SORT_BOOL;
    case LKS_PQ_INT32:
    case LKS_PQ_INT64:
        return lt->kind == LKS_PQ_LT_INTEGER && !lt->is_signed ? SORT_UNSIGNED : SORT_SIGNED;
    case LKS_PQ_FLOAT: return SORT_FLOAT;
    case LKS_PQ_DOUBLE: return SORT_DOUBLE;
    case LKS_PQ_BYTE_ARRAY: return lt->kind == LKS_PQ_LT_DECIMAL ? SORT_NONE : SORT_BYTES;
    case LKS_PQ_FIXED_LEN_BYTE_ARRAY:
        if (lt->kind == LKS_PQ_LT_DECIMAL)
            return SORT_DECIMAL_BE;
        return lt->kind == LKS_PQ_LT_FLOAT16 ? SORT_NONE : SORT_BYTES;
    default: return SORT_NONE; /* INT96: undefined order */
    }
}

static int fail(lks_pq_writer *w, int rc) {
    w->failed = 1;
    return rc;
}

static int emit(lks_pq_writer *w, const void *p, size_t n, lks_err *err) {
    int rc = w->sink(w->ud, p, n, err);
    if (rc != LKS_OK)
        return fail(w, rc);
    w->off += n;
    return LKS_OK;
}

/* ---- open / options --------------------------------------------------------- */

int lks_pq_writer_open(const lks_pq_schema *s, const lks_pq_writer_opts *o, lks_pq_sink_fn *sink, void *ud,
                       lks_pq_writer **out, lks_err *err) {
    *out = NULL;
    lks_pq_writer *w = calloc(1, sizeof *w);
    if (!w)
        return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
    w->s = s;
    if (o)
        w->o = *o;
    else
        lks_pq_writer_opts_default(&w->o);
    if (!w->o.page_bytes)
        w->o.page_bytes = (size_t)1 << 20;
    if (!w->o.row_group_bytes)
        w->o.row_group_bytes = (size_t)128 << 20;
    if (w->o.row_group_rows <= 0)
        w->o.row_group_rows = (int64_t)1 << 17;
    if (!w->o.dict_max_bytes)
        w->o.dict_max_bytes = (size_t)1 << 20;
    w->sink = sink;
    w->ud = ud;
    lks_arena_init(&w->meta, 0);
    lks_buf_init(&w->body, 0);
    lks_buf_init(&w->zbuf, 0);
    lks_buf_init(&w->hdr, 0);
    w->ncols = s->num_cols;
    w->cols = calloc((size_t)(s->num_cols ? s->num_cols : 1), sizeof *w->cols);
    if (!w->cols) {
        free(w);
        return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
    }
    for (int i = 0; i < s->num_cols; i++) {
        colw *c = &w->cols[i];
        const lks_pq_column *col = &s->cols[i];
        c->col = col;
        c->type = col->type;
        c->width = type_width(col->type, col->type_length);
        c->max_def = col->max_def;
        c->max_rep = col->max_rep;
        c->sort = w->o.stats ? sort_order(col) : SORT_NONE;
        c->no_dict = !w->o.dictionary || col->type == LKS_PQ_BOOLEAN;
        c->dict_on = !c->no_dict;
        lks_buf *bufs[] = {&c->def, &c->rep, &c->vals, &c->idx, &c->dict, &c->dict_off, &c->chunk,
                           &c->minb, &c->maxb, &c->fminb, &c->fmaxb, &c->st_def, &c->st_rep, &c->st_vals};
        for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
            lks_buf_init(bufs[k], 0);
        /* path components, root excluded */
        int depth = 0;
        for (int f = col->field; f > 0; f = s->parent[f])
            depth++;
        c->path = lks_arena_alloc(&w->meta, sizeof(char *) * (size_t)(depth ? depth : 1));
        if (!c->path) {
            lks_pq_writer_free(w);
            return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
        }
        c->path_len = depth;
        for (int f = col->field, k = depth - 1; f > 0; f = s->parent[f], k--)
            c->path[k] = s->fields[f].name;
    }
    int rc = emit(w, "PAR1", 4, err);
    if (rc != LKS_OK) {
        lks_pq_writer_free(w);
        return rc;
    }
    *out = w;
    return LKS_OK;
}

int lks_pq_writer_set_kv(lks_pq_writer *w, const char *key, const char *value) {
    if (!key)
        return LKS_EINVAL;
    for (int i = 0; i < w->nkv; i++)
        if (strcmp(w->kv[i].key, key) == 0) {
            w->kv[i].value = value ? lks_arena_strdup(&w->meta, value) : NULL;
            return value && !w->kv[i].value ? LKS_ENOMEM : LKS_OK;
        }
    if (w->nkv == w->capkv) {
        int cap = w->capkv ? w->capkv * 2 : 8;
        lks_pq_kv *kv = realloc(w->kv, sizeof *kv * (size_t)cap);
        if (!kv)
            return LKS_ENOMEM;
        w->kv = kv;
        w->capkv = cap;
    }
    lks_pq_kv *e = &w->kv[w->nkv];
    e->key = lks_arena_strdup(&w->meta, key);
    e->value = value ? lks_arena_strdup(&w->meta, value) : NULL;
    if (!e->key || (value && !e->value))
        return LKS_ENOMEM;
    w->nkv++;
    return LKS_OK;
}

int lks_pq_writer_set_bloom(lks_pq_writer *w, int col, uint64_t ndv, double fpp) {
    if (col < 0 || col >= w->ncols || w->cols[col].type == LKS_PQ_BOOLEAN || !(fpp > 0 && fpp < 1))
        return LKS_EINVAL;
    colw *c = &w->cols[col];
    c->bloom_ndv = ndv ? ndv : 1;
    c->bloom_fpp = fpp;
    return LKS_OK;
}

/* ---- statistics ---------------------------------------------------------------- */

static int cmp_fixed(int sort, const uint8_t *a, const uint8_t *b, size_t width) {
    switch (sort) {
    case SORT_BOOL: return (int)a[0] - (int)b[0];
    case SORT_SIGNED:
        if (width == 4) {
            int32_t x, y;
            memcpy(&x, a, 4), memcpy(&y, b, 4);
            return (x > y) - (x < y);
        } else {
            int64_t x, y;
            memcpy(&x, a, 8), memcpy(&y, b, 8);
            return (x > y) - (x < y);
        }
    case SORT_UNSIGNED:
        if (width == 4) {
            uint32_t x, y;
            memcpy(&x, a, 4), memcpy(&y, b, 4);
            return (x > y) - (x < y);
        } else {
            uint64_t x, y;
            memcpy(&x, a, 8), memcpy(&y, b, 8);
            return (x > y) - (x < y);
        }
    case SORT_FLOAT: {
        float x, y;
        memcpy(&x, a, 4), memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    case SORT_DOUBLE: {
        double x, y;
        memcpy(&x, a, 8), memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    default: return 0;
    }
}

/* Two's-complement big-endian comparison of equal-width byte strings. */
static int cmp_decimal_be(const uint8_t *a, const uint8_t *b, size_t n) {
    if (n == 0)
        return 0;
    int sa = a[0] >> 7, sb = b[0] >> 7;
    if (sa != sb)
        return sa ? -1 : 1;
    return lks_bytes_cmp(a, n, b, n);
}

/* Byte-array order of column c (two's complement for decimals). */
static int cmp_byte_value(const colw *c, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    return c->sort == SORT_DECIMAL_BE ? cmp_decimal_be(a, b, c->width) : lks_bytes_cmp(a, an, b, bn);
}

/* b holds the n bytes at p (p may be NULL when n is 0). */
static int set_bytes(lks_buf *b, const uint8_t *p, size_t n) {
    lks_buf_reset(b);
    return n ? lks_buf_append(b, p, n) : LKS_OK;
}

/* Updates min/max with n values of the caller's array form. */
static int stats_update(colw *c, const void *values, size_t n) {
    if (c->sort == SORT_NONE || n == 0)
        return LKS_OK;
    if (c->type == LKS_PQ_BYTE_ARRAY || c->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY) {
        const lks_slice *v = values;
        size_t lo = SIZE_MAX, hi = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            if (lo == SIZE_MAX) {
                lo = hi = i;
                continue;
            }
            if (c->sort == SORT_DECIMAL_BE) {
                if (cmp_decimal_be(v[i].ptr, v[lo].ptr, c->width) < 0)
                    lo = i;
                else if (cmp_decimal_be(v[i].ptr, v[hi].ptr, c->width) > 0)
                    hi = i;
            } else {
                if (lks_bytes_cmp(v[i].ptr, v[i].len, v[lo].ptr, v[lo].len) < 0)
                    lo = i;
                else if (lks_bytes_cmp(v[i].ptr, v[i].len, v[hi].ptr, v[hi].len) > 0)
                    hi = i;
            }
        }
        if ((!c->has_minmax || cmp_byte_value(c, v[lo].ptr, v[lo].len, c->minb.ptr, c->minb.len) < 0) &&
            set_bytes(&c->minb, v[lo].ptr, v[lo].len) != LKS_OK)
            return LKS_ENOMEM;
        if ((!c->has_minmax || cmp_byte_value(c, v[hi].ptr, v[hi].len, c->maxb.ptr, c->maxb.len) > 0) &&
            set_bytes(&c->maxb, v[hi].ptr, v[hi].len) != LKS_OK)
            return LKS_ENOMEM;
        c->has_minmax = 1;
        return LKS_OK;
    }
    const uint8_t *p = values;
    size_t w = c->width;
    /* typed fast loops for the common sort orders */
    if (c->sort == SORT_SIGNED && w == 8) {
        const int64_t *v = values;
        int64_t lo = v[0], hi = v[0];
        for (size_t i = 1; i < n; i++) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
        int64_t cl, ch;
        memcpy(&cl, c->minf, 8), memcpy(&ch, c->maxf, 8);
        if (!c->has_minmax || lo < cl)
            memcpy(c->minf, &lo, 8);
        if (!c->has_minmax || hi > ch)
            memcpy(c->maxf, &hi, 8);
        c->has_minmax = 1;
        return LKS_OK;
    }
    if (c->sort == SORT_SIGNED && w == 4) {
        const int32_t *v = values;
        int32_t lo = v[0], hi = v[0];
        for (size_t i = 1; i < n; i++) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
        int32_t cl, ch;
        memcpy(&cl, c->minf, 4), memcpy(&ch, c->maxf, 4);
        if (!c->has_minmax || lo < cl)
            memcpy(c->minf, &lo, 4);
        if (!c->has_minmax || hi > ch)
            memcpy(c->maxf, &hi, 4);
        c->has_minmax = 1;
        return LKS_OK;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *x = p + i * w;
        if (c->sort == SORT_FLOAT) {
            float f;
            memcpy(&f, x, 4);
            if (isnan(f))
                continue;
        } else if (c->sort == SORT_DOUBLE) {
            double d;
            memcpy(&d, x, 8);
            if (isnan(d))
                continue;
        }
        if (!c->has_minmax) {
            memcpy(c->minf, x, w);
            memcpy(c->maxf, x, w);
            c->has_minmax = 1;
            continue;
        }
        if (cmp_fixed(c->sort, x, c->minf, w) < 0)
            memcpy(c->minf, x, w);
        if (cmp_fixed(c->sort, x, c->maxf, w) > 0)
            memcpy(c->maxf, x, w);
    }
    return LKS_OK;
}

/* Fills st with the chunk's statistics, copying bytes into the arena. */
static int stats_finish(lks_pq_writer *w, colw *c, lks_pq_stats *st) {
    memset(st, 0, sizeof *st);
    st->has = LKS_PQ_ST_NULL_COUNT;
    st->null_count = c->nulls;
    if (!c->has_minmax || c->sort == SORT_NONE)
        return LKS_OK;
    if (c->type == LKS_PQ_BYTE_ARRAY || c->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY) {
        size_t mn = c->minb.len, mx = c->maxb.len;
        int min_exact = 1, max_exact = 1;
        if (c->type == LKS_PQ_BYTE_ARRAY && mn > STAT_TRUNC) {
            mn = STAT_TRUNC; /* a prefix is never larger */
            min_exact = 0;
        }
        uint8_t *maxp = lks_arena_memdup(&w->meta, c->maxb.ptr ? c->maxb.ptr : (const uint8_t *)"", mx);
        if (!maxp && mx)
            return LKS_ENOMEM;
        if (c->type == LKS_PQ_BYTE_ARRAY && mx > STAT_TRUNC) {
            /* truncate and round up: increment the last byte below 0xff */
            size_t k = STAT_TRUNC;
            while (k > 0 && maxp[k - 1] == 0xff)
                k--;
            if (k == 0) {
                mx = SIZE_MAX; /* no upper bound of that length: omit max */
            } else {
                maxp[k - 1]++;
                mx = k;
                max_exact = 0;
            }
        }
        const uint8_t *minp = lks_arena_memdup(&w->meta, c->minb.ptr ? c->minb.ptr : (const uint8_t *)"", mn);
        if (!minp && mn)
            return LKS_ENOMEM;
        st->min_value = (lks_slice){minp, mn};
        st->has |= LKS_PQ_ST_MIN_VALUE;
        if (!min_exact) {
            st->has |= LKS_PQ_ST_MIN_EXACT;
            st->is_min_value_exact = 0;
        }
        if (mx != SIZE_MAX) {
            st->max_value = (lks_slice){maxp, mx};
            st->has |= LKS_PQ_ST_MAX_VALUE;
            if (!max_exact) {
                st->has |= LKS_PQ_ST_MAX_EXACT;
                st->is_max_value_exact = 0;
            }
        }
        return LKS_OK;
    }
    uint8_t mn[16], mx[16];
    memcpy(mn, c->minf, c->width);
    memcpy(mx, c->maxf, c->width);
    /* the spec's rule for signed zeros: min -0.0, max +0.0 */
    if (c->sort == SORT_FLOAT) {
        float f;
        memcpy(&f, mn, 4);
        if (f == 0.0f) {
            f = -0.0f;
            memcpy(mn, &f, 4);
        }
        memcpy(&f, mx, 4);
        if (f == 0.0f) {
            f = 0.0f;
            memcpy(mx, &f, 4);
        }
    } else if (c->sort == SORT_DOUBLE) {
        double d;
        memcpy(&d, mn, 8);
        if (d == 0.0) {
            d = -0.0;
            memcpy(mn, &d, 8);
        }
        memcpy(&d, mx, 8);
        if (d == 0.0) {
            d = 0.0;
            memcpy(mx, &d, 8);
        }
    }
    st->min_value = (lks_slice){lks_arena_memdup(&w->meta, mn, c->width), c->width};
    st->max_value = (lks_slice){lks_arena_memdup(&w->meta, mx, c->width), c->width};
    if (!st->min_value.ptr || !st->max_value.ptr)
        return LKS_ENOMEM;
    st->has |= LKS_PQ_ST_MIN_VALUE | LKS_PQ_ST_MAX_VALUE;
    return LKS_OK;
}

/* Folds the chunk's min/max into the file's bounds. */
static int fold_bounds(colw *c) {
    if (!c->has_minmax || c->sort == SORT_NONE)
        return LKS_OK;
    if (c->type == LKS_PQ_BYTE_ARRAY || c->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY) {
        if ((!c->fhas || cmp_byte_value(c, c->minb.ptr, c->minb.len, c->fminb.ptr, c->fminb.len) < 0) &&
            set_bytes(&c->fminb, c->minb.ptr, c->minb.len) != LKS_OK)
            return LKS_ENOMEM;
        if ((!c->fhas || cmp_byte_value(c, c->maxb.ptr, c->maxb.len, c->fmaxb.ptr, c->fmaxb.len) > 0) &&
            set_bytes(&c->fmaxb, c->maxb.ptr, c->maxb.len) != LKS_OK)
            return LKS_ENOMEM;
    } else {
        if (!c->fhas || cmp_fixed(c->sort, c->minf, c->fminf, c->width) < 0)
            memcpy(c->fminf, c->minf, c->width);
        if (!c->fhas || cmp_fixed(c->sort, c->maxf, c->fmaxf, c->width) > 0)
            memcpy(c->fmaxf, c->maxf, c->width);
    }
    c->fhas = 1;
    return LKS_OK;
}

int lks_pq_writer_bounds(const lks_pq_writer *w, int col, lks_slice *min, lks_slice *max) {
    if (col < 0 || col >= w->ncols)
        return -1;
    const colw *c = &w->cols[col];
    if (c->sort == SORT_NONE)
        return -1;
    if (!c->fhas)
        return 0;
    if (c->type == LKS_PQ_BYTE_ARRAY || c->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY) {
        *min = (lks_slice){c->fminb.ptr ? c->fminb.ptr : (const uint8_t *)"", c->fminb.len};
        *max = (lks_slice){c->fmaxb.ptr ? c->fmaxb.ptr : (const uint8_t *)"", c->fmaxb.len};
    } else {
        *min = (lks_slice){c->fminf, c->width};
        *max = (lks_slice){c->fmaxf, c->width};
    }
    return 1;
}

/* ---- dictionary ------------------------------------------------------------------ */

/* Key bytes of dictionary entry k. */
static lks_slice dict_key(const colw *c, uint32_t k) {
    if (c->type == LKS_PQ_BYTE_ARRAY) {
        uint32_t off;
        memcpy(&off, c->dict_off.ptr + (size_t)k * 4, 4);
        return (lks_slice){c->dict.ptr + off + 4, lks_load_le32(c->dict.ptr + off)};
    }
    return (lks_slice){c->dict.ptr + (size_t)k * c->width, c->width};
}

static int dict_grow(colw *c) {
    size_t n = c->nslots ? c->nslots * 2 : 1024;
    uint32_t *t = calloc(n, sizeof *t);
    if (!t)
        return LKS_ENOMEM;
    for (uint32_t k = 0; k < c->ndict; k++) {
        lks_slice key = dict_key(c, k);
        size_t h = (size_t)lks_hash(key.ptr, key.len) & (n - 1);
        while (t[h])
            h = (h + 1) & (n - 1);
        t[h] = k + 1;
    }
    free(c->slots);
    c->slots = t;
    c->nslots = n;
    return LKS_OK;
}

/* Index of key in the dictionary, adding it when new. */
static int dict_index(colw *c, const uint8_t *p, size_t len, uint32_t *out) {
    if ((size_t)c->ndict * 2 >= c->nslots && dict_grow(c) != LKS_OK)
        return LKS_ENOMEM;
    size_t mask = c->nslots - 1;
    size_t h = (size_t)lks_hash(p ? p : (const uint8_t *)"", len) & mask;
    for (;;) {
        uint32_t e = c->slots[h];
        if (!e)
            break;
        lks_slice key = dict_key(c, e - 1);
        if (key.len == len && lks_bytes_eq(key.ptr, p, len)) {
            *out = e - 1;
            return LKS_OK;
        }
        h = (h + 1) & mask;
    }
    uint32_t k = c->ndict;
    if (c->type == LKS_PQ_BYTE_ARRAY) {
        uint32_t off = (uint32_t)c->dict.len;
        uint8_t lenb[4];
        lks_store_le32(lenb, (uint32_t)len);
        if (c->dict.len + len + 4 > UINT32_MAX || lks_buf_append(&c->dict_off, &off, 4) != LKS_OK ||
            lks_buf_append(&c->dict, lenb, 4) != LKS_OK || (len && lks_buf_append(&c->dict, p, len) != LKS_OK))
            return LKS_ENOMEM;
    } else if (lks_buf_append(&c->dict, p, len) != LKS_OK) {
        return LKS_ENOMEM;
    }
    c->slots[h] = k + 1;
    c->ndict++;
    *out = k;
    return LKS_OK;
}

static void dict_clear(colw *c) {
    lks_buf_reset(&c->dict);
    lks_buf_reset(&c->dict_off);
    if (c->slots)
        memset(c->slots, 0, c->nslots * sizeof *c->slots);
    c->ndict = 0;
}

/* Re-encodes the current page's indices as PLAIN values. */
static int page_to_plain(colw *c) {
    const uint32_t *ix = (const uint32_t *)c->idx.ptr;
    lks_buf_reset(&c->vals);
    for (size_t i = 0; i < c->page_nvals; i++) {
        lks_slice key = dict_key(c, ix[i]);
        if (c->type == LKS_PQ_BYTE_ARRAY) {
            uint8_t lenb[4];
            lks_store_le32(lenb, (uint32_t)key.len);
            if (lks_buf_append(&c->vals, lenb, 4) != LKS_OK)
                return LKS_ENOMEM;
        }
        if (key.len && lks_buf_append(&c->vals, key.ptr, key.len) != LKS_OK)
            return LKS_ENOMEM;
    }
    lks_buf_reset(&c->idx);
    return LKS_OK;
}

/* The first page of the chunk decided against the dictionary: the page is
 * re-encoded PLAIN, and so are the rest of the chunk and the column's later
 * chunks in the file. */
static int refuse_dict(colw *c, lks_err *err) {
    if (page_to_plain(c) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
    c->dict_on = 0;
    c->dict_refused = 1;
    c->dict_decided = 1;
    dict_clear(c);
    return LKS_OK;
}

/* ---- pages ---------------------------------------------------------------------- */

static void page_header_init(lks_pq_page_header *h) {
    memset(h, 0, sizeof *h);
    h->def_encoding = LKS_PQ_ENC_RLE;
    h->rep_encoding = LKS_PQ_ENC_RLE;
    h->is_compressed = 1;
}

/* Compresses w->body and appends header + compressed bytes to dst. */
static int put_page(lks_pq_writer *w, lks_pq_page_header *h, lks_buf *dst, int64_t *uncompressed, lks_err *err) {
    const uint8_t *data = w->body.ptr;
    size_t n = w->body.len;
    if (n > INT32_MAX)
        return lks_err_set(err, LKS_ELIMIT, "parquet writer: page of %zu bytes exceeds 2 GiB", n);
    if (w->o.codec != LKS_PQ_UNCOMPRESSED) {
        lks_buf_reset(&w->zbuf);
        int rc = lks_pq_compress(w->o.codec, w->o.level, w->body.ptr, n, &w->zbuf, err);
        if (rc != LKS_OK)
            return rc;
        data = w->zbuf.ptr;
        if (w->zbuf.len > INT32_MAX)
            return lks_err_set(err, LKS_ELIMIT, "parquet writer: compressed page exceeds 2 GiB");
        h->compressed_size = (int32_t)w->zbuf.len;
    } else {
        h->compressed_size = (int32_t)n;
    }
    h->uncompressed_size = (int32_t)n;
    lks_buf_reset(&w->hdr);
    if (lks_pq_encode_page_header(&w->hdr, h) != LKS_OK || lks_buf_append(dst, w->hdr.ptr, w->hdr.len) != LKS_OK ||
        (h->compressed_size && lks_buf_append(dst, data, (size_t)h->compressed_size) != LKS_OK))
        return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory for a page");
    *uncompressed += (int64_t)(w->hdr.len + n);
    return LKS_OK;
}

static int append_levels(lks_buf *b, const lks_buf *lv, size_t n, int max) {
    size_t at = b->len;
    uint8_t zero[4] = {0};
    if (lks_buf_append(b, zero, 4) != LKS_OK)
        return LKS_ENOMEM;
    if (lks_pq_rle_encode_u16(b, (const uint16_t *)lv->ptr, n, lks_pq_bit_width((uint64_t)max)) != LKS_OK)
        return LKS_ENOMEM;
    lks_store_le32(b->ptr + at, (uint32_t)(b->len - at - 4));
    return LKS_OK;
}

static int flush_page(lks_pq_writer *w, colw *c, lks_err *err) {
    if (c->page_entries == 0)
        return LKS_OK;
    /* a dictionary nearly as long as the values does not pay */
    if (c->dict_on && !c->dict_decided && (size_t)c->ndict * 2 > c->page_nvals + 16 && refuse_dict(c, err) != LKS_OK)
        return LKS_ENOMEM;
    c->dict_decided = 1;
    lks_buf *b = &w->body;
    lks_buf_reset(b);
    if ((c->max_rep && append_levels(b, &c->rep, c->page_entries, c->max_rep) != LKS_OK) ||
        (c->max_def && append_levels(b, &c->def, c->page_entries, c->max_def) != LKS_OK))
        return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
    lks_pq_page_header h;
    page_header_init(&h);
    h.type = LKS_PQ_DATA_PAGE;
    h.num_values = (int32_t)c->page_entries;
    int rc = LKS_OK;
    if (c->dict_on) {
        int bw = lks_pq_bit_width(c->ndict ? c->ndict - 1 : 0);
        if (bw == 0)
            bw = 1;
        h.encoding = LKS_PQ_ENC_RLE_DICTIONARY;
        if (lks_buf_append_byte(b, (uint8_t)bw) != LKS_OK ||
            lks_pq_rle_encode_u32(b, (const uint32_t *)c->idx.ptr, c->page_nvals, bw) != LKS_OK)
            rc = LKS_ENOMEM;
        c->dict_pages++;
    } else {
        h.encoding = LKS_PQ_ENC_PLAIN;
        if (c->type == LKS_PQ_BOOLEAN)
            rc = lks_pq_plain_encode_bool(b, c->vals.ptr, c->page_nvals);
        else if (c->vals.len)
            rc = lks_buf_append(b, c->vals.ptr, c->vals.len);
        c->plain_pages++;
    }
    if (rc != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
    rc = put_page(w, &h, &c->chunk, &c->chunk_uncompressed, err);
    if (rc != LKS_OK)
        return rc;
    c->chunk_values += (int64_t)c->page_entries;
    c->page_entries = c->page_nvals = 0;
    lks_buf_reset(&c->def);
    lks_buf_reset(&c->rep);
    lks_buf_reset(&c->vals);
    lks_buf_reset(&c->idx);
    /* a dictionary past its budget is closed: the rest of the chunk is PLAIN */
    if (c->dict_on && c->dict.len > w->o.dict_max_bytes)
        c->dict_on = 0;
    return LKS_OK;
}

static size_t page_estimate(const colw *c) {
    size_t levels = c->page_entries * (size_t)(lks_pq_bit_width((uint64_t)c->max_def) +
                                               lks_pq_bit_width((uint64_t)c->max_rep)) / 8;
    if (c->dict_on)
        return levels + c->page_nvals * (size_t)lks_pq_bit_width(c->ndict) / 8;
    return levels + c->vals.len;
}

/* ---- appending values ------------------------------------------------------------ */

/* Dictionary indices of values[from, from + k) appended to the page. */
static int dict_add(colw *c, const uint8_t *values, size_t from, size_t k, int byte_slices, lks_err *err) {
    if (lks_buf_reserve(&c->idx, k * 4) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
    uint32_t *ix = (uint32_t *)(c->idx.ptr + c->idx.len);
    /* byte values that share memory are equal: a small cache by address
     * spares the hashing of values read from another dictionary */
    struct {
        const uint8_t *p;
        size_t len;
        uint32_t ix;
    } seen[32];
    if (byte_slices)
        memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < k; i++) {
        const uint8_t *p;
        size_t len;
        if (byte_slices) {
            p = ((const lks_slice *)values)[from + i].ptr;
            len = ((const lks_slice *)values)[from + i].len;
            size_t h = (size_t)(((uintptr_t)p * 0x9E3779B97F4A7C15ull) >> 59);
            if (p && seen[h].p == p && seen[h].len == len) {
                ix[i] = seen[h].ix;
                continue;
            }
            if (dict_index(c, p, len, &ix[i]) != LKS_OK)
                return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory for a dictionary");
            seen[h].p = p, seen[h].len = len, seen[h].ix = ix[i];
            continue;
        }
        p = values + (from + i) * c->width;
        len = c->width;
        if (dict_index(c, p, len, &ix[i]) != LKS_OK)
            return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory for a dictionary");
    }
    c->idx.len += k * 4;
    return LKS_OK;
}

static int add_values(colw *c, const uint8_t *values, size_t k, lks_err *err) {
    if (k == 0)
        return LKS_OK;
    int byte_slices = c->type == LKS_PQ_BYTE_ARRAY || c->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY;
    if (byte_slices) {
        const lks_slice *v = (const lks_slice *)values;
        for (size_t i = 0; i < k; i++) {
            if (c->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY && v[i].len != c->width)
                return lks_err_set(err, LKS_EINVAL, "parquet writer: column %s: value of %zu bytes, expected %zu",
                                   c->col->path, v[i].len, c->width);
            if (v[i].len > INT32_MAX || (v[i].len && !v[i].ptr))
                return lks_err_set(err, LKS_EINVAL, "parquet writer: column %s: bad byte array value",
                                   c->col->path);
        }
    }
    if (stats_update(c, values, k) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
    if (c->bloom_ndv) {
        if (!c->bloom) {
            c->bloom_bytes = lks_pq_bloom_size(c->bloom_ndv, c->bloom_fpp);
            c->bloom = calloc(1, c->bloom_bytes);
            if (!c->bloom)
                return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory for a bloom filter");
        }
        for (size_t i = 0; i < k; i++) {
            uint64_t hsh = byte_slices ? lks_pq_bloom_hash(((const lks_slice *)values)[i].ptr,
                                                           ((const lks_slice *)values)[i].len)
                                       : lks_pq_bloom_hash(values + i * c->width, c->width);
            lks_pq_bloom_insert(c->bloom, c->bloom_bytes, hsh);
        }
    }
    /* A chunk's first DICT_PROBE values all distinct: a dictionary will not
     * pay, and building it for the whole first page (up to a row group's
     * values) costs more than writing them.  The values go in up to the
     * probe, then the rest. */
    size_t done = 0;
    while (c->dict_on && done < k) {
        size_t seg = k - done;
        int probe = !c->dict_decided && c->page_nvals < DICT_PROBE;
        if (probe && seg > DICT_PROBE - c->page_nvals)
            seg = DICT_PROBE - c->page_nvals;
        int rc = dict_add(c, values, done, seg, byte_slices, err);
        if (rc != LKS_OK)
            return rc;
        done += seg;
        c->page_nvals += seg;
        if (probe && c->page_nvals == DICT_PROBE && c->ndict == DICT_PROBE && refuse_dict(c, err) != LKS_OK)
            return LKS_ENOMEM;
    }
    if (done == k)
        return LKS_OK;
    values += done * (byte_slices ? sizeof(lks_slice) : c->width);
    k -= done;
    if (c->type == LKS_PQ_BYTE_ARRAY) {
        const lks_slice *v = (const lks_slice *)values;
        size_t total = 0;
        for (size_t i = 0; i < k; i++)
            total += 4 + v[i].len;
        if (lks_buf_reserve(&c->vals, total) != LKS_OK)
            return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
        uint8_t *o = c->vals.ptr + c->vals.len;
        for (size_t i = 0; i < k; i++) {
            lks_store_le32(o, (uint32_t)v[i].len);
            if (v[i].len)
                memcpy(o + 4, v[i].ptr, v[i].len);
            o += 4 + v[i].len;
        }
        c->vals.len += total;
    } else if (c->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY) {
        const lks_slice *v = (const lks_slice *)values;
        for (size_t i = 0; i < k; i++)
            if (c->width && lks_buf_append(&c->vals, v[i].ptr, c->width) != LKS_OK)
                return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
    } else {
        if (c->type == LKS_PQ_BOOLEAN)
            for (size_t i = 0; i < k; i++)
                if (values[i] > 1)
                    return lks_err_set(err, LKS_EINVAL, "parquet writer: column %s: boolean value %u",
                                       c->col->path, values[i]);
        if (lks_buf_append(&c->vals, values, k * c->width) != LKS_OK)
            return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
    }
    c->page_nvals += k;
    return LKS_OK;
}

int lks_pq_write_column(lks_pq_writer *w, int col, const void *values, const uint16_t *def, const uint16_t *rep,
                        size_t n, lks_err *err) {
    if (w->failed || w->closed)
        return lks_err_set(err, LKS_EINVAL, "parquet writer: %s", w->closed ? "already closed" : "failed earlier");
    if (col < 0 || col >= w->ncols)
        return lks_err_set(err, LKS_EINVAL, "parquet writer: no column %d", col);
    colw *c = &w->cols[col];
    if ((c->max_def && !def && n) || (c->max_rep && !rep && n))
        return lks_err_set(err, LKS_EINVAL, "parquet writer: column %s needs %s levels", c->col->path,
                           c->max_def && !def ? "definition" : "repetition");
    if (c->max_def == 0)
        def = NULL;
    if (c->max_rep == 0)
        rep = NULL;
    /* validate levels and count rows */
    int64_t rows = rep ? 0 : (int64_t)n;
    size_t nonnull = 0;
    for (size_t i = 0; i < n; i++) {
        nonnull += !def || def[i] == c->max_def;
        if (def && def[i] > c->max_def)
            return lks_err_set(err, LKS_EINVAL, "parquet writer: column %s: definition level %u above %d",
                               c->col->path, def[i], c->max_def);
        if (rep) {
            if (rep[i] > c->max_rep)
                return lks_err_set(err, LKS_EINVAL, "parquet writer: column %s: repetition level %u above %d",
                                   c->col->path, rep[i], c->max_rep);
            rows += rep[i] == 0;
        }
    }
    if (rep && n && rep[0] != 0)
        return lks_err_set(err, LKS_EINVAL, "parquet writer: column %s: batch starts inside a row", c->col->path);
    /* refused before any level is buffered, so the writer stays consistent */
    if (nonnull && !values)
        return lks_err_set(err, LKS_EINVAL, "parquet writer: column %s: values missing", c->col->path);
    const uint8_t *vp = values;
    size_t vsize = value_size(c);
    size_t i = 0;
    while (i < n) {
        /* take a slice that fits the page budget, ending at a row boundary */
        size_t est = page_estimate(c);
        size_t room = est < w->o.page_bytes ? w->o.page_bytes - est : 0;
        size_t per = c->type == LKS_PQ_BYTE_ARRAY ? 16 : (c->width ? c->width : 1);
        size_t step = room / per + 1;
        if (step > 65536)
            step = 65536;
        size_t end = i + step < n ? i + step : n;
        if (rep)
            while (end < n && rep[end] != 0)
                end++;
        size_t m = end - i;
        size_t k = m;
        if (def) {
            k = 0;
            for (size_t j = i; j < end; j++)
                k += def[j] == c->max_def;
            if (lks_buf_append(&c->def, def + i, m * 2) != LKS_OK)
                return fail(w, lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory"));
        }
        if (rep && lks_buf_append(&c->rep, rep + i, m * 2) != LKS_OK)
            return fail(w, lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory"));
        int rc = add_values(c, vp, k, err);
        if (rc != LKS_OK)
            return fail(w, rc);
        if (k)
            vp += k * vsize;
        c->nulls += (int64_t)(m - k);
        c->page_entries += m;
        i = end;
        if (page_estimate(c) >= w->o.page_bytes || c->page_entries >= ((size_t)1 << 24) ||
            (c->dict_on && c->dict.len > w->o.dict_max_bytes)) {
            rc = flush_page(w, c, err);
            if (rc != LKS_OK)
                return fail(w, rc);
        }
    }
    c->rows_pending += rows;
    return LKS_OK;
}

static size_t buffered_bytes(const lks_pq_writer *w) {
    size_t t = 0;
    for (int i = 0; i < w->ncols; i++) {
        const colw *c = &w->cols[i];
        t += (size_t)c->chunk_uncompressed + page_estimate(c) + c->dict.len;
    }
    return t;
}

static int write_bloom(lks_pq_writer *w, colw *c, lks_pq_column_meta *cm, lks_err *err) {
    if (!c->bloom)
        return LKS_OK;
    lks_pq_bloom_header bh = {(int32_t)c->bloom_bytes};
    lks_buf_reset(&w->hdr);
    if (lks_pq_encode_bloom_header(&w->hdr, &bh) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
    cm->bloom_filter_offset = (int64_t)w->off;
    cm->bloom_filter_length = (int32_t)(w->hdr.len + c->bloom_bytes);
    int rc = emit(w, w->hdr.ptr, w->hdr.len, err);
    if (rc == LKS_OK)
        rc = emit(w, c->bloom, c->bloom_bytes, err);
    memset(c->bloom, 0, c->bloom_bytes);
    return rc;
}

int lks_pq_writer_flush(lks_pq_writer *w, lks_err *err) {
    if (w->failed)
        return lks_err_set(err, LKS_EINVAL, "parquet writer: failed earlier");
    for (int i = 0; i < w->ncols; i++)
        if (w->cols[i].rows_pending)
            return lks_err_set(err, LKS_EINVAL, "parquet writer: column %s has rows outside a batch",
                               w->cols[i].col->path);
    if (w->rg_rows == 0)
        return LKS_OK;
    if (w->nrg == w->caprg) {
        int cap = w->caprg ? w->caprg * 2 : 8;
        lks_pq_row_group *r = realloc(w->rgs, sizeof *r * (size_t)cap);
        if (!r)
            return fail(w, lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory"));
        w->rgs = r;
        w->caprg = cap;
    }
    lks_pq_row_group *rg = &w->rgs[w->nrg];
    memset(rg, 0, sizeof *rg);
    rg->columns = lks_arena_alloc(&w->meta, sizeof *rg->columns * (size_t)w->ncols);
    if (!rg->columns)
        return fail(w, lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory"));
    rg->num_columns = w->ncols;
    rg->num_rows = w->rg_rows;
    rg->file_offset = (int64_t)w->off;
    rg->ordinal = (int32_t)w->nrg;
    int64_t total_unc = 0, total_comp = 0;
    for (int i = 0; i < w->ncols; i++) {
        colw *c = &w->cols[i];
        int rc = flush_page(w, c, err);
        if (rc != LKS_OK)
            return fail(w, rc);
        lks_pq_column_chunk *cc = &rg->columns[i];
        memset(cc, 0, sizeof *cc);
        cc->offset_index_offset = cc->column_index_offset = -1;
        cc->offset_index_length = cc->column_index_length = -1;
        cc->has_meta = 1;
        lks_pq_column_meta *cm = &cc->meta;
        cm->type = c->type;
        cm->codec = w->o.codec;
        cm->path = c->path;
        cm->path_len = c->path_len;
        cm->num_values = c->chunk_values;
        cm->index_page_offset = -1;
        cm->dictionary_page_offset = -1;
        cm->bloom_filter_offset = -1;
        cm->bloom_filter_length = -1;
        int64_t start = (int64_t)w->off, unc = c->chunk_uncompressed;
        if (c->dict_pages) {
            lks_buf_reset(&w->body);
            if (c->dict.len && lks_buf_append(&w->body, c->dict.ptr, c->dict.len) != LKS_OK)
                return fail(w, lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory"));
            lks_pq_page_header h;
            page_header_init(&h);
            h.type = LKS_PQ_DICTIONARY_PAGE;
            h.num_values = (int32_t)c->ndict;
            h.encoding = LKS_PQ_ENC_PLAIN;
            lks_buf dp;
            lks_buf_init(&dp, 0);
            rc = put_page(w, &h, &dp, &unc, err);
            if (rc == LKS_OK)
                rc = emit(w, dp.ptr, dp.len, err);
            lks_buf_free(&dp);
            if (rc != LKS_OK)
                return fail(w, rc);
            cm->dictionary_page_offset = start;
        }
        cm->data_page_offset = (int64_t)w->off;
        rc = emit(w, c->chunk.ptr, c->chunk.len, err);
        if (rc != LKS_OK)
            return rc;
        cc->file_offset = start;
        cm->total_uncompressed_size = unc;
        cm->total_compressed_size = (int64_t)w->off - start;
        int32_t enc[3];
        int ne = 0;
        if (c->plain_pages || c->dict_pages)
            enc[ne++] = LKS_PQ_ENC_PLAIN;
        if (c->max_def || c->max_rep)
            enc[ne++] = LKS_PQ_ENC_RLE;
        if (c->dict_pages)
            enc[ne++] = LKS_PQ_ENC_RLE_DICTIONARY;
        cm->encodings = lks_arena_memdup(&w->meta, enc, sizeof enc);
        cm->num_encodings = ne;
        if (!cm->encodings)
            return fail(w, lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory"));
        if (w->o.stats) {
            if (stats_finish(w, c, &cm->stats) != LKS_OK)
                return fail(w, lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory"));
            cm->has_stats = 1;
        }
        total_unc += unc;
        total_comp += cm->total_compressed_size;
        if (fold_bounds(c) != LKS_OK)
            return fail(w, lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory"));
        /* reset the chunk */
        lks_buf_reset(&c->chunk);
        c->chunk_values = c->chunk_uncompressed = c->nulls = 0;
        c->has_minmax = 0;
        c->dict_pages = c->plain_pages = 0;
        c->dict_decided = 0;
        c->dict_on = !c->no_dict && !c->dict_refused;
        dict_clear(c);
    }
    for (int i = 0; i < w->ncols; i++) {
        int rc = write_bloom(w, &w->cols[i], &rg->columns[i].meta, err);
        if (rc != LKS_OK)
            return rc;
    }
    rg->total_byte_size = total_unc;
    rg->total_compressed_size = total_comp;
    w->nrg++;
    w->total_rows += w->rg_rows;
    w->rg_rows = 0;
    return LKS_OK;
}

int lks_pq_writer_end_batch(lks_pq_writer *w, int64_t rows, lks_err *err) {
    if (w->failed || w->closed)
        return lks_err_set(err, LKS_EINVAL, "parquet writer: %s", w->closed ? "already closed" : "failed earlier");
    for (int i = 0; i < w->ncols; i++)
        if (w->cols[i].rows_pending != rows)
            return fail(w, lks_err_set(err, LKS_EINVAL,
                                       "parquet writer: column %s received %lld rows in a batch of %lld",
                                       w->cols[i].col->path, (long long)w->cols[i].rows_pending, (long long)rows));
    for (int i = 0; i < w->ncols; i++)
        w->cols[i].rows_pending = 0;
    w->rg_rows += rows;
    if (w->rg_rows >= w->o.row_group_rows || buffered_bytes(w) >= w->o.row_group_bytes)
        return lks_pq_writer_flush(w, err);
    return LKS_OK;
}

/* ---- footer --------------------------------------------------------------------- */

static int converted_type(const lks_pq_field *f) {
    const lks_pq_logical *lt = &f->logical;
    switch (lt->kind) {
    case LKS_PQ_LT_STRING: return LKS_PQ_CT_UTF8;
    case LKS_PQ_LT_MAP: return LKS_PQ_CT_MAP;
    case LKS_PQ_LT_LIST: return LKS_PQ_CT_LIST;
    case LKS_PQ_LT_ENUM: return LKS_PQ_CT_ENUM;
    case LKS_PQ_LT_DECIMAL: return LKS_PQ_CT_DECIMAL;
    case LKS_PQ_LT_DATE: return LKS_PQ_CT_DATE;
    case LKS_PQ_LT_JSON: return LKS_PQ_CT_JSON;
    case LKS_PQ_LT_BSON: return LKS_PQ_CT_BSON;
    case LKS_PQ_LT_TIME:
        if (!lt->utc)
            return -1;
        return lt->unit == LKS_PQ_UNIT_MILLIS ? LKS_PQ_CT_TIME_MILLIS
               : lt->unit == LKS_PQ_UNIT_MICROS ? LKS_PQ_CT_TIME_MICROS
                                                 : -1;
    case LKS_PQ_LT_TIMESTAMP:
        if (!lt->utc)
            return -1;
        return lt->unit == LKS_PQ_UNIT_MILLIS ? LKS_PQ_CT_TIMESTAMP_MILLIS
               : lt->unit == LKS_PQ_UNIT_MICROS ? LKS_PQ_CT_TIMESTAMP_MICROS
                                                 : -1;
    case LKS_PQ_LT_INTEGER: {
        int k = lt->bit_width == 8 ? 0 : lt->bit_width == 16 ? 1 : lt->bit_width == 32 ? 2 : 3;
        return (lt->is_signed ? LKS_PQ_CT_INT_8 : LKS_PQ_CT_UINT_8) + k;
    }
    default: return -1;
    }
}

int lks_pq_writer_close(lks_pq_writer *w, lks_err *err) {
    if (w->closed)
        return LKS_OK;
    int rc = lks_pq_writer_flush(w, err);
    if (rc != LKS_OK)
        return rc;
    const lks_pq_schema *s = w->s;
    lks_pq_file_meta *fm = &w->fm;
    memset(fm, 0, sizeof *fm);
    fm->version = 2;
    fm->num_rows = w->total_rows;
    fm->row_groups = w->rgs;
    fm->num_row_groups = w->nrg;
    fm->kv = w->kv;
    fm->num_kv = w->nkv;
    fm->created_by = w->o.created_by ? w->o.created_by : "lakesync version " LKS_VERSION;
    fm->schema = lks_arena_alloc(&w->meta, sizeof *fm->schema * (size_t)s->num_fields);
    fm->column_orders = lks_arena_alloc(&w->meta, (size_t)(s->num_cols ? s->num_cols : 1));
    if (!fm->schema || !fm->column_orders)
        return fail(w, lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory"));
    fm->num_schema = s->num_fields;
    for (int i = 0; i < s->num_fields; i++) {
        const lks_pq_field *f = &s->fields[i];
        lks_pq_schema_elem *e = &fm->schema[i];
        memset(e, 0, sizeof *e);
        e->name = f->name;
        e->type = f->type;
        e->type_length = f->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY ? f->type_length : 0;
        e->repetition = i == 0 ? -1 : f->repetition;
        e->num_children = f->type < 0 ? f->num_children : 0;
        e->converted_type = converted_type(f);
        if (f->logical.kind == LKS_PQ_LT_DECIMAL) {
            e->scale = f->logical.scale;
            e->precision = f->logical.precision;
        }
        e->field_id = f->field_id;
        e->has_field_id = f->field_id >= 0;
        e->logical = f->logical;
    }
    memset(fm->column_orders, 1, (size_t)s->num_cols);
    fm->num_column_orders = s->num_cols;
    lks_buf_reset(&w->body);
    if (lks_pq_encode_file_meta(&w->body, fm) != LKS_OK || w->body.len > UINT32_MAX)
        return fail(w, lks_err_set(err, LKS_ENOMEM, "parquet writer: cannot encode the footer"));
    uint8_t tail[8];
    lks_store_le32(tail, (uint32_t)w->body.len);
    memcpy(tail + 4, "PAR1", 4);
    rc = emit(w, w->body.ptr, w->body.len, err);
    if (rc == LKS_OK)
        rc = emit(w, tail, 8, err);
    if (rc != LKS_OK)
        return rc;
    w->closed = 1;
    return LKS_OK;
}

const lks_pq_file_meta *lks_pq_writer_meta(const lks_pq_writer *w) { return w->closed ? &w->fm : NULL; }

void lks_pq_writer_free(lks_pq_writer *w) {
    if (!w)
        return;
    for (int i = 0; i < w->ncols; i++) {
        colw *c = &w->cols[i];
        lks_buf *bufs[] = {&c->def, &c->rep, &c->vals, &c->idx, &c->dict, &c->dict_off, &c->chunk,
                           &c->minb, &c->maxb, &c->fminb, &c->fmaxb, &c->st_def, &c->st_rep, &c->st_vals};
        for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
            lks_buf_free(bufs[k]);
        free(c->slots);
        free(c->bloom);
    }
    free(w->cols);
    free(w->rgs);
    free(w->kv);
    lks_buf_free(&w->body);
    lks_buf_free(&w->zbuf);
    lks_buf_free(&w->hdr);
    lks_arena_free(&w->meta);
    free(w);
}

/* ---- rows as value trees ---------------------------------------------------------- */

static int stage(colw *c, uint16_t d, uint16_t r, const lks_pq_value *v, lks_err *err) {
    if (lks_buf_append(&c->st_def, &d, 2) != LKS_OK || lks_buf_append(&c->st_rep, &r, 2) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "parquet writer: out of memory");
    c->st_n++;
    if (!v)
        return LKS_OK;
    int want;
    const void *p;
    size_t len;
    lks_slice sl;
    switch (c->type) {
    case LKS_PQ_BOOLEAN: {
        want = LKS_PQ_V_BOOL;
        uint8_t b = v->u.b != 0;
        if (v->kind != want)
            break;
        return lks_buf_append(&c->st_vals, &b, 1) == LKS_OK ? LKS_OK : LKS_ENOMEM;
    }
    case LKS_PQ_INT32: want = LKS_PQ_V_INT32, p = &v->u.i32, len = 4; goto fixed;
    case LKS_PQ_INT64: want = LKS_PQ_V_INT64, p = &v->u.i64, len = 8; goto fixed;
    case LKS_PQ_INT96: want = LKS_PQ_V_INT96, p = &v->u.i96, len = 12; goto fixed;
    case LKS_PQ_FLOAT: want = LKS_PQ_V_FLOAT, p = &v->u.f32, len = 4; goto fixed;
    case LKS_PQ_DOUBLE: want = LKS_PQ_V_DOUBLE, p = &v->u.f64, len = 8; goto fixed;
    default:
        want = LKS_PQ_V_BYTES;
        sl = v->u.bytes;
        p = &sl;
        len = sizeof sl;
    fixed:
        if (v->kind != want)
            break;
        return lks_buf_append(&c->st_vals, p, len) == LKS_OK ? LKS_OK
                                                              : lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    return lks_err_set(err, LKS_EINVAL, "parquet writer: column %s: value of kind %d does not fit the column",
                       c->col->path, v->kind);
}

/* Emits one entry (a null at level d) into every leaf under field f. */
static int stage_nulls(lks_pq_writer *w, int f, uint16_t d, uint16_t r, lks_err *err) {
    const lks_pq_schema *s = w->s;
    if (s->leaf[f] >= 0)
        return stage(&w->cols[s->leaf[f]], d, r, NULL, err);
    /* children follow f depth-first: every leaf of its subtree */
    int end = lks_pq_schema_subtree_end(s, f);
    for (int g = f + 1; g < end; g++)
        if (s->leaf[g] >= 0) {
            int rc = stage(&w->cols[s->leaf[g]], d, r, NULL, err);
            if (rc != LKS_OK)
                return rc;
        }
    return LKS_OK;
}

static int shred(lks_pq_writer *w, int f, const lks_pq_value *v, uint16_t d, uint16_t r, int depth, lks_err *err);

/* A present value of field f at definition level d (f's own level counted). */
static int shred_present(lks_pq_writer *w, int f, const lks_pq_value *v, uint16_t d, uint16_t r, int depth,
                         lks_err *err) {
    const lks_pq_schema *s = w->s;
    if (s->leaf[f] >= 0)
        return stage(&w->cols[s->leaf[f]], d, r, v, err);
    if (v->kind != LKS_PQ_V_GROUP || v->u.list.n != (size_t)s->fields[f].num_children)
        return lks_err_set(err, LKS_EINVAL, "parquet writer: field %s: expected a group of %d values",
                           s->fields[f].name, s->fields[f].num_children);
    int child = f + 1;
    for (size_t k = 0; k < v->u.list.n; k++) {
        int rc = shred(w, child, &v->u.list.items[k], d, r, depth + 1, err);
        if (rc != LKS_OK)
            return rc;
        child = lks_pq_schema_subtree_end(s, child);
    }
    return LKS_OK;
}

static int rep_level_of(const lks_pq_schema *s, int f) {
    int r = 0;
    for (; f > 0; f = s->parent[f])
        r += s->fields[f].repetition == LKS_PQ_REPEATED;
    return r;
}

static int shred(lks_pq_writer *w, int f, const lks_pq_value *v, uint16_t d, uint16_t r, int depth, lks_err *err) {
    const lks_pq_schema *s = w->s;
    const lks_pq_field *fd = &s->fields[f];
    if (depth > LKS_PQ_MAX_DEPTH)
        return lks_err_set(err, LKS_ELIMIT, "parquet writer: value nesting too deep");
    int is_null = !v || v->kind == LKS_PQ_V_NULL;
    if (fd->repetition == LKS_PQ_REPEATED) {
        if (!is_null && v->kind != LKS_PQ_V_REPEATED)
            return lks_err_set(err, LKS_EINVAL, "parquet writer: field %s: expected repeated values", fd->name);
        if (is_null || v->u.list.n == 0)
            return stage_nulls(w, f, d, r, err);
        uint16_t my_rep = (uint16_t)rep_level_of(s, f);
        for (size_t i = 0; i < v->u.list.n; i++) {
            int rc = shred_present(w, f, &v->u.list.items[i], (uint16_t)(d + 1), i == 0 ? r : my_rep, depth, err);
            if (rc != LKS_OK)
                return rc;
        }
        return LKS_OK;
    }
    if (is_null) {
        if (fd->repetition == LKS_PQ_REQUIRED)
            return lks_err_set(err, LKS_EINVAL, "parquet writer: required field %s is null", fd->name);
        return stage_nulls(w, f, d, r, err);
    }
    return shred_present(w, f, v, fd->repetition == LKS_PQ_OPTIONAL ? (uint16_t)(d + 1) : d, r, depth, err);
}

int lks_pq_write_row(lks_pq_writer *w, const lks_pq_value *row, lks_err *err) {
    for (int i = 0; i < w->ncols; i++) {
        colw *c = &w->cols[i];
        lks_buf_reset(&c->st_def);
        lks_buf_reset(&c->st_rep);
        lks_buf_reset(&c->st_vals);
        c->st_n = 0;
    }
    int rc = shred_present(w, 0, row, 0, 0, 0, err);
    if (rc != LKS_OK)
        return rc;
    for (int i = 0; i < w->ncols; i++) {
        colw *c = &w->cols[i];
        rc = lks_pq_write_column(w, i, c->st_vals.ptr, (const uint16_t *)c->st_def.ptr,
                                 (const uint16_t *)c->st_rep.ptr, c->st_n, err);
        if (rc != LKS_OK)
            return fail(w, rc);
    }
    return lks_pq_writer_end_batch(w, 1, err);
}
