/* test_sql.c — the "delta" SQLite virtual-table module (src/sql/vtab.c):
 * every readable corpus table read with SELECT * gives the rows
 * lks_delta_scan gives; time travel (t(N), _version = N, version=N,
 * _timestamp); filters with pushdown give the answers of a plain SQLite
 * copy of the rows, on a table written here with many files and a
 * partition column, and on one with values at the edges of SQLite's
 * comparisons (also in joins, whose right side has an affinity); LIMIT
 * stops early; count(*) reads no data file when
 * stats exist; value types; bad input fails with a clear message. */
#include "delta/delta.h"
#include "harness.h"
#include "sql/sql.h"

#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------------------------- */

static sqlite3 *open_db(void) {
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return NULL;
    lks_err err;
    if (lks_sql_register(db, &err) != LKS_OK) {
        printf("# register: %s\n", err.msg);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Runs sql; returns the SQLite status, the error message in msg. */
static int exec_msg(sqlite3 *db, const char *sql, char *msg, size_t cap) {
    char *e = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &e);
    if (msg && cap)
        snprintf(msg, cap, "%s", e ? e : "");
    sqlite3_free(e);
    return rc;
}

static int exec_ok(sqlite3 *db, const char *sql) {
    char msg[1024];
    int rc = exec_msg(db, sql, msg, sizeof msg);
    if (rc != SQLITE_OK)
        printf("# %s: %s\n", sql, msg);
    return rc == SQLITE_OK;
}

/* A multiset of rendered rows. */
typedef struct rows {
    char **v;
    size_t n, cap;
} rows;

static void rows_add(rows *r, lks_buf *line) {
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
    }
    char *s = malloc(line->len + 1);
    if (line->len)
        memcpy(s, line->ptr, line->len);
    s[line->len] = 0;
    for (size_t i = 0; i < line->len; i++)
        if (s[i] == 0)
            s[i] = '\x01'; /* keep strcmp usable */
    r->v[r->n++] = s;
}

static void rows_free(rows *r) {
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i]);
    free(r->v);
    memset(r, 0, sizeof *r);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Same multiset?  Prints the first difference. */
static int rows_equal(rows *a, rows *b, const char *what) {
    if (a->n)
        qsort(a->v, a->n, sizeof *a->v, cmp_str);
    if (b->n)
        qsort(b->v, b->n, sizeof *b->v, cmp_str);
    if (a->n != b->n) {
        printf("# %s: %zu rows vs %zu\n", what, a->n, b->n);
        return 0;
    }
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0) {
            printf("# %s: row differs:\n#   sql:  %.300s\n#   scan: %.300s\n", what, a->v[i], b->v[i]);
            return 0;
        }
    return 1;
}

static void put_text(lks_buf *b, const char *p, size_t n) {
    lks_buf_printf(b, "T%zu:", n);
    lks_buf_append(b, p, n);
}

static void put_hex(lks_buf *b, const uint8_t *p, size_t n) {
    lks_buf_append_byte(b, 'B');
    for (size_t i = 0; i < n; i++)
        lks_buf_printf(b, "%02x", p[i]);
}

static void put_double(lks_buf *b, double d) {
    if (isnan(d))
        lks_buf_append(b, "NULL", 4);
    else
        lks_buf_printf(b, "%.17g", d);
}

