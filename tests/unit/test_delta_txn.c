/* test_delta_txn.c — Delta writing: creating tables, appends, overwrites,
 * app transactions, checkpoints, conflicts, own-commit recognition,
 * writer-feature refusals, data-file stats; every table written is checked
 * by the log validator (tests/tools/delta_validate.h). */
#include "delta/delta_int.h"
#include "harness.h"
#include "tools/delta_validate.h"

#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *SCHEMA =
    "{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
    "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"score\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"amount\",\"type\":\"decimal(10,2)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"day\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"ts\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"elementType\":\"string\",\"containsNull\":true},"
    "\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"info\",\"type\":{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"a\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"b\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
#define NCOLS 9

/* ---- fixtures ------------------------------------------------------------------- */

typedef struct fx {
    char dir[256];
    lks_store *st;
    lks_delta_table *t;
} fx;

static int fx_open(fx *f) {
    snprintf(f->dir, sizeof f->dir, "/tmp/lks_dtxn.XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    lks_err err;
    if (lks_store_open(f->dir, &f->st, &err)) return -1;
    return lks_delta_table_open(f->st, "", &f->t, &err);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* Validates the log (unless `refused`: nothing was committed), then
 * removes the table. */
static void fx_close2(fx *f, int refused) {
    char msg[2048];
    int problems = refused ? 0 : lks_delta_validate(f->dir, msg, sizeof msg);
    if (problems) FAILF("log validator: %d problem(s) in %s: %s", problems, f->dir, msg);
    lks_delta_table_close(f->t);
    lks_store_close(f->st);
    if (!problems) nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}
static void fx_close(fx *f) { fx_close2(f, 0); }

static lks_pq_value vnull(void) {
    lks_pq_value v;
    memset(&v, 0, sizeof v);
    return v;
}
static lks_pq_value vstr(const char *s) {
    lks_pq_value v = vnull();
    if (!s) return v;
    v.kind = LKS_PQ_V_BYTES;
    v.u.bytes.ptr = (const uint8_t *)s;
    v.u.bytes.len = strlen(s);
    return v;
}
static lks_pq_value vi64(int64_t x) {
    lks_pq_value v = vnull();
    v.kind = LKS_PQ_V_INT64;
    v.u.i64 = x;
    return v;
}
static lks_pq_value vi32(int32_t x) {
    lks_pq_value v = vnull();
    v.kind = LKS_PQ_V_INT32;
    v.u.i32 = x;
    return v;
}
static lks_pq_value vdbl(double x) {
    lks_pq_value v = vnull();
    v.kind = LKS_PQ_V_DOUBLE;
    v.u.f64 = x;
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

/* Row i of partition `part` (NULL: null partition). */
static lks_pq_value make_row(lks_arena *a, int64_t i, const char *part) {
    lks_pq_value r = vgroup(a, NCOLS, LKS_PQ_V_GROUP);
    lks_pq_value *it = r.u.list.items;
    it[0] = vi64(i);
    it[1] = i % 7 == 3 ? vnull() : vstr(lks_arena_printf(a, "name-%05" PRId64, i));
    it[2] = vdbl((double)i / 4);
    it[3] = vi64(i * 101 - 5000); /* decimal(10,2): unscaled */
    it[4] = vi32((int32_t)(18628 + i % 30));
    it[5] = vi64((int64_t)1609459200000000 + i * 1500); /* 2021-01-01 + i*1.5ms */
    if (i % 5 == 0) {
        it[6] = vnull();
    } else {
        lks_pq_value lst = vgroup(a, 1, LKS_PQ_V_GROUP);
        lks_pq_value rep = vgroup(a, 2, LKS_PQ_V_REPEATED);
        for (int k = 0; k < 2; k++) {
            lks_pq_value e = vgroup(a, 1, LKS_PQ_V_GROUP);
            e.u.list.items[0] = vstr(k ? "x" : "y");
            rep.u.list.items[k] = e;
        }
        lst.u.list.items[0] = rep;
        it[6] = lst;
    }
    lks_pq_value info = vgroup(a, 2, LKS_PQ_V_GROUP);
    info.u.list.items[0] = vi32((int32_t)(i * 3));
    info.u.list.items[1] = vstr("b");
    it[7] = info;
    it[8] = vstr(part);
    return r;
}

static const char *PARTCOLS[] = {"part"};

static void fill_meta(lks_delta_metadata *m, const char *schema, const char **pc, int npc, lks_delta_kv *cfg,
                      int ncfg) {
    memset(m, 0, sizeof *m);
    m->schema_string = schema;
    m->partition_columns = pc;
    m->npartition_columns = npc;
    m->configuration = cfg;
    m->nconfiguration = ncfg;
    m->created_time = -1;
}

/* Creates the table (protocol r/w, config) with `nrows` rows at version 0. */
static int create_table(fx *f, int r, int w, lks_delta_kv *cfg, int ncfg, int nrows, lks_err *err) {
    lks_delta_txn *x;
    int rc = lks_delta_txn_begin(f->t, NULL, "CREATE TABLE", &x, err);
    if (rc) return rc;
    lks_delta_protocol p = {r, w, NULL, 0, NULL, 0};
    lks_delta_metadata m;
    fill_meta(&m, SCHEMA, PARTCOLS, 1, cfg, ncfg);
    lks_delta_txn_set_protocol(x, &p);
    if ((rc = lks_delta_txn_set_metadata(x, &m))) {
        lks_delta_txn_free(x);
        return lks_err_set(err, rc, "set_metadata");
    }
    lks_delta_writer *wr = NULL;
    lks_arena a;
    lks_arena_init(&a, 0);
    /* the writer needs the parsed schema: a snapshot-less metadata */
    lks_delta_metadata pm = m;
    if ((rc = lks_delta_schema_parse(SCHEMA, strlen(SCHEMA), &a, &pm.schema, err))) goto out;
    if ((rc = lks_delta_writer_open(x, &pm, NULL, &wr, err))) goto out;
    for (int i = 0; i < nrows && !rc; i++) {
        lks_pq_value row = make_row(&a, i, i % 2 ? "a" : "b");
        rc = lks_delta_writer_write(wr, &row, err);
    }
    if (!rc) rc = lks_delta_writer_close(wr, err);
    int64_t v = -1;
    if (!rc) rc = lks_delta_txn_commit(x, 0, &v, err);
    if (!rc && v != 0) rc = lks_err_set(err, LKS_EINTERNAL, "created at version %" PRId64, v);
out:
    lks_delta_writer_free(wr);
    lks_delta_txn_free(x);
    lks_arena_free(&a);
    return rc;
}

/* Appends rows [first, first+n) split over partitions a, b and null. */
static int append_rows(fx *f, int64_t first, int n, int64_t *version, lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(f->t, &s, err);
    if (rc) return rc;
    lks_delta_txn *x = NULL;
    lks_delta_writer *w = NULL;
    lks_arena a;
    lks_arena_init(&a, 0);
    rc = lks_delta_txn_begin(f->t, s, "WRITE", &x, err);
    if (!rc) rc = lks_delta_txn_set_param(x, "mode", "\"Append\"");
    if (!rc) rc = lks_delta_writer_open(x, &s->metadata, NULL, &w, err);
    for (int i = 0; i < n && !rc; i++) {
        int64_t id = first + i;
        lks_pq_value row = make_row(&a, id, id % 3 == 0 ? "a" : id % 3 == 1 ? "b" : NULL);
        rc = lks_delta_writer_write(w, &row, err);
    }
    if (!rc) rc = lks_delta_writer_close(w, err);
    if (!rc) rc = lks_delta_txn_set_metric(x, "numOutputRows", n);
    if (!rc) rc = lks_delta_txn_commit(x, 0, version, err);
    lks_delta_writer_free(w);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    lks_arena_free(&a);
    return rc;
}

static int64_t stats_records(const lks_delta_snapshot *s) {
    int64_t n = 0;
    for (size_t i = 0; i < s->nfiles; i++) {
        json_error_t je;
        json_t *j = s->files[i].stats ? json_loads(s->files[i].stats, 0, &je) : NULL;
        n += json_integer_value(json_object_get(j, "numRecords"));
        json_decref(j);
    }
    return n;
}

/* Rows of a scan of s, and a check that ids are [0, expect) exactly once.
 * Returns -1 when the scan is not available. */
static int64_t scan_count(fx *f, const lks_delta_snapshot *s, int64_t expect_ids, int *dups) {
    lks_delta_scan *sc = NULL;
    lks_delta_scan_opts o;
    memset(&o, 0, sizeof o);
    lks_err err;
    if (lks_delta_scan_open(f->t, s, &o, &sc, &err) != LKS_OK) {
        FAILF("scan open: %s", err.msg);
        return -1;
    }
    uint8_t *seen = calloc((size_t)expect_ids + 1, 1);
    int64_t n = 0;
    *dups = 0;
    const lks_pq_value *row;
    int rc;
    while ((rc = lks_delta_scan_next(sc, &row, &err)) == 1) {
        n++;
        int64_t id = row->u.list.items[0].u.i64;
        if (id < 0 || id >= expect_ids || seen[id]++) (*dups)++;
    }
    if (rc < 0) FAILF("scan: %s", err.msg);
    free(seen);
    lks_delta_scan_free(sc);
    return n;
}

/* ---- tests --------------------------------------------------------------------- */

static void t_create_append_reread(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    CHECK_OK(create_table(&f, 1, 2, NULL, 0, 10, &err), &err);
    int64_t total[8], nfiles[8];
    total[0] = 10;
    int64_t next = 10;
    for (int k = 1; k <= 5; k++) {
        int64_t v = -1;
        CHECK_OK(append_rows(&f, next, 20 + k, &v, &err), &err);
        CHECK_EQ_INT(v, k);
        next += 20 + k;
        total[k] = next;
    }
    for (int k = 0; k <= 5; k++) {
        lks_delta_snapshot *s = NULL;
        CHECK_OK(lks_delta_snapshot_at_version(f.t, k, &s, &err), &err);
        if (!s) continue;
        CHECK_EQ_INT(s->version, k);
        CHECK_EQ_INT(stats_records(s), total[k]);
        nfiles[k] = (int64_t)s->nfiles;
        CHECK_EQ_INT(nfiles[k], k == 0 ? 2 : 2 + 3 * k);
        CHECK_EQ_INT(s->protocol.min_reader, 1);
        CHECK_EQ_INT(s->protocol.min_writer, 2);
        CHECK_EQ_INT(s->metadata.npartition_columns, 1);
        for (size_t i = 0; i < s->nfiles; i++) {
            CHECK_EQ_INT(s->files[i].npartition_values, 1);
            CHECK(s->files[i].size > 0);
        }
        int dups = 0;
        int64_t n = scan_count(&f, s, total[k], &dups);
        CHECK_EQ_INT(n, total[k]);
        CHECK_EQ_INT(dups, 0);
        lks_delta_snapshot_free(s);
    }
    fx_close(&f);
}

static void t_overwrite_and_apps(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, 2, NULL, 0, 30, &err) == LKS_OK);
    int64_t v;
    CHECK_OK(append_rows(&f, 30, 30, &v, &err), &err);
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    size_t old = s->nfiles;
    /* overwrite: remove every file, add new rows 1000.. */
    lks_delta_txn *x = NULL;
    lks_delta_writer *w = NULL;
    lks_arena a;
    lks_arena_init(&a, 0);
    CHECK_OK(lks_delta_txn_begin(f.t, s, "WRITE", &x, &err), &err);
    lks_delta_txn_read_all(x);
    for (size_t i = 0; i < s->nfiles; i++) {
        lks_delta_remove r;
        memset(&r, 0, sizeof r);
        r.path = s->files[i].path;
        r.deletion_timestamp = -1;
        r.data_change = 1;
        r.extended_file_metadata = 1;
        r.partition_values = s->files[i].partition_values;
        r.npartition_values = s->files[i].npartition_values;
        r.size = s->files[i].size;
        CHECK_OK(lks_delta_txn_remove(x, &r), &err);
    }
    CHECK_OK(lks_delta_writer_open(x, &s->metadata, NULL, &w, &err), &err);
    for (int i = 0; i < 7; i++) {
        lks_pq_value row = make_row(&a, i, "c");
        CHECK_OK(lks_delta_writer_write(w, &row, &err), &err);
    }
    CHECK_OK(lks_delta_writer_close(w, &err), &err);
    CHECK_OK(lks_delta_txn_set_app_version(x, "app-1", 5), &err);
    CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
    CHECK_EQ_INT(v, 2);
    lks_delta_writer_free(w);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->nfiles, 1);
        CHECK_EQ_INT(stats_records(s), 7);
        CHECK(s->ntombstones >= old);
        CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "app-1"), 5);
        CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "nope"), -1);
        int dups;
        CHECK_EQ_INT(scan_count(&f, s, 7, &dups), 7);
    }
    /* a later app version wins; another app is independent */
    lks_delta_txn *y = NULL;
    CHECK_OK(lks_delta_txn_begin(f.t, s, "WRITE", &y, &err), &err);
    lks_delta_txn_set_app_version(y, "app-1", 9);
    lks_delta_txn_set_app_version(y, "app-2", 1);
    CHECK_OK(lks_delta_txn_commit(y, 0, &v, &err), &err);
    lks_delta_txn_free(y);
    lks_delta_snapshot_free(s);
    s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "app-1"), 9);
        CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "app-2"), 1);
        CHECK_EQ_INT(s->ntxns, 2);
    }
    lks_delta_snapshot_free(s);
    /* the old version still reads the old files */
    s = NULL;
    CHECK_OK(lks_delta_snapshot_at_version(f.t, 1, &s, &err), &err);
    if (s) CHECK_EQ_INT(s->nfiles, old);
    lks_delta_snapshot_free(s);
    lks_arena_free(&a);
    fx_close(&f);
}

