/*
 * rows.c — record assembly: column batches (levels + values) back into
 * value trees, one row group at a time, for the selected columns only.
 *
 * For every field the first selected leaf below it stands for it: its
 * definition level says whether the field is null (or an empty list), and
 * its repetition levels say how many items a repeated field holds.  The
 * other leaves must agree; where a file's columns disagree the row is
 * refused as corrupt instead of being assembled wrongly.  Every step
 * consumes at least one level entry, so assembly always ends.  Rows whose
 * selected fields are all top-level leaves ("flat") can also be read
 * column by column, a batch of rows at a time, with the same checks.
 */
#include "parquet/parquet.h"

#include <stdlib.h>
#include <string.h>

/* A selected child of the root on the flat fast path. */
struct flatcol {
    int col;      /* its column */
    int item;     /* its position among the root's items */
    int optional; /* def level below which it is NULL (0: required) */
    int max_def;
    int type;
};

struct lks_pq_rows {
    lks_pq_reader *r;
    const lks_pq_schema *s;
    uint8_t *sel;      /* per column */
    int *first;        /* per field: first selected leaf column below it, -1 none */
    int *end;          /* per field: one past its subtree */
    int *def_level;    /* per field */
    int *rep_level;    /* per field */
    lks_pq_colbatch *b; /* per column */
    size_t *pos, *vpos; /* per column: next level entry, next value */
    uint8_t *skip;     /* per row group */
    int rg;            /* row group loaded, -1 before the first */
    int64_t row, nrows;
    lks_arena arena;   /* the current row's values */
    lks_pq_value root;
    const char *name;
    /* flat fast path: every child of the root is a leaf that is not
     * repeated, or has nothing selected below it */
    int flat;
    int nflat;          /* selected children of the root */
    struct flatcol *fc; /* per selected child */
    lks_pq_value *flat_items; /* the row's items, one per child of the root */
};

