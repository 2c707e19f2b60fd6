/* test_delta_maint.c — table maintenance: VACUUM (dry run, retention,
 * tombstones, hidden files, deletion-vector files, the safety check, the
 * vacuum protocol check), OPTIMIZE (bin-packing, rows identical, time
 * travel, dataChange=false, conflicts with concurrent deletes, none with
 * concurrent appends) and log cleanup (what goes, what stays, the table
 * still readable; the automatic cleanup after a checkpoint). */
#include "delta/log.h"
#include "harness.h"
#include "tools/delta_validate.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static const char *SCHEMA = "{\"type\":\"struct\",\"fields\":["
                            "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
                            "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
                            "{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
static const char *PARTCOLS[] = {"part"};

#define DAY_S (24 * 3600)

/* ---- fixtures -------------------------------------------------------------------------------- */

typedef struct fx {
    char dir[256];
    lks_store *st;
    lks_delta_table *t;
} fx;

static int fx_open(fx *f) {
    snprintf(f->dir, sizeof f->dir, "/tmp/lks_dmaint.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    lks_err err;
    if (lks_store_open(f->dir, &f->st, &err))
        return -1;
    return lks_delta_table_open(f->st, "", &f->t, &err);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* Validates the log (when `validate`), then removes the table. */
static void fx_close(fx *f, int validate) {
    char msg[2048];
    int problems = validate ? lks_delta_validate(f->dir, msg, sizeof msg) : 0;
    if (problems)
        FAILF("log validator: %d problem(s) in %s: %s", problems, f->dir, msg);
    lks_delta_table_close(f->t);
    lks_store_close(f->st);
    if (!problems)
        nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int path_exists(const fx *f, const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", f->dir, rel);
    return access(p, F_OK) == 0;
}

/* Sets the mtime of dir/rel to `age_s` seconds ago. */
static int age_file(const fx *f, const char *rel, int64_t age_s) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", f->dir, rel);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= (time_t)age_s;
    tv[1] = tv[0];
    return utimes(p, tv);
}

/* A local file with some bytes, `age_s` seconds old. */
static int put_file(fx *f, const char *rel, int64_t age_s) {
    lks_err err;
    const char data[] = "not really parquet";
    if (lks_store_put(f->st, rel, data, sizeof data - 1, &err) != LKS_OK)
        return -1;
    return age_file(f, rel, age_s);
}

static lks_pq_value vnull(void) {
    lks_pq_value v;
    memset(&v, 0, sizeof v);
    return v;
}

static lks_pq_value vstr(const char *s) {
    lks_pq_value v = vnull();
    if (!s)
        return v;
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

static lks_pq_value make_row(lks_arena *a, int64_t id, const char *part) {
    lks_pq_value r = vnull();
    r.kind = LKS_PQ_V_GROUP;
    r.u.list.items = lks_arena_alloc(a, 3 * sizeof(lks_pq_value));
    r.u.list.n = 3;
    r.u.list.items[0] = vi64(id);
    r.u.list.items[1] = id % 5 == 2 ? vnull() : vstr(lks_arena_printf(a, "name-%06" PRId64, id * 7));
    r.u.list.items[2] = vstr(part);
    return r;
}

/* Creates the table at version 0 (no data) with protocol r/w, the given
 * writer/reader features and properties. */
static int create_table(fx *f, int r, int w, const char **features, int nfeatures, lks_delta_kv *cfg, int ncfg,
                        lks_err *err) {
    lks_delta_txn *x;
    int rc = lks_delta_txn_begin(f->t, NULL, "CREATE TABLE", &x, err);
    if (rc)
        return rc;
    lks_delta_protocol p = {
        r, w, r == 3 ? features : NULL, r == 3 ? nfeatures : 0, w == 7 ? features : NULL, w == 7 ? nfeatures : 0};
    lks_delta_metadata m;
    memset(&m, 0, sizeof m);
    m.schema_string = SCHEMA;
    m.partition_columns = PARTCOLS;
    m.npartition_columns = 1;
    m.configuration = cfg;
    m.nconfiguration = ncfg;
    m.created_time = -1;
    lks_delta_txn_set_protocol(x, &p);
    if ((rc = lks_delta_txn_set_metadata(x, &m)) != LKS_OK) {
        lks_delta_txn_free(x);
        return lks_err_set(err, rc, "set_metadata");
    }
    int64_t v = -1;
    rc = lks_delta_txn_commit(x, 0, &v, err);
    lks_delta_txn_free(x);
    return rc;
}

/* Appends ids [first, first+n) to partition `part` (NULL: null) as one
 * commit, optionally recording an application version. */
static int append(fx *f, int64_t first, int n, const char *part, const char *app, int64_t *version, lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(f->t, &s, err);
    if (rc)
        return rc;
    lks_delta_txn *x = NULL;
    lks_delta_writer *w = NULL;
    lks_arena a;
    lks_arena_init(&a, 0);
    rc = lks_delta_txn_begin(f->t, s, "WRITE", &x, err);
    if (!rc)
        rc = lks_delta_writer_open(x, &s->metadata, NULL, &w, err);
    for (int i = 0; i < n && !rc; i++) {
        lks_pq_value row = make_row(&a, first + i, part);
        rc = lks_delta_writer_write(w, &row, err);
    }
    if (!rc)
        rc = lks_delta_writer_close(w, err);
    if (!rc && app)
        rc = lks_delta_txn_set_app_version(x, app, first);
    int64_t v;
    if (!rc)
        rc = lks_delta_txn_commit(x, 0, version ? version : &v, err);
    lks_delta_writer_free(w);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    lks_arena_free(&a);
    return rc;
}

/* Removes the live file `path` (deletion timestamp `del_ts`, -1: now). */
static int remove_file(fx *f, const char *path, int64_t del_ts, lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(f->t, &s, err);
    if (rc)
        return rc;
    lks_delta_txn *x = NULL;
    rc = lks_delta_txn_begin(f->t, s, "DELETE", &x, err);
    lks_delta_remove rm;
    memset(&rm, 0, sizeof rm);
    rm.path = path;
    rm.deletion_timestamp = del_ts;
    rm.data_change = 1;
    rm.size = -1;
    rm.dv.offset = -1;
    for (size_t i = 0; i < s->nfiles; i++)
        if (strcmp(s->files[i].path, path) == 0) {
            rm.partition_values = s->files[i].partition_values;
            rm.npartition_values = s->files[i].npartition_values;
            rm.size = s->files[i].size;
            rm.extended_file_metadata = 1;
        }
    if (!rc)
        rc = lks_delta_txn_remove(x, &rm);
    if (!rc)
        rc = lks_delta_txn_read_file(x, path);
    int64_t v;
    if (!rc)
        rc = lks_delta_txn_commit(x, 0, &v, err);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    return rc;
}

/* The rows of a snapshot as sorted "id|name|part" strings (NULL on error). */
typedef struct rowset {
    char **v;
    size_t n;
} rowset;

static int cmp_strp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void rowset_free(rowset *r) {
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i]);
    free(r->v);
    memset(r, 0, sizeof *r);
}

static int read_rows(fx *f, const lks_delta_snapshot *s, rowset *out) {
    memset(out, 0, sizeof *out);
    lks_delta_scan *sc = NULL;
    lks_err err;
    if (lks_delta_scan_open(f->t, s, NULL, &sc, &err) != LKS_OK) {
        FAILF("scan open: %s", err.msg);
        return -1;
    }
    size_t cap = 0;
    const lks_pq_value *row;
    int rc;
    while ((rc = lks_delta_scan_next(sc, &row, &err)) == 1) {
        const lks_pq_value *it = row->u.list.items;
        char buf[256];
        snprintf(buf, sizeof buf, "%020" PRId64 "|%.*s|%.*s", it[0].u.i64,
                 it[1].kind == LKS_PQ_V_BYTES ? (int)it[1].u.bytes.len : 6,
                 it[1].kind == LKS_PQ_V_BYTES ? (const char *)it[1].u.bytes.ptr : "(null)",
                 it[2].kind == LKS_PQ_V_BYTES ? (int)it[2].u.bytes.len : 6,
                 it[2].kind == LKS_PQ_V_BYTES ? (const char *)it[2].u.bytes.ptr : "(null)");
        if (out->n == cap) {
            cap = cap ? cap * 2 : 256;
            out->v = realloc(out->v, cap * sizeof *out->v);
        }
        out->v[out->n++] = strdup(buf);
    }
    lks_delta_scan_free(sc);
    if (rc < 0) {
        FAILF("scan: %s", err.msg);
        rowset_free(out);
        return -1;
    }
    qsort(out->v, out->n, sizeof *out->v, cmp_strp);
    return 0;
}

static int rowsets_equal(const rowset *a, const rowset *b) {
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return 0;
    return 1;
}

/* VACUUM's reports, collected. */
typedef struct seen {
    char names[64][256];
    int n;
    int64_t bytes;
} seen;

static int on_file(void *ud, const char *path, int64_t size) {
    seen *s = ud;
    if (s->n < 64)
        snprintf(s->names[s->n++], sizeof s->names[0], "%s", path);
    s->bytes += size;
    return 0;
}

static int seen_has(const seen *s, const char *path) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->names[i], path) == 0)
            return 1;
    return 0;
}

