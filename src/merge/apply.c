/*
 * apply.c — committing a merge batch: one Delta transaction that creates
 * or evolves the table, takes the batch's keys out of the live files, adds
 * the new row versions and stores the streams' positions.
 *
 * Finding the rows the batch hits, with memory flat in the table's size:
 *   1. Every live file is tested against the batch's keys (sorted by their
 *      encoding, merge_int.h): its add.stats bounds of the key columns
 *      (a binary search on the first key column, then the others), then,
 *      for the keys left, the Parquet bloom filters of the key columns in
 *      each row group (read only when the file's column has the canonical
 *      physical type, so the hash is the one the writer inserted).  Files
 *      ruled out count as skipped.
 *   2. The remaining candidates are scanned for the key columns only
 *      (lks_delta_scan with a file filter, a batch of rows at a time); each
 *      row whose key the batch holds is a hit (file, row index).
 *   3. Tables with deletion vectors (deletionVectors feature and
 *      delta.enableDeletionVectors=true) mark the hits deleted
 *      (lks_delta_txn_delete_rows); others (copy-on-write) read each file
 *      with hits again, every column, and rewrite it without its hit rows
 *      (lks_delta_writer_write_cols), then remove it.  A candidate without
 *      hits costs only its key columns.
 *   4. The upserts' after images are converted to the table's read schema
 *      and written with lks_delta_writer (bloom filters on the key columns).
 * A truncate in the batch removes every live file instead of 1-3.
 *
 * Conflicts: every candidate file is registered as read, and a conflict_fn
 * tells whether a concurrently added file may hold one of the batch's keys
 * (the same stats and bloom tests), so merges of disjoint keys commit side
 * by side while one of two merges of the same key fails with LKS_ECONFLICT.
 * Lost races without a logical conflict are retried by the transaction;
 * on LKS_ECONFLICT the batch is left as it was, and committing it again
 * re-reads the table from a fresh snapshot (the data files written by the
 * failed attempt stay for VACUUM).
 */
#include "merge/merge_int.h"

#include "parquet/bloom.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BLOOM_MAX_PROBES 4000000 /* per file: past it, read the file's keys instead */

typedef lks_merge_keyref keyref;

/* A scan row whose key passed the filter (batch_hits). */
typedef struct kcand {
    uint32_t row, at, len; /* row in the scan batch; key bytes in kbuf */
    uint32_t ent;          /* entry index + 1 of the key's first slot with its tag, or 0 */
    uint64_t h;
} kcand;

typedef struct hit {
    uint32_t file;
    uint64_t row;
} hit;

typedef struct applier {
    lks_merge_batch *b;
    lks_delta_table *t;
    const lks_delta_snapshot *snap;
    int colmap;            /* the table uses column mapping (name/id) */
    /* the table's columns after this commit */
    lks_delta_type root;
    lks_delta_type *cols;
    int ncols, ncols0;     /* now / in the snapshot */
    int **tmap;            /* per batch schema, per field: column index */
    int *kcol;             /* per key column: column index */
    const char **kname;    /* per key column: name in stats and data files */
    /* keys, sorted */
    keyref *keys;
    size_t nkeys;
    uint32_t *pass;        /* scratch: keys a file's stats admit */
    size_t npass, cpass;
    lks_buf *lo, *hi;      /* per key column: encoded stats bounds */
    int *has_lo, *has_hi;
    int nk;                /* key columns (0 until an event fixed them) */
    int truncate;
    lks_buf tmp, kbuf;
    uint64_t *kf;          /* blocked bloom filter of the keys' hashes (row lookups) */
    uint64_t kfmask;       /* words - 1 */
    kcand *cands;          /* batch_hits' scratch, LKS_DELTA_BATCH_ROWS entries */
    lks_arena fa;          /* per-file scratch */
    lks_arena a;           /* the commit's lifetime */
} applier;

/* ---- small helpers ---------------------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return LKS_OK;
    size_t nc = *cap ? *cap * 2 : 64;
    void *q = realloc(*p, nc * elem);
    if (!q) return LKS_ENOMEM;
    *p = q;
    *cap = nc;
    return LKS_OK;
}

static int find_col(const lks_delta_type *cols, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (cols[i].name && strcmp(cols[i].name, name) == 0) return i;
    for (int i = 0; i < n; i++)
        if (cols[i].name && strcasecmp(cols[i].name, name) == 0) return i;
    return -1;
}

static const char *kv_get(const lks_delta_kv *kv, int n, const char *key) {
    for (int i = 0; i < n; i++)
        if (kv[i].key && strcmp(kv[i].key, key) == 0) return kv[i].value;
    return NULL;
}

static int has_str(const char **v, int n, const char *s) {
    for (int i = 0; v && i < n; i++)
        if (v[i] && strcmp(v[i], s) == 0) return 1;
    return 0;
}

static int hit_cmp(const void *x, const void *y) {
    const hit *a = x, *b = y;
    if (a->file != b->file) return a->file < b->file ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

static int dv_table(const lks_delta_snapshot *s) {
    const lks_delta_protocol *p = &s->protocol;
    const char *e = lks_delta_snapshot_property(s, "delta.enableDeletionVectors");
    return p->min_reader >= 3 && p->min_writer >= 7 && has_str(p->reader_features, p->nreader_features, "deletionVectors") &&
           has_str(p->writer_features, p->nwriter_features, "deletionVectors") && e && strcasecmp(e, "true") == 0;
}

/* ---- stats ------------------------------------------------------------------------------- */

static size_t utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Encodes a stats bound of a key column into out; 0 when it is unusable
 * (absent, truncated, not exact). */
