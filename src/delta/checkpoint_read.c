/*
 * checkpoint_read.c — the actions of a checkpoint: classic Parquet parts,
 * V2 checkpoints (JSON lines or Parquet) and the sidecar files they name
 * (PROTOCOL.md "Checkpoints", "V2 Checkpoint Spec").
 *
 * A Parquet row holds one action as the one non-null top-level column; it
 * is printed as JSON ("Rows as text": MAP → object, LIST → array) and goes
 * through the same parser as commit lines, so both paths check the same
 * things.  Parsed stats columns (add.stats_parsed, partitionValues_parsed)
 * are not read.
 */
#include "delta/log.h"

#include <stdlib.h>
#include <string.h>

static const char *const action_cols[] = {"add",  "remove",         "metaData",           "protocol",
                                          "txn",  "domainMetadata", "checkpointMetadata", "sidecar"};

static int wanted_top(const char *name) {
    for (size_t i = 0; i < sizeof action_cols / sizeof action_cols[0]; i++)
        if (strcmp(name, action_cols[i]) == 0) return 1;
    return 0;
}

/* Top-level field (child of the root) that holds field f. */
static int top_of(const lks_pq_schema *s, int f) {
    while (f > 0 && s->parent[f] > 0) f = s->parent[f];
    return f;
}

/* ---- the fast path: add and remove rows straight from the value tree ----
 *
 * Most checkpoint rows are adds (and removes) of plain shape.  Those are
 * converted directly, giving exactly what printing and parsing would give;
 * anything else (a field of an unexpected type, a deletion vector, a
 * non-ASCII string, a missing required field...) goes the JSON way, which
 * also produces the error message when there is one. */

enum { R_SKIP = 0, R_STR, R_INT, R_BOOL, R_MAP, R_NULL };

enum { F_PATH = 0, F_PV, F_SIZE, F_MTIME, F_DC, F_TAGS, F_STATS, F_DV, F_BRID, F_DRCV, F_CLUST, F_DTS, F_EFM, F_N };

typedef struct fast_field {
    int field; /* schema field */
    int role;  /* R_* */
    int slot;  /* F_* or -1 */
} fast_field;

typedef struct fast_shape {
    int ok;        /* the fast path applies to this action column */
    int nchildren;
    fast_field *ch;
} fast_shape;

static int is_plain_leaf(const lks_pq_field *f) { return f->type != -1 && f->repetition != LKS_PQ_REPEATED; }

static int str_leaf(const lks_pq_field *f) {
    int k = f->logical.kind;
    return is_plain_leaf(f) && f->type == LKS_PQ_BYTE_ARRAY &&
           (k == LKS_PQ_LT_STRING || k == LKS_PQ_LT_ENUM || k == LKS_PQ_LT_JSON);
}

static int int_leaf(const lks_pq_field *f) {
    int k = f->logical.kind;
    return is_plain_leaf(f) && (f->type == LKS_PQ_INT32 || f->type == LKS_PQ_INT64) &&
           (k == LKS_PQ_LT_NONE || (k == LKS_PQ_LT_INTEGER && f->logical.is_signed));
}

static int bool_leaf(const lks_pq_field *f) { return is_plain_leaf(f) && f->type == LKS_PQ_BOOLEAN; }

/* A MAP group of string keys to string values, in the standard shape. */
static int str_map(const lks_pq_schema *s, int f) {
    const lks_pq_field *fl = &s->fields[f];
    if (fl->type != -1 || fl->repetition == LKS_PQ_REPEATED || fl->logical.kind != LKS_PQ_LT_MAP ||
        fl->num_children != 1)
        return 0;
    const lks_pq_field *kv = &s->fields[f + 1];
    if (kv->repetition != LKS_PQ_REPEATED || kv->type != -1 || kv->num_children != 2) return 0;
    int key = f + 2, val = lks_pq_schema_subtree_end(s, key);
    return str_leaf(&s->fields[key]) && str_leaf(&s->fields[val]);
}

