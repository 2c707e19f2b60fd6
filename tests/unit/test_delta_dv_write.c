/* test_delta_dv_write.c — deleting rows by deletion vector
 * (lks_delta_txn_delete_rows): inline and file DVs, accumulation within a
 * transaction and across commits, exact rows at every version, the log's
 * descriptors and stats, a file losing all its rows, checkpoints, conflicts,
 * refusals; every table written passes the log validator
 * (tests/tools/delta_validate.h). */
#include "delta/delta_int.h"
#include "harness.h"
#include "tools/delta_validate.h"

#include <ftw.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *SCHEMA = "{\"type\":\"struct\",\"fields\":["
                            "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
                            "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
                            "{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
static const char *PARTCOLS[] = {"part"};
static const char *DV_FEATURES[] = {"deletionVectors"};

#define MAXID 4000

/* ---- fixtures ------------------------------------------------------------------- */

typedef struct fx {
    char dir[256];
    lks_store *st;
    lks_delta_table *t;
} fx;

static int fx_open(fx *f) {
    snprintf(f->dir, sizeof f->dir, "/tmp/lks_ddv.XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    lks_err err;
    if (lks_store_open(f->dir, &f->st, &err)) return -1;
    return lks_delta_table_open(f->st, "", &f->t, &err);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void fx_close(fx *f) {
    char msg[2048];
    int problems = lks_delta_validate(f->dir, msg, sizeof msg);
    if (problems) FAILF("log validator: %d problem(s) in %s: %s", problems, f->dir, msg);
    lks_delta_table_close(f->t);
    lks_store_close(f->st);
    if (!problems) nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static lks_pq_value vnull(void) {
    lks_pq_value v;
    memset(&v, 0, sizeof v);
    return v;
}

/* Row `id` of partition `part`. */
static lks_pq_value make_row(lks_arena *a, int64_t id, const char *part) {
    lks_pq_value r = vnull();
    r.kind = LKS_PQ_V_GROUP;
    r.u.list.n = 3;
    r.u.list.items = lks_arena_alloc(a, 3 * sizeof(lks_pq_value));
    memset(r.u.list.items, 0, 3 * sizeof(lks_pq_value));
    lks_pq_value *it = r.u.list.items;
    it[0].kind = LKS_PQ_V_INT64;
    it[0].u.i64 = id;
    if (id % 11 != 4) {
        const char *s = lks_arena_printf(a, "name-%05" PRId64, id);
        it[1].kind = LKS_PQ_V_BYTES;
        it[1].u.bytes.ptr = (const uint8_t *)s;
        it[1].u.bytes.len = strlen(s);
    }
    it[2].kind = LKS_PQ_V_BYTES;
    it[2].u.bytes.ptr = (const uint8_t *)part;
    it[2].u.bytes.len = strlen(part);
    return r;
}

/* Creates the table at version 0 without data files; dv: protocol 3/7
 * with deletionVectors (and `prop` as delta.enableDeletionVectors). */
static int create_table(fx *f, int dv, const char *prop, lks_err *err) {
    lks_delta_txn *x;
    int rc = lks_delta_txn_begin(f->t, NULL, "CREATE TABLE", &x, err);
    if (rc) return rc;
    lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
    if (dv) {
        p = (lks_delta_protocol){3, 7, DV_FEATURES, 1, DV_FEATURES, 1};
    }
    lks_delta_kv cfg = {"delta.enableDeletionVectors", prop};
    lks_delta_metadata m;
    memset(&m, 0, sizeof m);
    m.schema_string = SCHEMA;
    m.partition_columns = PARTCOLS;
    m.npartition_columns = 1;
    m.configuration = prop ? &cfg : NULL;
    m.nconfiguration = prop ? 1 : 0;
    m.created_time = -1;
    lks_delta_txn_set_protocol(x, &p);
    rc = lks_delta_txn_set_metadata(x, &m);
    int64_t v = -1;
    if (!rc) rc = lks_delta_txn_commit(x, 0, &v, err);
    else lks_err_set(err, rc, "set_metadata");
    lks_delta_txn_free(x);
    return rc;
}

/* Appends one file holding ids [first, first+n) in write order (row index i
 * is id first+i), partition `part`. */
static int append_file(fx *f, int64_t first, int n, const char *part, int64_t *version, lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(f->t, &s, err);
    if (rc) return rc;
    lks_delta_txn *x = NULL;
    lks_delta_writer *w = NULL;
    lks_arena a;
    lks_arena_init(&a, 0);
    rc = lks_delta_txn_begin(f->t, s, "WRITE", &x, err);
    if (!rc) rc = lks_delta_writer_open(x, &s->metadata, NULL, &w, err);
    for (int i = 0; i < n && !rc; i++) {
        lks_pq_value row = make_row(&a, first + i, part);
        rc = lks_delta_writer_write(w, &row, err);
    }
    if (!rc) rc = lks_delta_writer_close(w, err);
    if (!rc) rc = lks_delta_txn_commit(x, 0, version, err);
    lks_delta_writer_free(w);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    lks_arena_free(&a);
    return rc;
}

/* minValues.id of a file's stats, -1 when absent. */
static int64_t file_min_id(const lks_delta_add *a) {
    json_error_t je;
    json_t *j = a->stats ? json_loads(a->stats, 0, &je) : NULL;
    json_t *v = json_object_get(json_object_get(j, "minValues"), "id");
    int64_t id = json_is_integer(v) ? json_integer_value(v) : -1;
    json_decref(j);
    return id;
}

/* The live add whose first id is `first`, or NULL. */
static const lks_delta_add *file_of(const lks_delta_snapshot *s, int64_t first) {
    for (size_t i = 0; i < s->nfiles; i++)
        if (file_min_id(&s->files[i]) == first) return &s->files[i];
    return NULL;
}

/* The expected table: live[id] per id. */
typedef struct model {
    uint8_t live[MAXID];
} model;

/* Scans version v and compares the ids with m exactly. */
static void check_scan(fx *f, int64_t v, const model *m) {
    lks_err err;
    lks_delta_snapshot *s = NULL;
    if (lks_delta_snapshot_at_version(f->t, v, &s, &err) != LKS_OK) {
        FAILF("snapshot %" PRId64 ": %s", v, err.msg);
        return;
    }
    lks_delta_scan *sc = NULL;
    if (lks_delta_scan_open(f->t, s, NULL, &sc, &err) != LKS_OK) {
        FAILF("scan %" PRId64 ": %s", v, err.msg);
        lks_delta_snapshot_free(s);
        return;
    }
    static uint8_t seen[MAXID];
    memset(seen, 0, sizeof seen);
    const lks_pq_value *row;
    int rc, bad = 0;
    while ((rc = lks_delta_scan_next(sc, &row, &err)) == 1) {
        int64_t id = row->u.list.items[0].u.i64;
        if (id < 0 || id >= MAXID || seen[id]++) {
            if (!bad++) FAILF("version %" PRId64 ": id %" PRId64 " out of range or twice", v, id);
            continue;
        }
        /* the other columns belong to the id */
        const lks_pq_value *nm = &row->u.list.items[1];
        if ((id % 11 == 4) != (nm->kind == LKS_PQ_V_NULL) && !bad++)
            FAILF("version %" PRId64 ": id %" PRId64 " has the wrong name", v, id);
    }
    if (rc < 0) FAILF("scan %" PRId64 ": %s", v, err.msg);
    for (int id = 0; id < MAXID && !bad; id++)
        if (seen[id] != m->live[id]) {
            FAILF("version %" PRId64 ": id %d %s", v, id, seen[id] ? "read but deleted" : "missing");
            bad = 1;
        }
    lks_delta_scan_free(sc);
    /* the same rows in batches, each at its position in its file (row i of
     * a file is id first+i) */
    sc = NULL;
    if (lks_delta_scan_open(f->t, s, NULL, &sc, &err) != LKS_OK) {
        FAILF("scan %" PRId64 ": %s", v, err.msg);
        lks_delta_snapshot_free(s);
        return;
    }
    memset(seen, 0, sizeof seen);
    const lks_delta_batch *b;
    while ((rc = lks_delta_scan_next_batch(sc, &b, &err)) == 1) {
        if (b->n == 0 || b->n > LKS_DELTA_BATCH_ROWS || !b->cols[0] || !b->cols[1] || !b->cols[2]) {
            if (!bad++) FAILF("version %" PRId64 ": a batch of %zu rows without its columns", v, b->n);
            break;
        }
        int64_t first = file_min_id(b->file);
        for (size_t i = 0; i < b->n; i++) {
            int64_t id = b->cols[0][i].u.i64;
            if (id < 0 || id >= MAXID || seen[id]++ || b->row_index[i] != id - first) {
                if (!bad++) FAILF("version %" PRId64 ": batch id %" PRId64 " out of place", v, id);
                continue;
            }
            if ((id % 11 == 4) != (b->cols[1][i].kind == LKS_PQ_V_NULL) || b->cols[2][i].kind != LKS_PQ_V_BYTES)
                if (!bad++) FAILF("version %" PRId64 ": batch id %" PRId64 " has the wrong name or part", v, id);
        }
    }
    if (rc < 0) FAILF("batch scan %" PRId64 ": %s", v, err.msg);
    for (int id = 0; id < MAXID && !bad; id++)
        if (seen[id] != m->live[id]) {
            FAILF("version %" PRId64 ": batches: id %d %s", v, id, seen[id] ? "read but deleted" : "missing");
            bad = 1;
        }
    lks_delta_scan_free(sc);
    lks_delta_snapshot_free(s);
}

/* Deletes rows (indexes into the file starting at id `first`) in one commit. */
static int delete_commit(fx *f, int64_t first, const uint64_t *rows, size_t n, int64_t *version, lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(f->t, &s, err);
    if (rc) return rc;
    const lks_delta_add *a = file_of(s, first);
    lks_delta_txn *x = NULL;
    if (!a) rc = lks_err_set(err, LKS_ENOTFOUND, "no file starting at id %" PRId64, first);
    if (!rc) rc = lks_delta_txn_begin(f->t, s, "DELETE", &x, err);
    if (!rc) rc = lks_delta_txn_delete_rows(x, a, rows, n, err);
    if (!rc) rc = lks_delta_txn_commit(x, 0, version, err);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    return rc;
}

/* The add (with a DV) of `path` in commit v, as JSON (caller decrefs). */
static json_t *commit_add(fx *f, int64_t v, int64_t first, int *nadd, int *nremove) {
    char p[512];
    snprintf(p, sizeof p, "%s/_delta_log/%020" PRId64 ".json", f->dir, v);
    size_t len;
    char *body = lks_dv_read(p, &len);
    json_t *found = NULL;
    *nadd = *nremove = 0;
    for (char *line = body ? strtok(body, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        json_t *ad = json_object_get(o, "add");
        if (json_object_get(o, "remove")) (*nremove)++;
        if (ad) {
            (*nadd)++;
            const char *st = json_string_value(json_object_get(ad, "stats"));
            json_t *sj = st ? json_loads(st, 0, &je) : NULL;
            if (json_integer_value(json_object_get(json_object_get(sj, "minValues"), "id")) == first && !found)
                found = json_incref(ad);
            json_decref(sj);
        }
        json_decref(o);
    }
    free(body);
    return found;
}

/* Checks commit v's add of the file starting at `first`: DV storage type,
 * cardinality, numRecords kept, tightBounds false, and one remove. */
static void check_log(fx *f, int64_t v, int64_t first, char storage, int64_t card, int64_t nrec) {
    int nadd, nrem;
    json_t *ad = commit_add(f, v, first, &nadd, &nrem);
    if (!ad) {
        FAILF("version %" PRId64 ": no add of the file starting at id %" PRId64, v, first);
        return;
    }
    CHECK_EQ_INT(nadd, 1);
    CHECK_EQ_INT(nrem, 1);
    json_t *dv = json_object_get(ad, "deletionVector");
    const char *stt = json_string_value(json_object_get(dv, "storageType"));
    CHECK(stt && stt[0] == storage && !stt[1]);
    CHECK_EQ_INT(json_integer_value(json_object_get(dv, "cardinality")), card);
    if (storage == 'u') {
        CHECK_EQ_INT(json_integer_value(json_object_get(dv, "offset")), 1);
        CHECK_EQ_INT(strlen(json_string_value(json_object_get(dv, "pathOrInlineDv"))), 20);
    } else {
        CHECK(json_object_get(dv, "offset") == NULL);
    }
    json_error_t je;
    json_t *sj = json_loads(json_string_value(json_object_get(ad, "stats")), 0, &je);
    CHECK_EQ_INT(json_integer_value(json_object_get(sj, "numRecords")), nrec);
    CHECK(json_is_false(json_object_get(sj, "tightBounds")));
    CHECK(json_object_get(sj, "minValues") && json_object_get(sj, "nullCount"));
    CHECK(json_is_true(json_object_get(ad, "dataChange")));
    json_decref(sj);
    json_decref(ad);
}

static int count_dv_files(fx *f) {
    DIR *d = opendir(f->dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strncmp(de->d_name, "deletion_vector_", 16) == 0) n++;
    if (d) closedir(d);
    return n;
}

/* ---- tests --------------------------------------------------------------------- */

static void t_refusals(void) {
    lks_err err;
    static const struct {
        int dv;
        const char *prop;
        const char *want;
    } cases[] = {
        {0, NULL, "does not support deletion vectors"},
        {0, "true", "does not support deletion vectors"},
        {1, NULL, "not enabled"},
        {1, "false", "not enabled"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fx f;
        REQUIRE(fx_open(&f) == 0);
        int64_t v;
        CHECK_OK(create_table(&f, cases[k].dv, cases[k].prop, &err), &err);
        CHECK_OK(append_file(&f, 0, 10, "a", &v, &err), &err);
        uint64_t rows[] = {1};
        int rc = delete_commit(&f, 0, rows, 1, &v, &err);
        CHECK_EQ_INT(rc, LKS_EINVAL);
        if (!strstr(err.msg, cases[k].want)) FAILF("case %zu: message '%s'", k, err.msg);
        fx_close(&f);
    }
    /* bad arguments on a DV table */
    fx f;
    REQUIRE(fx_open(&f) == 0);
    int64_t v;
    CHECK_OK(create_table(&f, 1, "true", &err), &err);
    CHECK_OK(append_file(&f, 0, 10, "a", &v, &err), &err);
    uint64_t rows[] = {3, 10};
    CHECK_EQ_INT(delete_commit(&f, 0, rows, 2, &v, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "out of range") != NULL);
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    lks_delta_add fake = s->files[0];
    fake.path = "part=a/nope.parquet";
    lks_delta_txn *x = NULL;
    CHECK_OK(lks_delta_txn_begin(f.t, s, "DELETE", &x, &err), &err);
    CHECK_EQ_INT(lks_delta_txn_delete_rows(x, &fake, rows, 1, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "not a live file") != NULL);
    lks_delta_txn_free(x);
    /* a file without stats (no numRecords) cannot get a DV */
    x = NULL;
    CHECK_OK(lks_delta_txn_begin(f.t, s, "WRITE", &x, &err), &err);
    fake = s->files[0];
    fake.path = "part=a/nostats.parquet";
    fake.stats = NULL;
    CHECK_OK(lks_delta_txn_add(x, &fake), &err);
    CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    x = NULL;
    CHECK_OK(lks_delta_txn_begin(f.t, s, "DELETE", &x, &err), &err);
    const lks_delta_add *ns = NULL;
    for (size_t i = 0; i < s->nfiles; i++)
        if (strstr(s->files[i].path, "nostats")) ns = &s->files[i];
    REQUIRE(ns != NULL);
    CHECK_EQ_INT(lks_delta_txn_delete_rows(x, ns, rows, 1, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "numRecords") != NULL);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    fx_close(&f);
}

static void t_delete_versions(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, "true", &err) == LKS_OK);
    static model m[16];
    memset(m, 0, sizeof m);
    int64_t v = 0, nv = 1;
    /* v1: A = ids 0..999 (part a); v2: B = ids 1000..2999 (part b) */
    CHECK_OK(append_file(&f, 0, 1000, "a", &v, &err), &err);
    m[1] = m[0];
    for (int i = 0; i < 1000; i++) m[1].live[i] = 1;
    CHECK_OK(append_file(&f, 1000, 2000, "b", &v, &err), &err);
    m[2] = m[1];
    for (int i = 1000; i < 3000; i++) m[2].live[i] = 1;
    nv = 3;
    REQUIRE(v == 2);

    /* v3: a few rows of A: inline DV, duplicates and any order allowed */
    uint64_t r3[] = {7, 3, 5, 3, 999, 0};
    CHECK_OK(delete_commit(&f, 0, r3, 6, &v, &err), &err);
    CHECK_EQ_INT(v, 3);
    m[3] = m[2];
    for (int i = 0; i < 6; i++) m[3].live[r3[i]] = 0;
    check_log(&f, 3, 0, 'i', 5, 1000);
    CHECK_EQ_INT(count_dv_files(&f), 0);
    nv = 4;

    /* v4: scattered rows of B: too big for inline, a DV file */
    uint64_t r4[300];
    for (int i = 0; i < 300; i++) r4[i] = (uint64_t)(i * 6 + 1);
    CHECK_OK(delete_commit(&f, 1000, r4, 300, &v, &err), &err);
    CHECK_EQ_INT(v, 4);
    m[4] = m[3];
    for (int i = 0; i < 300; i++) m[4].live[1000 + r4[i]] = 0;
    check_log(&f, 4, 1000, 'u', 300, 2000);
    CHECK_EQ_INT(count_dv_files(&f), 1);
    nv = 5;

    /* v5: two calls on A in one transaction (overlapping the old DV):
     * inline grows into a file */
    {
        lks_delta_snapshot *s = NULL;
        REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
        const lks_delta_add *a = file_of(s, 0);
        REQUIRE(a && a->has_dv && a->dv.storage_type == 'i');
        lks_delta_txn *x = NULL;
        CHECK_OK(lks_delta_txn_begin(f.t, s, "DELETE", &x, &err), &err);
        uint64_t r5a[100], r5b[100];
        for (int i = 0; i < 100; i++) {
            r5a[i] = (uint64_t)(i * 9 + 2);
            r5b[i] = (uint64_t)(i * 9 + 5); /* 5 is already deleted */
        }
        CHECK_OK(lks_delta_txn_delete_rows(x, a, r5a, 100, &err), &err);
        CHECK_OK(lks_delta_txn_delete_rows(x, a, r5b, 100, &err), &err);
        CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
        CHECK_EQ_INT(v, 5);
        m[5] = m[4];
        for (int i = 0; i < 100; i++) m[5].live[r5a[i]] = m[5].live[r5b[i]] = 0;
        int64_t card = 0;
        for (int i = 0; i < 1000; i++) card += !m[5].live[i];
        check_log(&f, 5, 0, 'u', card, 1000);
        lks_delta_txn_free(x);
        lks_delta_snapshot_free(s);
    }
    nv = 6;

    /* v6: B again: the DV file's rows are kept and extended */
    uint64_t r6[50];
    for (int i = 0; i < 50; i++) r6[i] = (uint64_t)(1999 - i * 3);
    CHECK_OK(delete_commit(&f, 1000, r6, 50, &v, &err), &err);
    CHECK_EQ_INT(v, 6);
    m[6] = m[5];
    for (int i = 0; i < 50; i++) m[6].live[1000 + r6[i]] = 0;
    int64_t cardb = 0;
    for (int i = 1000; i < 3000; i++) cardb += !m[6].live[i];
    check_log(&f, 6, 1000, 'u', cardb, 2000);
    nv = 7;

    /* v7: C = ids 3000..3009; v8: half of C; v9: the rest, so C is removed */
    CHECK_OK(append_file(&f, 3000, 10, "a", &v, &err), &err);
    m[7] = m[6];
    for (int i = 3000; i < 3010; i++) m[7].live[i] = 1;
    uint64_t r8[] = {0, 1, 2, 3, 4}, r9[] = {9, 8, 7, 6, 5, 4};
    CHECK_OK(delete_commit(&f, 3000, r8, 5, &v, &err), &err);
    m[8] = m[7];
    for (int i = 3000; i < 3005; i++) m[8].live[i] = 0;
    CHECK_OK(delete_commit(&f, 3000, r9, 6, &v, &err), &err);
    CHECK_EQ_INT(v, 9);
    m[9] = m[8];
    for (int i = 3005; i < 3010; i++) m[9].live[i] = 0;
    {
        int nadd, nrem;
        json_t *ad = commit_add(&f, 9, 3000, &nadd, &nrem);
        CHECK(ad == NULL);
        json_decref(ad);
        CHECK_EQ_INT(nadd, 0);
        CHECK_EQ_INT(nrem, 1);
        lks_delta_snapshot *s = NULL;
        REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
        CHECK_EQ_INT(s->nfiles, 2);
        CHECK(file_of(s, 3000) == NULL);
        lks_delta_snapshot_free(s);
    }
    nv = 10;

    /* deleting rows already deleted stages nothing */
    {
        lks_delta_snapshot *s = NULL;
        REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
        lks_delta_txn *x = NULL;
        CHECK_OK(lks_delta_txn_begin(f.t, s, "DELETE", &x, &err), &err);
        CHECK_OK(lks_delta_txn_delete_rows(x, file_of(s, 0), r3, 6, &err), &err);
        CHECK(lks_delta__txn_pending_add(x, file_of(s, 0)->path) == NULL);
        CHECK_EQ_INT(lks_delta__txn_removes(x, file_of(s, 0)->path), 0);
        lks_delta_txn_free(x);
        lks_delta_snapshot_free(s);
    }

    for (int64_t k = 0; k < nv; k++) check_scan(&f, k, &m[k]);

    /* a checkpoint keeps the DVs; a new handle replays from it; a further
     * delete on top of a checkpointed DV works */
    {
        lks_delta_snapshot *s = NULL;
        REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
        CHECK_OK(lks_delta_checkpoint_write(f.t, s, &err), &err);
        lks_delta_snapshot_free(s);
        lks_delta_table_close(f.t);
        f.t = NULL;
        REQUIRE(lks_delta_table_open(f.st, "", &f.t, &err) == LKS_OK);
        s = NULL;
        REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
        CHECK_EQ_INT(s->checkpoint_version, 9);
        const lks_delta_add *a = file_of(s, 0), *b = file_of(s, 1000);
        REQUIRE(a && b);
        CHECK(a->has_dv && a->dv.storage_type == 'u');
        CHECK(b->has_dv && b->dv.storage_type == 'u' && b->dv.cardinality == cardb);
        lks_delta_snapshot_free(s);
        check_scan(&f, 9, &m[9]);
        uint64_t r10[] = {100, 101, 102};
        CHECK_OK(delete_commit(&f, 0, r10, 3, &v, &err), &err);
        CHECK_EQ_INT(v, 10);
        m[10] = m[9];
        for (int i = 0; i < 3; i++) m[10].live[r10[i]] = 0;
        check_scan(&f, 10, &m[10]);
        check_scan(&f, 4, &m[4]);
    }
    fx_close(&f);
}

/* A file DV's bytes: version 1, big-endian size, bitmap, CRC; an inline
 * DV decodes to the same rows. */
static void t_dv_file_format(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, "true", &err) == LKS_OK);
    int64_t v;
    CHECK_OK(append_file(&f, 0, 500, "x", &v, &err), &err);
    uint64_t rows[200];
    for (int i = 0; i < 200; i++) rows[i] = (uint64_t)(i * 2 + 1);
    CHECK_OK(delete_commit(&f, 0, rows, 200, &v, &err), &err);
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    const lks_delta_add *a = file_of(s, 0);
    REQUIRE(a && a->has_dv && a->dv.storage_type == 'u');
    /* the file name from the Z85 UUID, by hand */
    lks_buf u;
    lks_buf_init(&u, 0);
    CHECK_OK(lks_delta_z85_decode(a->dv.path_or_inline, 20, &u, &err), &err);
    REQUIRE(u.len == 16);
    char name[128];
    int o = snprintf(name, sizeof name, "%s/deletion_vector_", f.dir);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) name[o++] = '-';
        o += snprintf(name + o, sizeof name - (size_t)o, "%02x", u.ptr[i]);
    }
    snprintf(name + o, sizeof name - (size_t)o, ".bin");
    CHECK_EQ_INT((u.ptr[6] >> 4), 4);
    lks_buf_free(&u);
    size_t len = 0;
    uint8_t *b = (uint8_t *)lks_dv_read(name, &len);
    REQUIRE(b != NULL);
    uint32_t sz = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
    CHECK_EQ_INT(b[0], 1);
    CHECK_EQ_INT(sz, a->dv.size_in_bytes);
    CHECK_EQ_INT(len, 1 + 4 + (size_t)sz + 4);
    if (len == 1 + 4 + (size_t)sz + 4) {
        uint32_t crc = (uint32_t)b[5 + sz] << 24 | (uint32_t)b[6 + sz] << 16 | (uint32_t)b[7 + sz] << 8 | b[8 + sz];
        CHECK_EQ_INT(crc, lks_crc32(0, b + 5, sz));
        CHECK_EQ_INT(lks_load_le32(b + 5), 1681511377u);
        lks_delta_rowset *rs = NULL;
        CHECK_OK(lks_delta_dv_parse(b + 5, sz, &rs, &err), &err);
        CHECK_EQ_INT(lks_delta_rowset_cardinality(rs), 200);
        for (uint64_t r = 0; r < 500 && rs; r++) CHECK_EQ_INT(lks_delta_rowset_contains(rs, r), r % 2 == 1 && r < 400);
        lks_delta_rowset_free(rs);
    }
    free(b);
    lks_delta_snapshot_free(s);
    fx_close(&f);
}