/* Renders a statement's rows (all columns) into r.  SQLite status back. */
static int sql_rows(sqlite3 *db, const char *sql, rows *r, char *msg, size_t cap) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(msg, cap, "%s", sqlite3_errmsg(db));
        return rc;
    }
    lks_buf line;
    lks_buf_init(&line, 0);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lks_buf_reset(&line);
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            if (i)
                lks_buf_append_byte(&line, '|');
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER: lks_buf_printf(&line, "%lld", (long long)sqlite3_column_int64(st, i)); break;
            case SQLITE_FLOAT: put_double(&line, sqlite3_column_double(st, i)); break;
            case SQLITE_TEXT: {
                const char *p = (const char *)sqlite3_column_text(st, i);
                put_text(&line, p, (size_t)sqlite3_column_bytes(st, i));
                break;
            }
            case SQLITE_BLOB: {
                const uint8_t *p = sqlite3_column_blob(st, i);
                put_hex(&line, p, (size_t)sqlite3_column_bytes(st, i));
                break;
            }
            default: lks_buf_append(&line, "NULL", 4); break;
            }
        }
        rows_add(r, &line);
    }
    lks_buf_free(&line);
    if (rc != SQLITE_DONE)
        snprintf(msg, cap, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int field_of(const lks_pq_schema *rs, int k) {
    int g = 1;
    for (int i = 0; i < k; i++) {
        int pending = 1;
        while (pending > 0 && g < rs->num_fields) {
            if (rs->fields[g].type == -1)
                pending += rs->fields[g].num_children;
            pending--;
            g++;
        }
    }
    return g;
}

/* Renders one value of a scan row as the module should show it (written
 * independently of vtab.c: JSON for decimals and nested values). */
static void render_value(lks_buf *b, const lks_delta_type *dt, const lks_pq_schema *rs, int g, const lks_pq_value *v) {
    char tmp[64];
    if (v->kind == LKS_PQ_V_NULL || dt->kind == LKS_DT_VOID) {
        lks_buf_append(b, "NULL", 4);
        return;
    }
    switch (dt->kind) {
    case LKS_DT_LONG: lks_buf_printf(b, "%lld", (long long)v->u.i64); return;
    case LKS_DT_INTEGER:
    case LKS_DT_SHORT:
    case LKS_DT_BYTE: lks_buf_printf(b, "%d", v->u.i32); return;
    case LKS_DT_BOOLEAN: lks_buf_printf(b, "%d", v->u.b ? 1 : 0); return;
    case LKS_DT_FLOAT: put_double(b, (double)v->u.f32); return;
    case LKS_DT_DOUBLE: put_double(b, v->u.f64); return;
    case LKS_DT_STRING: put_text(b, (const char *)v->u.bytes.ptr, v->u.bytes.len); return;
    case LKS_DT_BINARY: put_hex(b, v->u.bytes.ptr, v->u.bytes.len); return;
    case LKS_DT_DATE: put_text(b, tmp, (size_t)lks_fmt_date(tmp, v->u.i32)); return;
    case LKS_DT_TIMESTAMP:
    case LKS_DT_TIMESTAMP_NTZ:
        put_text(b, tmp, (size_t)lks_fmt_timestamp_us(tmp, v->u.i64, dt->kind == LKS_DT_TIMESTAMP));
        return;
    default: {
        lks_buf j;
        lks_buf_init(&j, 0);
        lks_pq_value_to_json(&j, rs, g, v);
        if (dt->kind == LKS_DT_DECIMAL && j.len >= 2 && j.ptr[0] == '"')
            put_text(b, (const char *)j.ptr + 1, j.len - 2);
        else
            put_text(b, (const char *)j.ptr, j.len);
        lks_buf_free(&j);
        return;
    }
    }
}

/* Scans a snapshot and renders its rows over the column names `cols`
 * (matched by name; absent ones NULL).  LKS status back. */
static int scan_rows(lks_delta_table *t, const lks_delta_snapshot *s, const lks_delta_type *cols, rows *r,
                     lks_err *err) {
    lks_delta_scan *sc = NULL;
    int rc = lks_delta_scan_open(t, s, NULL, &sc, err);
    if (rc != LKS_OK)
        return rc;
    const lks_pq_schema *rs = lks_delta_scan_schema(sc);
    const lks_delta_type *root = s->metadata.schema;
    lks_buf line;
    lks_buf_init(&line, 0);
    const lks_pq_value *row;
    while ((rc = lks_delta_scan_next(sc, &row, err)) == 1) {
        lks_buf_reset(&line);
        for (int i = 0; i < cols->nchildren; i++) {
            if (i)
                lks_buf_append_byte(&line, '|');
            int k = -1;
            for (int j = 0; j < root->nchildren && k < 0; j++)
                if (strcasecmp(root->children[j].name, cols->children[i].name) == 0)
                    k = j;
            if (k < 0) {
                lks_buf_append(&line, "NULL", 4);
                continue;
            }
            render_value(&line, &root->children[k], rs, field_of(rs, k), &row->u.list.items[k]);
        }
        rows_add(r, &line);
    }
    lks_buf_free(&line);
    lks_delta_scan_free(sc);
    return rc < 0 ? rc : LKS_OK;
}

static int64_t json_int(const char *json, const char *key) {
    if (!json)
        return -1;
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* delta_scan_stats(name) field. */
static int64_t scan_stat(sqlite3 *db, const char *table, const char *key) {
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, "SELECT delta_scan_stats(?)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = json_int((const char *)sqlite3_column_text(st, 0), key);
    sqlite3_finalize(st);
    return v;
}

static int64_t query_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    int64_t v = INT64_MIN;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        printf("# %s: %s\n", sql, sqlite3_errmsg(db));
        return v;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        printf("# %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return v;
}

/* First column of the first row as text (static buffer), or the error. */
static const char *query_text(sqlite3 *db, const char *sql) {
    static char out[4096];
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(out, sizeof out, "ERROR %s", sqlite3_errmsg(db));
        return out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(out, sizeof out, "%s", sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "NULL");
    else if (rc == SQLITE_DONE)
        snprintf(out, sizeof out, "(no row)");
    else
        snprintf(out, sizeof out, "ERROR %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return out;
}

/* EXPLAIN QUERY PLAN details joined by " | " (static buffer). */
static const char *plan_of(sqlite3 *db, const char *sql) {
    static char out[4096];
    char q[2048];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    out[0] = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
        snprintf(out, sizeof out, "ERROR %s", sqlite3_errmsg(db));
        return out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t n = strlen(out);
        snprintf(out + n, sizeof out - n, "%s%s", n ? " | " : "", (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    return out;
}

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* ---- every readable corpus table --------------------------------------------------------- */

static void t_corpus_select_star(void) {
    const char *corpus = lks_test_corpus();
    if (!corpus)
        SKIP("no corpus (set LAKESYNC_CORPUS)");
    char root[4200];
    snprintf(root, sizeof root, "%s/delta", corpus);
    DIR *d = opendir(root);
    if (!d)
        SKIP("no delta corpus");
    struct dirent *de;
    int matched = 0, refused = 0, failed = 0;
    while ((de = readdir(d)) != NULL) {
        char dir[4600];
        snprintf(dir, sizeof dir, "%s/%s/delta", root, de->d_name);
        if (de->d_name[0] == '.' || de->d_name[0] == '_' || !exists(dir))
            continue;
        if (strcmp(de->d_name, "golden-data-reader-partition-values") == 0)
            setenv("TZ", "America/Los_Angeles", 1);
        else
            unsetenv("TZ");
        tzset();
        lks_err err;
        lks_store *st = NULL;
        lks_delta_table *t = NULL;
        lks_delta_snapshot *s = NULL;
        rows want = {0}, got = {0};
        int readable = lks_store_open(dir, &st, &err) == LKS_OK && lks_delta_table_open(st, "", &t, &err) == LKS_OK &&
                       lks_delta_snapshot_latest(t, &s, &err) == LKS_OK &&
                       scan_rows(t, s, s->metadata.schema, &want, &err) == LKS_OK;
        sqlite3 *db = open_db();
        char sql[5000], msg[2048];
        snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE t USING delta('%s')", dir);
        int rc = exec_msg(db, sql, msg, sizeof msg);
        int nocols = rc == SQLITE_OK && query_int(db, "SELECT count(*) FROM pragma_table_info('t')") == 0;
        if (rc == SQLITE_OK)
            rc = sql_rows(db, nocols ? "SELECT '' FROM t" : "SELECT * FROM t", &got, msg, sizeof msg);
        if (nocols)
            for (size_t i = 0; i < got.n; i++)
                got.v[i][0] = 0; /* "T0:" → "" as the scan renders an empty row */
        if (readable) {
            if (rc != SQLITE_OK) {
                FAILF("%s: the scan reads it, SQL fails: %s", de->d_name, msg);
                failed++;
            } else if (!rows_equal(&got, &want, de->d_name)) {
                FAILF("%s: SELECT * differs from the scan", de->d_name);
                failed++;
            } else {
                matched++;
                /* each column alone (read column by column where the
                 * others would need row assembly) */
                const lks_delta_type *sch = s->metadata.schema;
                for (int k = 0; k < sch->nchildren && !nocols; k++) {
                    lks_delta_type one;
                    memset(&one, 0, sizeof one);
                    one.kind = LKS_DT_STRUCT;
                    one.children = &sch->children[k];
                    one.nchildren = 1;
                    rows w1 = {0}, g1 = {0};
                    char q[600];
                    sqlite3_snprintf((int)sizeof q, q, "SELECT \"%w\" FROM t", sch->children[k].name);
                    if (scan_rows(t, s, &one, &w1, &err) != LKS_OK ||
                        sql_rows(db, q, &g1, msg, sizeof msg) != SQLITE_OK || !rows_equal(&g1, &w1, q)) {
                        FAILF("%s: %s differs from the scan", de->d_name, q);
                        failed++;
                    }
                    rows_free(&w1);
                    rows_free(&g1);
                }
            }
        } else {
            /* unreadable: a clear error from SQL too */
            if (rc == SQLITE_OK) {
                FAILF("%s: the scan fails (%s) but SQL read %zu rows", de->d_name, err.msg, got.n);
                failed++;
            } else if (strncmp(msg, "delta", 5) != 0) {
                FAILF("%s: error without context: %s", de->d_name, msg);
                failed++;
            } else {
                refused++;
            }
        }
        rows_free(&want);
        rows_free(&got);
        sqlite3_close(db);
        lks_delta_snapshot_free(s);
        lks_delta_table_close(t);
        lks_store_close(st);
    }
    closedir(d);
    unsetenv("TZ");
    tzset();
    printf("# corpus: %d tables equal to the scan, %d refused by both\n", matched, refused);
    CHECK(matched > 50);
    CHECK_EQ_INT(failed, 0);
}

/* ---- time travel on DAT cases ------------------------------------------------------------- */

static void t_time_travel(void) {
    const char *corpus = lks_test_corpus();
    if (!corpus)
        SKIP("no corpus");
    static const char *cases[] = {"dat-basic_append",    "dat-basic_partitioned", "dat-multi_partitioned",
                                  "dat-with_checkpoint", "dat-no_replay",         "dat-all_primitive_types"};
    int checked = 0;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        char dir[4600];
        snprintf(dir, sizeof dir, "%s/delta/%s/delta", corpus, cases[ci]);
        if (!exists(dir))
            continue;
        lks_err err;
        lks_store *st = NULL;
        lks_delta_table *t = NULL;
        lks_delta_snapshot *latest = NULL;
        if (lks_store_open(dir, &st, &err) || lks_delta_table_open(st, "", &t, &err) ||
            lks_delta_snapshot_latest(t, &latest, &err)) {
            FAILF("%s: %s", cases[ci], err.msg);
            continue;
        }
        sqlite3 *db = open_db();
        char sql[5000], msg[1024];
        snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE t USING delta('%s')", dir);
        REQUIRE(exec_ok(db, sql));
        for (int64_t v = 0; v <= latest->version; v++) {
            lks_delta_snapshot *s = NULL;
            if (lks_delta_snapshot_at_version(t, v, &s, &err) != LKS_OK)
                continue; /* e.g. log cleaned up */
            rows want = {0};
            int readable = scan_rows(t, s, latest->metadata.schema, &want, &err) == LKS_OK;
            for (int f = 0; f < 3; f++) {
                rows got = {0};
                sqlite3 *db2 = db;
                if (f == 0) {
                    snprintf(sql, sizeof sql, "SELECT * FROM t(%lld)", (long long)v);
                } else if (f == 1) {
                    snprintf(sql, sizeof sql, "SELECT * FROM t WHERE _version = %lld", (long long)v);
                } else {
                    /* version= argument of CREATE */
                    db2 = open_db();
                    snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE tv USING delta('%s', version=%lld)", dir,
                             (long long)v);
                    CHECK(exec_ok(db2, sql));
                    snprintf(sql, sizeof sql, "SELECT * FROM tv");
                }
                int rc = sql_rows(db2, sql, &got, msg, sizeof msg);
                if (!readable) {
                    /* data files gone (dat-no_replay): an error from both */
                    if (rc == SQLITE_OK)
                        FAILF("%s: %s read what the scan cannot", cases[ci], sql);
                    else
                        CHECK(strstr(msg, "delta: table") != NULL);
                } else if (rc != SQLITE_OK)
                    FAILF("%s: %s: %s", cases[ci], sql, msg);
                else if (!rows_equal(&got, &want, sql))
                    FAILF("%s v%lld: %s differs", cases[ci], (long long)v, sql);
                rows_free(&got);
                if (db2 != db)
                    sqlite3_close(db2);
            }
            /* _version reads back; _timestamp selects the version as of then */
            snprintf(sql, sizeof sql, "SELECT DISTINCT _version FROM t(%lld)", (long long)v);
            if (want.n && readable)
                CHECK_EQ_INT(query_int(db, sql), v);
            char ts[48];
            lks_fmt_timestamp_us(ts, s->timestamp * 1000, 1);
            lks_delta_snapshot *at = NULL;
            if (readable && lks_delta_snapshot_at_timestamp(t, s->timestamp, &at, &err) == LKS_OK) {
                snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE _timestamp = '%s'", ts);
                int64_t n = query_int(db, sql);
                snprintf(sql, sizeof sql, "SELECT count(*) FROM t(%lld)", (long long)at->version);
                CHECK_EQ_INT(n, query_int(db, sql));
                lks_delta_snapshot_free(at);
            }
            rows_free(&want);
            lks_delta_snapshot_free(s);
            checked++;
        }
        sqlite3_close(db);
        lks_delta_snapshot_free(latest);
        lks_delta_table_close(t);
        lks_store_close(st);
    }
    printf("# time travel: %d versions checked three ways\n", checked);
    CHECK(checked >= 6);
}

/* ---- a table written here: many files, a partition column ------------------------------------ */

static const char *WSCHEMA =
    "{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
    "{\"name\":\"grp\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"amount\",\"type\":\"decimal(10,2)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"score\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"day\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"ts\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"flag\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"data\",\"type\":\"binary\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"elementType\":\"string\",\"containsNull\":true},"
    "\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"info\",\"type\":{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"a\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"b\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]},\"nullable\":true,\"metadata\":{}}]}";
#define WCOLS 11
#define WCOMMITS 8
#define WPER 60 /* rows per commit */

static lks_pq_value vnull(void) {
    lks_pq_value v;
    memset(&v, 0, sizeof v);
    return v;
}
static lks_pq_value vbytes(const void *p, size_t n) {
    lks_pq_value v = vnull();
    v.kind = LKS_PQ_V_BYTES;
    v.u.bytes.ptr = p;
    v.u.bytes.len = n;
    return v;
}
static lks_pq_value vstr(const char *s) { return vbytes(s, strlen(s)); }
static lks_pq_value vi64(int64_t x) {
    lks_pq_value v = vnull();
    v.kind = LKS_PQ_V_INT64, v.u.i64 = x;
    return v;
}
static lks_pq_value vi32(int32_t x) {
    lks_pq_value v = vnull();
    v.kind = LKS_PQ_V_INT32, v.u.i32 = x;
    return v;
}
static lks_pq_value vgroup(lks_arena *a, size_t n, int kind) {
    lks_pq_value v = vnull();
    v.kind = kind;
    v.u.list.items = lks_arena_alloc(a, (n ? n : 1) * sizeof(lks_pq_value));
    memset(v.u.list.items, 0, (n ? n : 1) * sizeof(lks_pq_value));
    v.u.list.n = n;
    return v;
}

/* Row i: ids ascend over commits, so id stats skip files. */
static lks_pq_value wrow(lks_arena *a, int64_t i) {
    lks_pq_value r = vgroup(a, WCOLS, LKS_PQ_V_GROUP);
    lks_pq_value *it = r.u.list.items;
    it[0] = vi64(i);
    it[1] = i % 6 == 5 ? vnull() : vi32((int32_t)(i % 6));
    it[2] = i % 7 == 3 ? vnull() : vstr(lks_arena_printf(a, "n%03" PRId64, i % 100));
    it[3] = i % 11 == 4 ? vnull() : vi64(i * 37 - 2000); /* decimal(10,2) unscaled */
    it[4] = i % 13 == 6 ? vnull() : (lks_pq_value){.kind = LKS_PQ_V_DOUBLE, .u.f64 = (double)(i % 17) / 2};
    it[5] = vi32((int32_t)(19722 + i % 10));              /* 2024-01-01 + i%10 days */
    it[6] = vi64(INT64_C(1704067200000000) + i * 250000); /* 2024-01-01 + i*0.25 s */
    it[7] = (lks_pq_value){.kind = LKS_PQ_V_BOOL, .u.b = (int)(i % 3 == 0)};
    uint8_t *bin = lks_arena_alloc(a, 3);
    bin[0] = (uint8_t)i, bin[1] = 0, bin[2] = 0xFF;
    it[8] = i % 9 == 2 ? vnull() : vbytes(bin, 3);
    if (i % 5 == 0) {
        it[9] = vnull();
    } else {
        lks_pq_value lst = vgroup(a, 1, LKS_PQ_V_GROUP);
        lks_pq_value rep = vgroup(a, 2, LKS_PQ_V_REPEATED);
        for (int k = 0; k < 2; k++) {
            lks_pq_value e = vgroup(a, 1, LKS_PQ_V_GROUP);
            e.u.list.items[0] = vstr(k ? "x" : "y\"q");
            rep.u.list.items[k] = e;
        }
        lst.u.list.items[0] = rep;
        it[9] = lst;
    }
    lks_pq_value info = vgroup(a, 2, LKS_PQ_V_GROUP);
    info.u.list.items[0] = vi32((int32_t)(i * 3));
    info.u.list.items[1] = vstr("b");
    it[10] = info;
    return r;
}

static const char *WPART[] = {"grp"};

static char wdir[256];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* Writes the table once (WCOMMITS commits of WPER rows, 6 partitions each). */
static int write_table(lks_err *err) {
    if (wdir[0])
        return LKS_OK;
    snprintf(wdir, sizeof wdir, "/tmp/lks_sql.XXXXXX");
    if (!mkdtemp(wdir))
        return lks_err_set(err, LKS_EIO, "mkdtemp");
    lks_store *st = NULL;
    lks_delta_table *t = NULL;
    int rc = lks_store_open(wdir, &st, err);
    if (!rc)
        rc = lks_delta_table_open(st, "", &t, err);
    lks_arena a;
    lks_arena_init(&a, 0);
    for (int c = 0; c < WCOMMITS && !rc; c++) {
        lks_delta_snapshot *s = NULL;
        lks_delta_txn *x = NULL;
        lks_delta_writer *w = NULL;
        lks_delta_metadata m;
        if (c > 0)
            rc = lks_delta_snapshot_latest(t, &s, err);
        if (!rc)
            rc = lks_delta_txn_begin(t, s, c ? "WRITE" : "CREATE TABLE", &x, err);
        if (!rc && c == 0) {
            lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
            memset(&m, 0, sizeof m);
            m.schema_string = WSCHEMA;
            m.partition_columns = WPART;
            m.npartition_columns = 1;
            m.created_time = -1;
            lks_delta_txn_set_protocol(x, &p);
            rc = lks_delta_txn_set_metadata(x, &m);
            if (!rc)
                rc = lks_delta_schema_parse(WSCHEMA, strlen(WSCHEMA), &a, &m.schema, err);
        }
        if (!rc)
            rc = lks_delta_writer_open(x, c ? &s->metadata : &m, NULL, &w, err);
        for (int i = 0; i < WPER && !rc; i++) {
            lks_pq_value row = wrow(&a, (int64_t)c * WPER + i);
            rc = lks_delta_writer_write(w, &row, err);
        }
        if (!rc)
            rc = lks_delta_writer_close(w, err);
        int64_t v;
        if (!rc)
            rc = lks_delta_txn_commit(x, 0, &v, err);
        lks_delta_writer_free(w);
        lks_delta_txn_free(x);
        lks_delta_snapshot_free(s);
    }
    lks_arena_free(&a);
    lks_delta_table_close(t);
    lks_store_close(st);
    return rc;
}

static sqlite3 *open_written(void) {
    lks_err err;
    if (write_table(&err) != LKS_OK) {
        printf("# write table: %s\n", err.msg);
        return NULL;
    }
    sqlite3 *db = open_db();
    char sql[512];
    snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE t USING delta('%s')", wdir);
    if (!db || !exec_ok(db, sql)) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static void t_filters_match_plain_copy(void) {
    sqlite3 *db = open_written();
    REQUIRE(db);
    REQUIRE(exec_ok(db, "CREATE TABLE plain AS SELECT * FROM t"));
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM plain"), WCOMMITS * WPER);
    int64_t nfiles = scan_stat(db, "t", "files_read");
    CHECK(nfiles >= WCOMMITS * 6);
    static const char *conds[] = {
        /* partition column (exact, omitted) */
        "grp = 2",
        "grp < 2",
        "grp <= 2",
        "grp > 2",
        "grp >= 4",
        "grp BETWEEN 1 AND 3",
        "grp IS NULL",
        "grp IS NOT NULL",
        "grp = '2'",
        "grp = 2.0",
        "grp < 2.5",
        "grp IN (1, 3)",
        "grp = 9",
        "grp = NULL",
        "grp > 'a'",
        "grp = 1 AND id > 200",
        /* other columns (skip by stats, re-checked) */
        "id = 123",
        "id < 50",
        "id > 350",
        "id BETWEEN 100 AND 120",
        "id IN (5, 77, 300)",
        "id >= 479",
        "id > 100.5",
        "id = '42'",
        "name IS NULL",
        "name IS NOT NULL",
        "name = 'n07'",
        "name > 'n95'",
        "name < 'n01'",
        "amount > 100.5",
        "amount = '12.30'",
        "amount = 12.3",
        "amount < -19",
        "amount IS NULL",
        "score <= 3.5",
        "score = 8",
        "score IS NULL",
        "day = '2024-01-05'",
        "day < '2024-01-03'",
        "day >= '2024-01-09'",
        "ts > '2024-01-01T00:01:50.000000Z'",
        "ts >= '2024-01-01 00:00:10'",
        "ts < '2024-01-01T00:00:02.500000Z'",
        "flag = 1",
        "flag = 0 AND grp = 3",
        "data IS NULL",
        "data = x'0300ff'",
        "data > x'f0'",
        "id < 30 AND grp >= 2 AND name IS NOT NULL",
    };
    int nonempty = 0;
    for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++) {
        char q1[512], q2[512], msg[512];
        snprintf(q1, sizeof q1, "SELECT id FROM t WHERE %s", conds[i]);
        snprintf(q2, sizeof q2, "SELECT id FROM plain WHERE %s", conds[i]);
        rows a = {0}, b = {0};
        int rc1 = sql_rows(db, q1, &a, msg, sizeof msg);
        if (rc1 != SQLITE_OK)
            FAILF("%s: %s", q1, msg);
        int rc2 = sql_rows(db, q2, &b, msg, sizeof msg);
        if (rc2 != SQLITE_OK)
            FAILF("%s: %s", q2, msg);
        if (rc1 == SQLITE_OK && rc2 == SQLITE_OK && !rows_equal(&a, &b, conds[i]))
            FAILF("WHERE %s: pushdown differs from the plain copy", conds[i]);
        nonempty += a.n > 0;
        rows_free(&a);
        rows_free(&b);
        /* count(*) the same way */
        snprintf(q1, sizeof q1, "SELECT count(*) FROM t WHERE %s", conds[i]);
        snprintf(q2, sizeof q2, "SELECT count(*) FROM plain WHERE %s", conds[i]);
        int64_t c1 = query_int(db, q1), c2 = query_int(db, q2);
        if (c1 != c2)
            FAILF("%s: %lld, plain %lld", q1, (long long)c1, (long long)c2);
    }
    CHECK(nonempty >= 40);
    /* stats really skip files */
    CHECK_EQ_INT(query_int(db, "SELECT count(name) FROM t WHERE id < 50"), 43);
    int64_t read = scan_stat(db, "t", "files_read");
    printf("# id < 50: %lld of %lld files read\n", (long long)read, (long long)nfiles);
    CHECK(read > 0 && read <= 6);
    /* partition filters open only that partition's files */
    CHECK(query_int(db, "SELECT count(name) FROM t WHERE grp = 2") > 0);
    CHECK_EQ_INT(scan_stat(db, "t", "files_read"), WCOMMITS);
    /* the plan shows what is pushed */
    const char *detail = plan_of(db, "SELECT name FROM t WHERE grp = 1 AND amount > 5");
    printf("# plan: %s\n", detail);
    CHECK(strstr(detail, "partition grp=?") != NULL);
    CHECK(strstr(detail, "skip by stats amount>?") != NULL);
    CHECK(strstr(detail, "columns 3/11") != NULL);
    sqlite3_close(db);
}

static void t_limit_stops_early(void) {
    sqlite3 *db = open_written();
    REQUIRE(db);
    rows all = {0}, some = {0};
    char msg[512];
    REQUIRE(sql_rows(db, "SELECT id, name FROM t", &all, msg, sizeof msg) == SQLITE_OK);
    int64_t nfiles = scan_stat(db, "t", "files_read");
    REQUIRE(sql_rows(db, "SELECT id, name FROM t LIMIT 5 OFFSET 7", &some, msg, sizeof msg) == SQLITE_OK);
    CHECK_EQ_INT(some.n, 5);
    /* the same rows as positions 7..11 of the unlimited scan (scan order is
     * deterministic) */
    for (size_t i = 0; i < some.n && i + 7 < all.n; i++)
        CHECK_EQ_STR(some.v[i], all.v[i + 7]);
    int64_t read = scan_stat(db, "t", "files_read");
    printf("# LIMIT 5 OFFSET 7: %lld of %lld files read\n", (long long)read, (long long)nfiles);
    CHECK(read >= 1 && read <= 2);
    /* the plan takes the limit; not with ORDER BY nor with a re-checked filter */
    CHECK(strstr(plan_of(db, "SELECT * FROM t LIMIT 3"), "limit ?") != NULL);
    CHECK(strstr(plan_of(db, "SELECT * FROM t WHERE id > 5 LIMIT 3"), "limit") == NULL);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM (SELECT id FROM t WHERE id > 100 LIMIT 3)"), 3);
    CHECK_EQ_INT(query_int(db, "SELECT min(id) FROM (SELECT id FROM t WHERE id > 100 LIMIT 3)") > 100, 1);
    CHECK_EQ_INT(query_int(db, "SELECT max(id) FROM (SELECT id FROM t ORDER BY id DESC LIMIT 40)"), 479);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM (SELECT id FROM t WHERE grp = 4 LIMIT 3)"), 3);
    CHECK(scan_stat(db, "t", "files_read") <= 1);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM (SELECT id FROM t LIMIT 0)"), 0);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM (SELECT id FROM t LIMIT -1 OFFSET 470)"), 10);
    rows_free(&all);
    rows_free(&some);
    sqlite3_close(db);
}

static void t_count_from_stats(void) {
    sqlite3 *db = open_written();
    REQUIRE(db);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t"), WCOMMITS * WPER);
    CHECK_EQ_INT(scan_stat(db, "t", "files_read"), 0);
    CHECK(scan_stat(db, "t", "files_from_stats") >= WCOMMITS * 6);
    CHECK(strstr(plan_of(db, "SELECT count(*) FROM t"), "count from stats") != NULL);
    /* with an exact partition filter, still no data file */
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t WHERE grp = 3"), WCOMMITS * (WPER / 6));
    CHECK_EQ_INT(scan_stat(db, "t", "files_read"), 0);
    /* partition values of stats rows: GROUP BY a partition column reads no data */
    REQUIRE(exec_ok(db, "CREATE TABLE plain AS SELECT id, grp FROM t"));
    const char *g1 = "SELECT group_concat(x, ';') FROM (SELECT quote(grp) || '=' || count(*) AS x FROM t GROUP BY grp "
                     "ORDER BY grp)";
    char got[512];
    snprintf(got, sizeof got, "%s", query_text(db, g1));
    CHECK_EQ_INT(scan_stat(db, "t", "files_read"), 0);
    CHECK_EQ_STR(got, query_text(db, "SELECT group_concat(x, ';') FROM (SELECT quote(grp) || '=' || count(*) AS x "
                                     "FROM plain GROUP BY grp ORDER BY grp)"));
    printf("# per partition from stats: %s\n", got);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t WHERE grp IS NULL LIMIT 1 OFFSET 0"), WCOMMITS * 10);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM (SELECT grp FROM t LIMIT 100 OFFSET 455)"), 25);
    CHECK_EQ_INT(scan_stat(db, "t", "files_read"), 0);
    /* a re-checked filter needs the column: data is read */
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t WHERE id < 10"), 10);
    CHECK(scan_stat(db, "t", "files_read") > 0);
    sqlite3_close(db);
    /* corpus: deletion vectors subtracted; a table without stats is read */
    const char *corpus = lks_test_corpus();
    if (!corpus)
        return;
    static const struct {
        const char *cs;
        int from_stats;
    } cases[] = {
        {"deltars-table-with-dv-small", 1}, {"deltars-delta-0.8.0-partitioned", 0}, {"dat-basic_partitioned", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[4600], sql[5000];
        snprintf(dir, sizeof dir, "%s/delta/%s/delta", corpus, cases[i].cs);
        if (!exists(dir))
            continue;
        db = open_db();
        snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE c USING delta('%s')", dir);
        REQUIRE(exec_ok(db, sql));
        int64_t n = query_int(db, "SELECT count(*) FROM c");
        int64_t read = scan_stat(db, "c", "files_read");
        int64_t full = query_int(db, "SELECT count(*) FROM (SELECT * FROM c)");
        CHECK_EQ_INT(n, full);
        if (cases[i].from_stats)
            CHECK_EQ_INT(read, 0);
        else
            CHECK(read > 0);
        printf("# %s: count(*) = %lld, %lld files read\n", cases[i].cs, (long long)n, (long long)read);
        sqlite3_close(db);
    }
}