static int bound_seg(const lks_delta_type *dt, json_t *j, int is_max, lks_arena *a, lks_buf *out) {
    lks_buf_reset(out);
    if (!j || json_is_null(j)) return 0;
    lks_pq_value v;
    memset(&v, 0, sizeof v);
    switch (dt->kind) {
    case LKS_DT_BYTE:
    case LKS_DT_SHORT:
    case LKS_DT_INTEGER:
        if (!json_is_integer(j) || json_integer_value(j) > INT32_MAX || json_integer_value(j) < INT32_MIN) return 0;
        v.kind = LKS_PQ_V_INT32, v.u.i32 = (int32_t)json_integer_value(j);
        break;
    case LKS_DT_LONG:
        if (!json_is_integer(j)) return 0;
        v.kind = LKS_PQ_V_INT64, v.u.i64 = json_integer_value(j);
        break;
    case LKS_DT_DATE:
    case LKS_DT_TIMESTAMP:
    case LKS_DT_TIMESTAMP_NTZ: {
        if (!json_is_string(j)) return 0;
        const char *s = json_string_value(j);
        int64_t us;
        if (lks_parse_timestamp_us(s, strlen(s), &us) != LKS_OK) return 0;
        if (dt->kind == LKS_DT_DATE) {
            int64_t d = us / 86400000000LL;
            if (us % 86400000000LL != 0 && us < 0) d--;
            if (d > INT32_MAX || d < INT32_MIN) return 0;
            v.kind = LKS_PQ_V_INT32, v.u.i32 = (int32_t)d;
        } else {
            /* bounds are cut to milliseconds: the max may hide 999 µs more */
            if (is_max) {
                if (us > INT64_MAX - 999) return 0;
                us += 999;
            }
            v.kind = LKS_PQ_V_INT64, v.u.i64 = us;
        }
        break;
    }
    case LKS_DT_STRING: {
        if (!json_is_string(j)) return 0;
        const char *s = json_string_value(j);
        size_t n = json_string_length(j);
        if (is_max && utf8_chars(s, n) >= 32) return 0; /* maybe a cut prefix: no upper bound */
        v.kind = LKS_PQ_V_BYTES, v.u.bytes.ptr = (const uint8_t *)s, v.u.bytes.len = n;
        break;
    }
    case LKS_DT_DECIMAL: {
        lks_cdc_value cv;
        memset(&cv, 0, sizeof cv);
        uint8_t be[8];
        if (json_is_integer(j)) {
            cv.kind = LKS_CV_INT, cv.u.i64 = json_integer_value(j);
        } else if (json_is_real(j) && dt->precision <= 15) {
            double d = json_real_value(j) * pow(10.0, dt->scale);
            if (!isfinite(d) || fabs(d) > 1e15) return 0;
            double r = nearbyint(d);
            if (fabs(d - r) > 1e-3) return 0;
            lks_store_le64(be, 0);
            uint64_t u = (uint64_t)(int64_t)r;
            for (int i = 7; i >= 0; i--, u >>= 8) be[i] = (uint8_t)u;
            cv.kind = LKS_CV_DECIMAL, cv.u.dec.be = be, cv.u.dec.len = 8, cv.u.dec.scale = dt->scale;
        } else {
            return 0;
        }
        if (lks_merge__conv_value(&cv, dt, a, &v) != LKS_OK) return 0;
        break;
    }
    default: return 0;
    }
    return lks_merge__key_put(out, dt, &v) == LKS_OK;
}

/* Fills ap->pass with the keys file `a`'s stats admit; returns their count. */
static size_t stats_pass(applier *ap, const lks_delta_add *a) {
    lks_merge_batch *b = ap->b;
    int nk = b->nkeys;
    ap->npass = 0;
    for (int j = 0; j < nk; j++) ap->has_lo[j] = ap->has_hi[j] = 0;
    json_t *st = a->stats ? json_loads(a->stats, 0, NULL) : NULL;
    if (st && json_is_object(st)) {
        json_t *nr = json_object_get(st, "numRecords");
        int64_t rows = json_is_integer(nr) ? json_integer_value(nr) : -1;
        if (rows == 0) {
            json_decref(st);
            return 0;
        }
        json_t *mins = json_object_get(st, "minValues"), *maxs = json_object_get(st, "maxValues");
        json_t *nulls = json_object_get(st, "nullCount");
        for (int j = 0; j < nk; j++) {
            json_t *nc = json_object_get(nulls, ap->kname[j]);
            if (rows > 0 && json_is_integer(nc) && json_integer_value(nc) == rows) {
                json_decref(st); /* every key null: no key of ours */
                return 0;
            }
            lks_arena_reset(&ap->fa);
            ap->has_lo[j] = bound_seg(&b->ktypes[j], json_object_get(mins, ap->kname[j]), 0, &ap->fa, &ap->lo[j]);
            ap->has_hi[j] = bound_seg(&b->ktypes[j], json_object_get(maxs, ap->kname[j]), 1, &ap->fa, &ap->hi[j]);
        }
    }
    json_decref(st);
    size_t i = 0;
    if (ap->has_lo[0]) { /* first key whose first column is >= lo */
        size_t l = 0, h = ap->nkeys;
        while (l < h) {
            size_t m = l + (h - l) / 2;
            if (lks_bytes_cmp(ap->keys[m].k, ap->keys[m].n, ap->lo[0].ptr, ap->lo[0].len) < 0) l = m + 1;
            else h = m;
        }
        i = l;
    }
    for (; i < ap->nkeys; i++) {
        const uint8_t *p = ap->keys[i].k;
        size_t left = ap->keys[i].n;
        int ok = 1, stop = 0;
        for (int j = 0; j < nk && ok; j++) {
            size_t sl = lks_merge__key_seg_len(&b->ktypes[j], p, left);
            if (!sl) break; /* cannot happen: keep the key */
            if (ap->has_hi[j] && lks_bytes_cmp(p, sl, ap->hi[j].ptr, ap->hi[j].len) > 0) {
                ok = 0;
                stop = j == 0; /* sorted by the first column: no later key fits */
            }
            if (ap->has_lo[j] && lks_bytes_cmp(p, sl, ap->lo[j].ptr, ap->lo[j].len) < 0) ok = 0;
            p += sl, left -= sl;
        }
        if (stop) break;
        if (!ok) continue;
        if (grow((void **)&ap->pass, &ap->cpass, ap->npass, sizeof *ap->pass)) {
            ap->npass = 1; /* out of memory: treat the file as a candidate */
            ap->pass[0] = (uint32_t)i;
            return 1;
        }
        ap->pass[ap->npass++] = (uint32_t)i;
    }
    return ap->npass;
}

/* ---- bloom filters ---------------------------------------------------------------------- */

typedef struct objsrc {
    lks_store *st;
    const char *key;
    lks_buf tmp;
} objsrc;

static int obj_read(void *ud, uint64_t off, size_t n, uint8_t *dst, lks_err *err) {
    objsrc *os = ud;
    lks_buf_reset(&os->tmp);
    int rc = lks_store_get_range(os->st, os->key, off, n, &os->tmp, err);
    if (rc != LKS_OK) return rc;
    if (os->tmp.len != n) return lks_err_set(err, LKS_EIO, "short read at offset %" PRIu64, off);
    if (n) memcpy(dst, os->tmp.ptr, n);
    return LKS_OK;
}