/* Decides how each child of action column `top` (add or remove) is read. */
static int fast_shape_build(const lks_pq_schema *s, int top, int is_add, fast_shape *sh) {
    static const struct {
        const char *name;
        int slot, role, add, rem;
    } known[] = {{"path", F_PATH, R_STR, 1, 1},
                 {"partitionValues", F_PV, R_MAP, 1, 1},
                 {"size", F_SIZE, R_INT, 1, 1},
                 {"modificationTime", F_MTIME, R_INT, 1, 0},
                 {"dataChange", F_DC, R_BOOL, 1, 1},
                 {"tags", F_TAGS, R_MAP, 1, 0},
                 {"stats", F_STATS, R_STR, 1, 0},
                 {"deletionVector", F_DV, R_NULL, 1, 1},
                 {"baseRowId", F_BRID, R_INT, 1, 0},
                 {"defaultRowCommitVersion", F_DRCV, R_INT, 1, 0},
                 {"clusteringProvider", F_CLUST, R_STR, 1, 0},
                 {"deletionTimestamp", F_DTS, R_INT, 0, 1},
                 {"extendedFileMetadata", F_EFM, R_BOOL, 0, 1}};
    memset(sh, 0, sizeof *sh);
    const lks_pq_field *tf = &s->fields[top];
    if (tf->type != -1 || tf->repetition == LKS_PQ_REPEATED || tf->logical.kind != LKS_PQ_LT_NONE) return LKS_OK;
    sh->nchildren = tf->num_children;
    sh->ch = calloc((size_t)(sh->nchildren ? sh->nchildren : 1), sizeof *sh->ch);
    if (!sh->ch) return LKS_ENOMEM;
    int seen[F_N] = {0};
    int child = top + 1;
    for (int k = 0; k < sh->nchildren; k++) {
        const lks_pq_field *cf = &s->fields[child];
        fast_field *ff = &sh->ch[k];
        ff->field = child;
        ff->slot = -1;
        ff->role = R_SKIP;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
            if (!(is_add ? known[i].add : known[i].rem) || strcmp(cf->name, known[i].name) != 0) continue;
            if (seen[known[i].slot]++) return LKS_OK; /* a duplicate name: the JSON way */
            ff->slot = known[i].slot;
            ff->role = known[i].role;
        }
        int fits = 1;
        switch (ff->role) {
        case R_STR: fits = str_leaf(cf); break;
        case R_INT: fits = int_leaf(cf); break;
        case R_BOOL: fits = bool_leaf(cf); break;
        case R_MAP: fits = str_map(s, child); break;
        default: break;
        }
        if (!fits) ff->role = R_NULL; /* only a null value takes the fast path */
        child = lks_pq_schema_subtree_end(s, child);
    }
    sh->ok = 1;
    return LKS_OK;
}

/* A string the JSON round trip gives back byte for byte: printable ASCII
 * and the control characters lks_json_quote escapes (no NUL). */
static int ascii_str(lks_slice v) {
    for (size_t i = 0; i < v.len; i++)
        if (v.ptr[i] == 0 || v.ptr[i] >= 0x80) return 0;
    return 1;
}

/* A value an ignored field may hold without changing the outcome. */
static int ignorable(const lks_pq_schema *s, int f, const lks_pq_value *v) {
    if (v->kind == LKS_PQ_V_NULL) return 1;
    const lks_pq_field *fl = &s->fields[f];
    if (bool_leaf(fl)) return v->kind == LKS_PQ_V_BOOL;
    if (int_leaf(fl)) return v->kind == (fl->type == LKS_PQ_INT32 ? LKS_PQ_V_INT32 : LKS_PQ_V_INT64);
    if (str_leaf(fl)) return v->kind == LKS_PQ_V_BYTES && ascii_str(v->u.bytes);
    return 0;
}

