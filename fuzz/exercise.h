/*
 * exercise.h — drives the Parquet reader over one untrusted file in memory,
 * touching every reader entry point: open, every column chunk of every row
 * group, chunk statistics, bloom filter probes, row assembly (all columns
 * and a projection, row by row and column by column) and JSON printing of
 * rows and statistics.
 *
 * Shared by the libFuzzer target (fuzz/fuzz_parquet.c) and the unit test
 * that replays fuzz/seeds/ and fuzz/crashes/ (tests/unit/test_parquet_hostile.c),
 * so both run exactly the same code path.
 *
 * The reader must turn any input into a status code: a status outside the
 * documented set, an error without a message, or a column batch that breaks
 * its own invariants (levels above their maximum, value counts that disagree
 * with the definition levels) is a bug, reported by calling abort() so that
 * the fuzzer and the test both see it.
 */
#ifndef LKS_FUZZ_EXERCISE_H
#define LKS_FUZZ_EXERCISE_H

#include "parquet/parquet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Row iteration stops after this many rows per pass: a file may legally
 * claim 2^62 rows of a schema without columns, which would take forever to
 * enumerate without ever being wrong. */
#define LKS_FUZZ_MAX_ROWS 200000

typedef struct lks_fuzz_result {
    int open_rc;     /* status of lks_pq_reader_open */
    int columns_ok;  /* column chunks read successfully */
    int columns_err; /* column chunks refused */
    long rows;       /* rows assembled and printed (all passes) */
    int rows_rc;     /* final status of the full row pass: 0 at the end, negative on error */
    size_t json_bytes;
} lks_fuzz_result;

static void lks_fuzz_bug(const char *what, int rc, const lks_err *err) {
    fprintf(stderr, "exercise: %s (status %d: %s)\n", what, rc, err ? err->msg : "");
    abort();
}

/* A status any reader call may return on hostile input. */
static void lks_fuzz_check_rc(const char *what, int rc, const lks_err *err) {
    switch (rc) {
    case LKS_OK: return;
    case LKS_ECORRUPT:
    case LKS_ELIMIT:
    case LKS_EUNSUPPORTED:
    case LKS_ECHECKSUM:
    case LKS_ENOMEM:
        if (err && err->msg[0] == 0)
            lks_fuzz_bug(what, rc, err); /* an error must say what went wrong */
        return;
    default: lks_fuzz_bug(what, rc, err);
    }
}

/* Invariants of a successfully decoded column batch. */
static void lks_fuzz_check_batch(const lks_pq_column *c, const lks_pq_colbatch *b) {
    if (b->nvals > b->n)
        lks_fuzz_bug("batch holds more values than level entries", 0, NULL);
    if ((c->max_def > 0) != (b->def != NULL) || (c->max_rep > 0) != (b->rep != NULL))
        lks_fuzz_bug("batch level arrays do not match the column", 0, NULL);
    if (b->n && !b->values && b->nvals)
        lks_fuzz_bug("batch without values", 0, NULL);
    size_t present = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (b->def) {
            if (b->def[i] > c->max_def)
                lks_fuzz_bug("definition level above the maximum", 0, NULL);
            present += b->def[i] == c->max_def;
        } else {
            present++;
        }
        if (b->rep && b->rep[i] > c->max_rep)
            lks_fuzz_bug("repetition level above the maximum", 0, NULL);
    }
    if (present != b->nvals)
        lks_fuzz_bug("value count disagrees with definition levels", 0, NULL);
    /* touch every value so the sanitizers see stale slices */
    volatile uint8_t sink = 0;
    if (c->type == LKS_PQ_BYTE_ARRAY || c->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY) {
        const lks_slice *s = b->values;
        for (size_t i = 0; i < b->nvals; i++) {
            if (c->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY && s[i].len != (size_t)c->type_length)
                lks_fuzz_bug("fixed-length value of the wrong width", 0, NULL);
            if (s[i].len)
                sink ^= s[i].ptr[0] ^ s[i].ptr[s[i].len - 1];
        }
    } else if (b->nvals) {
        const uint8_t *v = b->values;
        size_t w = c->type == LKS_PQ_BOOLEAN ? 1 : c->type == LKS_PQ_INT96 ? 12
                 : c->type == LKS_PQ_INT64 || c->type == LKS_PQ_DOUBLE ? 8 : 4;
        sink ^= v[0] ^ v[b->nvals * w - 1];
    }
    (void)sink;
}