/* The file column holding key column j in its canonical physical form, or -1. */
static int bloom_column(const applier *ap, const lks_pq_schema *fs, int j) {
    int c = lks_pq_schema_find(fs, ap->kname[j]);
    if (c < 0 || strchr(ap->kname[j], '.')) return -1;
    const lks_pq_column *col = &fs->cols[c];
    if (col->max_rep != 0) return -1;
    int width;
    switch (lks_merge__pq_kind(&ap->b->ktypes[j], &width)) {
    case LKS_PQ_V_INT32: return col->type == LKS_PQ_INT32 ? c : -1;
    case LKS_PQ_V_INT64: return col->type == LKS_PQ_INT64 ? c : -1;
    case LKS_PQ_V_FLOAT: return col->type == LKS_PQ_FLOAT ? c : -1;
    case LKS_PQ_V_DOUBLE: return col->type == LKS_PQ_DOUBLE ? c : -1;
    case LKS_PQ_V_BYTES:
        if (width) return col->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY && col->type_length == width ? c : -1;
        return col->type == LKS_PQ_BYTE_ARRAY ? c : -1;
    default: return -1;
    }
}

/* Loads the bloom filter of (rg, col) into bits; 0 when the chunk has none. */
static int load_bloom(objsrc *os, const lks_pq_reader *rd, int rg, int col, uint64_t size, lks_buf *bits) {
    const lks_pq_file_meta *fm = lks_pq_reader_meta(rd);
    const lks_pq_column_chunk *cc = &fm->row_groups[rg].columns[col];
    if (!cc->has_meta || cc->meta.bloom_filter_offset < 0) return 0;
    uint64_t off = (uint64_t)cc->meta.bloom_filter_offset;
    if (off >= size) return 0;
    uint8_t hb[64];
    size_t hn = size - off < sizeof hb ? (size_t)(size - off) : sizeof hb;
    lks_err e;
    if (obj_read(os, off, hn, hb, &e) != LKS_OK) return 0;
    lks_pq_bloom_header bh;
    size_t used = 0;
    if (lks_pq_decode_bloom_header(hb, hn, off, &bh, &used, &e) != LKS_OK) return 0;
    if (bh.num_bytes < 32 || bh.num_bytes % 32 || bh.num_bytes > (128 << 20) ||
        (uint64_t)bh.num_bytes > size - off - used)
        return 0;
    lks_buf_reset(bits);
    if (lks_buf_reserve(bits, (size_t)bh.num_bytes) != LKS_OK) return 0;
    if (obj_read(os, off + used, (size_t)bh.num_bytes, bits->ptr, &e) != LKS_OK) return 0;
    bits->len = (size_t)bh.num_bytes;
    return 1;
}

/* 0 when the bloom filters show that file `a` holds none of the keys in
 * ap->pass; 1 when it may (or when it cannot tell). */
static int bloom_pass(applier *ap, const lks_delta_add *a) {
    lks_merge_batch *b = ap->b;
    int nk = b->nkeys;
    if (ap->npass > BLOOM_MAX_PROBES || nk > 16) return 1;
    const char *path = a->path;
    if (!path || path[0] == '/' || strstr(path, ":/") || strncmp(path, "file:", 5) == 0) return 1;
    lks_arena_reset(&ap->fa);
    objsrc os;
    memset(&os, 0, sizeof os);
    os.st = lks_delta_table_store(ap->t);
    os.key = lks_delta_table_key(ap->t, path, &ap->fa);
    if (!os.key) return 1;
    lks_buf_init(&os.tmp, 0);
    uint64_t size = a->size > 0 ? (uint64_t)a->size : 0;
    lks_err e;
    if (!size) {
        lks_store_entry ent;
        if (lks_store_head(os.st, os.key, &ent, &e) != LKS_OK) {
            lks_buf_free(&os.tmp);
            return 1;
        }
        size = ent.size;
    }
    lks_pq_source src = {obj_read, &os, size, path};
    lks_pq_reader_opts ro;
    lks_pq_reader_opts_default(&ro);
    lks_pq_reader *rd = NULL;
    int may = 1;
    int col[16];
    lks_buf bits[16];
    int has[16];
    for (int j = 0; j < nk; j++) lks_buf_init(&bits[j], 0);
    if (lks_pq_reader_open(&src, &ro, &rd, &e) != LKS_OK) goto done;
    const lks_pq_schema *fs = lks_pq_reader_schema(rd);
    int usable = 0;
    for (int j = 0; j < nk; j++) usable += (col[j] = bloom_column(ap, fs, j)) >= 0;
    if (!usable) goto done;
    const lks_pq_file_meta *fm = lks_pq_reader_meta(rd);
    may = 0;
    for (int rg = 0; rg < fm->num_row_groups && !may; rg++) {
        if (fm->row_groups[rg].num_rows <= 0) continue;
        int any = 0;
        for (int j = 0; j < nk; j++) {
            has[j] = col[j] >= 0 && col[j] < fm->row_groups[rg].num_columns &&
                     load_bloom(&os, rd, rg, col[j], size, &bits[j]);
            any |= has[j];
        }
        if (!any) {
            may = 1; /* a row group without filters */
            break;
        }
        for (size_t i = 0; i < ap->npass && !may; i++) {
            const keyref *k = &ap->keys[ap->pass[i]];
            const uint8_t *p = k->k;
            size_t left = k->n;
            int ok = 1;
            for (int j = 0; j < nk && ok; j++) {
                size_t sl = lks_merge__key_seg_len(&b->ktypes[j], p, left);
                if (!sl) break;
                if (has[j]) {
                    uint64_t h = lks_merge__key_seg_bloom_hash(&b->ktypes[j], p, sl, &ap->tmp);
                    ok = lks_pq_bloom_check(bits[j].ptr, bits[j].len, h);
                }
                p += sl, left -= sl;
            }
            if (ok) may = 1;
        }
    }
done:
    lks_pq_reader_free(rd);
    for (int j = 0; j < nk; j++) lks_buf_free(&bits[j]);
    lks_buf_free(&os.tmp);
    return may;
}

/* 1 when file `a` may hold a key of the batch (stats, then bloom filters).
 * *by_bloom tells which test ruled it out. */
static int may_hold(applier *ap, const lks_delta_add *a, int *by_bloom) {
    *by_bloom = 0;
    if (ap->nkeys == 0) return 0;
    if (!stats_pass(ap, a)) return 0;
    if (!bloom_pass(ap, a)) {
        *by_bloom = 1;
        return 0;
    }
    return 1;
}

static int conflict_fn(void *ud, const lks_delta_add *a) {
    applier *ap = ud;
    if (ap->truncate) return 1;
    int bb;
    return may_hold(ap, a, &bb);
}

/* ---- the table's schema -------------------------------------------------------------------- */

static int is_key_name(const lks_merge_batch *b, const char *name) {
    for (int k = 0; k < b->nkeys; k++)
        if (strcasecmp(b->keys[k], name) == 0) return 1;
    return 0;
}

static int same_type(const lks_delta_type *x, const lks_delta_type *y) {
    return x->kind == y->kind && (x->kind != LKS_DT_DECIMAL || (x->precision == y->precision && x->scale == y->scale));
}

/* Builds the column list after this commit: the snapshot's columns, then
 * the batch's new ones (nullable).  *added counts the new ones. */