/* Ages every file of the table outside _delta_log/ (recursively). */
static const fx *g_age_fx;
static int64_t g_age_s;
static int age_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)ftw;
    if (flag != FTW_F || strstr(p, "/_delta_log/"))
        return 0;
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= (time_t)g_age_s;
    tv[1] = tv[0];
    utimes(p, tv);
    return 0;
}
static void age_data_files(const fx *f, int64_t age_s) {
    g_age_fx = f;
    g_age_s = age_s;
    nftw(f->dir, age_cb, 16, FTW_PHYS);
}

/* ---- VACUUM ---------------------------------------------------------------------------------- */

static void t_vacuum_retention_and_dry_run(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, 2, NULL, 0, NULL, 0, &err) == LKS_OK);
    CHECK_OK(append(&f, 0, 10, "a", NULL, NULL, &err), &err);
    CHECK_OK(append(&f, 10, 10, "b", NULL, NULL, &err), &err);
    CHECK_OK(append(&f, 20, 10, "a", NULL, NULL, &err), &err);
    CHECK_OK(append(&f, 30, 10, NULL, NULL, NULL, &err), &err);
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    REQUIRE(s->nfiles == 4);
    char old_removed[256] = "", new_removed[256] = "";
    for (size_t i = 0; i < s->nfiles; i++) {
        if (!*old_removed && strncmp(s->files[i].path, "part=a/", 7) == 0)
            snprintf(old_removed, sizeof old_removed, "%s", s->files[i].path);
        if (strncmp(s->files[i].path, "part=b/", 7) == 0)
            snprintf(new_removed, sizeof new_removed, "%s", s->files[i].path);
    }
    REQUIRE(*old_removed && *new_removed);
    lks_delta_snapshot_free(s);
    int64_t now = lks_now_us() / 1000;
    /* a tombstone 10 days old (expired) and a fresh one */
    CHECK_OK(remove_file(&f, old_removed, now - 10LL * DAY_S * 1000, &err), &err);
    CHECK_OK(remove_file(&f, new_removed, -1, &err), &err);
    /* everything outside the log is 30 days old ... */
    age_data_files(&f, 30 * DAY_S);
    /* ... plus strays: old and new, visible and hidden */
    REQUIRE(put_file(&f, "orphan-old.parquet", 30 * DAY_S) == 0);
    REQUIRE(put_file(&f, "part=x/stray-old.parquet", 9 * DAY_S) == 0);
    REQUIRE(put_file(&f, "orphan-new.parquet", 2 * DAY_S) == 0);
    REQUIRE(put_file(&f, "_hidden/old.parquet", 30 * DAY_S) == 0);
    REQUIRE(put_file(&f, "part=a/_tmp/old.parquet", 30 * DAY_S) == 0);
    REQUIRE(put_file(&f, ".hidden.parquet", 30 * DAY_S) == 0);
    REQUIRE(put_file(&f, "_SUCCESS", 30 * DAY_S) == 0);
    REQUIRE(put_file(&f, "part=a/.part-1.crc", 30 * DAY_S) == 0);
    REQUIRE(put_file(&f, "_delta_log/stray.json", 30 * DAY_S) == 0);

    /* dry run at the default retention (7 days): exactly the unreferenced old files */
    seen sn;
    memset(&sn, 0, sizeof sn);
    lks_delta_vacuum_opts o = {-1, 1, 0, on_file, &sn};
    lks_delta_vacuum_result r;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(r.files, 3);
    CHECK_EQ_INT(sn.n, 3);
    CHECK_EQ_INT(sn.bytes, r.bytes);
    char oldkey[300];
    snprintf(oldkey, sizeof oldkey, "%s", old_removed); /* writer paths need no decoding here */
    CHECK(seen_has(&sn, oldkey));
    CHECK(seen_has(&sn, "orphan-old.parquet"));
    CHECK(seen_has(&sn, "part=x/stray-old.parquet"));
    CHECK(!seen_has(&sn, new_removed));
    CHECK(path_exists(&f, "orphan-old.parquet")); /* a dry run deletes nothing */
    CHECK(path_exists(&f, old_removed));

    /* a longer retention (10 days) keeps the 9-day-old stray */
    memset(&sn, 0, sizeof sn);
    o.retention_hours = 240;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(r.files, 2);
    CHECK(!seen_has(&sn, "part=x/stray-old.parquet"));
    /* 40 days: nothing is old enough */
    o.retention_hours = 960;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(r.files, 0);

    /* below 7 days: refused without force */
    o.retention_hours = 24;
    CHECK_EQ_INT(lks_delta_vacuum(f.t, &o, &r, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "force") != NULL && strstr(err.msg, "168") != NULL);
    o.retention_hours = 0;
    o.dry_run = 0;
    CHECK_EQ_INT(lks_delta_vacuum(f.t, &o, &r, &err), LKS_EINVAL);
    CHECK(path_exists(&f, "orphan-new.parquet"));

    /* the real thing at the default retention */
    memset(&sn, 0, sizeof sn);
    o.retention_hours = -1;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(r.files, 3);
    CHECK(!path_exists(&f, old_removed));
    CHECK(!path_exists(&f, "orphan-old.parquet"));
    CHECK(!path_exists(&f, "part=x/stray-old.parquet"));
    CHECK(path_exists(&f, new_removed));
    CHECK(path_exists(&f, "orphan-new.parquet"));
    CHECK(path_exists(&f, "_hidden/old.parquet"));
    CHECK(path_exists(&f, "part=a/_tmp/old.parquet"));
    CHECK(path_exists(&f, ".hidden.parquet"));
    CHECK(path_exists(&f, "_SUCCESS"));
    CHECK(path_exists(&f, "part=a/.part-1.crc"));
    CHECK(path_exists(&f, "_delta_log/stray.json"));
    CHECK(path_exists(&f, "_delta_log/00000000000000000000.json"));
    /* again: nothing left to do */
    o.dry_run = 1;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(r.files, 0);

    /* forced to 0 hours: the fresh tombstone and the new stray go too, never a live file */
    memset(&sn, 0, sizeof sn);
    o.retention_hours = 0;
    o.force = 1;
    o.dry_run = 0;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(r.files, 2);
    CHECK(seen_has(&sn, new_removed));
    CHECK(seen_has(&sn, "orphan-new.parquet"));
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    CHECK_EQ_INT(s->nfiles, 2);
    for (size_t i = 0; i < s->nfiles; i++)
        CHECK(path_exists(&f, s->files[i].path));
    rowset rows;
    if (read_rows(&f, s, &rows) == 0) {
        CHECK_EQ_INT(rows.n, 20);
        rowset_free(&rows);
    }
    lks_delta_snapshot_free(s);
    fx_close(&f, 1);
}