static int same_kv(const lks_delta_kv *a, int na, const lks_delta_kv *b, int nb) {
    if (na != nb) return 0;
    for (int i = 0; i < na; i++) {
        int found = 0;
        for (int j = 0; j < nb; j++)
            if (!strcmp(a[i].key, b[j].key))
                found = (!a[i].value && !b[j].value) || (a[i].value && b[j].value && !strcmp(a[i].value, b[j].value));
        if (!found) return 0;
    }
    return 1;
}

static void compare_snapshots(const lks_delta_snapshot *a, const lks_delta_snapshot *b) {
    CHECK_EQ_INT(a->version, b->version);
    CHECK_EQ_INT(a->nfiles, b->nfiles);
    for (size_t i = 0; i < a->nfiles && i < b->nfiles; i++) {
        const lks_delta_add *x = &a->files[i], *y = &b->files[i];
        CHECK_EQ_STR(x->path, y->path);
        CHECK_EQ_INT(x->size, y->size);
        CHECK_EQ_INT(x->modification_time, y->modification_time);
        CHECK_EQ_INT(x->data_change, y->data_change);
        CHECK_EQ_STR(x->stats, y->stats);
        CHECK(same_kv(x->partition_values, x->npartition_values, y->partition_values, y->npartition_values));
    }
    CHECK_EQ_INT(a->ntxns, b->ntxns);
    for (size_t i = 0; i < a->ntxns && i < b->ntxns; i++) {
        CHECK_EQ_STR(a->txns[i].app_id, b->txns[i].app_id);
        CHECK_EQ_INT(a->txns[i].version, b->txns[i].version);
    }
    CHECK_EQ_INT(a->ntombstones, b->ntombstones);
    CHECK_EQ_STR(a->metadata.id, b->metadata.id);
    CHECK_EQ_STR(a->metadata.schema_string, b->metadata.schema_string);
    CHECK_EQ_INT(a->metadata.npartition_columns, b->metadata.npartition_columns);
    CHECK_EQ_INT(a->metadata.created_time, b->metadata.created_time);
    CHECK(same_kv(a->metadata.configuration, a->metadata.nconfiguration, b->metadata.configuration,
                  b->metadata.nconfiguration));
    CHECK_EQ_INT(a->protocol.min_reader, b->protocol.min_reader);
    CHECK_EQ_INT(a->protocol.min_writer, b->protocol.min_writer);
}