static int build_schema(applier *ap, int *added, lks_err *err) {
    lks_merge_batch *b = ap->b;
    const lks_delta_type *root = ap->snap ? ap->snap->metadata.schema : NULL;
    if (ap->snap && (!root || root->kind != LKS_DT_STRUCT))
        return lks_err_set(err, LKS_ECORRUPT, "merge: the table has no schema");
    int n0 = root ? root->nchildren : 0;
    size_t cap = (size_t)n0 + 1;
    for (int s = 0; s < b->nschemas; s++) cap += (size_t)b->schemas[s].nfields;
    ap->cols = lks_arena_alloc(&ap->a, cap * sizeof *ap->cols);
    ap->tmap = lks_arena_alloc(&ap->a, ((size_t)b->nschemas + 1) * sizeof *ap->tmap);
    if (!ap->cols || !ap->tmap) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    for (int i = 0; i < n0; i++) ap->cols[i] = root->children[i];
    int n = n0;
    *added = 0;
    char t1[64], t2[64];
    for (int s = 0; s < b->nschemas; s++) {
        const lks_merge_schema *m = &b->schemas[s];
        ap->tmap[s] = lks_arena_alloc(&ap->a, ((size_t)m->nfields + 1) * sizeof(int));
        if (!ap->tmap[s]) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        for (int f = 0; f < m->nfields; f++) {
            const lks_cdc_field *fd = &m->fields[f];
            int c = find_col(ap->cols, n, fd->name);
            if (c >= 0) {
                if (!lks_merge__type_fits(&fd->type, &ap->cols[c]))
                    return lks_err_set(err, LKS_EINVAL,
                                       "merge: column '%s': the events' %s values do not fit the table's %s column "
                                       "(an incompatible type change)",
                                       fd->name, lks_merge__cdc_type_name(&fd->type, t1, sizeof t1),
                                       lks_merge__type_name(&ap->cols[c], t2, sizeof t2));
                ap->tmap[s][f] = c;
                continue;
            }
            if (ap->snap && ap->colmap)
                return lks_err_set(err, LKS_EUNSUPPORTED,
                                   "merge: new column '%s': adding columns to a table with column mapping is not "
                                   "supported",
                                   fd->name);
            if (ap->snap && is_key_name(b, fd->name))
                return lks_err_set(err, LKS_EINVAL, "merge: key column '%s' is not in the table", fd->name);
            lks_delta_type *ct = &ap->cols[n];
            memset(ct, 0, sizeof *ct);
            lks_merge__map_type(&fd->type, b->datetime_as_ntz, ct);
            ct->name = fd->name;
            ct->nullable = !(!ap->snap && is_key_name(b, fd->name));
            ct->field_id = -1;
            ct->metadata_json = "{}";
            ap->tmap[s][f] = n++;
            if (ap->snap) (*added)++;
        }
    }
    ap->ncols0 = n0;
    ap->ncols = n;
    memset(&ap->root, 0, sizeof ap->root);
    ap->root.kind = LKS_DT_STRUCT;
    ap->root.nullable = 1;
    ap->root.children = ap->cols;
    ap->root.nchildren = n;
    ap->root.field_id = -1;
    ap->root.metadata_json = "{}";
    /* key columns */
    ap->kcol = lks_arena_alloc(&ap->a, ((size_t)b->nkeys + 1) * sizeof *ap->kcol);
    ap->kname = lks_arena_alloc(&ap->a, ((size_t)b->nkeys + 1) * sizeof *ap->kname);
    if (!ap->kcol || !ap->kname) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    for (int k = 0; k < ap->nk; k++) {
        int c = find_col(ap->cols, n, b->keys[k]);
        if (c < 0) return lks_err_set(err, LKS_EINVAL, "merge: key column '%s' is not in the table", b->keys[k]);
        if (!same_type(&ap->cols[c], &b->ktypes[k]))
            return lks_err_set(err, LKS_EINVAL, "merge: key column '%s' is %s in the table, the batch has %s",
                               b->keys[k], lks_merge__type_name(&ap->cols[c], t1, sizeof t1),
                               lks_merge__type_name(&b->ktypes[k], t2, sizeof t2));
        ap->kcol[k] = c;
        ap->kname[k] = ap->colmap && ap->cols[c].physical_name ? ap->cols[c].physical_name : ap->cols[c].name;
    }
    return LKS_OK;
}

/* The protocol a new table needs, or the upgrade an evolved one needs
 * (*need 0 when the current one will do). */
static const char *const LEGACY_WRITER[][2] = {{"appendOnly", "2"},       {"invariants", "2"},
                                               {"checkConstraints", "3"}, {"changeDataFeed", "4"},
                                               {"generatedColumns", "4"}, {"columnMapping", "5"},
                                               {"identityColumns", "6"}};

static int build_protocol(applier *ap, int dv, lks_delta_protocol *p, int *need, lks_err *err) {
    int ntz = 0;
    for (int i = 0; i < ap->ncols; i++) ntz |= ap->cols[i].kind == LKS_DT_TIMESTAMP_NTZ;
    memset(p, 0, sizeof *p);
    *need = 0;
    const char **rf = lks_arena_alloc(&ap->a, 16 * sizeof *rf), **wf = lks_arena_alloc(&ap->a, 16 * sizeof *wf);
    if (!rf || !wf) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    if (!ap->snap) {
        *need = 1;
        if (!dv && !ntz) {
            p->min_reader = 1, p->min_writer = 2;
            return LKS_OK;
        }
        p->min_reader = 3, p->min_writer = 7;
        if (dv) rf[p->nreader_features++] = "deletionVectors", wf[p->nwriter_features++] = "deletionVectors";
        if (ntz) rf[p->nreader_features++] = "timestampNtz", wf[p->nwriter_features++] = "timestampNtz";
        p->reader_features = rf, p->writer_features = wf;
        return LKS_OK;
    }
    const lks_delta_protocol *cur = &ap->snap->protocol;
    int has_ntz_before = 0;
    for (int i = 0; i < ap->ncols0; i++) has_ntz_before |= ap->cols[i].kind == LKS_DT_TIMESTAMP_NTZ;
    if (!ntz || has_ntz_before) return LKS_OK;
    if (cur->min_reader >= 3 && cur->min_writer >= 7 && has_str(cur->reader_features, cur->nreader_features, "timestampNtz") &&
        has_str(cur->writer_features, cur->nwriter_features, "timestampNtz"))
        return LKS_OK;
    /* upgrade to table features, listing what the old versions implied */
    *need = 1;
    p->min_reader = 3, p->min_writer = 7;
    if (cur->min_reader >= 3) {
        if (cur->nreader_features > 14) return lks_err_set(err, LKS_ELIMIT, "merge: too many reader features");
        for (int i = 0; i < cur->nreader_features; i++) rf[p->nreader_features++] = cur->reader_features[i];
    } else if (cur->min_reader == 2) {
        rf[p->nreader_features++] = "columnMapping";
    }
    if (cur->min_writer >= 7) {
        if (cur->nwriter_features > 14) return lks_err_set(err, LKS_ELIMIT, "merge: too many writer features");
        for (int i = 0; i < cur->nwriter_features; i++) wf[p->nwriter_features++] = cur->writer_features[i];
    } else {
        for (size_t i = 0; i < sizeof LEGACY_WRITER / sizeof *LEGACY_WRITER; i++)
            if (cur->min_writer >= LEGACY_WRITER[i][1][0] - '0') wf[p->nwriter_features++] = LEGACY_WRITER[i][0];
    }
    if (!has_str(rf, p->nreader_features, "timestampNtz")) rf[p->nreader_features++] = "timestampNtz";
    if (!has_str(wf, p->nwriter_features, "timestampNtz")) wf[p->nwriter_features++] = "timestampNtz";
    p->reader_features = rf, p->writer_features = wf;
    return LKS_OK;
}