/* 1: *out set; 0: not a fast case; <0: out of memory. */
static int fast_str(lks_arena *a, const lks_pq_value *v, const char **out) {
    if (v->kind != LKS_PQ_V_BYTES || (!v->u.bytes.ptr && v->u.bytes.len) || !ascii_str(v->u.bytes)) return 0;
    char *p = lks_arena_alloc(a, v->u.bytes.len + 1);
    if (!p) return -1;
    if (v->u.bytes.len) memcpy(p, v->u.bytes.ptr, v->u.bytes.len);
    p[v->u.bytes.len] = 0;
    *out = p;
    return 1;
}

static int fast_map(lks_arena *a, const lks_pq_value *v, lks_delta_kv **out, int *n) {
    *out = NULL;
    *n = 0;
    if (v->kind == LKS_PQ_V_NULL) return 1;
    if (v->kind != LKS_PQ_V_GROUP || v->u.list.n != 1 || !v->u.list.items) return 0;
    const lks_pq_value *rv = &v->u.list.items[0];
    if (rv->kind == LKS_PQ_V_NULL) return 1;
    if (rv->kind != LKS_PQ_V_REPEATED || (rv->u.list.n && !rv->u.list.items)) return 0;
    size_t cnt = rv->u.list.n;
    if (cnt == 0) return 1;
    if (cnt > 64) return 0; /* the duplicate check below is quadratic */
    lks_delta_kv *kv = lks_arena_alloc(a, cnt * sizeof *kv);
    if (!kv) return -1;
    for (size_t i = 0; i < cnt; i++) {
        const lks_pq_value *it = &rv->u.list.items[i];
        if (it->kind != LKS_PQ_V_GROUP || it->u.list.n != 2 || !it->u.list.items) return 0;
        int rc = fast_str(a, &it->u.list.items[0], &kv[i].key);
        if (rc <= 0) return rc;
        const lks_pq_value *val = &it->u.list.items[1];
        kv[i].value = NULL;
        if (val->kind != LKS_PQ_V_NULL && (rc = fast_str(a, val, &kv[i].value)) <= 0) return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(kv[j].key, kv[i].key) == 0) return 0;
    }
    *out = kv;
    *n = (int)cnt;
    return 1;
}