/* ---- row tests: re-checked filters applied before SQLite sees a row ----------------------- */

static const char *RSCHEMA = "{\"type\":\"struct\",\"fields\":["
                             "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
                             "{\"name\":\"grp\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
                             "{\"name\":\"k\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
                             "{\"name\":\"d\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}},"
                             "{\"name\":\"s\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
                             "{\"name\":\"day\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
                             "{\"name\":\"amt\",\"type\":\"decimal(10,2)\",\"nullable\":true,\"metadata\":{}},"
                             "{\"name\":\"f\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}},"
                             "{\"name\":\"bin\",\"type\":\"binary\",\"nullable\":true,\"metadata\":{}},"
                             "{\"name\":\"big\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
                             "{\"name\":\"fl\",\"type\":\"float\",\"nullable\":true,\"metadata\":{}}]}";
#define RROWS 5000

/* Row i: numbers at the edges of SQLite's comparisons (NaN, infinities,
 * -0.0, integers beyond 2^53), strings that look like numbers. */
static lks_pq_value rrow(lks_arena *a, int64_t i) {
    lks_pq_value r = vgroup(a, 11, LKS_PQ_V_GROUP);
    lks_pq_value *it = r.u.list.items;
    it[0] = vi64(i);
    it[1] = vstr(i % 2 ? "5.0" : "5"); /* partitions that look like one number */
    it[2] = i % 13 == 0 ? vnull() : vi32((int32_t)((i * 37) % 1000 - 500));
    double dv = (double)(i % 200) / 8.0 - 10;
    if (i % 97 == 0)
        dv = NAN;
    else if (i % 89 == 0)
        dv = INFINITY;
    else if (i % 83 == 0)
        dv = -INFINITY;
    else if (i % 79 == 0)
        dv = -0.0;
    it[3] = i % 17 == 3 ? vnull() : (lks_pq_value){.kind = LKS_PQ_V_DOUBLE, .u.f64 = dv};
    static const char *const strs[] = {"5", "5.0", " 7", "1e3", NULL, "", "-3", NULL, "0x10", ".5"};
    const char *sv = strs[i % 10];
    if (i % 10 == 4)
        sv = lks_arena_printf(a, "abc%" PRId64, i % 50);
    it[4] = sv ? vstr(sv) : vnull();
    it[5] = vi32((int32_t)(19723 + i % 50)); /* from 2024-01-02 */
    it[6] = i % 19 == 0 ? vnull() : vi64(i * 7 - 3000);
    it[7] = i % 11 == 0 ? vnull() : (lks_pq_value){.kind = LKS_PQ_V_BOOL, .u.b = (int)(i % 3 == 0)};
    uint8_t *bin = lks_arena_alloc(a, 2);
    bin[0] = (uint8_t)(i % 5), bin[1] = (uint8_t)(i % 3);
    it[8] = i % 23 == 0 ? vnull() : vbytes(bin, (size_t)(1 + i % 2));
    it[9] = vi64(INT64_C(9007199254740990) + i % 7);
    it[10] = i % 29 == 0 ? vnull()
                         : (lks_pq_value){.kind = LKS_PQ_V_FLOAT, .u.f32 = i % 31 == 0 ? NAN : (float)(i % 40) / 4.0f};
    return r;
}