/* ---- rows ------------------------------------------------------------------------------------ */

/* The key filter: a word chosen by the hash's top bits, two bits in it.
 * Small enough to stay in cache, so that the table rows that are none of
 * the batch's keys (most of them) rarely touch the batch's hash table. */
static uint64_t kf_bits(uint64_t h) { return (1ULL << (h & 63)) | (1ULL << ((h >> 6) & 63)); }

static size_t kf_word(const applier *ap, uint64_t h) {
    return (size_t)((h * 0x9E3779B97F4A7C15ULL) >> 20) & ap->kfmask;
}

static void kf_build(applier *ap) {
    const lks_merge_batch *b = ap->b;
    size_t words = 1;
    while (words * 8 < b->nents && words < ((size_t)1 << 40)) words *= 2; /* 8-16 bits a key */
    ap->kf = calloc(words, sizeof *ap->kf);
    if (!ap->kf) return; /* no filter: every lookup goes to the table */
    ap->kfmask = words - 1;
    for (size_t i = 0; i < b->nents; i++) {
        uint64_t h = LKS_MERGE_ENT(b, i)->hash;
        ap->kf[kf_word(ap, h)] |= kf_bits(h);
    }
}

/* Rows of a scan batch (ncols columns) whose keys the batch holds, into
 * out (ascending); returns their count, SIZE_MAX when out of memory.  A row
 * whose key column is missing, null or of another form holds no key of
 * ours.  The lookups go in stages over the whole batch so that the memory
 * each needs is fetched for all of them at once: encode, hash and filter
 * every key, prefetching its slot; find each one's first slot of the same
 * tag, prefetching the entry; prefetch those entries' keys; then look
 * them up. */
static size_t batch_hits(applier *ap, const lks_delta_batch *bt, int ncols, uint32_t *out) {
    const lks_merge_batch *b = ap->b;
    kcand *cd = ap->cands;
    size_t nc = 0, nout = 0;
    if (!b->nslots) return 0;
    size_t mask = b->nslots - 1;
    lks_buf_reset(&ap->kbuf);
    for (size_t i = 0; i < bt->n; i++) {
        if (bt->row_index[i] < 0) continue;
        size_t at = ap->kbuf.len;
        int ok = 1;
        for (int k = 0; k < b->nkeys && ok; k++) {
            int c = ap->kcol[k], r = LKS_EINVAL;
            if (c < ncols && bt->cols[c]) r = lks_merge__key_put(&ap->kbuf, &b->ktypes[k], &bt->cols[c][i]);
            if (r == LKS_ENOMEM) return SIZE_MAX;
            ok = r == LKS_OK;
        }
        size_t len = ap->kbuf.len - at;
        if (!ok || len > UINT32_MAX || at > UINT32_MAX) {
            ap->kbuf.len = at;
            continue;
        }
        uint64_t h = lks_hash(ap->kbuf.ptr + at, len);
        if (ap->kf) {
            uint64_t m = kf_bits(h);
            if ((ap->kf[kf_word(ap, h)] & m) != m) {
                ap->kbuf.len = at;
                continue;
            }
        }
        __builtin_prefetch(&b->slots[h & mask]);
        cd[nc++] = (kcand){(uint32_t)i, (uint32_t)at, (uint32_t)len, 0, h};
    }
    for (size_t c = 0; c < nc; c++) {
        uint64_t tag = cd[c].h >> 32;
        for (size_t i = cd[c].h & mask;; i = (i + 1) & mask) {
            uint64_t sl = b->slots[i];
            if (!sl) break;
            if (sl >> 32 == tag) {
                cd[c].ent = (uint32_t)sl;
                __builtin_prefetch(LKS_MERGE_ENT(b, (uint32_t)sl - 1));
                break;
            }
        }
    }
    for (size_t c = 0; c < nc; c++)
        if (cd[c].ent) __builtin_prefetch(LKS_MERGE_ENT(b, cd[c].ent - 1)->key);
    for (size_t c = 0; c < nc; c++)
        if (cd[c].ent && lks_merge__find(b, ap->kbuf.ptr + cd[c].at, cd[c].len, cd[c].h)) out[nout++] = cd[c].row;
    return nout;
}

/* Top-level columns of a scan's rows. */
static int scan_ncols(const lks_delta_scan *sc) {
    const lks_pq_schema *rs = lks_delta_scan_schema(sc);
    return rs && rs->num_fields > 0 ? rs->fields[0].num_children : 0;
}

typedef struct filt {
    const lks_delta_snapshot *snap;
    const uint8_t *sel;
} filt;

static int file_filter(void *ud, const lks_delta_add *a) {
    const filt *f = ud;
    return f->sel[a - f->snap->files];
}

/* numRecords of a file's stats, -1 when unknown. */
static int64_t num_records(const lks_delta_add *a) {
    if (!a->stats) return -1;
    json_t *st = json_loads(a->stats, 0, NULL);
    json_t *nr = json_object_get(st, "numRecords");
    int64_t n = json_is_integer(nr) ? json_integer_value(nr) : -1;
    json_decref(st);
    return n;
}

static int remove_file(lks_delta_txn *x, const lks_delta_add *a) {
    lks_delta_remove r;
    memset(&r, 0, sizeof r);
    r.path = a->path;
    r.deletion_timestamp = -1;
    r.data_change = 1;
    r.extended_file_metadata = 1;
    r.partition_values = a->partition_values;
    r.npartition_values = a->npartition_values;
    r.size = a->size;
    r.dv = a->dv;
    r.has_dv = a->has_dv;
    return lks_delta_txn_remove(x, &r);
}