int lks_pq_rows_open(lks_pq_reader *r, const int *cols, int ncols, lks_pq_rows **out, lks_err *err) {
    *out = NULL;
    const lks_pq_schema *s = lks_pq_reader_schema(r);
    lks_pq_rows *it = calloc(1, sizeof *it);
    if (!it)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    it->r = r;
    it->s = s;
    it->rg = -1;
    it->name = "parquet";
    int nf = s->num_fields, nc = s->num_cols;
    int ng = lks_pq_reader_meta(r)->num_row_groups;
    it->sel = calloc((size_t)nc + 1, 1);
    it->first = calloc((size_t)nf, sizeof(int));
    it->end = calloc((size_t)nf, sizeof(int));
    it->def_level = calloc((size_t)nf, sizeof(int));
    it->rep_level = calloc((size_t)nf, sizeof(int));
    it->b = calloc((size_t)nc + 1, sizeof *it->b);
    it->pos = calloc((size_t)nc + 1, sizeof(size_t));
    it->vpos = calloc((size_t)nc + 1, sizeof(size_t));
    it->skip = calloc((size_t)ng + 1, 1);
    lks_arena_init(&it->arena, 0);
    if (!it->sel || !it->first || !it->end || !it->def_level || !it->rep_level || !it->b || !it->pos ||
        !it->vpos || !it->skip) {
        lks_pq_rows_free(it);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    for (int c = 0; c < nc; c++)
        lks_pq_colbatch_init(&it->b[c]);
    if (!cols) {
        memset(it->sel, 1, (size_t)nc);
    } else {
        for (int i = 0; i < ncols; i++) {
            if (cols[i] < 0 || cols[i] >= nc) {
                lks_pq_rows_free(it);
                return lks_err_set(err, LKS_EINVAL, "no column %d", cols[i]);
            }
            it->sel[cols[i]] = 1;
        }
    }
    /* levels and subtree ends, parents before children */
    for (int f = 0; f < nf; f++) {
        int p = s->parent[f];
        const lks_pq_field *fd = &s->fields[f];
        it->def_level[f] = p < 0 ? 0 : it->def_level[p] + (fd->repetition != LKS_PQ_REQUIRED);
        it->rep_level[f] = p < 0 ? 0 : it->rep_level[p] + (fd->repetition == LKS_PQ_REPEATED);
        it->first[f] = -1;
    }
    for (int f = nf - 1; f >= 0; f--) {
        if (s->leaf[f] >= 0) {
            it->end[f] = f + 1;
        } else {
            int e = f + 1;
            for (int k = 0; k < s->fields[f].num_children && e < nf; k++)
                e = it->end[e];
            it->end[f] = e;
        }
        for (int g = f; g < it->end[f]; g++)
            if (s->leaf[g] >= 0 && it->sel[s->leaf[g]]) {
                it->first[f] = s->leaf[g];
                break;
            }
    }
    int nroot = nf > 0 ? s->fields[0].num_children : 0;
    it->flat = 1;
    for (int k = 0, f = 1; k < nroot && f < nf; k++, f = it->end[f])
        if (it->first[f] >= 0 && (s->leaf[f] < 0 || s->fields[f].repetition == LKS_PQ_REPEATED))
            it->flat = 0;
    if (it->flat) {
        it->fc = calloc((size_t)nroot + 1, sizeof *it->fc);
        it->flat_items = calloc((size_t)nroot + 1, sizeof(lks_pq_value));
        if (!it->fc || !it->flat_items) {
            lks_pq_rows_free(it);
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        }
        for (int k = 0, f = 1; k < nroot && f < nf; k++, f = it->end[f])
            if (it->first[f] >= 0) {
                struct flatcol *fc = &it->fc[it->nflat++];
                fc->col = s->leaf[f];
                fc->item = k;
                fc->optional = s->fields[f].repetition == LKS_PQ_OPTIONAL ? it->def_level[f] : 0;
                fc->max_def = s->cols[fc->col].max_def;
                fc->type = s->cols[fc->col].type;
            }
        it->root.kind = LKS_PQ_V_GROUP;
        it->root.u.list.items = it->flat_items;
        it->root.u.list.n = (size_t)nroot;
    }
    *out = it;
    return LKS_OK;
}

void lks_pq_rows_skip_row_group(lks_pq_rows *it, int rg) {
    if (rg >= 0 && rg < lks_pq_reader_meta(it->r)->num_row_groups)
        it->skip[rg] = 1;
}

void lks_pq_rows_free(lks_pq_rows *it) {
    if (!it)
        return;
    if (it->b)
        for (int c = 0; c < it->s->num_cols; c++)
            lks_pq_colbatch_free(&it->b[c]);
    free(it->sel);
    free(it->first);
    free(it->end);
    free(it->def_level);
    free(it->rep_level);
    free(it->b);
    free(it->pos);
    free(it->vpos);
    free(it->skip);
    free(it->fc);
    free(it->flat_items);
    lks_arena_free(&it->arena);
    free(it);
}

/* Gives dst src's memory when dst has none; both stay empty and valid. */
static void take_buf(lks_buf *dst, lks_buf *src) {
    if (dst->ptr || !src->ptr)
        return;
    dst->ptr = src->ptr;
    dst->cap = src->cap;
    dst->len = 0;
    src->ptr = NULL;
    src->len = src->cap = 0;
}

void lks_pq_rows_take_buffers(lks_pq_rows *it, lks_pq_rows *from) {
    if (!it || !from || it == from)
        return;
    int j = 0, nj = from->s->num_cols;
    for (int c = 0; c < it->s->num_cols; c++) {
        if (!it->sel[c])
            continue;
        while (j < nj && !from->sel[j])
            j++;
        if (j >= nj)
            break;
        lks_pq_colbatch *d = &it->b[c], *f = &from->b[j++];
        take_buf(&d->vals_buf, &f->vals_buf);
        take_buf(&d->def_buf, &f->def_buf);
        take_buf(&d->rep_buf, &f->rep_buf);
        take_buf(&d->data_buf, &f->data_buf);
    }
}

/* ---- assembly --------------------------------------------------------------------- */

typedef struct actx {
    lks_pq_rows *it;
    lks_err *err;
} actx;

static int corrupt(actx *a, int col, const char *what) {
    return lks_err_set(a->err, LKS_ECORRUPT, "row group %d row %lld column %s: %s", a->it->rg,
                       (long long)a->it->row, a->it->s->cols[col].path, what);
}

static int def_at(const lks_pq_rows *it, int c) {
    const lks_pq_colbatch *b = &it->b[c];
    return b->def ? b->def[it->pos[c]] : it->s->cols[c].max_def;
}

/* A null (or empty list) at field f: one entry in every selected leaf below. */
static int consume_null(actx *a, int f) {
    lks_pq_rows *it = a->it;
    for (int g = f; g < it->end[f]; g++) {
        int c = it->s->leaf[g];
        if (c < 0 || !it->sel[c])
            continue;
        if (it->pos[c] >= it->b[c].n)
            return corrupt(a, c, "levels end early");
        if (def_at(it, c) >= it->def_level[f])
            return corrupt(a, c, "columns disagree on nulls");
        it->pos[c]++;
    }
    return LKS_OK;
}

static void leaf_value(const lks_pq_colbatch *b, int type, size_t i, lks_pq_value *v) {
    switch (type) {
    case LKS_PQ_BOOLEAN: v->kind = LKS_PQ_V_BOOL, v->u.b = ((const uint8_t *)b->values)[i]; break;
    case LKS_PQ_INT32: v->kind = LKS_PQ_V_INT32, v->u.i32 = ((const int32_t *)b->values)[i]; break;
    case LKS_PQ_INT64: v->kind = LKS_PQ_V_INT64, v->u.i64 = ((const int64_t *)b->values)[i]; break;
    case LKS_PQ_INT96:
        v->kind = LKS_PQ_V_INT96;
        memcpy(v->u.i96.b, (const uint8_t *)b->values + i * 12, 12);
        break;
    case LKS_PQ_FLOAT: v->kind = LKS_PQ_V_FLOAT, v->u.f32 = ((const float *)b->values)[i]; break;
    case LKS_PQ_DOUBLE: v->kind = LKS_PQ_V_DOUBLE, v->u.f64 = ((const double *)b->values)[i]; break;
    default: v->kind = LKS_PQ_V_BYTES, v->u.bytes = ((const lks_slice *)b->values)[i]; break;
    }
}

static int assemble(actx *a, int f, lks_pq_value *out);

static int assemble_present(actx *a, int f, lks_pq_value *out) {
    lks_pq_rows *it = a->it;
    const lks_pq_schema *s = it->s;
    int c = s->leaf[f];
    if (c >= 0) {
        if (!it->sel[c]) {
            out->kind = LKS_PQ_V_NULL;
            return LKS_OK;
        }
        const lks_pq_colbatch *b = &it->b[c];
        if (it->pos[c] >= b->n)
            return corrupt(a, c, "levels end early");
        if (def_at(it, c) != s->cols[c].max_def)
            return corrupt(a, c, "columns disagree on nulls");
        if (it->vpos[c] >= b->nvals)
            return corrupt(a, c, "values end early");
        leaf_value(b, s->cols[c].type, it->vpos[c], out);
        it->pos[c]++;
        it->vpos[c]++;
        return LKS_OK;
    }
    int nch = s->fields[f].num_children;
    out->kind = LKS_PQ_V_GROUP;
    out->u.list.n = (size_t)nch;
    out->u.list.items = lks_arena_alloc(&it->arena, sizeof(lks_pq_value) * (size_t)(nch ? nch : 1));
    if (!out->u.list.items)
        return lks_err_set(a->err, LKS_ENOMEM, "out of memory");
    int child = f + 1;
    for (int k = 0; k < nch; k++) {
        int rc = assemble(a, child, &out->u.list.items[k]);
        if (rc != LKS_OK)
            return rc;
        child = it->end[child];
    }
    return LKS_OK;
}

static int assemble(actx *a, int f, lks_pq_value *out) {
    lks_pq_rows *it = a->it;
    const lks_pq_field *fd = &it->s->fields[f];
    int c = it->first[f];
    memset(out, 0, sizeof *out);
    if (c < 0)
        return LKS_OK; /* nothing selected below: NULL */
    if (it->pos[c] >= it->b[c].n)
        return corrupt(a, c, "levels end early");
    int d = def_at(it, c);
    if (fd->repetition == LKS_PQ_REPEATED) {
        out->kind = LKS_PQ_V_REPEATED;
        if (d < it->def_level[f])
            return consume_null(a, f);
        /* count items: entries repeating at this level before the next outer one */
        const lks_pq_colbatch *b = &it->b[c];
        int rl = it->rep_level[f];
        size_t n = 1;
        for (size_t j = it->pos[c] + 1; j < b->n && b->rep[j] >= rl; j++)
            n += b->rep[j] == rl;
        out->u.list.n = n;
        out->u.list.items = lks_arena_alloc(&it->arena, sizeof(lks_pq_value) * n);
        if (!out->u.list.items)
            return lks_err_set(a->err, LKS_ENOMEM, "out of memory for a list of %zu items", n);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && (it->pos[c] >= b->n || b->rep[it->pos[c]] != rl))
                return corrupt(a, c, "columns disagree on repetition");
            memset(&out->u.list.items[i], 0, sizeof(lks_pq_value));
            int rc = assemble_present(a, f, &out->u.list.items[i]);
            if (rc != LKS_OK)
                return rc;
        }
        return LKS_OK;
    }
    if (fd->repetition == LKS_PQ_OPTIONAL && d < it->def_level[f]) {
        out->kind = LKS_PQ_V_NULL;
        return consume_null(a, f);
    }
    return assemble_present(a, f, out);
}