/* Iterates rows over cols (NULL: all), printing each; returns the final
 * status of lks_pq_rows_next (0 at the end) and adds to res. */
static int lks_fuzz_rows(lks_pq_reader *r, const int *cols, int ncols, lks_buf *json, lks_fuzz_result *res) {
    const lks_pq_schema *s = lks_pq_reader_schema(r);
    lks_err err = {0};
    lks_pq_rows *it = NULL;
    int rc = lks_pq_rows_open(r, cols, ncols, &it, &err);
    lks_fuzz_check_rc("lks_pq_rows_open", rc, &err);
    if (rc != LKS_OK)
        return rc;
    long n = 0;
    for (;;) {
        const lks_pq_value *row = NULL;
        lks_err_clear(&err);
        rc = lks_pq_rows_next(it, &row, &err);
        if (rc == 1) {
            if (!row || row->kind != LKS_PQ_V_GROUP)
                lks_fuzz_bug("lks_pq_rows_next returned no row", rc, &err);
            lks_buf_reset(json);
            int jrc = lks_pq_value_to_json(json, s, 0, row);
            lks_fuzz_check_rc("lks_pq_value_to_json (row)", jrc, NULL);
            res->json_bytes += json->len;
            res->rows++;
            if (++n >= LKS_FUZZ_MAX_ROWS) {
                rc = 0;
                break;
            }
            continue;
        }
        if (rc != 0)
            lks_fuzz_check_rc("lks_pq_rows_next", rc, &err);
        break;
    }
    lks_pq_rows_free(it);
    return rc;
}

/* Do two scalar values from the reader hold the same thing? */
static int lks_fuzz_same_value(const lks_pq_value *a, const lks_pq_value *b) {
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case LKS_PQ_V_NULL: return 1;
    case LKS_PQ_V_BOOL: return a->u.b == b->u.b;
    case LKS_PQ_V_INT32: return a->u.i32 == b->u.i32;
    case LKS_PQ_V_INT64: return a->u.i64 == b->u.i64;
    case LKS_PQ_V_FLOAT: return memcmp(&a->u.f32, &b->u.f32, sizeof a->u.f32) == 0;
    case LKS_PQ_V_DOUBLE: return memcmp(&a->u.f64, &b->u.f64, sizeof a->u.f64) == 0;
    case LKS_PQ_V_INT96: return memcmp(a->u.i96.b, b->u.i96.b, 12) == 0;
    case LKS_PQ_V_BYTES:
        return a->u.bytes.len == b->u.bytes.len &&
               (a->u.bytes.len == 0 || memcmp(a->u.bytes.ptr, b->u.bytes.ptr, a->u.bytes.len) == 0);
    default: return 0;
    }
}

#define LKS_FUZZ_BATCH 97

/* Reads cols (NULL: all) column by column with lks_pq_rows_next_columns,
 * in batches of varying size, beside a row iterator over the same columns:
 * both must give the same values, and fail on the same rows (a batch fails
 * as a whole, so the row iterator must fail within its rows). */