/* A writer killed mid-write leaves its temporary file, hidden from
 * listings: vacuum deletes it once older than the retention (outside
 * _delta_log/, which it never touches). */
static int g_ntemp;
static char g_temp[1024];
static int temp_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    if (flag == FTW_F && lks_store_is_temp_name(p + ftw->base, strlen(p + ftw->base))) {
        g_ntemp++;
        snprintf(g_temp, sizeof g_temp, "%s", p);
    }
    return 0;
}
static int count_temps(const fx *f) {
    g_ntemp = 0;
    nftw(f->dir, temp_cb, 16, FTW_PHYS);
    return g_ntemp;
}

static void t_vacuum_killed_writer_temp(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, 2, NULL, 0, NULL, 0, &err) == LKS_OK);
    CHECK_OK(append(&f, 0, 10, "a", NULL, NULL, &err), &err);
    /* what a killed writer leaves: a started object, never committed */
    lks_store_writer *w = NULL;
    CHECK_OK(lks_store_writer_open(f.st, "part=a/part-00009-dead.parquet", &w, &err), &err);
    CHECK_OK(lks_store_writer_write(w, "PAR1", 4, &err), &err);
    REQUIRE(count_temps(&f) == 1);
    char young[1024];
    snprintf(young, sizeof young, "%s", g_temp);
    /* and one 30 days old, in the root and in the log */
    char old[1024], logtmp[1024];
    snprintf(old, sizeof old, "%s/.part-00001-x.parquet.tmp.4242.0123456789abcdef", f.dir);
    snprintf(logtmp, sizeof logtmp, "%s/_delta_log/.00000000000000000009.json.tmp.4242.0123456789abcdef", f.dir);
    for (int i = 0; i < 2; i++) {
        FILE *fp = fopen(i ? logtmp : old, "w");
        REQUIRE(fp);
        fputs("partial", fp);
        fclose(fp);
    }
    REQUIRE(age_file(&f, ".part-00001-x.parquet.tmp.4242.0123456789abcdef", 30 * DAY_S) == 0);
    REQUIRE(age_file(&f, "_delta_log/.00000000000000000009.json.tmp.4242.0123456789abcdef", 30 * DAY_S) == 0);
    seen sn;
    memset(&sn, 0, sizeof sn);
    lks_delta_vacuum_opts o = {-1, 1, 0, on_file, &sn};
    lks_delta_vacuum_result r;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(r.files, 1);
    CHECK_EQ_INT(r.bytes, 7);
    CHECK(seen_has(&sn, ".part-00001-x.parquet.tmp.4242.0123456789abcdef"));
    CHECK_EQ_INT(count_temps(&f), 3); /* a dry run */
    o.dry_run = 0;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(r.files, 1);
    CHECK(access(old, F_OK) != 0);
    CHECK(access(logtmp, F_OK) == 0);
    CHECK(access(young, F_OK) == 0); /* a running writer's: too young */
    /* the writer still finishes: its file is published whole */
    CHECK_OK(lks_store_writer_commit(w, &err), &err);
    CHECK(path_exists(&f, "part=a/part-00009-dead.parquet"));
    CHECK(access(young, F_OK) != 0);
    /* bad keys for lks_store_delete_temp */
    CHECK_EQ_INT(lks_store_delete_temp(f.st, "part=a/part-00009-dead.parquet", &err), LKS_EINVAL);
    CHECK(path_exists(&f, "part=a/part-00009-dead.parquet"));
    CHECK_EQ_INT(lks_store_delete_temp(f.st, "../.x.tmp.1.0123456789abcdef", &err), LKS_EINVAL);
    /* forced to 0 hours, a running writer's file may go: its commit then fails, saying so */
    CHECK_OK(lks_store_writer_open(f.st, "part=a/part-00010-late.parquet", &w, &err), &err);
    CHECK_OK(lks_store_writer_write(w, "PAR1", 4, &err), &err);
    o.retention_hours = 0, o.force = 1;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(lks_store_writer_commit(w, &err), LKS_EIO);
    CHECK(strstr(err.msg, "part-00010-late.parquet") != NULL);
    CHECK(!path_exists(&f, "part=a/part-00010-late.parquet"));
    fx_close(&f, 1);
}

