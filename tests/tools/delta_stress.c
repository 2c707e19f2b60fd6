/*
 * delta_stress.c — concurrent Delta writers for tests/scenario/delta_concurrency.sh.
 *
 *   delta_stress create DIR
 *       creates a table (id long, worker int, seq int, payload string) at version 0
 *   delta_stress append DIR WORKER COMMITS ROWS
 *       makes COMMITS blind-append commits of ROWS rows each; ids are
 *       WORKER*10^9 + commit*ROWS + row, so every row is unique
 *   delta_stress check DIR WORKERS COMMITS ROWS
 *       latest version == WORKERS*COMMITS, every expected id scanned exactly
 *       once, the log validator passes
 *   delta_stress crashcheck DIR
 *       after writers were killed: every visible commit parses, versions are
 *       contiguous, no temporary name is listed, the table reads (scan rows
 *       == the stats' numRecords, ids unique), the log validator passes
 *
 * Prints one diagnostic line on failure; exit status 0 on success.
 */
#include "delta/delta_int.h"
#include "tools/delta_validate.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *SCHEMA =
    "{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
    "{\"name\":\"worker\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"seq\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"payload\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";

static int die(const char *what, const lks_err *err) {
    fprintf(stderr, "delta_stress: %s: %s\n", what, err ? err->msg : "");
    return 1;
}

static int open_table(const char *dir, lks_store **st, lks_delta_table **t, lks_err *err) {
    int rc = lks_store_open(dir, st, err);
    if (!rc) rc = lks_delta_table_open(*st, "", t, err);
    return rc;
}

static int cmd_create(const char *dir) {
    lks_err err;
    lks_store *st;
    lks_delta_table *t;
    if (open_table(dir, &st, &t, &err)) return die("open", &err);
    lks_delta_txn *x;
    lks_delta_txn_begin(t, NULL, "CREATE TABLE", &x, &err);
    lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
    lks_delta_metadata m;
    memset(&m, 0, sizeof m);
    m.schema_string = SCHEMA;
    m.created_time = -1;
    lks_delta_txn_set_protocol(x, &p);
    if (lks_delta_txn_set_metadata(x, &m)) return die("metadata", NULL);
    int64_t v;
    int rc = lks_delta_txn_commit(x, 0, &v, &err);
    lks_delta_txn_free(x);
    lks_delta_table_close(t);
    lks_store_close(st);
    return rc ? die("create", &err) : 0;
}