static int load_row_group(lks_pq_rows *it, int rg, lks_err *err) {
    const lks_pq_file_meta *fm = lks_pq_reader_meta(it->r);
    for (int c = 0; c < it->s->num_cols; c++) {
        it->pos[c] = it->vpos[c] = 0;
        if (!it->sel[c])
            continue;
        int rc = lks_pq_read_column(it->r, rg, c, &it->b[c], err);
        if (rc != LKS_OK)
            return rc;
    }
    it->rg = rg;
    it->row = 0;
    it->nrows = fm->row_groups[rg].num_rows;
    return LKS_OK;
}

static int check_consumed(lks_pq_rows *it, lks_err *err) {
    for (int c = 0; c < it->s->num_cols; c++)
        if (it->sel[c] && (it->pos[c] != it->b[c].n || it->vpos[c] != it->b[c].nvals))
            return lks_err_set(err, LKS_ECORRUPT, "row group %d column %s: %zu level entries and %zu values left over",
                               it->rg, it->s->cols[c].path, it->b[c].n - it->pos[c],
                               it->b[c].nvals - it->vpos[c]);
    return LKS_OK;
}

/* The flat fast path: what assemble() does for a root whose selected
 * children are all unrepeated leaves, without the arena. */
static int next_flat(lks_pq_rows *it, lks_err *err) {
    for (int i = 0; i < it->nflat; i++) {
        const struct flatcol *fc = &it->fc[i];
        int c = fc->col;
        const lks_pq_colbatch *b = &it->b[c];
        lks_pq_value *out = &it->flat_items[fc->item];
        size_t pos = it->pos[c];
        actx a = {it, err};
        if (pos >= b->n)
            return corrupt(&a, c, "levels end early");
        int d = b->def ? b->def[pos] : fc->max_def;
        it->pos[c] = pos + 1;
        if (d < fc->optional) {
            memset(out, 0, sizeof *out); /* NULL */
            continue;
        }
        size_t vp = it->vpos[c];
        if (d != fc->max_def)
            return corrupt(&a, c, "columns disagree on nulls");
        if (vp >= b->nvals)
            return corrupt(&a, c, "values end early");
        it->vpos[c] = vp + 1;
        switch (fc->type) {
        case LKS_PQ_INT64: out->kind = LKS_PQ_V_INT64, out->u.i64 = ((const int64_t *)b->values)[vp]; break;
        case LKS_PQ_DOUBLE: out->kind = LKS_PQ_V_DOUBLE, out->u.f64 = ((const double *)b->values)[vp]; break;
        default: leaf_value(b, fc->type, vp, out); break;
        }
    }
    return LKS_OK;
}