/* The table's safe minimum follows delta.deletedFileRetentionDuration. */
static void t_vacuum_property_retention(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    lks_delta_kv cfg[] = {{"delta.deletedFileRetentionDuration", "interval 2 days"}};
    REQUIRE(create_table(&f, 1, 2, NULL, 0, cfg, 1, &err) == LKS_OK);
    CHECK_OK(append(&f, 0, 5, "a", NULL, NULL, &err), &err);
    REQUIRE(put_file(&f, "three-days.parquet", 3 * DAY_S) == 0);
    REQUIRE(put_file(&f, "one-day.parquet", 1 * DAY_S) == 0);
    age_data_files(&f, 0);
    REQUIRE(age_file(&f, "three-days.parquet", 3 * DAY_S) == 0);
    REQUIRE(age_file(&f, "one-day.parquet", 1 * DAY_S) == 0);
    seen sn;
    memset(&sn, 0, sizeof sn);
    lks_delta_vacuum_opts o = {-1, 0, 0, on_file, &sn};
    lks_delta_vacuum_result r;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(r.files, 1);
    CHECK(seen_has(&sn, "three-days.parquet"));
    CHECK(path_exists(&f, "one-day.parquet"));
    /* 36 hours is below the table's 2 days */
    o.retention_hours = 36;
    CHECK_EQ_INT(lks_delta_vacuum(f.t, &o, &r, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "deletedFileRetentionDuration") != NULL);
    fx_close(&f, 1);
}

/* Writes a DV file holding `rows` for one data file at `rel`, returning the
 * descriptor ('u', relative, with the Z85 of `uuid`). */
static int put_dv(fx *f, const uint8_t uuid[16], const uint64_t *rows, size_t n, lks_delta_dv *dv, char *z85,
                  lks_err *err) {
    lks_buf bm, file, zb;
    lks_buf_init(&bm, 0);
    lks_buf_init(&file, 0);
    lks_buf_init(&zb, 0);
    int rc = lks_delta_dv_serialize(rows, n, &bm);
    uint8_t hdr[5] = {1, (uint8_t)(bm.len >> 24), (uint8_t)(bm.len >> 16), (uint8_t)(bm.len >> 8), (uint8_t)bm.len};
    uint32_t crc = lks_crc32(0, bm.ptr, bm.len);
    uint8_t tail[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
    if (!rc)
        rc = lks_buf_append(&file, hdr, 5);
    if (!rc)
        rc = lks_buf_append(&file, bm.ptr, bm.len);
    if (!rc)
        rc = lks_buf_append(&file, tail, 4);
    if (!rc)
        rc = lks_delta_z85_encode(&zb, uuid, 16);
    char name[128];
    static const char hx[] = "0123456789abcdef";
    int k = snprintf(name, sizeof name, "deletion_vector_");
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            name[k++] = '-';
        name[k++] = hx[uuid[i] >> 4];
        name[k++] = hx[uuid[i] & 15];
    }
    snprintf(name + k, sizeof name - (size_t)k, ".bin");
    if (!rc)
        rc = lks_store_put(f->st, name, file.ptr, file.len, err);
    memcpy(z85, zb.ptr, 20);
    z85[20] = 0;
    memset(dv, 0, sizeof *dv);
    dv->storage_type = 'u';
    dv->path_or_inline = z85;
    dv->offset = 1;
    dv->size_in_bytes = (int32_t)bm.len;
    dv->cardinality = (int64_t)n;
    lks_buf_free(&bm);
    lks_buf_free(&file);
    lks_buf_free(&zb);
    return rc;
}

/* Marks rows of live file `idx` deleted by a DV (remove + add with the DV). */
static int delete_rows_dv(fx *f, size_t idx, const uint8_t uuid[16], const uint64_t *rows, size_t n, lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(f->t, &s, err);
    if (rc)
        return rc;
    const lks_delta_add *a = &s->files[idx];
    lks_delta_dv dv;
    char z85[21];
    rc = put_dv(f, uuid, rows, n, &dv, z85, err);
    lks_delta_txn *x = NULL;
    if (!rc)
        rc = lks_delta_txn_begin(f->t, s, "DELETE", &x, err);
    lks_delta_remove rm;
    memset(&rm, 0, sizeof rm);
    rm.path = a->path;
    rm.deletion_timestamp = -1;
    rm.data_change = 1;
    rm.size = a->size;
    rm.partition_values = a->partition_values;
    rm.npartition_values = a->npartition_values;
    rm.dv = a->dv;
    rm.has_dv = a->has_dv;
    lks_delta_add ad = *a;
    ad.dv = dv;
    ad.has_dv = 1;
    ad.data_change = 1;
    if (!rc)
        rc = lks_delta_txn_remove(x, &rm);
    if (!rc)
        rc = lks_delta_txn_add(x, &ad);
    if (!rc)
        rc = lks_delta_txn_read_file(x, a->path);
    int64_t v;
    if (!rc)
        rc = lks_delta_txn_commit(x, 0, &v, err);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    return rc;
}