static void t_checkpoint(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    lks_delta_kv cfg[] = {{"delta.checkpointInterval", "1000"}, {"custom.key", "v"}};
    REQUIRE(create_table(&f, 1, 2, cfg, 2, 5, &err) == LKS_OK);
    int64_t v = 0;
    for (int k = 1; k <= 10; k++) {
        CHECK_OK(append_rows(&f, 5 + (k - 1) * 4, 4, &v, &err), &err);
        if (k == 4) { /* a remove, so there are tombstones, and an app id */
            lks_delta_snapshot *s = NULL;
            REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
            lks_delta_txn *x;
            lks_delta_txn_begin(f.t, s, "DELETE", &x, &err);
            lks_delta_remove r;
            memset(&r, 0, sizeof r);
            r.path = s->files[0].path;
            r.deletion_timestamp = -1;
            r.data_change = 1;
            r.size = s->files[0].size;
            lks_delta_txn_remove(x, &r);
            lks_delta_txn_set_app_version(x, "cp-app", 42);
            CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
            lks_delta_txn_free(x);
            lks_delta_snapshot_free(s);
        }
    }
    CHECK_EQ_INT(v, 11);
    lks_delta_snapshot *before = NULL, *after = NULL;
    REQUIRE(lks_delta_snapshot_at_version(f.t, 11, &before, &err) == LKS_OK);
    CHECK_EQ_INT(before->checkpoint_version, -1);
    CHECK_OK(lks_delta_checkpoint_write(f.t, before, &err), &err);
    CHECK_OK(lks_delta_snapshot_at_version(f.t, 11, &after, &err), &err);
    if (after) {
        CHECK_EQ_INT(after->checkpoint_version, 11);
        compare_snapshots(before, after);
        CHECK_EQ_INT(lks_delta_snapshot_app_version(after, "cp-app"), 42);
    }
    /* commits after the checkpoint replay on top of it */
    CHECK_OK(append_rows(&f, 1000, 3, &v, &err), &err);
    lks_delta_snapshot *later = NULL;
    CHECK_OK(lks_delta_snapshot_latest(f.t, &later, &err), &err);
    if (later && after) {
        CHECK_EQ_INT(later->checkpoint_version, 11);
        CHECK_EQ_INT(stats_records(later), stats_records(after) + 3);
        CHECK_EQ_INT(lks_delta_snapshot_app_version(later, "cp-app"), 42);
    }
    lks_delta_snapshot_free(before);
    lks_delta_snapshot_free(after);
    lks_delta_snapshot_free(later);
    fx_close(&f);

    /* default interval: the commit of version 10 writes a checkpoint */
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, 2, NULL, 0, 2, &err) == LKS_OK);
    for (int k = 1; k <= 10; k++) CHECK_OK(append_rows(&f, 2 + k * 10, 2, &v, &err), &err);
    char p[512];
    struct stat sb;
    snprintf(p, sizeof p, "%s/_delta_log/00000000000000000010.checkpoint.parquet", f.dir);
    CHECK(stat(p, &sb) == 0);
    snprintf(p, sizeof p, "%s/_delta_log/_last_checkpoint", f.dir);
    CHECK(stat(p, &sb) == 0);
    lks_delta_snapshot *s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->checkpoint_version, 10);
        CHECK_EQ_INT(stats_records(s), 22);
        int dups;
        CHECK_EQ_INT(scan_count(&f, s, 200, &dups), 22);
        CHECK_EQ_INT(dups, 0);
    }
    lks_delta_snapshot_free(s);
    fx_close(&f);
}

/* A txn from snapshot s adding one small file of rows [id, id+n). */
static lks_delta_txn *append_txn(fx *f, const lks_delta_snapshot *s, int64_t id, int n, lks_err *err) {
    lks_delta_txn *x = NULL;
    lks_delta_writer *w = NULL;
    lks_arena a;
    lks_arena_init(&a, 0);
    if (lks_delta_txn_begin(f->t, s, "WRITE", &x, err)) return NULL;
    if (lks_delta_writer_open(x, &s->metadata, NULL, &w, err)) {
        lks_delta_txn_free(x);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        lks_pq_value row = make_row(&a, id + i, "a");
        lks_delta_writer_write(w, &row, err);
    }
    lks_delta_writer_close(w, err);
    lks_delta_writer_free(w);
    lks_arena_free(&a);
    return x;
}

static int ignore_all(void *ud, const lks_delta_add *add) {
    (void)add;
    ++*(int *)ud;
    return 0;
}

static void t_conflicts(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, 2, NULL, 0, 10, &err) == LKS_OK);
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    int64_t v1 = -1, v2 = -1;

    /* two blind appends from the same snapshot both commit */
    lks_delta_txn *a = append_txn(&f, s, 100, 3, &err), *b = append_txn(&f, s, 200, 3, &err);
    REQUIRE(a && b);
    CHECK_OK(lks_delta_txn_commit(a, 0, &v1, &err), &err);
    CHECK_OK(lks_delta_txn_commit(b, 0, &v2, &err), &err);
    CHECK_EQ_INT(v1, 1);
    CHECK_EQ_INT(v2, 2);
    lks_delta_txn_free(a);
    lks_delta_txn_free(b);
    lks_delta_snapshot_free(s);

    /* read_all + remove vs a concurrent append: conflict naming the version */
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    a = append_txn(&f, s, 300, 2, &err);
    lks_delta_txn_read_all(a);
    lks_delta_remove r;
    memset(&r, 0, sizeof r);
    r.path = s->files[0].path;
    r.deletion_timestamp = -1;
    r.data_change = 1;
    r.size = -1;
    lks_delta_txn_remove(a, &r);
    b = append_txn(&f, s, 400, 2, &err);
    CHECK_OK(lks_delta_txn_commit(b, 0, &v2, &err), &err);
    CHECK_EQ_INT(v2, 3);
    int rc = lks_delta_txn_commit(a, 0, &v1, &err);
    CHECK_EQ_INT(rc, LKS_ECONFLICT);
    CHECK(strstr(err.msg, "commit 3") != NULL);
    lks_delta_txn_free(a);
    lks_delta_txn_free(b);
    lks_delta_snapshot_free(s);

    /* two deletes of the same file: the second conflicts */
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    lks_delta_txn_begin(f.t, s, "DELETE", &a, &err);
    lks_delta_txn_begin(f.t, s, "DELETE", &b, &err);
    r.path = s->files[1].path;
    lks_delta_txn_read_file(a, r.path);
    lks_delta_txn_read_file(b, r.path);
    lks_delta_txn_remove(a, &r);
    lks_delta_txn_remove(b, &r);
    CHECK_OK(lks_delta_txn_commit(a, 0, &v1, &err), &err);
    rc = lks_delta_txn_commit(b, 0, &v2, &err);
    CHECK_EQ_INT(rc, LKS_ECONFLICT);
    CHECK(strstr(err.msg, "removed") != NULL);
    lks_delta_txn_free(a);
    lks_delta_txn_free(b);
    lks_delta_snapshot_free(s);

    /* a reader of one file vs a concurrent append: conflicts, unless the
     * conflict function says the new file is irrelevant */
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    for (int relevant = 1; relevant >= 0; relevant--) {
        lks_delta_snapshot *s2 = NULL;
        REQUIRE(lks_delta_snapshot_latest(f.t, &s2, &err) == LKS_OK);
        a = append_txn(&f, s2, 500 + relevant * 10, 2, &err);
        lks_delta_txn_read_file(a, s2->files[0].path);
        int calls = 0;
        if (!relevant) lks_delta_txn_set_conflict_fn(a, ignore_all, &calls);
        b = append_txn(&f, s2, 600 + relevant * 10, 2, &err);
        CHECK_OK(lks_delta_txn_commit(b, 0, &v2, &err), &err);
        rc = lks_delta_txn_commit(a, 0, &v1, &err);
        if (relevant) {
            CHECK_EQ_INT(rc, LKS_ECONFLICT);
            CHECK(strstr(err.msg, "added") != NULL);
        } else {
            CHECK_OK(rc, &err);
            CHECK_EQ_INT(v1, v2 + 1);
            CHECK_EQ_INT(calls, 1);
        }
        lks_delta_txn_free(a);
        lks_delta_txn_free(b);
        lks_delta_snapshot_free(s2);
    }

    /* the same application id written concurrently */
    lks_delta_txn_begin(f.t, s, "WRITE", &a, &err);
    lks_delta_txn_begin(f.t, s, "WRITE", &b, &err);
    lks_delta_txn_set_app_version(a, "stream-1", 10);
    lks_delta_txn_set_app_version(b, "stream-1", 11);
    CHECK_OK(lks_delta_txn_commit(b, 0, &v2, &err), &err);
    rc = lks_delta_txn_commit(a, 0, &v1, &err);
    CHECK_EQ_INT(rc, LKS_ECONFLICT);
    CHECK(strstr(err.msg, "stream-1") != NULL);
    lks_delta_txn_free(a);
    lks_delta_txn_free(b);

    /* a concurrent metadata change conflicts even with a blind append */
    lks_delta_snapshot_free(s);
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    a = append_txn(&f, s, 700, 1, &err);
    lks_delta_txn_begin(f.t, s, "SET TBLPROPERTIES", &b, &err);
    lks_delta_metadata m = s->metadata;
    lks_delta_kv cfg[] = {{"k", "v"}};
    m.configuration = cfg;
    m.nconfiguration = 1;
    CHECK_OK(lks_delta_txn_set_metadata(b, &m), &err);
    CHECK_OK(lks_delta_txn_commit(b, 0, &v2, &err), &err);
    rc = lks_delta_txn_commit(a, 0, &v1, &err);
    CHECK_EQ_INT(rc, LKS_ECONFLICT);
    CHECK(strstr(err.msg, "metadata") != NULL);
    lks_delta_txn_free(a);
    lks_delta_txn_free(b);
    lks_delta_snapshot_free(s);

    /* creating a table that exists */
    lks_delta_txn_begin(f.t, NULL, "CREATE TABLE", &a, &err);
    lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
    lks_delta_txn_set_protocol(a, &p);
    fill_meta(&m, SCHEMA, PARTCOLS, 1, NULL, 0);
    lks_delta_txn_set_metadata(a, &m);
    rc = lks_delta_txn_commit(a, 0, &v1, &err);
    CHECK_EQ_INT(rc, LKS_ECONFLICT);
    lks_delta_txn_free(a);
    fx_close(&f);
}