/* Converts an add or remove value; 1 done, 0 take the JSON way, <0 ENOMEM. */
static int fast_action(const lks_pq_schema *s, const fast_shape *sh, int is_add, const lks_pq_value *v,
                       lks_arena *a, lks_delta_action *act) {
    if (!sh->ok || v->kind != LKS_PQ_V_GROUP || v->u.list.n != (size_t)sh->nchildren ||
        (v->u.list.n && !v->u.list.items))
        return 0;
    memset(act, 0, sizeof *act);
    const char *path = NULL, *stats = NULL, *clust = NULL;
    lks_delta_kv *pv = NULL, *tags = NULL;
    int npv = 0, ntags = 0;
    int64_t ints[F_N];
    int have[F_N] = {0}, bools[F_N] = {0};
    for (int k = 0; k < sh->nchildren; k++) {
        const fast_field *ff = &sh->ch[k];
        const lks_pq_value *cv = &v->u.list.items[k];
        int rc = 1;
        switch (ff->role) {
        case R_SKIP:
            if (!ignorable(s, ff->field, cv)) return 0;
            continue;
        case R_NULL:
            if (cv->kind != LKS_PQ_V_NULL) return 0;
            continue;
        case R_MAP: rc = fast_map(a, cv, ff->slot == F_PV ? &pv : &tags, ff->slot == F_PV ? &npv : &ntags); break;
        default:
            if (cv->kind == LKS_PQ_V_NULL) continue;
            if (ff->role == R_STR) {
                rc = fast_str(a, cv, ff->slot == F_PATH ? &path : ff->slot == F_STATS ? &stats : &clust);
            } else if (ff->role == R_BOOL) {
                if (cv->kind != LKS_PQ_V_BOOL) return 0;
                bools[ff->slot] = cv->u.b != 0;
            } else {
                int t = s->fields[ff->field].type;
                if (t == LKS_PQ_INT32 && cv->kind == LKS_PQ_V_INT32)
                    ints[ff->slot] = cv->u.i32;
                else if (t == LKS_PQ_INT64 && cv->kind == LKS_PQ_V_INT64)
                    ints[ff->slot] = cv->u.i64;
                else
                    return 0;
            }
            break;
        }
        if (rc <= 0) return rc;
        if (ff->slot >= 0) have[ff->slot] = 1;
    }
    if (!path) return 0;
    if (is_add) {
        lks_delta_add *ad = &act->u.add;
        if (!have[F_SIZE] || !have[F_MTIME] || ints[F_SIZE] < 0) return 0;
        act->kind = LKS_DA_ADD;
        ad->path = path;
        ad->partition_values = pv;
        ad->npartition_values = npv;
        ad->size = ints[F_SIZE];
        ad->modification_time = ints[F_MTIME];
        ad->data_change = have[F_DC] ? bools[F_DC] : 1;
        ad->tags = tags;
        ad->ntags = ntags;
        ad->stats = stats;
        ad->dv.offset = -1;
        ad->base_row_id = have[F_BRID] ? ints[F_BRID] : -1;
        ad->default_row_commit_version = have[F_DRCV] ? ints[F_DRCV] : -1;
        ad->clustering_provider = clust;
        return 1;
    }
    lks_delta_remove *rm = &act->u.remove;
    act->kind = LKS_DA_REMOVE;
    rm->path = path;
    rm->deletion_timestamp = have[F_DTS] ? ints[F_DTS] : -1;
    rm->data_change = have[F_DC] ? bools[F_DC] : 1;
    rm->extended_file_metadata = have[F_EFM] ? bools[F_EFM] : 0;
    rm->partition_values = pv;
    rm->npartition_values = npv;
    rm->size = have[F_SIZE] ? ints[F_SIZE] : -1;
    rm->dv.offset = -1;
    return 1;
}

/* ---- end fast path ---- */

