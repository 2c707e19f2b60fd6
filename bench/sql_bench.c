/*
 * sql_bench.c — the table and the lakesync side of bench/sql.sh.
 *
 *   sql_bench gen WH NROWS         writes WH/benchdb/events (one commit):
 *       id long (0..NROWS-1, written in order: a sorted key), part string
 *       (the partition column: 16 values p00..p15, contiguous id ranges),
 *       a long, b double, name string; files of ~4 MiB, row groups of 128k
 *       rows.  Prints the files written.
 *   sql_bench files TABLE          the live data files, absolute paths
 *   sql_bench query WH SQL [REPS]  runs SQL through lakesync's SQLite layer
 *       in process (register, warehouse catalogue, rewrite, prepare, step),
 *       REPS times (default 3) after one warm-up; prints
 *       {"s":median wall,"cpu_s":median CPU,"result":"first row as text"}.
 *   sql_bench floor TABLE COL...   the Delta reader alone on the same data:
 *       lks_delta_scan_next_batch (what the virtual table reads) of COLs
 *       summing them (no SQLite); the same JSON.
 *   sql_bench engine NROWS SQL [REPS]   SQLite alone: SQL over `mem`, a
 *       virtual table handing out NROWS rows of (a INTEGER, b DOUBLE) =
 *       (i, i/8) made on the fly (no storage: the least a virtual table
 *       can cost); the same JSON.
 *   What a query costs beyond floor + engine is the delta module itself
 *   (xFilter/xNext/xColumn, row tests).
 */
#include "delta/delta.h"
#include "sql/sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what, const lks_err *err) {
    fprintf(stderr, "sql_bench: %s: %s\n", what, err && err->msg[0] ? err->msg : "failed");
    exit(1);
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
static double wall_now(void) { return (double)lks_mono_ns() / 1e9; }

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *SCHEMA = "{\"type\":\"struct\",\"fields\":["
                            "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
                            "{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
                            "{\"name\":\"a\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
                            "{\"name\":\"b\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}},"
                            "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
#define NPART 16