static const uint8_t UUID1[16] = {0x89, 0x9c, 0xef, 0x78, 0x06, 0xb3, 0x4c, 0x14,
                                  0xb0, 0x24, 0x03, 0x86, 0x0e, 0x62, 0xcd, 0x40};
static const uint8_t UUID2[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88,
                                  0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00};
static const uint8_t UUID3[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x47, 0x08,
                                  0x89, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

static void t_vacuum_deletion_vectors(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    const char *features[] = {"deletionVectors", "vacuumProtocolCheck"};
    lks_delta_kv cfg[] = {{"delta.enableDeletionVectors", "true"}};
    REQUIRE(create_table(&f, 3, 7, features, 2, cfg, 1, &err) == LKS_OK);
    CHECK_OK(append(&f, 0, 10, "a", NULL, NULL, &err), &err);
    CHECK_OK(append(&f, 10, 10, "b", NULL, NULL, &err), &err);
    uint64_t del1[] = {1, 3}, del2[] = {1, 3, 5};
    CHECK_OK(delete_rows_dv(&f, 0, UUID1, del1, 2, &err), &err);
    /* a second DV for the same file replaces the first: the first is a tombstone's DV now */
    CHECK_OK(delete_rows_dv(&f, 0, UUID2, del2, 3, &err), &err);
    /* an orphan DV file nobody references */
    uint64_t del3[] = {7};
    lks_delta_dv dv3;
    char z3[21];
    CHECK_OK(put_dv(&f, UUID3, del3, 1, &dv3, z3, &err), &err);
    age_data_files(&f, 30 * DAY_S);
    const char *dv1 = "deletion_vector_899cef78-06b3-4c14-b024-03860e62cd40.bin";
    const char *dv2 = "deletion_vector_11223344-5566-4788-99aa-bbccddeeff00.bin";
    const char *dv3n = "deletion_vector_01020304-0506-4708-890a-0b0c0d0e0f10.bin";
    REQUIRE(path_exists(&f, dv1) && path_exists(&f, dv2) && path_exists(&f, dv3n));
    seen sn;
    memset(&sn, 0, sizeof sn);
    lks_delta_vacuum_opts o = {-1, 1, 0, on_file, &sn};
    lks_delta_vacuum_result r;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    /* the tombstoned DV is young (removed just now): only the orphan goes */
    CHECK_EQ_INT(r.files, 1);
    CHECK(seen_has(&sn, dv3n));
    /* forced to zero: the old DV (its tombstone expired) goes too; the DV in use stays */
    memset(&sn, 0, sizeof sn);
    o.retention_hours = 0;
    o.force = 1;
    o.dry_run = 0;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(r.files, 2);
    CHECK(!path_exists(&f, dv1));
    CHECK(path_exists(&f, dv2));
    CHECK(!path_exists(&f, dv3n));
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    CHECK_EQ_INT(s->nfiles, 2);
    for (size_t i = 0; i < s->nfiles; i++)
        CHECK(path_exists(&f, s->files[i].path));
    rowset rows;
    if (read_rows(&f, s, &rows) == 0) {
        CHECK_EQ_INT(rows.n, 17);
        rowset_free(&rows);
    }
    lks_delta_snapshot_free(s);
    fx_close(&f, 1);
}

/* A writer feature lakesync does not know stops VACUUM (vacuum protocol check). */
static void t_vacuum_protocol_check(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    char line[2048];
    snprintf(line, sizeof line,
             "{\"commitInfo\":{\"timestamp\":1,\"operation\":\"CREATE TABLE\"}}\n"
             "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":"
             "[\"vacuumProtocolCheck\"],\"writerFeatures\":[\"vacuumProtocolCheck\",\"someFutureFeature\"]}}\n"
             "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":%s,"
             "\"partitionColumns\":[],\"configuration\":{},\"createdTime\":1}}\n",
             "\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"long\\\","
             "\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\"");
    REQUIRE(lks_store_put(f.st, "_delta_log/00000000000000000000.json", line, strlen(line), &err) == LKS_OK);
    REQUIRE(put_file(&f, "orphan.parquet", 30 * DAY_S) == 0);
    lks_delta_snapshot *s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err); /* readable ... */
    lks_delta_snapshot_free(s);
    lks_delta_vacuum_opts o = {-1, 1, 0, NULL, NULL};
    lks_delta_vacuum_result r;
    CHECK_EQ_INT(lks_delta_vacuum(f.t, &o, &r, &err), LKS_EUNSUPPORTED); /* ... but not vacuumed */
    CHECK(strstr(err.msg, "someFutureFeature") != NULL);
    CHECK(path_exists(&f, "orphan.parquet"));
    fx_close(&f, 0);
}

/* A table under a key prefix: objects beside it are not its own; escaped
 * partition paths and absolute paths into the table count as references. */