static void lks_fuzz_columns(lks_pq_reader *r, const int *cols, int ncols) {
    const lks_pq_schema *s = lks_pq_reader_schema(r);
    lks_err err = {0}, err2 = {0};
    lks_pq_rows *it = NULL, *ref = NULL;
    if (lks_pq_rows_open(r, cols, ncols, &it, &err) != LKS_OK)
        return;
    if (lks_pq_rows_open(r, cols, ncols, &ref, &err2) != LKS_OK) {
        lks_pq_rows_free(it);
        return;
    }
    int nroot = s->num_fields > 0 ? s->fields[0].num_children : 0;
    lks_pq_value **vals = calloc((size_t)nroot + 1, sizeof *vals);
    uint8_t *sel = calloc((size_t)nroot + 1, 1);
    int ok = vals && sel && lks_pq_rows_is_flat(it);
    /* selected children of the root: a leaf among cols */
    for (int k = 0, f = 1; ok && k < nroot && f < s->num_fields; k++, f = lks_pq_schema_subtree_end(s, f)) {
        int c = s->leaf[f];
        if (c < 0)
            continue;
        sel[k] = cols == NULL;
        for (int i = 0; cols && i < ncols; i++)
            sel[k] |= cols[i] == c;
        if (!(vals[k] = calloc(LKS_FUZZ_BATCH, sizeof(lks_pq_value))))
            ok = 0;
    }
    if (!ok) {
        if (vals && sel && !lks_pq_rows_is_flat(it)) {
            /* not flat: refused */
            size_t n;
            int rg;
            int64_t first;
            if (lks_pq_rows_next_columns(it, 1, vals, &n, &rg, &first, &err) != LKS_EINVAL)
                lks_fuzz_bug("lks_pq_rows_next_columns read rows that are not flat", 0, &err);
        }
    } else {
        long total = 0;
        for (size_t max = 1;; max = max % LKS_FUZZ_BATCH + 1) {
            size_t n = 0;
            int rg = -1;
            int64_t first = -1;
            lks_err_clear(&err);
            int rc = lks_pq_rows_next_columns(it, max, vals, &n, &rg, &first, &err);
            if (rc < 0) {
                lks_fuzz_check_rc("lks_pq_rows_next_columns", rc, &err);
                size_t i = 0;
                const lks_pq_value *row;
                int rrc = 0;
                while (i <= max && (rrc = lks_pq_rows_next(ref, &row, &err2)) == 1)
                    i++;
                if (rrc >= 0)
                    lks_fuzz_bug("a batch failed where rows read", rc, &err);
                break;
            }
            if (rc == 0) {
                const lks_pq_value *row;
                if (lks_pq_rows_next(ref, &row, &err2) != 0)
                    lks_fuzz_bug("batches ended before the rows", rc, &err);
                break;
            }
            if (n == 0 || n > max || rg < 0 || rg >= lks_pq_reader_meta(r)->num_row_groups || first < 0)
                lks_fuzz_bug("a batch of no rows, too many, or nowhere", (int)n, NULL);
            for (size_t i = 0; i < n; i++) {
                const lks_pq_value *row;
                int rrc = lks_pq_rows_next(ref, &row, &err2);
                if (rrc != 1)
                    lks_fuzz_bug("rows ended or failed where a batch read", rrc, &err2);
                for (int k = 0; k < nroot; k++)
                    if (sel[k] && !lks_fuzz_same_value(&vals[k][i], &row->u.list.items[k]))
                        lks_fuzz_bug("a batch value differs from the row's", k, NULL);
            }
            total += (long)n;
            if (total >= LKS_FUZZ_MAX_ROWS)
                break;
        }
    }
    if (vals)
        for (int k = 0; k < nroot; k++)
            free(vals[k]);
    free(vals);
    free(sel);
    lks_pq_rows_free(it);
    lks_pq_rows_free(ref);
}

/* Runs the reader over data[0..size).  Never fails for well-behaved reader
 * code; aborts on a reader bug. */