/* One commit: two partitions of RROWS/2 rows each, row groups of 600 rows
 * (so a file spans several row groups and batches). */
static int write_rtable(const char *dir, lks_err *err) {
    lks_store *st = NULL;
    lks_delta_table *t = NULL;
    int rc = lks_store_open(dir, &st, err);
    if (!rc)
        rc = lks_delta_table_open(st, "", &t, err);
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_delta_txn *x = NULL;
    lks_delta_writer *w = NULL;
    lks_delta_metadata m;
    static const char *part[] = {"grp"};
    if (!rc)
        rc = lks_delta_txn_begin(t, NULL, "CREATE TABLE", &x, err);
    if (!rc) {
        lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
        memset(&m, 0, sizeof m);
        m.schema_string = RSCHEMA;
        m.partition_columns = part;
        m.npartition_columns = 1;
        m.created_time = -1;
        lks_delta_txn_set_protocol(x, &p);
        rc = lks_delta_txn_set_metadata(x, &m);
        if (!rc)
            rc = lks_delta_schema_parse(RSCHEMA, strlen(RSCHEMA), &a, &m.schema, err);
    }
    lks_delta_writer_opts wo;
    memset(&wo, 0, sizeof wo);
    lks_pq_writer_opts_default(&wo.parquet);
    wo.parquet.row_group_rows = 600;
    if (!rc)
        rc = lks_delta_writer_open(x, &m, &wo, &w, err);
    for (int64_t i = 0; i < RROWS && !rc; i++) {
        lks_pq_value row = rrow(&a, i);
        rc = lks_delta_writer_write(w, &row, err);
    }
    if (!rc)
        rc = lks_delta_writer_close(w, err);
    int64_t v;
    if (!rc)
        rc = lks_delta_txn_commit(x, 0, &v, err);
    lks_delta_writer_free(w);
    lks_delta_txn_free(x);
    lks_arena_free(&a);
    lks_delta_table_close(t);
    lks_store_close(st);
    return rc;
}