static void t_vacuum_prefix_and_paths(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    lks_delta_table *root = f.t;
    REQUIRE(lks_delta_table_open(f.st, "db/t", &f.t, &err) == LKS_OK);
    REQUIRE(create_table(&f, 1, 2, NULL, 0, NULL, 0, &err) == LKS_OK);
    CHECK_OK(append(&f, 0, 10, "a b:c%d", NULL, NULL, &err), &err);
    CHECK_OK(append(&f, 10, 10, "plain", NULL, NULL, &err), &err);
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    REQUIRE(s->nfiles == 2);
    int escaped = 0;
    for (size_t i = 0; i < s->nfiles; i++)
        escaped |= strchr(s->files[i].path, '%') != NULL;
    CHECK(escaped); /* the log holds the URI-encoded path */
    /* a copy of the 'plain' file referenced by an absolute URI, replacing it */
    const lks_delta_add *plain = strstr(s->files[0].path, "plain") ? &s->files[0] : &s->files[1];
    lks_buf data;
    lks_buf_init(&data, 0);
    char key[512], abs[1024], plain_path[256];
    snprintf(plain_path, sizeof plain_path, "%s", plain->path);
    snprintf(key, sizeof key, "db/t/%s", plain->path);
    REQUIRE(lks_store_get(f.st, key, &data, &err) == LKS_OK);
    REQUIRE(lks_store_put(f.st, "db/t/plain-abs.parquet", data.ptr, data.len, &err) == LKS_OK);
    lks_buf_free(&data);
    snprintf(abs, sizeof abs, "file://%s/db/t/plain-abs.parquet", f.dir);
    lks_delta_txn *x = NULL;
    REQUIRE(lks_delta_txn_begin(f.t, s, "WRITE", &x, &err) == LKS_OK);
    lks_delta_add ad = *plain;
    ad.path = abs;
    lks_delta_remove rm;
    memset(&rm, 0, sizeof rm);
    rm.path = plain->path;
    rm.deletion_timestamp = lks_now_us() / 1000 - 30LL * DAY_S * 1000;
    rm.data_change = 1;
    rm.size = -1;
    rm.dv.offset = -1;
    CHECK_OK(lks_delta_txn_remove(x, &rm), (lks_err *)NULL);
    CHECK_OK(lks_delta_txn_add(x, &ad), (lks_err *)NULL);
    int64_t v;
    CHECK_OK(lks_delta_txn_commit(x, 0, &v, &err), &err);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    REQUIRE(put_file(&f, "db/t/stray.parquet", 30 * DAY_S) == 0);
    REQUIRE(put_file(&f, "db/beside.parquet", 30 * DAY_S) == 0);
    REQUIRE(put_file(&f, "db/t2/other-table.parquet", 30 * DAY_S) == 0);
    age_data_files(&f, 30 * DAY_S);
    seen sn;
    memset(&sn, 0, sizeof sn);
    lks_delta_vacuum_opts o = {0, 0, 1, on_file, &sn};
    lks_delta_vacuum_result r;
    CHECK_OK(lks_delta_vacuum(f.t, &o, &r, &err), &err);
    CHECK_EQ_INT(r.files, 2); /* the stray and the replaced relative file */
    CHECK(seen_has(&sn, "stray.parquet"));
    CHECK(seen_has(&sn, plain_path)); /* no escapes in this one */
    CHECK(path_exists(&f, "db/t/plain-abs.parquet"));
    CHECK(path_exists(&f, "db/beside.parquet"));
    CHECK(path_exists(&f, "db/t2/other-table.parquet"));
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    rowset rows;
    if (read_rows(&f, s, &rows) == 0) {
        CHECK_EQ_INT(rows.n, 20);
        rowset_free(&rows);
    }
    lks_delta_snapshot_free(s);
    lks_delta_table_close(f.t);
    f.t = root;
    fx_close(&f, 0);
}

/* ---- OPTIMIZE -------------------------------------------------------------------------------- */

/* Every add and remove of commit v has dataChange=false. */
static int commit_no_data_change(fx *f, int64_t v, int *nadd, int *nrem) {
    char key[64];
    snprintf(key, sizeof key, "_delta_log/%020" PRId64 ".json", v);
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_err err;
    *nadd = *nrem = 0;
    if (lks_store_get(f->st, key, &b, &err) != LKS_OK)
        return 0;
    lks_buf_cstr(&b);
    int ok = 1;
    for (char *line = strtok((char *)b.ptr, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        json_t *a = json_object_get(j, "add"), *r = json_object_get(j, "remove");
        json_t *x = a ? a : r;
        if (x) {
            if (!json_is_false(json_object_get(x, "dataChange")))
                ok = 0;
            *(a ? nadd : nrem) += 1;
        }
        json_decref(j);
    }
    lks_buf_free(&b);
    return ok;
}

static void t_optimize_bin_packing(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    const char *features[] = {"deletionVectors"};
    lks_delta_kv cfg[] = {{"delta.enableDeletionVectors", "true"}};
    REQUIRE(create_table(&f, 3, 7, features, 1, cfg, 1, &err) == LKS_OK);
    int64_t id = 0;
    for (int k = 0; k < 8; k++) {
        CHECK_OK(append(&f, id, 50, "a", NULL, NULL, &err), &err);
        id += 50;
        CHECK_OK(append(&f, id, 30, "b", NULL, NULL, &err), &err);
        id += 30;
        CHECK_OK(append(&f, id, 20, NULL, NULL, NULL, &err), &err);
        id += 20;
    }
    CHECK_OK(append(&f, id, 40, "lonely", NULL, NULL, &err), &err); /* one file: left alone */
    id += 40;
    /* some rows of one file deleted by a DV: they must stay deleted */
    uint64_t del[] = {0, 2, 4, 6};
    CHECK_OK(delete_rows_dv(&f, 0, UUID1, del, 4, &err), &err);
    lks_delta_snapshot *before = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &before, &err) == LKS_OK);
    CHECK_EQ_INT(before->nfiles, 25);
    char lonely[256] = "";
    for (size_t i = 0; i < before->nfiles; i++)
        if (strstr(before->files[i].path, "lonely"))
            snprintf(lonely, sizeof lonely, "%s", before->files[i].path);
    rowset rows_before;
    REQUIRE(read_rows(&f, before, &rows_before) == 0);
    CHECK_EQ_INT(rows_before.n, (int64_t)id - 4);

    lks_delta_optimize_result r;
    CHECK_OK(lks_delta_optimize(f.t, NULL, &r, &err), &err);
    CHECK_EQ_INT(r.files_removed, 24);
    CHECK_EQ_INT(r.files_added, 3);
    CHECK_EQ_INT(r.version, before->version + 1);
    CHECK(r.bytes_before > r.bytes_after);
    int nadd, nrem;
    CHECK(commit_no_data_change(&f, r.version, &nadd, &nrem));
    CHECK_EQ_INT(nadd, 3);
    CHECK_EQ_INT(nrem, 24);

    lks_delta_snapshot *after = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &after, &err) == LKS_OK);
    CHECK_EQ_INT(after->nfiles, 4);
    int64_t bytes = 0, records = 0;
    int lonely_kept = 0;
    for (size_t i = 0; i < after->nfiles; i++) {
        if (strcmp(after->files[i].path, lonely) == 0) {
            lonely_kept = 1;
            continue;
        }
        CHECK(!after->files[i].has_dv);
        CHECK(!after->files[i].data_change);
        bytes += after->files[i].size;
        const char *nr = after->files[i].stats ? strstr(after->files[i].stats, "\"numRecords\":") : NULL;
        if (nr)
            records += strtoll(nr + 13, NULL, 10);
    }
    CHECK(lonely_kept);
    CHECK_EQ_INT(bytes, r.bytes_after);
    CHECK_EQ_INT(records, id - 40 - 4);
    rowset rows_after;
    if (read_rows(&f, after, &rows_after) == 0) {
        CHECK(rowsets_equal(&rows_before, &rows_after));
        rowset_free(&rows_after);
    }
    /* time travel to the version before still reads the old files */
    lks_delta_snapshot *old = NULL;
    CHECK_OK(lks_delta_snapshot_at_version(f.t, before->version, &old, &err), &err);
    if (old) {
        CHECK_EQ_INT(old->nfiles, 25);
        rowset rows_old;
        if (read_rows(&f, old, &rows_old) == 0) {
            CHECK(rowsets_equal(&rows_before, &rows_old));
            rowset_free(&rows_old);
        }
        lks_delta_snapshot_free(old);
    }
    /* nothing left to do */
    CHECK_OK(lks_delta_optimize(f.t, NULL, &r, &err), &err);
    CHECK_EQ_INT(r.version, -1);
    CHECK_EQ_INT(r.files_removed, 0);
    lks_delta_snapshot_free(after);

    /* a small target makes several bins per partition */
    for (int k = 0; k < 6; k++) {
        CHECK_OK(append(&f, id, 50, "c", NULL, NULL, &err), &err);
        id += 50;
    }
    REQUIRE(lks_delta_snapshot_latest(f.t, &after, &err) == LKS_OK);
    int64_t one = 0;
    for (size_t i = 0; i < after->nfiles; i++)
        if (strstr(after->files[i].path, "part=c/"))
            one = after->files[i].size;
    lks_delta_snapshot_free(after);
    lks_delta_optimize_opts oo = {one * 5 / 2, one * 3 / 2, NULL, 0};
    CHECK_OK(lks_delta_optimize(f.t, &oo, &r, &err), &err);
    CHECK_EQ_INT(r.files_removed, 6);
    CHECK_EQ_INT(r.files_added, 3);
    REQUIRE(lks_delta_snapshot_latest(f.t, &after, &err) == LKS_OK);
    rowset rows_c;
    if (read_rows(&f, after, &rows_c) == 0) {
        CHECK_EQ_INT(rows_c.n, rows_before.n + 300);
        rowset_free(&rows_c);
    }
    lks_delta_snapshot_free(after);
    rowset_free(&rows_before);
    lks_delta_snapshot_free(before);
    fx_close(&f, 1);
}