static void lks_fuzz_exercise(const uint8_t *data, size_t size, lks_fuzz_result *res) {
    memset(res, 0, sizeof *res);
    lks_pq_source src;
    if (lks_pq_source_mem(&src, size ? data : (const uint8_t *)"", size, "fuzz.parquet") != LKS_OK)
        lks_fuzz_bug("lks_pq_source_mem", -1, NULL);
    lks_pq_reader_opts o;
    lks_pq_reader_opts_default(&o);
    o.max_chunk_values = (size_t)1 << 20;
    o.max_page_bytes = (size_t)16 << 20;
    o.max_footer_bytes = (size_t)1 << 20;
    lks_err err = {0};
    lks_pq_reader *r = NULL;
    res->open_rc = lks_pq_reader_open(&src, &o, &r, &err);
    lks_fuzz_check_rc("lks_pq_reader_open", res->open_rc, &err);
    if (res->open_rc != LKS_OK) {
        if (r)
            lks_fuzz_bug("failed open returned a reader", res->open_rc, &err);
        return;
    }
    const lks_pq_file_meta *fm = lks_pq_reader_meta(r);
    const lks_pq_schema *s = lks_pq_reader_schema(r);
    if (!fm || !s)
        lks_fuzz_bug("open reader without metadata or schema", 0, NULL);
    lks_buf json;
    lks_buf_init(&json, (size_t)64 << 20);
    lks_pq_colbatch b;
    lks_pq_colbatch_init(&b);
    for (int g = 0; g < fm->num_row_groups; g++) {
        for (int c = 0; c < s->num_cols; c++) {
            const lks_pq_column *col = &s->cols[c];
            lks_err_clear(&err);
            int rc = lks_pq_read_column(r, g, c, &b, &err);
            lks_fuzz_check_rc("lks_pq_read_column", rc, &err);
            if (rc == LKS_OK) {
                res->columns_ok++;
                lks_fuzz_check_batch(col, &b);
            } else {
                res->columns_err++;
            }
            lks_pq_minmax mm;
            int has = lks_pq_chunk_stats(r, g, c, &mm);
            if (has != 0 && has != 1)
                lks_fuzz_bug("lks_pq_chunk_stats returned neither 0 nor 1", has, NULL);
            if (has) {
                /* a repeated leaf prints an array: wrap the scalar */
                int rep = s->fields[col->field].repetition == LKS_PQ_REPEATED;
                lks_pq_value w = {.kind = LKS_PQ_V_REPEATED};
                w.u.list.n = 1;
                w.u.list.items = &mm.min;
                lks_buf_reset(&json);
                lks_fuzz_check_rc("lks_pq_value_to_json (min)",
                                  lks_pq_value_to_json(&json, s, col->field, rep ? &w : &mm.min), NULL);
                w.u.list.items = &mm.max;
                lks_buf_reset(&json);
                lks_fuzz_check_rc("lks_pq_value_to_json (max)",
                                  lks_pq_value_to_json(&json, s, col->field, rep ? &w : &mm.max), NULL);
            }
            /* probe: a decoded value when there is one, else the minimum, else zeros */
            uint8_t zero[32] = {0};
            lks_slice probe_s = {zero, 0};
            const void *probe = zero;
            int bytes = col->type == LKS_PQ_BYTE_ARRAY || col->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY;
            if (rc == LKS_OK && b.nvals) {
                probe = b.values;
            } else if (has && bytes) {
                probe = &mm.min.u.bytes;
            } else if (bytes) {
                probe = &probe_s;
                if (col->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY && col->type_length > 0 &&
                    (size_t)col->type_length <= sizeof zero)
                    probe_s.len = (size_t)col->type_length;
            }
            lks_err_clear(&err);
            int hit = lks_pq_bloom_may_contain(r, g, c, probe, &err);
            if (hit < 0)
                lks_fuzz_check_rc("lks_pq_bloom_may_contain", hit, &err);
            else if (hit > 1)
                lks_fuzz_bug("lks_pq_bloom_may_contain returned more than 1", hit, NULL);
        }
    }
    lks_pq_colbatch_free(&b);
    res->rows_rc = lks_fuzz_rows(r, NULL, 0, &json, res);
    lks_fuzz_columns(r, NULL, 0);
    if (s->num_cols > 1) {
        /* a projection: every other column, so unselected fields come back NULL */
        int cols[8], n = 0;
        for (int c = 0; c < s->num_cols && n < 8; c += 2)
            cols[n++] = c;
        (void)lks_fuzz_rows(r, cols, n, &json, res);
        lks_fuzz_columns(r, cols, n);
    }
    lks_buf_free(&json);
    lks_pq_reader_free(r);
}

#endif