/* Takes the batch's keys out of the live files (steps 1-3 of the header). */
static int apply_keys(applier *ap, lks_delta_txn *x, lks_delta_writer *w, lks_merge_stats *st, lks_err *err) {
    lks_merge_batch *b = ap->b;
    const lks_delta_snapshot *snap = ap->snap;
    size_t nf = snap->nfiles;
    uint8_t *cand = calloc(nf + 1, 1);
    hit *hits = NULL;
    size_t nhits = 0, chits = 0;
    uint64_t *rows = NULL;
    lks_delta_scan *sc = NULL;
    int rc = LKS_OK;
    if (!cand) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    size_t ncand = 0;
    for (size_t i = 0; i < nf; i++) {
        int bb;
        if (!may_hold(ap, &snap->files[i], &bb)) {
            st->files_skipped++;
            continue;
        }
        cand[i] = 1;
        ncand++;
        if (lks_delta_txn_read_file(x, snap->files[i].path) != LKS_OK) {
            rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
            goto done;
        }
    }
    if (!ncand) goto done;
    /* the key columns of the candidates */
    const char **kc = lks_arena_alloc(&ap->a, (size_t)b->nkeys * sizeof *kc);
    if (!kc) {
        rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        goto done;
    }
    for (int k = 0; k < b->nkeys; k++) kc[k] = ap->cols[ap->kcol[k]].name;
    filt fc = {snap, cand};
    lks_delta_scan_opts so;
    memset(&so, 0, sizeof so);
    so.columns = kc;
    so.ncolumns = b->nkeys;
    so.file_filter = file_filter;
    so.file_filter_ud = &fc;
    rc = lks_delta_scan_open(ap->t, snap, &so, &sc, err);
    if (rc) goto fail;
    int kcols = scan_ncols(sc), sorted = 1;
    for (;;) {
        const lks_delta_batch *bt;
        rc = lks_delta_scan_next_batch(sc, &bt, err);
        if (rc < 0) goto fail;
        if (rc == 0) break;
        uint32_t f = (uint32_t)(bt->file - snap->files);
        if (bt->n > LKS_DELTA_BATCH_ROWS) {
            rc = lks_err_set(err, LKS_EINTERNAL, "merge: scan batch of %zu rows", bt->n);
            goto fail;
        }
        uint32_t found[LKS_DELTA_BATCH_ROWS];
        size_t nfound = batch_hits(ap, bt, kcols, found);
        if (nfound == SIZE_MAX) {
            rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
            goto done;
        }
        for (size_t q = 0; q < nfound; q++) {
            if (grow((void **)&hits, &chits, nhits, sizeof *hits)) {
                rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
                goto done;
            }
            hits[nhits].file = f;
            hits[nhits].row = (uint64_t)bt->row_index[found[q]];
            if (nhits && hit_cmp(&hits[nhits - 1], &hits[nhits]) > 0) sorted = 0;
            nhits++;
        }
    }
    rc = LKS_OK;
    lks_delta_scan_free(sc);
    sc = NULL;
    if (!nhits) goto done;
    if (!sorted) qsort(hits, nhits, sizeof *hits, hit_cmp);
    /* deletion vectors where the table has them, rewrites elsewhere */
    memset(cand, 0, nf);
    size_t nrewrite = 0;
    int dv = dv_table(snap);
    rows = malloc(nhits * sizeof *rows);
    if (!rows) {
        rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        goto done;
    }
    for (size_t i = 0; i < nhits;) {
        size_t j = i;
        uint32_t f = hits[i].file;
        size_t n = 0;
        while (j < nhits && hits[j].file == f) {
            if (!n || rows[n - 1] != hits[j].row) rows[n++] = hits[j].row;
            j++;
        }
        const lks_delta_add *a = &snap->files[f];
        int64_t nrec = dv ? num_records(a) : -1;
        if (dv && nrec >= 0) {
            rc = lks_delta_txn_delete_rows(x, a, rows, n, err);
            if (rc) goto fail;
            int64_t before = a->has_dv ? a->dv.cardinality : 0;
            if (before + (int64_t)n >= nrec) st->files_removed++;
            else st->files_dv++;
        } else {
            cand[f] = 1;
            nrewrite++;
        }
        i = j;
    }
    if (nrewrite) {
        /* copy-on-write: the hit files again, every column, without the hit rows */
        memset(&so, 0, sizeof so);
        so.file_filter = file_filter;
        so.file_filter_ud = &fc;
        rc = lks_delta_scan_open(ap->t, snap, &so, &sc, err);
        if (rc) goto fail;
        int ncols = scan_ncols(sc);
        uint32_t keep[LKS_DELTA_BATCH_ROWS];
        size_t hp = 0;      /* the next hit of file cf, rows ascending as the scan goes */
        int64_t cf = -1;
        for (;;) {
            const lks_delta_batch *bt;
            rc = lks_delta_scan_next_batch(sc, &bt, err);
            if (rc < 0) goto fail;
            if (rc == 0) break;
            uint32_t f = (uint32_t)(bt->file - snap->files);
            if ((int64_t)f != cf) { /* the file's first hit */
                size_t lo = 0, hi = nhits;
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (hits[mid].file < f) lo = mid + 1;
                    else hi = mid;
                }
                hp = lo;
                cf = f;
            }
            size_t nkeep = 0;
            for (size_t i = 0; i < bt->n; i++) {
                uint64_t r = (uint64_t)bt->row_index[i];
                while (hp < nhits && hits[hp].file == f && hits[hp].row < r) hp++;
                if (hp < nhits && hits[hp].file == f && hits[hp].row == r) continue; /* one of our keys */
                keep[nkeep++] = (uint32_t)i;
            }
            rc = lks_delta_writer_write_cols(w, bt->cols, ncols, keep, nkeep, err);
            if (rc) goto fail;
            st->rows_written += (int64_t)nkeep;
        }
        rc = LKS_OK;
        for (size_t i = 0; i < nf; i++)
            if (cand[i]) {
                if (remove_file(x, &snap->files[i]) != LKS_OK) {
                    rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
                    goto done;
                }
                st->files_removed++;
            }
    }
    goto done;
fail:
    lks_err_prefix(err, "merge");
done:
    lks_delta_scan_free(sc);
    free(cand);
    free(hits);
    free(rows);
    return rc;
}

/* Writes the upserts' after images. */
#define UPSERT_ROWS 1024 /* after images converted per lks_delta_writer_write_cols call */

/* Writes the upserts' after images, converted a chunk of rows at a time
 * into columns. */