static int gen(const char *wh, int64_t n) {
    char root[4096];
    snprintf(root, sizeof root, "%s/benchdb/events", wh);
    lks_err err = {0};
    lks_store *st;
    lks_delta_table *t;
    if (lks_store_open(root, &st, &err) || lks_delta_table_open(st, "", &t, &err))
        die("open", &err);
    lks_delta_txn *x = NULL;
    if (lks_delta_txn_begin(t, NULL, "WRITE", &x, &err))
        die("txn_begin", &err);
    lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
    const char *pcols[] = {"part"};
    lks_delta_metadata m;
    memset(&m, 0, sizeof m);
    m.schema_string = SCHEMA;
    m.partition_columns = pcols;
    m.npartition_columns = 1;
    m.created_time = -1;
    lks_delta_txn_set_protocol(x, &p);
    if (lks_delta_txn_set_metadata(x, &m))
        die("set_metadata", NULL);
    lks_arena a;
    lks_arena_init(&a, 0);
    if (lks_delta_schema_parse(SCHEMA, strlen(SCHEMA), &a, &m.schema, &err))
        die("schema", &err);
    lks_delta_writer_opts wo;
    memset(&wo, 0, sizeof wo);
    lks_pq_writer_opts_default(&wo.parquet);
    wo.parquet.row_group_rows = 128 * 1024;
    wo.target_file_bytes = 4 << 20;
    lks_delta_writer *w = NULL;
    if (lks_delta_writer_open(x, &m, &wo, &w, &err))
        die("writer_open", &err);
    static const char *const names[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"};
    int64_t per = (n + NPART - 1) / NPART;
    char part[8], name[32];
    for (int64_t i = 0; i < n; i++) {
        lks_pq_value items[5];
        memset(items, 0, sizeof items);
        snprintf(part, sizeof part, "p%02d", (int)(i / per));
        snprintf(name, sizeof name, "%s-%lld", names[i % 8], (long long)(i % 1000));
        items[0].kind = LKS_PQ_V_INT64;
        items[0].u.i64 = i;
        items[1].kind = LKS_PQ_V_BYTES;
        items[1].u.bytes.ptr = (const uint8_t *)part;
        items[1].u.bytes.len = strlen(part);
        items[2].kind = LKS_PQ_V_INT64;
        items[2].u.i64 = (i * 7919) % 100003;
        items[3].kind = LKS_PQ_V_DOUBLE;
        items[3].u.f64 = (double)(i % 1000) / 8.0;
        items[4].kind = LKS_PQ_V_BYTES;
        items[4].u.bytes.ptr = (const uint8_t *)name;
        items[4].u.bytes.len = strlen(name);
        lks_pq_value row;
        memset(&row, 0, sizeof row);
        row.kind = LKS_PQ_V_GROUP;
        row.u.list.items = items;
        row.u.list.n = 5;
        if (lks_delta_writer_write(w, &row, &err))
            die("writer_write", &err);
    }
    if (lks_delta_writer_close(w, &err))
        die("writer_close", &err);
    int64_t v;
    if (lks_delta_txn_commit(x, 0, &v, &err))
        die("commit", &err);
    printf("%lld\n", (long long)lks_delta_writer_files(w));
    lks_delta_writer_free(w);
    lks_delta_txn_free(x);
    lks_arena_free(&a);
    lks_delta_table_close(t);
    lks_store_close(st);
    return 0;
}

static int files(const char *root) {
    lks_err err = {0};
    lks_store *st;
    lks_delta_table *t;
    lks_delta_snapshot *s;
    if (lks_store_open(root, &st, &err) || lks_delta_table_open(st, "", &t, &err) ||
        lks_delta_snapshot_latest(t, &s, &err))
        die("open", &err);
    char *abs = realpath(root, NULL);
    for (size_t i = 0; i < s->nfiles; i++)
        printf("%s/%s\n", abs ? abs : root, s->files[i].path);
    free(abs);
    lks_delta_snapshot_free(s);
    lks_delta_table_close(t);
    lks_store_close(st);
    return 0;
}

static int query(const char *wh, const char *sql, int reps) {
    sqlite3 *db;
    lks_err err = {0};
    lks_sql_warehouse *w;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK || lks_sql_register(db, &err) ||
        lks_sql_warehouse_open(db, wh, NULL, &w, &err))
        die("open", &err);
    double walls[32], cpus[32];
    char result[256] = "";
    if (reps > 32)
        reps = 32;
    for (int r = -1; r < reps; r++) {
        double w0 = wall_now(), c0 = cpu_now();
        lks_buf q;
        lks_buf_init(&q, 0);
        if (lks_sql_warehouse_rewrite(w, sql, strlen(sql), &q, &err))
            die("rewrite", &err);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, (const char *)q.ptr, (int)q.len, &st, NULL) != SQLITE_OK) {
            fprintf(stderr, "sql_bench: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
        int src, first = 1;
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            if (first) {
                size_t o = 0;
                for (int i = 0; i < sqlite3_column_count(st) && o + 1 < sizeof result; i++) {
                    const unsigned char *v = sqlite3_column_text(st, i);
                    int k = snprintf(result + o, sizeof result - o, "%s%s", i ? "|" : "", v ? (const char *)v : "NULL");
                    o = k > 0 && (size_t)k < sizeof result - o ? o + (size_t)k : sizeof result - 1;
                }
                first = 0;
            }
        }
        if (src != SQLITE_DONE) {
            fprintf(stderr, "sql_bench: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
        sqlite3_finalize(st);
        lks_buf_free(&q);
        if (r >= 0) {
            walls[r] = wall_now() - w0;
            cpus[r] = cpu_now() - c0;
        }
    }
    printf("{\"s\":%.4f,\"cpu_s\":%.4f,\"result\":\"%s\"}\n", median(walls, reps), median(cpus, reps), result);
    lks_sql_warehouse_free(w);
    sqlite3_close(db);
    return 0;
}

static int floor_scan(const char *root, const char **cols, int ncols) {
    lks_err err = {0};
    lks_store *st;
    lks_delta_table *t;
    lks_delta_snapshot *s;
    if (lks_store_open(root, &st, &err) || lks_delta_table_open(st, "", &t, &err) ||
        lks_delta_snapshot_latest(t, &s, &err))
        die("open", &err);
    double walls[3], cpus[3];
    double sum = 0;
    long long rows = 0;
    lks_delta_scan *prev = NULL;
    for (int r = -1; r < 3; r++) {
        double w0 = wall_now(), c0 = cpu_now();
        lks_delta_scan_opts o;
        memset(&o, 0, sizeof o);
        o.columns = cols;
        o.ncolumns = ncols;
        lks_delta_scan *sc;
        if (lks_delta_scan_open(t, s, &o, &sc, &err))
            die("scan_open", &err);
        lks_delta_scan_take_buffers(sc, prev); /* as the module reuses the last scan's memory */
        lks_delta_scan_free(prev);
        prev = NULL;
        const lks_delta_batch *b;
        int rc;
        sum = 0;
        rows = 0;
        while ((rc = lks_delta_scan_next_batch(sc, &b, &err)) == 1) {
            rows += (long long)b->n;
            for (int k = 0; k < s->metadata.schema->nchildren; k++) {
                const lks_pq_value *col = b->cols[k];
                for (size_t i = 0; col && i < b->n; i++)
                    sum += col[i].kind == LKS_PQ_V_INT64    ? (double)col[i].u.i64
                           : col[i].kind == LKS_PQ_V_DOUBLE ? col[i].u.f64
                                                            : 0;
            }
        }
        if (rc < 0)
            die("scan", &err);
        prev = sc;
        if (r >= 0) {
            walls[r] = wall_now() - w0;
            cpus[r] = cpu_now() - c0;
        }
    }
    printf("{\"s\":%.4f,\"cpu_s\":%.4f,\"result\":\"%lld rows, sum %.17g\"}\n", median(walls, 3), median(cpus, 3), rows,
           sum);
    lks_delta_scan_free(prev);
    lks_delta_snapshot_free(s);
    lks_delta_table_close(t);
    lks_store_close(st);
    return 0;
}

/* ---- engine: SQLite over a virtual table that costs next to nothing ------------------------ */

typedef struct memvt {
    sqlite3_vtab base;
    sqlite3_int64 n;
} memvt;
typedef struct memcur {
    sqlite3_vtab_cursor base;
    sqlite3_int64 i, n;
} memcur;

static int mem_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err) {
    (void)aux, (void)err;
    memvt *v = sqlite3_malloc(sizeof *v);
    if (!v)
        return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    v->n = argc > 3 ? strtoll(argv[3], NULL, 10) : 0;
    *out = &v->base;
    return sqlite3_declare_vtab(db, "CREATE TABLE x(a INTEGER, b DOUBLE)");
}
static int mem_disconnect(sqlite3_vtab *v) {
    sqlite3_free(v);
    return SQLITE_OK;
}
static int mem_best(sqlite3_vtab *v, sqlite3_index_info *info) {
    info->estimatedRows = ((memvt *)v)->n;
    info->estimatedCost = (double)((memvt *)v)->n;
    return SQLITE_OK;
}
static int mem_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out) {
    memcur *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->n = ((memvt *)v)->n;
    *out = &c->base;
    return SQLITE_OK;
}
static int mem_close(sqlite3_vtab_cursor *c) {
    sqlite3_free(c);
    return SQLITE_OK;
}
static int mem_filter(sqlite3_vtab_cursor *c, int idx, const char *s, int argc, sqlite3_value **argv) {
    (void)idx, (void)s, (void)argc, (void)argv;
    ((memcur *)c)->i = 0;
    return SQLITE_OK;
}
static int mem_next(sqlite3_vtab_cursor *c) {
    ((memcur *)c)->i++;
    return SQLITE_OK;
}
static int mem_eof(sqlite3_vtab_cursor *c) { return ((memcur *)c)->i >= ((memcur *)c)->n; }
static int mem_column(sqlite3_vtab_cursor *c, sqlite3_context *ctx, int col) {
    sqlite3_int64 i = ((memcur *)c)->i;
    if (col == 0)
        sqlite3_result_int64(ctx, i);
    else
        sqlite3_result_double(ctx, (double)i * 0.125);
    return SQLITE_OK;
}
static int mem_rowid(sqlite3_vtab_cursor *c, sqlite3_int64 *r) {
    *r = ((memcur *)c)->i;
    return SQLITE_OK;
}
static const sqlite3_module mem_module = {
    .xCreate = mem_connect,
    .xConnect = mem_connect,
    .xBestIndex = mem_best,
    .xDisconnect = mem_disconnect,
    .xDestroy = mem_disconnect,
    .xOpen = mem_open,
    .xClose = mem_close,
    .xFilter = mem_filter,
    .xNext = mem_next,
    .xEof = mem_eof,
    .xColumn = mem_column,
    .xRowid = mem_rowid,
};

