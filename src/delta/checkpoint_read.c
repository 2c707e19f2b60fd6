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
        if (s->parent[f] == 0) tops[ntops++] = f;
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
            lks_delta_action act;
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
    free(cols);
    free(tops);
    lks_buf_free(&data);
    lks_buf_free(&line);
    return rc;
}