static int write_upserts(applier *ap, lks_delta_writer *w, lks_merge_stats *st, lks_err *err) {
    lks_merge_batch *b = ap->b;
    int maxf = 1, nc = ap->ncols;
    for (int s = 0; s < b->nschemas; s++)
        if (b->schemas[s].nfields > maxf) maxf = b->schemas[s].nfields;
    lks_cdc_value *vals = malloc((size_t)maxf * sizeof *vals);
    lks_pq_value **cols = calloc((size_t)nc + 1, sizeof *cols);
    int rc = vals && cols ? LKS_OK : LKS_ENOMEM;
    for (int c = 0; c < nc && !rc; c++)
        if (!(cols[c] = malloc(UPSERT_ROWS * sizeof *cols[c]))) rc = LKS_ENOMEM;
    if (rc) {
        rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        goto out;
    }
    char tn[64];
    size_t n = 0;
    lks_arena_reset(&ap->fa);
    for (size_t i = 0; i <= b->nents && rc == LKS_OK; i++) {
        if (n == UPSERT_ROWS || (i == b->nents && n)) {
            rc = lks_delta_writer_write_cols(w, (const lks_pq_value *const *)cols, nc, NULL, n, err);
            if (rc) break;
            st->rows_written += (int64_t)n;
            n = 0;
            lks_arena_reset(&ap->fa);
        }
        if (i == b->nents) break;
        const lks_merge_entry *e = LKS_MERGE_ENT(b, i);
        if (e->op != 'u') continue;
        const lks_merge_schema *m = &b->schemas[e->schema];
        lks_merge__row_decode(e, vals, m->nfields);
        for (int c = 0; c < nc; c++) memset(&cols[c][n], 0, sizeof cols[c][n]);
        for (int f = 0; f < m->nfields; f++) {
            int c = ap->tmap[e->schema][f];
            int r = lks_merge__conv_value(&vals[f], &ap->cols[c], &ap->fa, &cols[c][n]);
            if (r == LKS_ENOMEM) {
                rc = lks_err_set(err, r, "merge: out of memory");
                break;
            }
            if (r != LKS_OK) {
                rc = lks_err_set(err, LKS_EINVAL, "merge: column '%s': a value does not fit the table's %s column",
                                 m->fields[f].name, lks_merge__type_name(&ap->cols[c], tn, sizeof tn));
                break;
            }
        }
        for (int c = 0; c < nc && rc == LKS_OK; c++)
            if (!ap->cols[c].nullable && cols[c][n].kind == LKS_PQ_V_NULL)
                rc = lks_err_set(err, LKS_EINVAL, "merge: column '%s' is not nullable but a row has no value for it",
                                 ap->cols[c].name);
        n++;
    }
out:
    for (int c = 0; cols && c < nc; c++) free(cols[c]);
    free(cols);
    free(vals);
    return rc;
}

/* ---- commit ----------------------------------------------------------------------------------- */

static void applier_free(applier *ap) {
    free(ap->keys);
    free(ap->pass);
    free(ap->kf);
    free(ap->cands);
    for (int j = 0; ap->lo && j < ap->b->nkeys; j++) lks_buf_free(&ap->lo[j]);
    for (int j = 0; ap->hi && j < ap->b->nkeys; j++) lks_buf_free(&ap->hi[j]);
    free(ap->lo);
    free(ap->hi);
    free(ap->has_lo);
    free(ap->has_hi);
    lks_buf_free(&ap->tmp);
    lks_buf_free(&ap->kbuf);
    lks_arena_free(&ap->fa);
    lks_arena_free(&ap->a);
}