/* Loads row groups until one has a row left: 1, or 0 at the end. */
static int ensure_row(lks_pq_rows *it, lks_err *err) {
    const lks_pq_file_meta *fm = lks_pq_reader_meta(it->r);
    while (it->rg < 0 || it->row >= it->nrows) {
        if (it->rg >= 0 && it->rg < fm->num_row_groups) {
            int rc = check_consumed(it, err);
            if (rc != LKS_OK)
                return rc;
        }
        int next = it->rg + 1;
        while (next < fm->num_row_groups && it->skip[next])
            next++;
        if (next >= fm->num_row_groups) {
            it->rg = fm->num_row_groups;
            it->row = it->nrows = 0;
            return 0;
        }
        int rc = load_row_group(it, next, err);
        if (rc != LKS_OK)
            return rc;
    }
    return 1;
}

int lks_pq_rows_is_flat(const lks_pq_rows *it) { return it->flat; }

/* m values of type `type` from vals[vp..] into out[0..m). */
static void copy_values(const lks_pq_colbatch *b, int type, size_t vp, size_t m, lks_pq_value *out) {
    switch (type) {
    case LKS_PQ_INT64: {
        const int64_t *v = (const int64_t *)b->values + vp;
        for (size_t i = 0; i < m; i++)
            out[i].kind = LKS_PQ_V_INT64, out[i].u.i64 = v[i];
        break;
    }
    case LKS_PQ_DOUBLE: {
        const double *v = (const double *)b->values + vp;
        for (size_t i = 0; i < m; i++)
            out[i].kind = LKS_PQ_V_DOUBLE, out[i].u.f64 = v[i];
        break;
    }
    case LKS_PQ_INT32: {
        const int32_t *v = (const int32_t *)b->values + vp;
        for (size_t i = 0; i < m; i++)
            out[i].kind = LKS_PQ_V_INT32, out[i].u.i32 = v[i];
        break;
    }
    default:
        for (size_t i = 0; i < m; i++)
            leaf_value(b, type, vp + i, &out[i]);
        break;
    }
}