/* Stats from another writer: "tightBounds":true (and the same key nested)
 * becomes false at the top level only, other text (a 38-digit decimal
 * bound) stays verbatim; row indexes past 2^32 make a two-bucket DV. */
static void t_stats_and_wide_rows(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, "true", &err) == LKS_OK);
    static const char *STATS[] = {
        "{\"numRecords\":10000000000,\"minValues\":{\"name\":\"a,\\\"}\",\"x\":{\"tightBounds\":1}},"
        "\"maxValues\":{\"d\":12345678901234567890123456789012345678},\"tightBounds\":true,"
        "\"nullCount\":{\"id\":0}}",
        "{ \"numRecords\" : 10000000000 }",
    };
    for (int k = 0; k < 2; k++) {
        lks_delta_snapshot *s = NULL;
        REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
        lks_delta_txn *x = NULL;
        CHECK_OK(lks_delta_txn_begin(f.t, s, "WRITE", &x, &err), &err);
        lks_delta_kv pv = {"part", "p"};
        lks_delta_add fake;
        memset(&fake, 0, sizeof fake);
        fake.path = k ? "part=p/big1.parquet" : "part=p/big0.parquet";
        fake.partition_values = &pv;
        fake.npartition_values = 1;
        fake.size = 1;
        fake.data_change = 1;
        fake.stats = STATS[k];
        fake.base_row_id = fake.default_row_commit_version = -1;
        fake.dv.offset = -1;
        CHECK_OK(lks_delta_txn_add(x, &fake), &err);
        int64_t v;
        CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
        lks_delta_txn_free(x);
        lks_delta_snapshot_free(s);
        s = NULL;
        REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
        const lks_delta_add *a = NULL;
        for (size_t i = 0; i < s->nfiles; i++)
            if (strcmp(s->files[i].path, fake.path) == 0) a = &s->files[i];
        REQUIRE(a != NULL);
        uint64_t rows[] = {5, (UINT64_C(1) << 32) + 7, 9999999999u};
        x = NULL;
        CHECK_OK(lks_delta_txn_begin(f.t, s, "DELETE", &x, &err), &err);
        CHECK_OK(lks_delta_txn_delete_rows(x, a, rows, 3, &err), &err);
        CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
        lks_delta_txn_free(x);
        lks_delta_snapshot_free(s);
        s = NULL;
        REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
        a = NULL;
        for (size_t i = 0; i < s->nfiles; i++)
            if (strcmp(s->files[i].path, fake.path) == 0) a = &s->files[i];
        REQUIRE(a && a->has_dv && a->stats);
        json_error_t je;
        json_t *j = json_loads(a->stats, JSON_DECODE_INT_AS_REAL, &je);
        CHECK(json_is_object(j));
        CHECK(json_is_false(json_object_get(j, "tightBounds")));
        if (k == 0) {
            CHECK(strstr(a->stats, "\"maxValues\":{\"d\":12345678901234567890123456789012345678}") != NULL);
            CHECK(strstr(a->stats, "{\"tightBounds\":1}") != NULL);
            CHECK(strstr(a->stats, "\"tightBounds\":true") == NULL);
        }
        json_decref(j);
        lks_delta_rowset *rs = NULL;
        CHECK_OK(lks_delta_dv_load(f.t, &a->dv, &rs, &err), &err);
        CHECK_EQ_INT(lks_delta_rowset_cardinality(rs), 3);
        for (int i = 0; i < 3 && rs; i++) CHECK(lks_delta_rowset_contains(rs, rows[i]));
        CHECK(rs && !lks_delta_rowset_contains(rs, 7) && !lks_delta_rowset_contains(rs, 6));
        lks_delta_rowset_free(rs);
        lks_delta_snapshot_free(s);
    }
    fx_close(&f);
}