static int cmd_append(const char *dir, int worker, int commits, int rows) {
    lks_err err;
    lks_store *st;
    lks_delta_table *t;
    if (open_table(dir, &st, &t, &err)) return die("open", &err);
    lks_arena a;
    lks_arena_init(&a, 0);
    int status = 0;
    for (int c = 0; c < commits && !status; c++) {
        lks_delta_snapshot *s = NULL;
        lks_delta_txn *x = NULL;
        lks_delta_writer *w = NULL;
        int rc = lks_delta_snapshot_latest(t, &s, &err);
        if (!rc) rc = lks_delta_txn_begin(t, s, "WRITE", &x, &err);
        lks_delta_writer_opts o;
        memset(&o, 0, sizeof o);
        lks_pq_writer_opts_default(&o.parquet);
        if (!rc) rc = lks_delta_writer_open(x, &s->metadata, &o, &w, &err);
        for (int r = 0; r < rows && !rc; r++) {
            lks_arena_reset(&a);
            lks_pq_value it[4];
            memset(it, 0, sizeof it);
            it[0].kind = LKS_PQ_V_INT64;
            it[0].u.i64 = (int64_t)worker * 1000000000 + (int64_t)c * rows + r;
            it[1].kind = LKS_PQ_V_INT32;
            it[1].u.i32 = worker;
            it[2].kind = LKS_PQ_V_INT32;
            it[2].u.i32 = c;
            char *pl = lks_arena_printf(&a, "w%d-c%d-r%d", worker, c, r);
            it[3].kind = LKS_PQ_V_BYTES;
            it[3].u.bytes.ptr = (const uint8_t *)pl;
            it[3].u.bytes.len = strlen(pl);
            lks_pq_value row;
            memset(&row, 0, sizeof row);
            row.kind = LKS_PQ_V_GROUP;
            row.u.list.items = it;
            row.u.list.n = 4;
            rc = lks_delta_writer_write(w, &row, &err);
        }
        if (!rc) rc = lks_delta_writer_close(w, &err);
        int64_t v;
        if (!rc) rc = lks_delta_txn_commit(x, 100, &v, &err);
        if (rc) status = die("append", &err);
        lks_delta_writer_free(w);
        lks_delta_txn_free(x);
        lks_delta_snapshot_free(s);
    }
    lks_arena_free(&a);
    lks_delta_table_close(t);
    lks_store_close(st);
    return status;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Scans the latest snapshot: rows, duplicate ids, the sum of numRecords;
 * ids are checked against `expect` (a sorted array) when given. */
static int scan_all(lks_delta_table *t, int64_t *version, int64_t *rows, int64_t *dups, int64_t *stat_rows,
                    int64_t **ids_out, lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(t, &s, err);
    if (rc) return rc;
    *version = s->version;
    *stat_rows = 0;
    for (size_t i = 0; i < s->nfiles; i++) {
        json_error_t je;
        json_t *j = s->files[i].stats ? json_loads(s->files[i].stats, 0, &je) : NULL;
        *stat_rows += json_integer_value(json_object_get(j, "numRecords"));
        json_decref(j);
    }
    lks_delta_scan_opts o;
    memset(&o, 0, sizeof o);
    lks_delta_scan *sc = NULL;
    rc = lks_delta_scan_open(t, s, &o, &sc, err);
    size_t cap = 1024, n = 0;
    int64_t *ids = malloc(cap * sizeof *ids);
    const lks_pq_value *row;
    int k = 0;
    while (!rc && (k = lks_delta_scan_next(sc, &row, err)) == 1) {
        if (n == cap) ids = realloc(ids, (cap *= 2) * sizeof *ids);
        ids[n++] = row->u.list.items[0].u.i64;
    }
    if (!rc && k < 0) rc = k;
    lks_delta_scan_free(sc);
    lks_delta_snapshot_free(s);
    if (rc) {
        free(ids);
        return rc;
    }
    qsort(ids, n, sizeof *ids, cmp_i64);
    *dups = 0;
    for (size_t i = 1; i < n; i++) *dups += ids[i] == ids[i - 1];
    *rows = (int64_t)n;
    *ids_out = ids;
    return LKS_OK;
}

static int cmd_check(const char *dir, int workers, int commits, int rows) {
    lks_err err;
    lks_store *st;
    lks_delta_table *t;
    if (open_table(dir, &st, &t, &err)) return die("open", &err);
    int64_t version, n, dups, srows, *ids = NULL;
    int rc = scan_all(t, &version, &n, &dups, &srows, &ids, &err);
    lks_delta_table_close(t);
    lks_store_close(st);
    if (rc) return die("scan", &err);
    int status = 0;
    int64_t want = (int64_t)workers * commits;
    if (version != want) {
        fprintf(stderr, "delta_stress: latest version %" PRId64 ", expected %" PRId64 "\n", version, want);
        status = 1;
    }
    if (n != want * rows || dups || srows != n) {
        fprintf(stderr, "delta_stress: %" PRId64 " rows (%" PRId64 " duplicate ids, stats say %" PRId64
                        "), expected %" PRId64 "\n",
                n, dups, srows, want * rows);
        status = 1;
    }
    /* every expected id exactly once */
    size_t k = 0;
    for (int w = 0; w < workers && !status; w++)
        for (int c = 0; c < commits && !status; c++)
            for (int r = 0; r < rows && !status; r++, k++) {
                int64_t id = (int64_t)w * 1000000000 + (int64_t)c * rows + r;
                if (k >= (size_t)n || ids[k] != id) {
                    fprintf(stderr, "delta_stress: id %" PRId64 " missing\n", id);
                    status = 1;
                }
            }
    free(ids);
    char msg[2048];
    int problems = lks_delta_validate(dir, msg, sizeof msg);
    if (problems) {
        fprintf(stderr, "delta_stress: log validator: %d problem(s): %s\n", problems, msg);
        status = 1;
    }
    if (!status) printf("versions 1..%" PRId64 " contiguous, %" PRId64 " rows each once, log valid\n", want, n);
    return status;
}

typedef struct lst {
    int bad;
    char first[256];
    int64_t commits;
} lst;

static int list_cb(void *ud, const lks_store_entry *e) {
    lst *l = ud;
    const char *nm = strrchr(e->key, '/');
    nm = nm ? nm + 1 : e->key;
    if (nm[0] == '.' || strstr(nm, ".tmp")) {
        if (!l->bad++) snprintf(l->first, sizeof l->first, "%s", e->key);
    }
    size_t n = strlen(nm);
    if (n == 25 && strcmp(nm + 20, ".json") == 0) l->commits++;
    return 0;
}

static int cmd_crashcheck(const char *dir) {
    lks_err err;
    lks_store *st;
    lks_delta_table *t;
    if (open_table(dir, &st, &t, &err)) return die("open", &err);
    lst l;
    memset(&l, 0, sizeof l);
    int rc = lks_store_list(st, "", list_cb, &l, &err);
    int status = 0;
    if (rc) status = die("list", &err);
    if (l.bad) {
        fprintf(stderr, "delta_stress: %d temporary object(s) visible, e.g. %s\n", l.bad, l.first);
        status = 1;
    }
    int64_t version, n, dups, srows, *ids = NULL;
    rc = scan_all(t, &version, &n, &dups, &srows, &ids, &err);
    free(ids);
    if (rc) status = die("reading the table", &err);
    else if (dups || n != srows || version + 1 != l.commits) {
        fprintf(stderr,
                "delta_stress: version %" PRId64 " with %" PRId64 " commit files; %" PRId64 " rows, %" PRId64
                " in stats, %" PRId64 " duplicates\n",
                version, l.commits, n, srows, dups);
        status = 1;
    }
    char msg[2048];
    int problems = lks_delta_validate(dir, msg, sizeof msg);
    if (problems) {
        fprintf(stderr, "delta_stress: log validator: %d problem(s): %s\n", problems, msg);
        status = 1;
    }
    lks_delta_table_close(t);
    lks_store_close(st);
    if (!status) printf("version %" PRId64 ", %" PRId64 " rows, log valid\n", version, n);
    return status;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "create")) return cmd_create(argv[2]);
    if (argc >= 6 && !strcmp(argv[1], "append")) return cmd_append(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (argc >= 6 && !strcmp(argv[1], "check")) return cmd_check(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (argc >= 3 && !strcmp(argv[1], "crashcheck")) return cmd_crashcheck(argv[2]);
    fprintf(stderr, "usage: delta_stress create DIR | append DIR WORKER COMMITS ROWS | check DIR WORKERS COMMITS ROWS "
                    "| crashcheck DIR\n");
    return 2;
}