/* A store whose first put_if_absent of a commit lands but reports an I/O
 * error, as a lost response would. */
typedef struct flaky {
    lks_store base;
    lks_store *inner;
    int lose_next;
    int puts;
} flaky;

static int fl_get(lks_store *st, const char *key, uint64_t off, uint64_t len, int ranged, lks_buf *out, lks_err *err) {
    lks_store *in = ((flaky *)st)->inner;
    return in->ops->get(in, key, off, len, ranged, out, err);
}
static int fl_head(lks_store *st, const char *key, lks_store_entry *ent, lks_err *err) {
    lks_store *in = ((flaky *)st)->inner;
    return in->ops->head(in, key, ent, err);
}
static int fl_put(lks_store *st, const char *key, const void *data, size_t len, int if_absent, lks_err *err) {
    flaky *fl = (flaky *)st;
    if (if_absent) fl->puts++;
    if (if_absent && fl->lose_next == 2) { /* the request never arrived */
        fl->lose_next = 0;
        return lks_err_set(err, LKS_EIO, "simulated failed request");
    }
    int rc = fl->inner->ops->put(fl->inner, key, data, len, if_absent, err);
    if (rc == LKS_OK && if_absent && fl->lose_next) {
        fl->lose_next = 0;
        return lks_err_set(err, LKS_EIO, "simulated lost response");
    }
    return rc;
}
static int fl_list(lks_store *st, const char *prefix, int flags, lks_store_list_fn *fn, void *ud, lks_err *err) {
    lks_store *in = ((flaky *)st)->inner;
    return in->ops->list(in, prefix, flags, fn, ud, err);
}
static int fl_del(lks_store *st, const char *key, lks_err *err) {
    lks_store *in = ((flaky *)st)->inner;
    return in->ops->del(in, key, err);
}
static void fl_close(lks_store *st) { (void)st; }
static const lks_store_ops flaky_ops = {"flaky", fl_get,  fl_head, fl_put, fl_list, fl_del, NULL,
                                        fl_close, NULL,    NULL,    NULL,   NULL,    NULL,   NULL};

static void t_own_commit_retry(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, 2, NULL, 0, 4, &err) == LKS_OK);
    flaky fl;
    memset(&fl, 0, sizeof fl);
    fl.base.ops = &flaky_ops;
    fl.base.uri = f.st->uri;
    fl.inner = f.st;
    lks_delta_table *ft = NULL;
    REQUIRE(lks_delta_table_open(&fl.base, "", &ft, &err) == LKS_OK);
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(ft, &s, &err) == LKS_OK);
    fx g = f;
    g.t = ft;
    lks_delta_txn *x = append_txn(&g, s, 50, 2, &err);
    REQUIRE(x);
    lks_delta_txn_set_app_version(x, "retry-app", 1);
    fl.lose_next = 1;
    int64_t v = -1;
    CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
    CHECK_EQ_INT(v, 1);
    CHECK_EQ_INT(fl.puts, 1); /* the landed put, then a read that found our txnId */
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(ft, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->version, 1); /* applied once */
        CHECK_EQ_INT(stats_records(s), 6);
    }
    /* a put that failed without landing is retried at the same version */
    x = append_txn(&g, s, 60, 2, &err);
    REQUIRE(x);
    fl.lose_next = 2;
    fl.puts = 0;
    CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
    CHECK_EQ_INT(v, 2);
    CHECK_EQ_INT(fl.puts, 2);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(ft, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->version, 2);
        CHECK_EQ_INT(stats_records(s), 8);
    }
    /* the last allowed try lands but its answer is lost: still committed,
     * once (a failure here would have the batch applied again) */
    x = append_txn(&g, s, 70, 2, &err);
    REQUIRE(x);
    fl.lose_next = 1;
    fl.puts = 0;
    CHECK_OK(lks_delta_txn_commit(x, 1, &v, &err), &err);
    CHECK_EQ_INT(v, 3);
    CHECK_EQ_INT(fl.puts, 1);
    lks_delta_txn_free(x);
    /* ... and one that never arrived fails with the put's error */
    x = append_txn(&g, s, 80, 2, &err);
    REQUIRE(x);
    fl.lose_next = 2;
    CHECK_EQ_INT(lks_delta_txn_commit(x, 1, &v, &err), LKS_EIO);
    CHECK(strstr(err.msg, "simulated failed request") != NULL);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(ft, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->version, 3);
        CHECK_EQ_INT(stats_records(s), 10);
    }
    lks_delta_snapshot_free(s);
    lks_delta_table_close(ft);
    fx_close(&f);
}

/* Creates a table with this protocol/config/schema and one row; returns the
 * commit status. */
static int try_create(int r, int w, const char **wf, int nwf, const char **rf, int nrf, lks_delta_kv *cfg, int ncfg,
                      const char *schema, lks_err *err) {
    fx f;
    if (fx_open(&f)) return -100;
    lks_delta_txn *x = NULL;
    lks_delta_txn_begin(f.t, NULL, "CREATE TABLE", &x, err);
    lks_delta_protocol p = {r, w, rf, nrf, wf, nwf};
    lks_delta_metadata m;
    fill_meta(&m, schema ? schema : SCHEMA, PARTCOLS, 1, cfg, ncfg);
    lks_delta_txn_set_protocol(x, &p);
    lks_delta_txn_set_metadata(x, &m);
    lks_delta_add a;
    memset(&a, 0, sizeof a);
    lks_delta_kv pv[] = {{"part", "a"}};
    a.path = "part=a/f.parquet";
    a.partition_values = pv;
    a.npartition_values = 1;
    a.size = 10;
    a.data_change = 1;
    a.stats = "{\"numRecords\":1}";
    a.base_row_id = a.default_row_commit_version = -1;
    lks_delta_txn_add(x, &a);
    int64_t v;
    int rc = lks_delta_txn_commit(x, 0, &v, err);
    lks_delta_txn_free(x);
    fx_close2(&f, rc != LKS_OK);
    return rc;
}