static void t_optimize_conflicts(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    REQUIRE(create_table(&f, 1, 2, NULL, 0, NULL, 0, &err) == LKS_OK);
    for (int k = 0; k < 4; k++)
        CHECK_OK(append(&f, k * 10, 10, "a", NULL, NULL, &err), &err);

    /* 1. the delete commits first; OPTIMIZE from the older snapshot conflicts */
    lks_delta_snapshot *s0 = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s0, &err) == LKS_OK);
    CHECK_OK(remove_file(&f, s0->files[1].path, -1, &err), &err);
    lks_delta_optimize_opts oo = {0, 0, s0, 0};
    lks_delta_optimize_result r;
    CHECK_EQ_INT(lks_delta_optimize(f.t, &oo, &r, &err), LKS_ECONFLICT);
    CHECK(strstr(err.msg, s0->files[1].path) != NULL);
    lks_delta_snapshot_free(s0);
    lks_delta_snapshot *s = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    CHECK_EQ_INT(s->nfiles, 3);
    rowset rows;
    if (read_rows(&f, s, &rows) == 0) {
        CHECK_EQ_INT(rows.n, 30);
        rowset_free(&rows);
    }
    lks_delta_snapshot_free(s);

    /* 2. OPTIMIZE commits first; a delete of a rewritten file from the older snapshot conflicts */
    lks_delta_snapshot *s1 = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s1, &err) == LKS_OK);
    CHECK_OK(lks_delta_optimize(f.t, NULL, &r, &err), &err);
    CHECK_EQ_INT(r.files_removed, 3);
    lks_delta_txn *x = NULL;
    REQUIRE(lks_delta_txn_begin(f.t, s1, "DELETE", &x, &err) == LKS_OK);
    lks_delta_remove rm;
    memset(&rm, 0, sizeof rm);
    rm.path = s1->files[0].path;
    rm.deletion_timestamp = -1;
    rm.data_change = 1;
    rm.size = s1->files[0].size;
    rm.partition_values = s1->files[0].partition_values;
    rm.npartition_values = s1->files[0].npartition_values;
    rm.dv.offset = -1;
    CHECK_OK(lks_delta_txn_remove(x, &rm), (lks_err *)NULL);
    CHECK_OK(lks_delta_txn_read_file(x, rm.path), (lks_err *)NULL);
    int64_t v = -1;
    CHECK_EQ_INT(lks_delta_txn_commit(x, 0, &v, &err), LKS_ECONFLICT);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s1);

    /* 3. a concurrent append does not conflict with OPTIMIZE */
    for (int k = 0; k < 3; k++)
        CHECK_OK(append(&f, 100 + k * 10, 10, "a", NULL, NULL, &err), &err);
    lks_delta_snapshot *s2 = NULL;
    REQUIRE(lks_delta_snapshot_latest(f.t, &s2, &err) == LKS_OK);
    CHECK_OK(append(&f, 200, 10, "a", NULL, NULL, &err), &err);
    oo.read = s2;
    CHECK_OK(lks_delta_optimize(f.t, &oo, &r, &err), &err);
    CHECK_EQ_INT(r.version, s2->version + 2);
    CHECK_EQ_INT(r.files_removed, 4);
    CHECK_EQ_INT(r.files_added, 1);
    lks_delta_snapshot_free(s2);
    REQUIRE(lks_delta_snapshot_latest(f.t, &s, &err) == LKS_OK);
    CHECK_EQ_INT(s->nfiles, 2);
    if (read_rows(&f, s, &rows) == 0) {
        CHECK_EQ_INT(rows.n, 70);
        rowset_free(&rows);
    }
    lks_delta_snapshot_free(s);
    fx_close(&f, 1);
}

/* ---- log cleanup ----------------------------------------------------------------------------- */