static int ignore_adds(void *ud, const lks_delta_add *a) {
    (void)ud, (void)a;
    return 0;
}

static void t_conflicts(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, "true", &err) == LKS_OK);
    int64_t v1 = -1, v2 = -1;
    CHECK_OK(append_file(&f, 0, 100, "a", &v1, &err), &err);
    CHECK_OK(append_file(&f, 100, 100, "b", &v1, &err), &err);
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    const lks_delta_add *fa = file_of(s, 0), *fb = file_of(s, 100);
    REQUIRE(fa && fb);

    /* two deletes of rows of the same file: the second conflicts */
    lks_delta_txn *a = NULL, *b = NULL;
    uint64_t ra[] = {1, 2}, rb[] = {50};
    CHECK_OK(lks_delta_txn_begin(f.t, s, "DELETE", &a, &err), &err);
    CHECK_OK(lks_delta_txn_begin(f.t, s, "DELETE", &b, &err), &err);
    CHECK_OK(lks_delta_txn_delete_rows(a, fa, ra, 2, &err), &err);
    CHECK_OK(lks_delta_txn_delete_rows(b, fa, rb, 1, &err), &err);
    CHECK_OK(lks_delta_txn_commit(a, 0, &v1, &err), &err);
    int rc = lks_delta_txn_commit(b, 0, &v2, &err);
    CHECK_EQ_INT(rc, LKS_ECONFLICT);
    CHECK(strstr(err.msg, fa->path) != NULL);
    lks_delta_txn_free(a);
    lks_delta_txn_free(b);

    /* a DV delete vs a concurrent remove of the file: conflict (both
     * declare the concurrent DV update of A irrelevant to them) */
    lks_delta_txn_begin(f.t, s, "DELETE", &a, &err);
    lks_delta_txn_begin(f.t, s, "DELETE", &b, &err);
    lks_delta_txn_set_conflict_fn(a, ignore_adds, NULL);
    lks_delta_txn_set_conflict_fn(b, ignore_adds, NULL);
    lks_delta_remove r;
    memset(&r, 0, sizeof r);
    r.path = fb->path;
    r.deletion_timestamp = -1;
    r.data_change = 1;
    r.size = -1;
    lks_delta_txn_read_file(a, fb->path);
    CHECK_OK(lks_delta_txn_remove(a, &r), &err);
    CHECK_OK(lks_delta_txn_delete_rows(b, fb, rb, 1, &err), &err);
    CHECK_OK(lks_delta_txn_commit(a, 0, &v1, &err), &err);
    CHECK_EQ_INT(lks_delta_txn_commit(b, 0, &v2, &err), LKS_ECONFLICT);
    CHECK(strstr(err.msg, "removed") != NULL);
    lks_delta_txn_free(a);
    lks_delta_txn_free(b);
    lks_delta_snapshot_free(s);

    /* DV deletes of different files commit when the writer says other
     * added files do not matter to it */
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    CHECK_OK(append_file(&f, 200, 100, "c", &v1, &err), &err);
    lks_delta_snapshot *s2 = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s2, &err) == LKS_OK);
    const lks_delta_add *fa2 = file_of(s2, 0), *fc2 = file_of(s2, 200);
    REQUIRE(fa2 && fc2);
    lks_delta_txn_begin(f.t, s2, "DELETE", &a, &err);
    lks_delta_txn_begin(f.t, s2, "DELETE", &b, &err);
    lks_delta_txn_set_conflict_fn(b, ignore_adds, NULL);
    CHECK_OK(lks_delta_txn_delete_rows(a, fc2, ra, 2, &err), &err);
    CHECK_OK(lks_delta_txn_delete_rows(b, fa2, rb, 1, &err), &err);
    CHECK_OK(lks_delta_txn_commit(a, 0, &v1, &err), &err);
    CHECK_OK(lks_delta_txn_commit(b, 0, &v2, &err), &err);
    CHECK_EQ_INT(v2, v1 + 1);
    lks_delta_txn_free(a);
    lks_delta_txn_free(b);
    lks_delta_snapshot_free(s);
    lks_delta_snapshot_free(s2);
    model m;
    memset(&m, 0, sizeof m);
    for (int i = 0; i < 300; i++) m.live[i] = 1;
    m.live[1] = m.live[2] = m.live[50] = 0; /* A: first delete, then the last */
    for (int i = 100; i < 200; i++) m.live[i] = 0; /* B removed */
    m.live[201] = m.live[202] = 0;
    check_scan(&f, v2, &m);
    fx_close(&f);
}

int main(void) {
    RUN(t_refusals);
    RUN(t_delete_versions);
    RUN(t_dv_file_format);
    RUN(t_stats_and_wide_rows);
    RUN(t_conflicts);
    return lks_test_done();
}