static void t_feature_refusals(void) {
    lks_err err;
    const char *rt[] = {"rowTracking", "domainMetadata"};
    CHECK_EQ_INT(try_create(1, 7, rt, 2, NULL, 0, NULL, 0, NULL, &err), LKS_EUNSUPPORTED);
    CHECK(strstr(err.msg, "rowTracking") != NULL);
    const char *cl[] = {"appendOnly", "clustering"};
    CHECK_EQ_INT(try_create(1, 7, cl, 2, NULL, 0, NULL, 0, NULL, &err), LKS_EUNSUPPORTED);
    CHECK(strstr(err.msg, "clustering") != NULL);
    const char *v2[] = {"v2Checkpoint"};
    CHECK_EQ_INT(try_create(3, 7, v2, 1, v2, 1, NULL, 0, NULL, &err), LKS_EUNSUPPORTED);
    CHECK(strstr(err.msg, "v2Checkpoint") != NULL);
    const char *ok[] = {"appendOnly", "invariants", "timestampNtz", "deletionVectors", "domainMetadata",
                        "inCommitTimestamp", "vacuumProtocolCheck", "typeWidening"};
    const char *okr[] = {"timestampNtz", "deletionVectors", "vacuumProtocolCheck"};
    CHECK_OK(try_create(3, 7, ok, 8, okr, 3, NULL, 0, NULL, &err), &err);
    CHECK_OK(try_create(1, 2, NULL, 0, NULL, 0, NULL, 0, NULL, &err), &err);
    CHECK_EQ_INT(try_create(1, 8, NULL, 0, NULL, 0, NULL, 0, NULL, &err), LKS_EUNSUPPORTED);
    /* constraints at writer 3 */
    lks_delta_kv cons[] = {{"delta.constraints.positive", "id > 0"}};
    CHECK_EQ_INT(try_create(1, 3, NULL, 0, NULL, 0, cons, 1, NULL, &err), LKS_EUNSUPPORTED);
    CHECK(strstr(err.msg, "positive") != NULL);
    /* ...but not at writer 2, where the property means nothing */
    CHECK_OK(try_create(1, 2, NULL, 0, NULL, 0, cons, 1, NULL, &err), &err);
    /* invariants (writer 2) */
    const char *inv = "{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"integer\",\"nullable\":true,"
                      "\"metadata\":{\"delta.invariants\":\"{\\\"expression\\\":{\\\"expression\\\":\\\"x > 3\\\"}}\"}},"
                      "{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
    CHECK_EQ_INT(try_create(1, 2, NULL, 0, NULL, 0, NULL, 0, inv, &err), LKS_EUNSUPPORTED);
    CHECK(strstr(err.msg, "'x'") != NULL);
    /* identity (writer 6), generated (writer 4) */
    const char *idc = "{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"long\",\"nullable\":true,"
                      "\"metadata\":{\"delta.identity.start\":1,\"delta.identity.step\":1}},"
                      "{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
    CHECK_EQ_INT(try_create(1, 6, NULL, 0, NULL, 0, NULL, 0, idc, &err), LKS_EUNSUPPORTED);
    CHECK(strstr(err.msg, "identity") != NULL);
    const char *gen = "{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"long\",\"nullable\":true,"
                      "\"metadata\":{\"delta.generationExpression\":\"1\"}},"
                      "{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
    CHECK_EQ_INT(try_create(1, 4, NULL, 0, NULL, 0, NULL, 0, gen, &err), LKS_EUNSUPPORTED);
    CHECK(strstr(err.msg, "generated") != NULL);

    /* appendOnly: appends fine, removes refused; CDF: appends fine, removes refused */
    for (int which = 0; which < 2; which++) {
        fx f;
        REQUIRE(fx_open(&f) == 0);
        lks_delta_kv ao[] = {{which ? "delta.enableChangeDataFeed" : "delta.appendOnly", "true"}};
        REQUIRE(create_table(&f, 1, which ? 4 : 2, ao, 1, 6, &err) == LKS_OK);
        int64_t v;
        CHECK_OK(append_rows(&f, 6, 3, &v, &err), &err);
        lks_delta_snapshot *s = NULL;
        REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
        lks_delta_txn *x;
        lks_delta_txn_begin(f.t, s, "DELETE", &x, &err);
        lks_delta_remove r;
        memset(&r, 0, sizeof r);
        r.path = s->files[0].path;
        r.deletion_timestamp = -1;
        r.data_change = 1;
        r.size = -1;
        lks_delta_txn_remove(x, &r);
        CHECK_EQ_INT(lks_delta_txn_commit(x, 0, &v, &err), LKS_EUNSUPPORTED);
        CHECK(strstr(err.msg, which ? "change data feed" : "append-only") != NULL);
        lks_delta_txn_free(x);
        lks_delta_snapshot_free(s);
        fx_close(&f);
    }
}

static void t_stats_and_paths(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, 2, NULL, 0, 0, &err) == LKS_OK);
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    lks_delta_txn *x;
    lks_delta_writer *w;
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_delta_txn_begin(f.t, s, "WRITE", &x, &err);
    REQUIRE(lks_delta_writer_open(x, &s->metadata, NULL, &w, &err) == LKS_OK);
    const char *longs = "zyxwvutsrqponmlkjihgfedcba0123456789ABCDEFGH"; /* 44 chars */
    for (int i = 0; i < 3; i++) {
        lks_pq_value row = make_row(&a, i + 1, "a b:c");
        if (i == 2) row.u.list.items[1] = vstr(longs);
        if (i == 0) row.u.list.items[1] = vstr("aaa");
        row.u.list.items[5] = vi64((int64_t)1609459200000000 + (i == 2 ? 1500 : 0)); /* .0015 s */
        CHECK_OK(lks_delta_writer_write(w, &row, &err), &err);
    }
    lks_pq_value row = make_row(&a, 9, NULL);
    CHECK_OK(lks_delta_writer_write(w, &row, &err), &err);
    CHECK_OK(lks_delta_writer_close(w, &err), &err);
    int64_t v;
    CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
    lks_delta_writer_free(w);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    CHECK_EQ_INT(s->nfiles, 2);
    for (size_t i = 0; i < s->nfiles; i++) {
        const lks_delta_add *ad = &s->files[i];
        json_error_t je;
        json_t *j = json_loads(ad->stats, 0, &je);
        REQUIRE(j);
        if (ad->partition_values[0].value == NULL) {
            CHECK(strncmp(ad->path, "part=__HIVE_DEFAULT_PARTITION__/part-00", 39) == 0);
            CHECK_EQ_INT(json_integer_value(json_object_get(j, "numRecords")), 1);
        } else {
            CHECK_EQ_STR(ad->partition_values[0].value, "a b:c");
            /* Hive escapes ':' to %3A, the URI then encodes ' ' and '%' */
            CHECK(strncmp(ad->path, "part=a%20b%253Ac/part-", 22) == 0);
            CHECK(strstr(ad->path, ".snappy.parquet") != NULL);
            json_t *mn = json_object_get(j, "minValues"), *mx = json_object_get(j, "maxValues"),
                   *nc = json_object_get(j, "nullCount");
            CHECK_EQ_INT(json_integer_value(json_object_get(j, "numRecords")), 3);
            CHECK_EQ_INT(json_integer_value(json_object_get(mn, "id")), 1);
            CHECK_EQ_INT(json_integer_value(json_object_get(mx, "id")), 3);
            CHECK_EQ_STR(json_string_value(json_object_get(mn, "name")), "aaa");
            char want[40];
            memcpy(want, longs, 32);
            want[32] = 0x7f;
            want[33] = 0;
            CHECK_EQ_STR(json_string_value(json_object_get(mx, "name")), want);
            CHECK_EQ_STR(json_string_value(json_object_get(mn, "ts")), "2021-01-01T00:00:00.000Z");
            CHECK_EQ_STR(json_string_value(json_object_get(mx, "ts")), "2021-01-01T00:00:00.002Z");
            CHECK_EQ_STR(json_string_value(json_object_get(mn, "day")), "2021-01-02");
            CHECK(json_is_real(json_object_get(mn, "amount")));
            CHECK(strstr(ad->stats, "\"amount\":-48.99") != NULL);
            CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(mx, "info"), "a")), 9);
            CHECK(json_object_get(mn, "tags") == NULL);
            CHECK_EQ_INT(json_integer_value(json_object_get(nc, "name")), 0);
            CHECK_EQ_INT(json_integer_value(json_object_get(nc, "tags")), 0);
            CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(nc, "info"), "b")), 0);
            CHECK(json_object_get(nc, "part") == NULL); /* partition columns have no stats */
        }
        json_decref(j);
    }
    int dups;
    CHECK_EQ_INT(scan_count(&f, s, 10, &dups), 4);
    lks_delta_snapshot_free(s);
    lks_arena_free(&a);
    fx_close(&f);
}

static int cmp_str(const void *a, const void *b) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    return strcmp(x ? x : "", y ? y : "");
}

/* ---- rows given column by column ------------------------------------------------ */

static const char FLAT_SCHEMA[] =
    "{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
    "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"x\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"amount\",\"type\":\"decimal(10,2)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"day\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"flag\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}}]}";
#define FLAT_COLS 6

/* Writes rows sel[0..n) of cols into a new table at f, row by row or with
 * lks_delta_writer_write_cols (ncols columns given). */