/* m values of a flat column from its next level entry on into out. */
static int flat_values(lks_pq_rows *it, const struct flatcol *fc, size_t m, lks_pq_value *out, lks_err *err) {
    int c = fc->col;
    const lks_pq_colbatch *b = &it->b[c];
    size_t pos = it->pos[c], vp = it->vpos[c];
    actx a = {it, err};
    if (m > b->n - pos)
        return corrupt(&a, c, "levels end early");
    /* entries holding a value; any other level below the null level is corrupt */
    size_t nv = m;
    if (b->def) {
        const uint16_t *def = b->def + pos;
        int bad = 0;
        nv = 0;
        for (size_t i = 0; i < m; i++) {
            nv += def[i] == fc->max_def;
            bad |= def[i] != fc->max_def && def[i] >= fc->optional;
        }
        if (bad) {
            for (size_t i = 0; i < m; i++)
                if (def[i] != fc->max_def && def[i] >= fc->optional) {
                    it->pos[c] = pos + i;
                    return corrupt(&a, c, "columns disagree on nulls");
                }
        }
    }
    if (nv > b->nvals - vp)
        return corrupt(&a, c, "values end early");
    if (nv == m) {
        copy_values(b, fc->type, vp, m, out);
    } else {
        /* runs of values between nulls */
        const uint16_t *def = b->def + pos;
        size_t i = 0, v = vp;
        while (i < m) {
            size_t j = i;
            while (j < m && def[j] == fc->max_def)
                j++;
            copy_values(b, fc->type, v, j - i, out + i);
            v += j - i;
            for (i = j; i < m && def[i] != fc->max_def; i++)
                memset(&out[i], 0, sizeof out[i]); /* NULL */
        }
    }
    it->pos[c] = pos + m;
    it->vpos[c] = vp + nv;
    return LKS_OK;
}

int lks_pq_rows_next_columns(lks_pq_rows *it, size_t max, lks_pq_value *const *cols, size_t *n, int *rg, int64_t *first,
                             lks_err *err) {
    *n = 0;
    if (!it->flat || max == 0)
        return lks_err_set(err, LKS_EINVAL, "%s: rows are not flat: read them one by one", it->name);
    int rc = ensure_row(it, err);
    if (rc <= 0)
        return rc;
    int64_t left = it->nrows - it->row;
    size_t m = (uint64_t)left < max ? (size_t)left : max;
    for (int i = 0; i < it->nflat; i++) {
        rc = flat_values(it, &it->fc[i], m, cols[it->fc[i].item], err);
        if (rc != LKS_OK)
            return rc;
    }
    *n = m;
    *rg = it->rg;
    *first = it->row;
    it->row += (int64_t)m;
    return 1;
}

int lks_pq_rows_next(lks_pq_rows *it, const lks_pq_value **row, lks_err *err) {
    int rc0 = ensure_row(it, err);
    if (rc0 <= 0)
        return rc0;
    if (it->flat) {
        int rc = next_flat(it, err);
        if (rc != LKS_OK)
            return rc;
        it->row++;
        *row = &it->root;
        return 1;
    }
    lks_arena_reset(&it->arena);
    for (int c = 0; c < it->s->num_cols; c++)
        if (it->sel[c] && it->b[c].rep && it->pos[c] < it->b[c].n && it->b[c].rep[it->pos[c]] != 0)
            return lks_err_set(err, LKS_ECORRUPT, "row group %d row %lld column %s: row starts with repetition "
                               "level %u", it->rg, (long long)it->row, it->s->cols[c].path,
                               it->b[c].rep[it->pos[c]]);
    actx a = {it, err};
    int rc = assemble_present(&a, 0, &it->root);
    if (rc != LKS_OK)
        return rc;
    it->row++;
    *row = &it->root;
    return 1;
}