static int engine(long long n, const char *sql, int reps) {
    sqlite3 *db;
    char create[128];
    snprintf(create, sizeof create, "CREATE VIRTUAL TABLE temp.mem USING membench(%lld)", n);
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_create_module(db, "membench", &mem_module, NULL) != SQLITE_OK ||
        sqlite3_exec(db, create, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "sql_bench: engine: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    double walls[32], cpus[32];
    char result[256] = "";
    if (reps > 32)
        reps = 32;
    for (int r = -1; r < reps; r++) {
        double w0 = wall_now(), c0 = cpu_now();
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            fprintf(stderr, "sql_bench: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(result, sizeof result, "%s",
                     sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "NULL");
        sqlite3_finalize(st);
        if (r >= 0) {
            walls[r] = wall_now() - w0;
            cpus[r] = cpu_now() - c0;
        }
    }
    printf("{\"s\":%.4f,\"cpu_s\":%.4f,\"result\":\"%s\"}\n", median(walls, reps), median(cpus, reps), result);
    sqlite3_close(db);
    return 0;
}

int main(int argc, char **argv) {
    lks_alloc_tune(); /* as lakesync does */
    if (argc >= 4 && strcmp(argv[1], "gen") == 0)
        return gen(argv[2], strtoll(argv[3], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "files") == 0)
        return files(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "query") == 0)
        return query(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 3);
    if (argc >= 4 && strcmp(argv[1], "floor") == 0)
        return floor_scan(argv[2], (const char **)argv + 3, argc - 3);
    if (argc >= 4 && strcmp(argv[1], "engine") == 0)
        return engine(strtoll(argv[2], NULL, 10), argv[3], argc > 4 ? atoi(argv[4]) : 3);
    fprintf(stderr, "usage: sql_bench gen WH NROWS | files TABLE | query WH SQL [REPS] | floor TABLE COL... | "
                    "engine NROWS SQL [REPS]\n");
    return 2;
}