static int64_t g_target_bytes = 20000; /* several files */
static int write_flat(fx *f, const char *schema, const char **pc, int npc, lks_pq_value *const *cols, int ncols,
                      int total_cols, const uint32_t *sel, size_t n, int by_cols, lks_err *err) {
    lks_delta_txn *x;
    int rc = lks_delta_txn_begin(f->t, NULL, "CREATE TABLE", &x, err);
    if (rc) return rc;
    lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
    lks_delta_metadata m;
    fill_meta(&m, schema, pc, npc, NULL, 0);
    lks_delta_txn_set_protocol(x, &p);
    lks_delta_txn_set_metadata(x, &m);
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_delta_writer *w = NULL;
    lks_delta_writer_opts o;
    memset(&o, 0, sizeof o);
    lks_pq_writer_opts_default(&o.parquet);
    o.parquet.row_group_rows = 700; /* several row groups and files */
    o.target_file_bytes = g_target_bytes;
    lks_delta_metadata pm = m;
    rc = lks_delta_schema_parse(schema, strlen(schema), &a, &pm.schema, err);
    if (!rc) rc = lks_delta_writer_open(x, &pm, &o, &w, err);
    if (!rc && by_cols) {
        /* in uneven pieces */
        for (size_t at = 0; at < n && !rc;) {
            size_t k = n - at < 777 ? n - at : 777;
            rc = lks_delta_writer_write_cols(w, (const lks_pq_value *const *)cols, ncols, sel + at, k, err);
            at += k;
        }
    } else if (!rc) {
        lks_pq_value *it = lks_arena_alloc(&a, (size_t)total_cols * sizeof *it);
        lks_pq_value row = {.kind = LKS_PQ_V_GROUP};
        row.u.list.items = it;
        row.u.list.n = (size_t)total_cols;
        for (size_t i = 0; i < n && !rc; i++) {
            for (int c = 0; c < total_cols; c++) it[c] = c < ncols ? cols[c][sel[i]] : vnull();
            rc = lks_delta_writer_write(w, &row, err);
        }
    }
    if (!rc) rc = lks_delta_writer_close(w, err);
    int64_t v;
    if (!rc) rc = lks_delta_txn_commit(x, 0, &v, err);
    lks_delta_writer_free(w);
    lks_delta_txn_free(x);
    lks_arena_free(&a);
    return rc;
}

/* Every row of the table as JSON lines, sorted, and the files' stats sorted. */
static void table_text(fx *f, lks_buf *rows, lks_buf *stats) {
    lks_err err;
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f->t, &s, &err) == LKS_OK);
    size_t cap = 64, nl = 0;
    char **lines = malloc(cap * sizeof *lines);
    lks_delta_scan *sc = NULL;
    lks_delta_scan_opts so;
    memset(&so, 0, sizeof so);
    REQUIRE(lks_delta_scan_open(f->t, s, &so, &sc, &err) == LKS_OK);
    const lks_pq_value *row;
    lks_buf b;
    lks_buf_init(&b, 0);
    int rc;
    while ((rc = lks_delta_scan_next(sc, &row, &err)) == 1) {
        lks_buf_reset(&b);
        REQUIRE(lks_pq_value_to_json(&b, lks_delta_scan_schema(sc), 0, row) == LKS_OK);
        lks_buf_cstr(&b);
        if (nl == cap) lines = realloc(lines, (cap *= 2) * sizeof *lines);
        lines[nl++] = strdup((const char *)b.ptr);
    }
    CHECK_EQ_INT(rc, 0);
    qsort(lines, nl, sizeof *lines, cmp_str);
    for (size_t i = 0; i < nl; i++) {
        lks_buf_printf(rows, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    char **st = malloc((s->nfiles + 1) * sizeof *st);
    for (size_t i = 0; i < s->nfiles; i++) st[i] = (char *)s->files[i].stats;
    qsort(st, s->nfiles, sizeof *st, cmp_str);
    for (size_t i = 0; i < s->nfiles; i++) lks_buf_printf(stats, "%s\n", st[i] ? st[i] : "null");
    free(st);
    lks_buf_free(&b);
    lks_delta_scan_free(sc);
    lks_delta_snapshot_free(s);
}

/* A flat table's bounds come from the Parquet writer's statistics, a nested
 * table's from the Delta writer's own walk: the same rows give the same
 * minValues/maxValues in both, across many row groups, for every kind. */
static void t_flat_bounds(void) {
    static const char *cols_json =
        "{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"s\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"d5\",\"type\":\"decimal(5,2)\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"d15\",\"type\":\"decimal(15,2)\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"d30\",\"type\":\"decimal(30,3)\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"day\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"ts\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"b\",\"type\":\"byte\",\"nullable\":true,\"metadata\":{}}";
    char flat[2048], nested[2048];
    snprintf(flat, sizeof flat, "{\"type\":\"struct\",\"fields\":[%s]}", cols_json);
    snprintf(nested, sizeof nested,
             "{\"type\":\"struct\",\"fields\":[%s,{\"name\":\"nest\",\"type\":{\"type\":\"struct\",\"fields\":["
             "{\"name\":\"a\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}}]},"
             "\"nullable\":true,\"metadata\":{}}]}",
             cols_json);
    enum { N = 5000, C = 9 };
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_pq_value *cols[C];
    for (int c = 0; c < C; c++) cols[c] = lks_arena_alloc(&a, N * sizeof(lks_pq_value));
    for (int i = 0; i < N; i++) {
        int64_t x = (int64_t)(i * 7919) % 100003 - 50000; /* extremes in the middle row groups */
        cols[0][i] = i % 17 == 3 ? vnull() : vi64(x * 1000003);
        cols[1][i] = i % 11 == 4 ? vnull() : vstr(lks_arena_printf(&a, "%c%05d\xc3\xa9", 'a' + (int)(x % 26 + 26) % 26, (int)(x % 99999)));
        cols[2][i] = vi32((int32_t)(x % 99999));
        cols[3][i] = vi64(x * 123456789);
        uint8_t *be = lks_arena_alloc(&a, 13);
        int64_t y = x * 99999989;
        for (int k = 12; k >= 0; k--, y >>= 8) be[k] = (uint8_t)y; /* sign-extends */
        cols[4][i] = i % 7 == 2 ? vnull() : (lks_pq_value){.kind = LKS_PQ_V_BYTES, .u.bytes = {be, 13}};
        cols[5][i] = vi32((int32_t)(x % 30000));
        cols[6][i] = vi64(x * 86400000003LL);
        cols[7][i] = vi32((int32_t)(x % 128));
        cols[8][i] = vnull();
    }
    uint32_t *sel = lks_arena_alloc(&a, N * sizeof *sel);
    for (uint32_t i = 0; i < N; i++) sel[i] = i;
    lks_err err;
    fx f1, f2;
    int64_t saved_target = g_target_bytes;
    g_target_bytes = (int64_t)1 << 30; /* one file each */
    REQUIRE(fx_open(&f1) == 0 && fx_open(&f2) == 0);
    CHECK_OK(write_flat(&f1, flat, NULL, 0, cols, C - 1, C - 1, sel, N, 1, &err), &err);
    CHECK_OK(write_flat(&f2, nested, NULL, 0, cols, C, C, sel, N, 1, &err), &err);
    lks_buf r1, s1, r2, s2;
    lks_buf_init(&r1, 0), lks_buf_init(&s1, 0), lks_buf_init(&r2, 0), lks_buf_init(&s2, 0);
    table_text(&f1, &r1, &s1);
    table_text(&f2, &r2, &s2);
    lks_buf_cstr(&s1), lks_buf_cstr(&s2);
    json_t *j1 = json_loads((const char *)s1.ptr, JSON_DISABLE_EOF_CHECK, NULL);
    json_t *j2 = json_loads((const char *)s2.ptr, JSON_DISABLE_EOF_CHECK, NULL);
    REQUIRE(j1 && j2);
    static const char *names[] = {"id", "s", "d5", "d15", "d30", "day", "ts", "b"};
    for (int w = 0; w < 2; w++) {
        const char *which = w ? "maxValues" : "minValues";
        json_t *m1 = json_object_get(j1, which), *m2 = json_object_get(j2, which);
        for (int c = 0; c < C - 1; c++) {
            char *t1 = json_dumps(json_object_get(m1, names[c]), JSON_ENCODE_ANY);
            char *t2 = json_dumps(json_object_get(m2, names[c]), JSON_ENCODE_ANY);
            if (!t1 || !t2 || strcmp(t1, t2) != 0)
                FAILF("%s.%s: flat %s, nested %s", which, names[c], t1 ? t1 : "(none)", t2 ? t2 : "(none)");
            free(t1), free(t2);
        }
    }
    /* and they are the data's: the smallest id is -50000 * 1000003 */
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(j1, "minValues"), "id")), -50000LL * 1000003);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(j1, "maxValues"), "b")), 127);
    json_decref(j1), json_decref(j2);
    lks_buf_free(&r1), lks_buf_free(&s1), lks_buf_free(&r2), lks_buf_free(&s2);
    fx_close(&f1);
    fx_close(&f2);
    g_target_bytes = saved_target;
    lks_arena_free(&a);
}