static void t_row_tests_match_plain_copy(void) {
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/lks_sqlrt.XXXXXX");
    REQUIRE(mkdtemp(dir));
    lks_err err;
    int wrc = write_rtable(dir, &err);
    if (wrc != LKS_OK)
        FAILF("write: %s", err.msg);
    sqlite3 *db = wrc == LKS_OK ? open_db() : NULL;
    char sql[1024], msg[512];
    snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE t USING delta('%s')", dir);
    if (!db || !exec_ok(db, sql) || !exec_ok(db, "CREATE TABLE plain AS SELECT * FROM t")) {
        FAILF("%s", "cannot open the table");
        sqlite3_close(db);
        nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        return;
    }
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM plain"), RROWS);
    /* right sides with each affinity, for joins */
    CHECK(exec_ok(db, "CREATE TABLE aff(ti INTEGER, tt TEXT, tr REAL, tn NUMERIC, tb BLOB)"));
    CHECK(exec_ok(db, "INSERT INTO aff VALUES (5, '5', 5.0, '5', '5'), (7, ' 7', 7, '7.0', x'0101'), "
                      "(1000, '1e3', 1000.0, '1e3', '1e3'), (-3, '-3', -3, '-3', -3), "
                      "(0, '.5', 0.5, '0.5', x'02'), (NULL, 'abc7', NULL, 'abc7', NULL)"));
    static const char *conds[] = {
        "k = 5",
        "k > -100",
        "k < 0",
        "k >= 499",
        "k <= -500",
        "k = 5.0",
        "k > 5.5",
        "k = '5'",
        "k < '10'",
        "k > 'abc'",
        "k IS NULL",
        "k IS NOT NULL",
        "k = NULL",
        "k BETWEEN -10 AND 10",
        "d > 0",
        "d < 0",
        "d = 0",
        "d = -0.0",
        "d IS NULL",
        "d IS NOT NULL",
        "d > 1e308",
        "d < -1e308",
        "d = 5",
        "d >= '2.5'",
        "d < 'x'",
        "d > 9.5",
        "d <= -9.875",
        "s = 5",
        "s = '5'",
        "s = 5.0",
        "s > 4",
        "s < 6",
        "s = 7",
        "s = ' 7'",
        "s > 'abc'",
        "s = ''",
        "s < ''",
        "s IS NULL",
        "s = 1000",
        "s = 1e3",
        "s >= '-3'",
        "s = 0.5",
        "s = '0x10'",
        "s > 'abc3'",
        "s = 'ABC7' COLLATE NOCASE",
        "day = '2024-01-05'",
        "day > '2024-01-20'",
        "day < '2024-01-03 00:00:00'",
        "day = 19727",
        "day > 5",
        "amt > 10",
        "amt = 12.3",
        "amt = '12.30'",
        "amt < -29.5",
        "amt = -30",
        "amt IS NULL",
        "amt > 'a'",
        "amt >= 1000.01",
        "f = 1",
        "f = 0",
        "f = 'true'",
        "f > 0.5",
        "f IS NULL",
        "bin = x'01'",
        "bin > x'02'",
        "bin = '1'",
        "bin < x'0101'",
        "bin IS NOT NULL",
        "big > 9007199254740992.0",
        "big = 9007199254740993",
        "big < 9007199254740993.0",
        "big >= 9007199254740994",
        "big = 9007199254740992.0",
        "fl > 5",
        "fl = 2.5",
        "fl IS NULL",
        "fl < 0.25",
        "id BETWEEN 1000 AND 1100",
        "id > 4990",
        "id < 3 OR id > 4997",
        "id IN (7, 2047, 4999)",
        "id > 100 AND s = '5' AND d > 0",
        "grp = '5.0' AND k < 0",
        "id >= 1023 AND id <= 1025",
        "grp = '5'",
        "grp = 5",
        "grp = 5.0",
        "grp > '5'",
        "grp < 6",
        "grp IS NULL",
    };
    int nonempty = 0;
    for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++) {
        char q1[512], q2[512];
        /* (decimals print as text here, as numbers in the copy; -0.0 as 0 there) */
        snprintf(q1, sizeof q1, "SELECT id, k, d + 0.0, s, bin, fl FROM t WHERE %s", conds[i]);
        snprintf(q2, sizeof q2, "SELECT id, k, d + 0.0, s, bin, fl FROM plain WHERE %s", conds[i]);
        rows a = {0}, b = {0};
        int rc1 = sql_rows(db, q1, &a, msg, sizeof msg);
        if (rc1 != SQLITE_OK)
            FAILF("%s: %s", q1, msg);
        int rc2 = sql_rows(db, q2, &b, msg, sizeof msg);
        if (rc2 != SQLITE_OK)
            FAILF("%s: %s", q2, msg);
        if (rc1 == SQLITE_OK && rc2 == SQLITE_OK && !rows_equal(&a, &b, conds[i]))
            FAILF("WHERE %s: the module differs from the plain copy", conds[i]);
        nonempty += a.n > 0;
        rows_free(&a);
        rows_free(&b);
    }
    printf("# %d of %zu conditions match rows\n", nonempty, sizeof conds / sizeof conds[0]);
    CHECK(nonempty >= 60);
    /* joins: the right side's affinity decides how SQLite compares */
    static const char *joins[] = {
        "t.s = aff.ti",   "t.s = aff.tt",   "t.s = aff.tr",   "t.s = aff.tn",   "t.s = aff.tb",   "t.s > aff.tn",
        "t.s < aff.ti",   "t.k = aff.tt",   "t.k = aff.tn",   "t.k > aff.tr",   "t.d = aff.tn",   "t.d < aff.tt",
        "t.amt > aff.tt", "t.amt < aff.tn", "t.bin = aff.tb", "t.bin > aff.tt", "t.day > aff.tt", "t.grp = aff.ti",
        "t.grp = aff.tn", "t.grp = aff.tt", "t.grp < aff.tr",
    };
    for (size_t i = 0; i < sizeof joins / sizeof joins[0]; i++) {
        char j2[128], q1[512], q2[512];
        snprintf(j2, sizeof j2, "%s", joins[i]);
        memcpy(j2, "p", 1); /* t. → p. */
        snprintf(q1, sizeof q1, "SELECT t.id, quote(aff.ti), quote(aff.tt) FROM aff CROSS JOIN t ON %s", joins[i]);
        snprintf(q2, sizeof q2, "SELECT p.id, quote(aff.ti), quote(aff.tt) FROM aff CROSS JOIN plain AS p ON %s", j2);
        rows a = {0}, b = {0};
        if (sql_rows(db, q1, &a, msg, sizeof msg) != SQLITE_OK)
            FAILF("%s: %s", q1, msg);
        if (sql_rows(db, q2, &b, msg, sizeof msg) != SQLITE_OK)
            FAILF("%s: %s", q2, msg);
        if (!rows_equal(&a, &b, joins[i]))
            FAILF("JOIN ON %s: the module differs from the plain copy", joins[i]);
        rows_free(&a);
        rows_free(&b);
    }
    /* the join constraint reaches the module */
    CHECK(strstr(plan_of(db, "SELECT t.id FROM aff CROSS JOIN t ON t.s = aff.tn"), "skip by stats s=?") != NULL);
    /* rows a re-checked filter excludes never reach SQLite */
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t WHERE id BETWEEN 1000 AND 1100"), 101);
    CHECK_EQ_INT(scan_stat(db, "t", "rows"), 101);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t WHERE s = '5' AND k > 0"),
                 query_int(db, "SELECT count(*) FROM plain WHERE s = '5' AND k > 0"));
    CHECK_EQ_INT(scan_stat(db, "t", "rows"), query_int(db, "SELECT count(*) FROM plain WHERE s = '5' AND k > 0"));
    /* a right side that is not a constant may have numeric affinity: '5.0'
     * then equals 5, so text that looks like a number is kept for SQLite */
    CHECK_EQ_STR(query_text(db, "SELECT quote(amt) FROM t WHERE id = 500"), "'5.00'");
    int64_t want5 = query_int(db, "SELECT count(*) FROM plain AS p2 CROSS JOIN plain AS p ON p.s = p2.amt "
                                  "WHERE p2.id = 500");
    CHECK(want5 > RROWS / 10);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t AS t2 CROSS JOIN t ON t.s = t2.amt WHERE t2.id = 500"), want5);
    /* the same for a partition column: '5' and '5.0' both equal '5.00' there */
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t AS t2 CROSS JOIN t ON t.grp = t2.amt WHERE t2.id = 500"), RROWS);
    CHECK(strstr(plan_of(db, "SELECT count(*) FROM t WHERE grp = '5'"), "partition grp=?") != NULL);
    /* an OR of re-checked filters: one scan per term, rows seen twice dropped */
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t WHERE id < 3 OR id > 4997 OR id = 4998"), 5);
    CHECK(strstr(plan_of(db, "SELECT id FROM t WHERE id < 3 OR id > 4997"), "MULTI-INDEX OR") != NULL);
    /* a NaN reads as NULL, also where stats call it a value */
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t WHERE d IS NULL"),
                 query_int(db, "SELECT count(*) FROM plain WHERE d IS NULL"));
    CHECK(query_int(db, "SELECT count(*) FROM t WHERE d IS NULL") > RROWS / 17);
    /* one statement after another, each reusing the last one's memory */
    int64_t sum1 = query_int(db, "SELECT sum(k) FROM t WHERE grp = '5.0'");
    int64_t sum2 = query_int(db, "SELECT sum(k) FROM t WHERE grp = '5.0'");
    CHECK_EQ_INT(sum1, query_int(db, "SELECT sum(k) FROM plain WHERE grp = '5.0'"));
    CHECK_EQ_INT(sum2, sum1);
    sqlite3_close(db);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void t_types(void) {
    sqlite3 *db = open_written();
    REQUIRE(db);
    CHECK_EQ_STR(query_text(db, "SELECT typeof(id) || typeof(grp) || typeof(name) || typeof(amount) || "
                                "typeof(score) || typeof(day) || typeof(ts) || typeof(flag) || typeof(data) || "
                                "typeof(tags) || typeof(info) FROM t WHERE id = 1"),
                 "integerintegertexttextrealtexttextintegerblobtexttext");
    /* id 1: amount 37 - 2000 = -1963 → "-19.63"; ts 2024-01-01 + 0.25 s */
    CHECK_EQ_STR(query_text(db, "SELECT amount FROM t WHERE id = 1"), "-19.63");
    CHECK_EQ_STR(query_text(db, "SELECT amount FROM t WHERE id = 60"), "2.20");
    CHECK_EQ_STR(query_text(db, "SELECT day FROM t WHERE id = 3"), "2024-01-03");
    CHECK_EQ_STR(query_text(db, "SELECT ts FROM t WHERE id = 1"), "2024-01-01T00:00:00.250000Z");
    CHECK_EQ_STR(query_text(db, "SELECT hex(data) FROM t WHERE id = 3"), "0300FF");
    CHECK_EQ_STR(query_text(db, "SELECT tags FROM t WHERE id = 1"), "[\"y\\\"q\",\"x\"]");
    CHECK_EQ_STR(query_text(db, "SELECT info FROM t WHERE id = 2"), "{\"a\":6,\"b\":\"b\"}");
    CHECK_EQ_STR(query_text(db, "SELECT json_extract(info, '$.a') FROM t WHERE id = 7"), "21");
    CHECK_EQ_STR(query_text(db, "SELECT quote(tags) FROM t WHERE id = 5"), "NULL");
    CHECK_EQ_STR(query_text(db, "SELECT flag FROM t WHERE id = 3"), "1");
    CHECK_EQ_STR(query_text(db, "SELECT quote(grp) FROM t WHERE id = 5"), "NULL");
    /* declared types */
    CHECK_EQ_STR(query_text(db, "SELECT group_concat(type, ',') FROM pragma_table_info('t')"),
                 "INTEGER,INTEGER,TEXT,DECIMAL(10,2),DOUBLE,TEXT,TEXT,BOOLEAN,BLOB,TEXT,TEXT");
    /* hidden columns are not in SELECT * */
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM pragma_table_info('t')"), WCOLS);
    CHECK_EQ_INT(query_int(db, "SELECT DISTINCT _version FROM t"), WCOMMITS - 1);
    /* exact decimals: a decimal(38,x) from the corpus */
    const char *corpus = lks_test_corpus();
    if (corpus) {
        char dir[4600], sql[5000];
        snprintf(dir, sizeof dir, "%s/delta/golden-basic-decimal-table/delta", corpus);
        if (exists(dir)) {
            sqlite3 *d2 = open_db();
            snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE dt USING delta('%s')", dir);
            CHECK(exec_ok(d2, sql));
            const char *v = query_text(d2, "SELECT group_concat(part || ':' || col1, ' ') FROM dt");
            printf("# decimals: %.200s\n", v);
            CHECK(strncmp(v, "ERROR", 5) != 0);
            sqlite3_close(d2);
        }
    }
    sqlite3_close(db);
}