int lks_merge__batch_commit_at(lks_merge_batch *b, const lks_delta_snapshot *read, lks_merge_stats *stp,
                               lks_err *err) {
    lks_merge_stats st;
    memset(&st, 0, sizeof st);
    st.version = -1;
    st.events = b->nevents;
    st.truncates = b->ntruncates;
    for (size_t i = 0; i < b->nents; i++) {
        if (LKS_MERGE_ENT(b, i)->op == 'u') st.upserts++;
        else st.deletes++;
    }
    if (stp) *stp = st;
    if (!b->nents && !b->truncate && !b->nstreams) {
        lks_merge__batch_reset(b);
        return LKS_OK;
    }
    applier ap;
    memset(&ap, 0, sizeof ap);
    ap.b = b;
    ap.t = b->t;
    ap.truncate = b->truncate;
    ap.nk = b->keys_fixed ? b->nkeys : 0;
    lks_arena_init(&ap.a, 0);
    lks_arena_init(&ap.fa, 0);
    lks_buf_init(&ap.tmp, 0);
    lks_buf_init(&ap.kbuf, 0);
    lks_delta_snapshot *owned = NULL;
    lks_delta_txn *x = NULL;
    lks_delta_writer *w = NULL;
    int rc = LKS_OK;
    if (read) {
        ap.snap = read;
    } else {
        rc = lks_delta_snapshot_latest(b->t, &owned, err);
        if (rc == LKS_ENOTFOUND) rc = LKS_OK;
        else if (rc) {
            lks_err_prefix(err, "merge: reading the table");
            goto out;
        }
        ap.snap = owned;
    }
    if (!ap.snap && !b->nschemas) {
        /* no table and nothing to create it from (positions, truncates):
         * nothing to store; the events are re-read after a restart */
        lks_merge__batch_reset(b);
        goto out;
    }
    if (ap.snap) {
        const char *cm = lks_delta_snapshot_property(ap.snap, "delta.columnMapping.mode");
        ap.colmap = cm && (strcmp(cm, "name") == 0 || strcmp(cm, "id") == 0);
        for (int i = 0; i < b->nstreams; i++) {
            int64_t v = lks_merge_stream_version(ap.snap, b->streams[i].name);
            if (v > b->streams[i].next_pos && !b->streams[i].rebase) {
                rc = lks_err_set(err, LKS_EINVAL,
                                 "merge: stream '%s' is at position %" PRId64 " in the table, past this batch's %" PRId64
                                 " (the batch was already applied)",
                                 b->streams[i].name, v, b->streams[i].next_pos);
                goto out;
            }
        }
    }
    if (b->nschemas && !b->keys_fixed) {
        rc = lks_err_set(err, LKS_EINTERNAL, "merge: batch has schemas but no key");
        goto out;
    }
    int added = 0;
    rc = build_schema(&ap, &added, err);
    if (rc) goto out;
    int nk = b->nkeys > 0 ? b->nkeys : 1;
    ap.lo = calloc((size_t)nk, sizeof *ap.lo);
    ap.hi = calloc((size_t)nk, sizeof *ap.hi);
    ap.has_lo = calloc((size_t)nk, sizeof *ap.has_lo);
    ap.has_hi = calloc((size_t)nk, sizeof *ap.has_hi);
    ap.keys = malloc((b->nents + 1) * sizeof *ap.keys);
    if (!ap.lo || !ap.hi || !ap.has_lo || !ap.has_hi || !ap.keys) {
        rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        goto out;
    }
    for (int j = 0; j < nk; j++) lks_buf_init(&ap.lo[j], 0), lks_buf_init(&ap.hi[j], 0);
    for (size_t i = 0; i < b->nents; i++) ap.keys[i].k = LKS_MERGE_ENT(b, i)->key, ap.keys[i].n = LKS_MERGE_ENT(b, i)->klen;
    ap.nkeys = b->nents;
    if (ap.snap && ap.snap->nfiles) /* sorted for pruning files by their key ranges; none to prune otherwise */
        lks_merge__sort_keys(ap.keys, ap.nkeys);
    kf_build(&ap);
    if (!(ap.cands = malloc(LKS_DELTA_BATCH_ROWS * sizeof *ap.cands))) {
        rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        goto out;
    }

    /* the metadata this commit leaves in force */
    lks_delta_metadata meta;
    int create = !ap.snap;
    if (create) {
        int dv = 0;
        for (int i = 0; i < b->nprops; i++)
            if (strcmp(b->props[i].key, "delta.enableDeletionVectors") == 0 && b->props[i].value &&
                strcasecmp(b->props[i].value, "true") == 0)
                dv = 1;
        memset(&meta, 0, sizeof meta);
        meta.format_provider = "parquet";
        meta.schema = &ap.root;
        meta.created_time = -1;
        lks_delta_kv *conf = lks_arena_alloc(&ap.a, ((size_t)b->nprops + 1) * sizeof *conf);
        lks_buf pk;
        lks_buf_init(&pk, 0);
        for (int k = 0; k < ap.nk && rc == LKS_OK; k++)
            rc = lks_buf_printf(&pk, "%s%s", k ? "," : "", ap.cols[ap.kcol[k]].name);
        const char *pks = rc == LKS_OK && pk.len ? lks_arena_strndup(&ap.a, (const char *)pk.ptr, pk.len) : NULL;
        lks_buf_free(&pk);
        if (!conf || !pks) {
            rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
            goto out;
        }
        int nc = 0;
        for (int i = 0; i < b->nprops; i++) conf[nc++] = b->props[i];
        if (!kv_get(conf, nc, "lakesync.primaryKey")) conf[nc].key = "lakesync.primaryKey", conf[nc++].value = pks;
        meta.configuration = conf;
        meta.nconfiguration = nc;
        lks_delta_protocol proto;
        int need;
        rc = build_protocol(&ap, dv, &proto, &need, err);
        if (rc) goto out;
        rc = lks_delta_txn_begin(b->t, NULL, "MERGE", &x, err);
        if (rc) goto out;
        if (lks_delta_txn_set_protocol(x, &proto) != LKS_OK || lks_delta_txn_set_metadata(x, &meta) != LKS_OK) {
            rc = lks_err_set(err, LKS_EINVAL, "merge: creating the table's metadata failed");
            goto out;
        }
        st.created = 1;
    } else {
        meta = ap.snap->metadata;
        rc = lks_delta_txn_begin(b->t, ap.snap, "MERGE", &x, err);
        if (rc) goto out;
        if (added) {
            meta.schema = &ap.root;
            meta.schema_string = NULL;
            lks_delta_protocol proto;
            int need;
            rc = build_protocol(&ap, 0, &proto, &need, err);
            if (rc) goto out;
            if ((need && lks_delta_txn_set_protocol(x, &proto) != LKS_OK) ||
                lks_delta_txn_set_metadata(x, &meta) != LKS_OK) {
                rc = lks_err_set(err, LKS_EINVAL, "merge: updating the table's schema failed");
                goto out;
            }
        }
    }
    meta.schema = &ap.root;
    /* the writer, with bloom filters on the key columns that are data columns */
    lks_delta_writer_opts wo;
    memset(&wo, 0, sizeof wo);
    lks_pq_writer_opts_default(&wo.parquet);
    const char **bc = lks_arena_alloc(&ap.a, ((size_t)b->nkeys + 1) * sizeof *bc);
    if (!bc) {
        rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        goto out;
    }
    for (int k = 0; k < ap.nk; k++) {
        const char *cn = ap.cols[ap.kcol[k]].name;
        if (!has_str(meta.partition_columns, meta.npartition_columns, cn)) bc[wo.nbloom_columns++] = cn;
    }
    wo.bloom_columns = bc;
    rc = lks_delta_writer_open(x, &meta, &wo, &w, err);
    if (rc) goto out;

    if (ap.snap && b->truncate) {
        for (size_t i = 0; i < ap.snap->nfiles; i++) {
            if (remove_file(x, &ap.snap->files[i]) != LKS_OK) {
                rc = lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
                goto out;
            }
            st.files_removed++;
        }
        lks_delta_txn_read_all(x);
    } else if (ap.snap && ap.nkeys) {
        rc = apply_keys(&ap, x, w, &st, err);
        if (rc) goto out;
    }
    rc = write_upserts(&ap, w, &st, err);
    if (rc) goto out;
    rc = lks_delta_writer_close(w, err);
    if (rc) goto out;
    st.files_added = lks_delta_writer_files(w);
    lks_buf id;
    lks_buf_init(&id, 0);
    for (int i = 0; i < b->nstreams && rc == LKS_OK; i++) {
        lks_buf_reset(&id);
        rc = lks_buf_printf(&id, "lakesync:%s", b->streams[i].name);
        if (!rc) rc = lks_buf_cstr(&id);
        if (!rc) rc = lks_delta_txn_set_app_version(x, (const char *)id.ptr, b->streams[i].next_pos);
    }
    lks_buf_free(&id);
    if (rc) {
        rc = lks_err_set(err, rc, "merge: out of memory");
        goto out;
    }
    lks_delta_txn_set_conflict_fn(x, conflict_fn, &ap);
    lks_delta_txn_set_metric(x, "numSourceRows", st.events);
    lks_delta_txn_set_metric(x, "numTargetRowsUpserted", st.upserts);
    lks_delta_txn_set_metric(x, "numTargetKeysDeleted", st.deletes);
    lks_delta_txn_set_metric(x, "numOutputRows", st.rows_written);
    lks_delta_txn_set_metric(x, "numTargetFilesAdded", st.files_added);
    lks_delta_txn_set_metric(x, "numTargetFilesRemoved", st.files_removed);
    lks_delta_txn_set_metric(x, "numDeletionVectorsAdded", st.files_dv);
    int64_t v = -1;
    rc = lks_delta_txn_commit(x, 0, &v, err);
    if (rc) {
        lks_err_prefix(err, "merge");
        goto out;
    }
    st.version = v;
    lks_merge__batch_reset(b);
out:
    if (rc) st.version = -1;
    if (stp) *stp = st;
    lks_delta_writer_free(w);
    lks_delta_txn_free(x);
    applier_free(&ap);
    lks_delta_snapshot_free(owned);
    return rc;
}