static void t_write_cols(void) {
    enum { N = 6000 };
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_pq_value *cols[FLAT_COLS];
    for (int c = 0; c < FLAT_COLS; c++) cols[c] = lks_arena_alloc(&a, N * sizeof(lks_pq_value));
    for (int i = 0; i < N; i++) {
        cols[0][i] = vi64((int64_t)(i * 7919) % 100003 - 50000);
        cols[1][i] = i % 11 == 4 ? vnull() : vstr(lks_arena_printf(&a, "n%0*d-%s", 1 + i % 40, i, i % 3 ? "é" : "z"));
        cols[2][i] = i % 13 == 0 ? vnull() : vdbl(i % 97 == 5 ? NAN : i % 101 == 7 ? -INFINITY : (double)i / 3 - 700);
        cols[3][i] = i % 9 == 1 ? vnull() : vi64((int64_t)i * 37 - 99999);
        cols[4][i] = vi32(18000 + i % 400);
        cols[5][i] = i % 5 == 0 ? vnull() : (lks_pq_value){.kind = LKS_PQ_V_BOOL, .u.b = i & 1};
    }
    uint32_t *sel = lks_arena_alloc(&a, N * sizeof *sel);
    size_t n = 0;
    for (uint32_t i = 0; i < N; i++)
        if (i % 4 != 2) sel[n++] = i;
    lks_err err;
    fx f1, f2;
    REQUIRE(fx_open(&f1) == 0 && fx_open(&f2) == 0);
    CHECK_OK(write_flat(&f1, FLAT_SCHEMA, NULL, 0, cols, FLAT_COLS, FLAT_COLS, sel, n, 0, &err), &err);
    CHECK_OK(write_flat(&f2, FLAT_SCHEMA, NULL, 0, cols, FLAT_COLS, FLAT_COLS, sel, n, 1, &err), &err);
    lks_buf r1, s1, r2, s2;
    lks_buf_init(&r1, 0), lks_buf_init(&s1, 0), lks_buf_init(&r2, 0), lks_buf_init(&s2, 0);
    table_text(&f1, &r1, &s1);
    table_text(&f2, &r2, &s2);
    CHECK(r1.len > 100000 && r1.len == r2.len && memcmp(r1.ptr, r2.ptr, r1.len) == 0);
    int files = 0;
    for (size_t i = 0; i < s2.len; i++) files += s2.ptr[i] == '\n';
    CHECK(files >= 3); /* files end at batch boundaries, which differ: their stats are compared below */
    fx_close(&f1);
    fx_close(&f2);
    /* one file each: the same stats */
    lks_buf_reset(&r1), lks_buf_reset(&s1), lks_buf_reset(&r2), lks_buf_reset(&s2);
    g_target_bytes = (int64_t)1 << 30;
    REQUIRE(fx_open(&f1) == 0 && fx_open(&f2) == 0);
    CHECK_OK(write_flat(&f1, FLAT_SCHEMA, NULL, 0, cols, FLAT_COLS, FLAT_COLS, sel, n, 0, &err), &err);
    CHECK_OK(write_flat(&f2, FLAT_SCHEMA, NULL, 0, cols, FLAT_COLS, FLAT_COLS, sel, n, 1, &err), &err);
    table_text(&f1, &r1, &s1);
    table_text(&f2, &r2, &s2);
    CHECK(r1.len == r2.len && memcmp(r1.ptr, r2.ptr, r1.len) == 0);
    CHECK(s1.len > 200 && s1.len == s2.len && memcmp(s1.ptr, s2.ptr, s1.len) == 0);
    CHECK(strstr((const char *)s1.ptr, "\"numRecords\":4500") != NULL);
    fx_close(&f1);
    fx_close(&f2);
    /* fewer columns given than the table has: the rest are null (name, x ... flag) */
    lks_buf_reset(&r1), lks_buf_reset(&s1), lks_buf_reset(&r2), lks_buf_reset(&s2);
    REQUIRE(fx_open(&f1) == 0 && fx_open(&f2) == 0);
    CHECK_OK(write_flat(&f1, FLAT_SCHEMA, NULL, 0, cols, 1, FLAT_COLS, sel, n, 0, &err), &err);
    CHECK_OK(write_flat(&f2, FLAT_SCHEMA, NULL, 0, cols, 1, FLAT_COLS, sel, n, 1, &err), &err);
    table_text(&f1, &r1, &s1);
    table_text(&f2, &r2, &s2);
    CHECK(r1.len > 0 && r1.len == r2.len && memcmp(r1.ptr, r2.ptr, r1.len) == 0);
    CHECK(s1.len == s2.len && memcmp(s1.ptr, s2.ptr, s1.len) == 0);
    fx_close(&f1);
    fx_close(&f2);
    /* a partitioned, nested table goes row by row: the same table again */
    lks_buf_reset(&r1), lks_buf_reset(&s1), lks_buf_reset(&r2), lks_buf_reset(&s2);
    lks_pq_value *pcols[NCOLS];
    for (int c = 0; c < NCOLS; c++) pcols[c] = lks_arena_alloc(&a, 300 * sizeof(lks_pq_value));
    uint32_t psel[300];
    for (int i = 0; i < 300; i++) {
        lks_pq_value r = make_row(&a, i, i % 3 ? "a" : NULL);
        for (int c = 0; c < NCOLS; c++) pcols[c][i] = r.u.list.items[c];
        psel[i] = (uint32_t)(299 - i);
    }
    REQUIRE(fx_open(&f1) == 0 && fx_open(&f2) == 0);
    CHECK_OK(write_flat(&f1, SCHEMA, PARTCOLS, 1, pcols, NCOLS, NCOLS, psel, 300, 0, &err), &err);
    CHECK_OK(write_flat(&f2, SCHEMA, PARTCOLS, 1, pcols, NCOLS, NCOLS, psel, 300, 1, &err), &err);
    table_text(&f1, &r1, &s1);
    table_text(&f2, &r2, &s2);
    CHECK(r1.len > 1000 && r1.len == r2.len && memcmp(r1.ptr, r2.ptr, r1.len) == 0);
    CHECK(s1.len == s2.len && memcmp(s1.ptr, s2.ptr, s1.len) == 0);
    fx_close(&f1);
    fx_close(&f2);
    /* a value of the wrong kind, and a null in a required column: errors, nothing half-written */
    lks_pq_value saved = cols[0][sel[1500]];
    cols[0][sel[1500]] = vstr("not a long");
    REQUIRE(fx_open(&f1) == 0);
    CHECK_EQ_INT(write_flat(&f1, FLAT_SCHEMA, NULL, 0, cols, FLAT_COLS, FLAT_COLS, sel, n, 1, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "does not match its column's type") != NULL);
    fx_close2(&f1, 1);
    cols[0][sel[1500]] = vnull();
    REQUIRE(fx_open(&f1) == 0);
    CHECK_EQ_INT(write_flat(&f1, FLAT_SCHEMA, NULL, 0, cols, FLAT_COLS, FLAT_COLS, sel, n, 1, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "required field id is null") != NULL);
    fx_close2(&f1, 1);
    cols[0][sel[1500]] = saved;
    lks_buf_free(&r1), lks_buf_free(&s1), lks_buf_free(&r2), lks_buf_free(&s2);
    lks_arena_free(&a);
}