int lks_delta_checkpoint_read_parquet(lks_delta_table *t, const char *key, lks_arena *a, lks_delta_action_fn *fn,
                                      void *ud, lks_err *err) {
    lks_buf data, line;
    lks_buf_init(&data, LKS_BUF_MAX_DEFAULT);
    lks_buf_init(&line, (size_t)1 << 30);
    lks_pq_reader *r = NULL;
    lks_pq_rows *it = NULL;
    /* each row's action lives in a scratch arena reset per row, so memory
     * stays bounded by a row group whatever the checkpoint's size */
    lks_arena row_arena;
    lks_arena_init(&row_arena, 0);
    (void)a;
    int *cols = NULL, *tops = NULL;
    fast_shape add_sh, rem_sh;
    memset(&add_sh, 0, sizeof add_sh);
    memset(&rem_sh, 0, sizeof rem_sh);
    int add_top = -1, rem_top = -1;
    int rc = lks_store_get(t->st, key, &data, err);
    if (rc) goto out;
    lks_pq_source src;
    lks_pq_source_mem(&src, data.ptr, data.len, key);
    rc = lks_pq_reader_open(&src, NULL, &r, err);
    if (rc) goto out;
    const lks_pq_schema *s = lks_pq_reader_schema(r);
    cols = calloc((size_t)s->num_cols + 1, sizeof *cols);
    tops = calloc((size_t)s->num_fields + 1, sizeof *tops);
    if (!cols || !tops) {
        rc = lks_err_set(err, LKS_ENOMEM, "%s: out of memory", key);
        goto out;
    }
    int ncols = 0;
    for (int c = 0; c < s->num_cols; c++) {
        int top = top_of(s, s->cols[c].field);
        if (top <= 0 || !wanted_top(s->fields[top].name)) continue;
        const char *p = s->cols[c].path;
        if (strncmp(p, "add.stats_parsed", 16) == 0 || strncmp(p, "add.partitionValues_parsed", 26) == 0 ||
            strncmp(p, "remove.partitionValues_parsed", 29) == 0)
            continue;
        cols[ncols++] = c;
    }
    /* the root's children in order */
    int ntops = 0;
    for (int f = 1; f < s->num_fields; f++)
        if (s->parent[f] == 0) {
            tops[ntops++] = f;
            if (add_top < 0 && strcmp(s->fields[f].name, "add") == 0) add_top = f;
            if (rem_top < 0 && strcmp(s->fields[f].name, "remove") == 0) rem_top = f;
        }
    if ((add_top >= 0 && fast_shape_build(s, add_top, 1, &add_sh)) ||
        (rem_top >= 0 && fast_shape_build(s, rem_top, 0, &rem_sh))) {
        rc = lks_err_set(err, LKS_ENOMEM, "%s: out of memory", key);
        goto out;
    }
    if (ncols == 0) goto out; /* no action columns at all: nothing to read */
    rc = lks_pq_rows_open(r, cols, ncols, &it, err);
    if (rc) goto out;
    int64_t row = 0;
    for (;;) {
        const lks_pq_value *v;
        rc = lks_pq_rows_next(it, &v, err);
        if (rc < 0) goto out;
        if (rc == 0) break;
        rc = LKS_OK;
        if (v->kind != LKS_PQ_V_GROUP || v->u.list.n != (size_t)ntops) {
            rc = lks_err_set(err, LKS_ECORRUPT, "%s: row %lld has an unexpected shape", key, (long long)row);
            goto out;
        }
        for (int k = 0; k < ntops; k++) {
            const lks_pq_value *item = &v->u.list.items[k];
            const char *name = s->fields[tops[k]].name;
            if (item->kind == LKS_PQ_V_NULL || !wanted_top(name)) continue;
            lks_delta_action act;
            if (tops[k] == add_top || tops[k] == rem_top) {
                int is_add = tops[k] == add_top;
                int got = fast_action(s, is_add ? &add_sh : &rem_sh, is_add, item, &row_arena, &act);
                if (got < 0) {
                    rc = lks_err_set(err, LKS_ENOMEM, "%s: row %lld: out of memory", key, (long long)row);
                    goto out;
                }
                if (got > 0) {
                    rc = fn(ud, &act, err);
                    if (rc) goto out;
                    continue;
                }
            }
            lks_buf_reset(&line);
            rc = lks_buf_append_byte(&line, '{');
            if (!rc) rc = lks_json_quote(&line, name, strlen(name));
            if (!rc) rc = lks_buf_append_byte(&line, ':');
            if (!rc) rc = lks_pq_value_to_json(&line, s, tops[k], item);
            if (!rc) rc = lks_buf_append_byte(&line, '}');
            if (rc) {
                rc = lks_err_set(err, rc, "%s: row %lld: cannot print the %s action", key, (long long)row, name);
                goto out;
            }
            rc = lks_delta_action_parse((const char *)line.ptr, line.len, &row_arena, &act, err);
            if (rc) {
                rc = lks_err_prefix(err, "%s: row %lld", key, (long long)row);
                goto out;
            }
            if (act.kind == LKS_DA_NONE) continue;
            rc = fn(ud, &act, err);
            if (rc) goto out;
        }
        row++;
        lks_arena_reset(&row_arena);
    }
    rc = LKS_OK;
out:
    lks_arena_free(&row_arena);
    lks_pq_rows_free(it);
    lks_pq_reader_free(r);
    free(add_sh.ch);
    free(rem_sh.ch);
    free(cols);
    free(tops);
    lks_buf_free(&data);
    lks_buf_free(&line);
    return rc;
}