static void t_bad_input(void) {
    sqlite3 *db = open_db();
    REQUIRE(db);
    char msg[1024];
    CHECK(exec_msg(db, "CREATE VIRTUAL TABLE a USING delta('/nonexistent/lks/table')", msg, sizeof msg) != 0);
    printf("# unknown path: %s\n", msg);
    CHECK(strstr(msg, "no table at /nonexistent/lks/table") != NULL);
    CHECK(!exists("/nonexistent/lks"));
    CHECK(exec_msg(db, "CREATE VIRTUAL TABLE a USING delta('/tmp')", msg, sizeof msg) != 0);
    printf("# not a table: %s\n", msg);
    CHECK(strncmp(msg, "delta: table /tmp", 17) == 0);
    CHECK(exec_msg(db, "CREATE VIRTUAL TABLE a USING delta()", msg, sizeof msg) != 0);
    CHECK(strstr(msg, "no table location") != NULL);
    CHECK(exec_msg(db, "CREATE VIRTUAL TABLE a USING delta('/tmp', colour=red)", msg, sizeof msg) != 0);
    CHECK(strstr(msg, "unknown argument 'colour'") != NULL);
    CHECK(exec_msg(db, "CREATE VIRTUAL TABLE a USING delta('/tmp', version=x)", msg, sizeof msg) != 0);
    CHECK(strstr(msg, "version=x") != NULL);
    lks_err err;
    if (write_table(&err) == LKS_OK) {
        char sql[512];
        snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE b USING delta('%s', version=99)", wdir);
        CHECK(exec_msg(db, sql, msg, sizeof msg) != 0);
        printf("# bad version: %s\n", msg);
        CHECK(strstr(msg, "99") != NULL);
        snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE b USING delta('%s')", wdir);
        CHECK(exec_ok(db, sql));
        CHECK(exec_msg(db, "SELECT * FROM b(99)", msg, sizeof msg) != 0);
        CHECK(strstr(msg, "version 99") != NULL);
        CHECK(exec_msg(db, "SELECT * FROM b WHERE _version = 'abc'", msg, sizeof msg) != 0);
        CHECK(strstr(msg, "_version must be") != NULL);
        CHECK(exec_msg(db, "SELECT * FROM b WHERE _timestamp = 'yesterday'", msg, sizeof msg) != 0);
        CHECK(strstr(msg, "not a timestamp") != NULL);
        CHECK(exec_msg(db, "SELECT * FROM b WHERE _timestamp = '1990-01-01'", msg, sizeof msg) != 0);
        printf("# before the first commit: %s\n", msg);
        CHECK(exec_msg(db, "SELECT * FROM b(1, '2024-01-01')", msg, sizeof msg) != 0);
        CHECK(strstr(msg, "either") != NULL);
        CHECK(exec_msg(db, "SELEKT * FROM b", msg, sizeof msg) != 0);
        /* a usable table after all that */
        CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM b(2)"), 3 * WPER);
        CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM b WHERE _timestamp = '2999-01-01'"), WCOMMITS * WPER);
    }
    const char *corpus = lks_test_corpus();
    if (corpus) {
        char dir[4600], sql[5000];
        snprintf(dir, sizeof dir, "%s/delta/golden-deltalog-invalid-protocol-version/delta", corpus);
        if (exists(dir)) {
            snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE p USING delta('%s')", dir);
            CHECK(exec_msg(db, sql, msg, sizeof msg) != 0);
            printf("# unsupported protocol: %s\n", msg);
            CHECK(strncmp(msg, "delta: table ", 13) == 0);
        }
    }
    sqlite3_close(db);
}

int main(void) {
    RUN(t_corpus_select_star);
    RUN(t_time_travel);
    RUN(t_filters_match_plain_copy);
    RUN(t_limit_stops_early);
    RUN(t_count_from_stats);
    RUN(t_row_tests_match_plain_copy);
    RUN(t_types);
    RUN(t_bad_input);
    if (wdir[0])
        nftw(wdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return lks_test_done();
}