static void t_action_write_shapes(void) {
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_delta_action act;
    memset(&act, 0, sizeof act);
    act.kind = LKS_DA_PROTOCOL;
    act.u.protocol.min_reader = 1;
    act.u.protocol.min_writer = 2;
    CHECK_OK(lks_delta_action_write(&b, &act), NULL);
    lks_buf_cstr(&b);
    CHECK_EQ_STR((char *)b.ptr, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n");
    lks_buf_reset(&b);
    const char *wf[] = {"deletionVectors"};
    act.u.protocol = (lks_delta_protocol){3, 7, wf, 1, wf, 1};
    lks_delta_action_write(&b, &act);
    lks_buf_cstr(&b);
    CHECK_EQ_STR((char *)b.ptr, "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":"
                                "[\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}}\n");
    lks_buf_reset(&b);
    memset(&act, 0, sizeof act);
    act.kind = LKS_DA_ADD;
    lks_delta_kv pv[] = {{"p", NULL}};
    act.u.add.path = "p=__HIVE_DEFAULT_PARTITION__/x.parquet";
    act.u.add.partition_values = pv;
    act.u.add.npartition_values = 1;
    act.u.add.size = 5;
    act.u.add.modification_time = 7;
    act.u.add.data_change = 1;
    act.u.add.has_dv = 1;
    act.u.add.dv = (lks_delta_dv){'i', "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", -1, 40, 6};
    act.u.add.base_row_id = act.u.add.default_row_commit_version = -1;
    lks_delta_action_write(&b, &act);
    lks_buf_cstr(&b);
    CHECK_EQ_STR((char *)b.ptr,
                 "{\"add\":{\"path\":\"p=__HIVE_DEFAULT_PARTITION__/x.parquet\",\"partitionValues\":{\"p\":null},"
                 "\"size\":5,\"modificationTime\":7,\"dataChange\":true,\"deletionVector\":{\"storageType\":\"i\","
                 "\"pathOrInlineDv\":\"wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L\",\"sizeInBytes\":40,"
                 "\"cardinality\":6}}}\n");
    /* every line we write parses back to the same action */
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_delta_action back;
    lks_err err;
    CHECK_OK(lks_delta_action_parse((char *)b.ptr, b.len - 1, &a, &back, &err), &err);
    CHECK_EQ_INT(back.kind, LKS_DA_ADD);
    CHECK(back.u.add.has_dv && back.u.add.dv.cardinality == 6 && back.u.add.dv.offset == -1);
    CHECK(back.u.add.npartition_values == 1 && back.u.add.partition_values[0].value == NULL);
    lks_buf_reset(&b);
    act.kind = LKS_DA_REMOVE;
    memset(&act.u.remove, 0, sizeof act.u.remove);
    act.u.remove.path = "a b";
    act.u.remove.deletion_timestamp = 9;
    act.u.remove.data_change = 1;
    act.u.remove.extended_file_metadata = 1;
    act.u.remove.size = 3;
    lks_delta_action_write(&b, &act);
    lks_buf_cstr(&b);
    CHECK_EQ_STR((char *)b.ptr, "{\"remove\":{\"path\":\"a b\",\"deletionTimestamp\":9,\"dataChange\":true,"
                                "\"extendedFileMetadata\":true,\"partitionValues\":{},\"size\":3}}\n");
    lks_buf_reset(&b);
    act.kind = LKS_DA_TXN;
    act.u.txn = (lks_delta_txn_action){"app", 12, 99};
    lks_delta_action_write(&b, &act);
    lks_buf_cstr(&b);
    CHECK_EQ_STR((char *)b.ptr, "{\"txn\":{\"appId\":\"app\",\"version\":12,\"lastUpdated\":99}}\n");
    lks_buf_reset(&b);
    act.kind = LKS_DA_DOMAIN;
    act.u.domain = (lks_delta_domain){"d.x", "{}", 0};
    lks_delta_action_write(&b, &act);
    lks_buf_cstr(&b);
    CHECK_EQ_STR((char *)b.ptr, "{\"domainMetadata\":{\"domain\":\"d.x\",\"configuration\":\"{}\",\"removed\":false}}\n");
    lks_arena_free(&a);
    lks_buf_free(&b);
}

static void t_roll_and_bloom(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, 2, NULL, 0, 0, &err) == LKS_OK);
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    lks_delta_txn *x;
    lks_delta_writer *w;
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_delta_txn_begin(f.t, s, "WRITE", &x, &err);
    lks_delta_writer_opts o;
    memset(&o, 0, sizeof o);
    lks_pq_writer_opts_default(&o.parquet);
    o.target_file_bytes = 4096;
    const char *bc[] = {"name"};
    o.bloom_columns = bc;
    o.nbloom_columns = 1;
    REQUIRE(lks_delta_writer_open(x, &s->metadata, &o, &w, &err) == LKS_OK);
    for (int i = 0; i < 3000; i++) {
        lks_pq_value row = make_row(&a, i, "p");
        CHECK_OK(lks_delta_writer_write(w, &row, &err), &err);
        if (i % 100 == 99) lks_arena_reset(&a);
    }
    CHECK_OK(lks_delta_writer_close(w, &err), &err);
    int64_t v;
    CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
    lks_delta_writer_free(w);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    CHECK(s->nfiles > 2);
    CHECK_EQ_INT(stats_records(s), 3000);
    int dups;
    CHECK_EQ_INT(scan_count(&f, s, 3000, &dups), 3000);
    CHECK_EQ_INT(dups, 0);
    /* the first file has a bloom filter on name: a present value may be
     * there, while most absent ones are certainly not */
    lks_buf data;
    lks_buf_init(&data, 0);
    const char *key = lks_delta_table_key(f.t, s->files[0].path, &a);
    CHECK_OK(lks_store_get(f.st, key, &data, &err), &err);
    lks_pq_source src;
    lks_pq_source_mem(&src, data.ptr, data.len, key);
    lks_pq_reader *r = NULL;
    CHECK_OK(lks_pq_reader_open(&src, NULL, &r, &err), &err);
    if (r) {
        int col = lks_pq_schema_find(lks_pq_reader_schema(r), "name");
        CHECK(col >= 0);
        CHECK(lks_pq_schema_find(lks_pq_reader_schema(r), "part") < 0); /* partition columns are not written */
        const lks_pq_value *row;
        lks_pq_rows *it = NULL;
        CHECK_OK(lks_pq_rows_open(r, NULL, 0, &it, &err), &err);
        int got = it ? lks_pq_rows_next(it, &row, &err) : -1;
        CHECK_EQ_INT(got, 1);
        if (got == 1 && row->u.list.items[1].kind == LKS_PQ_V_BYTES) {
            lks_slice present = row->u.list.items[1].u.bytes;
            CHECK_EQ_INT(lks_pq_bloom_may_contain(r, 0, col, &present, &err), 1);
        }
        int absent_hits = 0;
        for (int i = 0; i < 50; i++) {
            char nm[32];
            snprintf(nm, sizeof nm, "absent-%d", i);
            lks_slice sl = {(const uint8_t *)nm, strlen(nm)};
            absent_hits += lks_pq_bloom_may_contain(r, 0, col, &sl, &err) == 1;
        }
        CHECK(absent_hits < 5);
        lks_pq_rows_free(it);
        lks_pq_reader_free(r);
    }
    lks_buf_free(&data);
    lks_delta_snapshot_free(s);
    lks_arena_free(&a);
    fx_close(&f);
}

/* In-commit timestamps: every commit carries one, strictly increasing. */
static void t_in_commit_timestamps(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    lks_delta_kv cfg[] = {{"delta.enableInCommitTimestamps", "true"}};
    lks_delta_txn *x;
    lks_delta_txn_begin(f.t, NULL, "CREATE TABLE", &x, &err);
    const char *wf[] = {"inCommitTimestamp", "appendOnly", "invariants"};
    lks_delta_protocol p = {1, 7, NULL, 0, wf, 3};
    lks_delta_metadata m;
    fill_meta(&m, SCHEMA, PARTCOLS, 1, cfg, 1);
    lks_delta_txn_set_protocol(x, &p);
    lks_delta_txn_set_metadata(x, &m);
    int64_t v;
    CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
    lks_delta_txn_free(x);
    for (int k = 0; k < 4; k++) CHECK_OK(append_rows(&f, k * 10, 2, &v, &err), &err);
    int64_t prev = -1;
    for (int k = 0; k <= 4; k++) {
        char path[512];
        snprintf(path, sizeof path, "%s/_delta_log/%020d.json", f.dir, k);
        json_error_t je;
        json_t *j = json_load_file(path, JSON_DISABLE_EOF_CHECK, &je); /* the first line: commitInfo */
        json_t *ci = json_object_get(j, "commitInfo");
        REQUIRE(ci);
        json_t *ict = json_object_get(ci, "inCommitTimestamp");
        CHECK(json_is_integer(ict));
        CHECK(json_integer_value(ict) > prev);
        prev = json_integer_value(ict);
        CHECK_EQ_STR(json_string_value(json_object_get(ci, "engineInfo")), "lakesync/" LKS_VERSION);
        CHECK_EQ_INT(strlen(json_string_value(json_object_get(ci, "txnId"))), 36);
        json_decref(j);
    }
    lks_delta_snapshot *s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) CHECK_EQ_INT(s->timestamp, prev);
    lks_delta_snapshot_free(s);
    fx_close(&f);
}

int main(void) {
    RUN(t_action_write_shapes);
    RUN(t_create_append_reread);
    RUN(t_overwrite_and_apps);
    RUN(t_checkpoint);
    RUN(t_conflicts);
    RUN(t_own_commit_retry);
    RUN(t_feature_refusals);
    RUN(t_stats_and_paths);
    RUN(t_write_cols);
    RUN(t_flat_bounds);
    RUN(t_roll_and_bloom);
    RUN(t_in_commit_timestamps);
    return lks_test_done();
}