static void age_log_file(fx *f, int64_t v, const char *suffix, int64_t age_s) {
    char rel[128];
    snprintf(rel, sizeof rel, "_delta_log/%020" PRId64 ".%s", v, suffix);
    if (path_exists(f, rel) && age_file(f, rel, age_s) != 0)
        FAILF("utimes %s: %s", rel, strerror(errno));
}

static void age_versions(fx *f, int64_t from, int64_t to, int64_t age_s) {
    for (int64_t v = from; v <= to; v++) {
        age_log_file(f, v, "json", age_s);
        age_log_file(f, v, "checkpoint.parquet", age_s);
        age_log_file(f, v, "crc", age_s);
    }
}

static int has_log(fx *f, int64_t v, const char *suffix) {
    char rel[128];
    snprintf(rel, sizeof rel, "_delta_log/%020" PRId64 ".%s", v, suffix);
    return path_exists(f, rel);
}

static void t_log_cleanup(void) {
    fx f;
    lks_err err;
    REQUIRE(fx_open(&f) == 0);
    lks_delta_kv cfg[] = {{"delta.checkpointInterval", "5"}};
    REQUIRE(create_table(&f, 1, 2, NULL, 0, cfg, 1, &err) == LKS_OK);
    for (int v = 1; v <= 12; v++)
        CHECK_OK(append(&f, v * 10, 10, v % 2 ? "a" : "b", v <= 2 ? "app" : NULL, NULL, &err), &err);
    REQUIRE(has_log(&f, 5, "checkpoint.parquet") && has_log(&f, 10, "checkpoint.parquet"));
    /* fresh log: nothing expires */
    CHECK_OK(lks_delta_log_cleanup(f.t, NULL, &err), &err);
    for (int v = 0; v <= 12; v++)
        CHECK(has_log(&f, v, "json"));
    /* commits 0..7 are 40 days old (the default retention is 30 days) */
    REQUIRE(put_file(&f, "_delta_log/00000000000000000003.crc", 0) == 0);
    age_versions(&f, 0, 7, 40 * DAY_S);
    CHECK_OK(lks_delta_log_cleanup(f.t, NULL, &err), &err);
    for (int v = 0; v < 5; v++)
        CHECK(!has_log(&f, v, "json"));
    CHECK(!has_log(&f, 3, "crc"));
    for (int v = 5; v <= 12; v++)
        CHECK(has_log(&f, v, "json"));
    CHECK(has_log(&f, 5, "checkpoint.parquet"));
    CHECK(has_log(&f, 10, "checkpoint.parquet"));
    CHECK(path_exists(&f, "_delta_log/_last_checkpoint"));
    lks_delta_snapshot *s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->version, 12);
        CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "app"), 20);
        rowset rows;
        if (read_rows(&f, s, &rows) == 0) {
            CHECK_EQ_INT(rows.n, 120);
            rowset_free(&rows);
        }
        lks_delta_snapshot_free(s);
    }
    CHECK_OK(lks_delta_snapshot_at_version(f.t, 6, &s, &err), &err);
    lks_delta_snapshot_free(s);
    s = NULL;
    CHECK_EQ_INT(lks_delta_snapshot_at_version(f.t, 3, &s, &err), LKS_ENOTFOUND);

    /* everything old: the history starts at checkpoint 10 */
    age_versions(&f, 0, 12, 40 * DAY_S);
    CHECK_OK(lks_delta_log_cleanup(f.t, NULL, &err), &err);
    for (int v = 0; v < 10; v++)
        CHECK(!has_log(&f, v, "json"));
    CHECK(!has_log(&f, 5, "checkpoint.parquet"));
    for (int v = 10; v <= 12; v++)
        CHECK(has_log(&f, v, "json"));
    CHECK(has_log(&f, 10, "checkpoint.parquet"));
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->version, 12);
        CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "app"), 20);
        lks_delta_snapshot_free(s);
    }
    CHECK_OK(lks_delta_snapshot_at_version(f.t, 10, &s, &err), &err);
    lks_delta_snapshot_free(s);
    fx_close(&f, 0);
}

/* A table property shortens the retention; the cleanup also runs after an
 * automatic checkpoint unless delta.enableExpiredLogCleanup=false. */
static void t_log_cleanup_automatic(void) {
    for (int enabled = 0; enabled < 2; enabled++) {
        fx f;
        lks_err err;
        REQUIRE(fx_open(&f) == 0);
        lks_delta_kv cfg[] = {{"delta.checkpointInterval", "5"},
                              {"delta.logRetentionDuration", "interval 2 days"},
                              {"delta.enableExpiredLogCleanup", enabled ? "true" : "false"}};
        REQUIRE(create_table(&f, 1, 2, NULL, 0, cfg, 3, &err) == LKS_OK);
        for (int v = 1; v <= 9; v++)
            CHECK_OK(append(&f, v * 10, 5, "a", NULL, NULL, &err), &err);
        age_versions(&f, 0, 9, 4 * DAY_S);
        CHECK_OK(append(&f, 100, 5, "a", NULL, NULL, &err), &err); /* version 10: checkpoint, cleanup */
        REQUIRE(has_log(&f, 10, "checkpoint.parquet"));
        for (int v = 0; v < 5; v++)
            CHECK(has_log(&f, v, "json") == !enabled);
        for (int v = 5; v <= 10; v++)
            CHECK(has_log(&f, v, "json"));
        lks_delta_snapshot *s = NULL;
        CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
        if (s) {
            CHECK_EQ_INT(s->version, 10);
            rowset rows;
            if (read_rows(&f, s, &rows) == 0) {
                CHECK_EQ_INT(rows.n, 50);
                rowset_free(&rows);
            }
        }
        lks_delta_snapshot_free(s);
        fx_close(&f, !enabled);
    }
}

int main(void) {
    RUN(t_vacuum_retention_and_dry_run);
    RUN(t_vacuum_killed_writer_temp);
    RUN(t_vacuum_property_retention);
    RUN(t_vacuum_deletion_vectors);
    RUN(t_vacuum_protocol_check);
    RUN(t_vacuum_prefix_and_paths);
    RUN(t_optimize_bin_packing);
    RUN(t_optimize_conflicts);
    RUN(t_log_cleanup);
    RUN(t_log_cleanup_automatic);
    return lks_test_done();
}
