/* test_delta_hostile.c — hostile Delta logs and deletion vectors.
 *
 * 1. Replays the fuzz seeds and kept crash inputs (fuzz/seeds_delta_action/,
 *    fuzz/seeds_delta_dv/, fuzz/crashes_delta/) through the same exerciser
 *    the libFuzzer targets use (fuzz/delta_exercise.h).
 * 2. End to end on copies of small corpus tables in a temp dir: a truncated
 *    commit, unknown actions and fields, a missing data file, a corrupt
 *    checkpoint (with and without the commits before it), a corrupt
 *    _last_checkpoint, corrupt DV files, two metaData actions in a commit,
 *    mistyped fields — each must give a clear error naming the file (and
 *    line), or read as the spec says. */
#include "../../fuzz/delta_exercise.h"
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- files ------------------------------------------------------------------------ */

static int read_file(const char *path, lks_buf *b) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) lks_buf_append(b, tmp, n);
    fclose(f);
    return 0;
}

static int write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Runs fn on every regular file of dir whose name starts with prefix ("" all). */
typedef void file_fn(const char *path, const uint8_t *p, size_t n);
static int each_file(const char *dir, const char *prefix, file_fn *fn) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        lks_buf b;
        lks_buf_init(&b, 0);
        if (read_file(path, &b) == 0) {
            fn(path, b.ptr, b.len);
            count++;
        }
        lks_buf_free(&b);
    }
    closedir(d);
    return count;
}

/* cp -r src dst (files made writable). */
static char cp_dst[4200];
static size_t cp_srclen;
static int cp_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)ftw;
    char to[8400];
    snprintf(to, sizeof to, "%s%s", cp_dst, p + cp_srclen);
    if (flag == FTW_D) return mkdir(to, 0755) == 0 || errno == EEXIST ? 0 : -1;
    if (flag != FTW_F) return 0;
    lks_buf b;
    lks_buf_init(&b, 0);
    int rc = read_file(p, &b) == 0 && write_file(to, b.ptr, b.len) == 0 ? 0 : -1;
    lks_buf_free(&b);
    return rc;
}
static int copy_tree(const char *src, const char *dst) {
    snprintf(cp_dst, sizeof cp_dst, "%s", dst);
    cp_srclen = strlen(src);
    return nftw(src, cp_cb, 16, FTW_PHYS);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* ---- fixtures ------------------------------------------------------------------------ */

typedef struct fx {
    char dir[256];
    lks_store *st;
    lks_delta_table *t;
} fx;

/* A writable copy of corpus table `name` (its delta/ directory).  0 when
 * the corpus is absent (the caller SKIPs), -1 on failure, 1 ready. */
static int fx_open(fx *f, const char *name) {
    memset(f, 0, sizeof *f);
    const char *corpus = lks_test_corpus();
    if (!corpus) return 0;
    char src[4200];
    snprintf(src, sizeof src, "%s/delta/%s/delta", corpus, name);
    struct stat sb;
    if (stat(src, &sb) != 0) return 0;
    snprintf(f->dir, sizeof f->dir, "/tmp/lks_dhost.XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    if (copy_tree(src, f->dir) != 0) return -1;
    lks_err err;
    if (lks_store_open(f->dir, &f->st, &err)) return -1;
    return lks_delta_table_open(f->st, "", &f->t, &err) == LKS_OK ? 1 : -1;
}

static void fx_close(fx *f) {
    lks_delta_table_close(f->t);
    lks_store_close(f->st);
    if (f->dir[0]) nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *fx_path(fx *f, const char *rel) {
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s", f->dir, rel);
    return p;
}

#define OPEN_OR_SKIP(f, name)                                                                                          \
    do {                                                                                                               \
        int o_ = fx_open(&(f), name);                                                                                  \
        if (o_ == 0) SKIP("corpus table %s not found", name);                                                         \
        REQUIRE(o_ == 1);                                                                                              \
    } while (0)

/* Counts the rows a scan yields; the final status in *rc. */
static long scan_rows(fx *f, const lks_delta_snapshot *s, int *rc, lks_err *err) {
    lks_delta_scan *sc = NULL;
    *rc = lks_delta_scan_open(f->t, s, NULL, &sc, err);
    if (*rc) return -1;
    long n = 0;
    const lks_pq_value *row;
    int r;
    while ((r = lks_delta_scan_next(sc, &row, err)) == 1) n++;
    *rc = r;
    lks_delta_scan_free(sc);
    return n;
}

#define HAS(msg, s) (strstr((msg), (s)) != NULL)

/* ---- 1. fuzz inputs ------------------------------------------------------------------ */

static void on_action(const char *path, const uint8_t *p, size_t n) {
    (void)path;
    (void)lks_dfuzz_actions(p, n);
}
static void on_action_seed(const char *path, const uint8_t *p, size_t n) {
    /* every seed line is a real log line: it must parse (unknown kinds too) */
    int known = lks_dfuzz_actions(p, n);
    if (known == 0 && !strstr(path, "some_new_action")) FAILF("%s: no line parsed to a known action", path);
}
static void on_dv(const char *path, const uint8_t *p, size_t n) {
    (void)path;
    lks_dfuzz_dv(p, n);
}

static void t_fuzz_seeds(void) {
    int na = each_file("fuzz/seeds_delta_action", "", on_action_seed);
    int nd = each_file("fuzz/seeds_delta_dv", "", on_dv);
    if (na < 0 || nd < 0) SKIP("run from the repository root (fuzz/ not found)");
    CHECK(na >= 30);
    CHECK(nd >= 10);
}

static void t_fuzz_crashes(void) {
    int na = each_file("fuzz/crashes_delta", "action-", on_action);
    int nd = each_file("fuzz/crashes_delta", "dv-", on_dv);
    if (na < 0 || nd < 0) SKIP("run from the repository root (fuzz/crashes_delta not found)");
    CHECK(na + nd >= 1);
}

/* The serialized DV seeds decode to what was serialized; the kept crash
 * inputs are refused with messages. */
static void t_dv_known(void) {
    uint64_t rows[] = {3, 4, 7, 11, 4000, ((uint64_t)5 << 32) + 1};
    lks_buf b;
    lks_buf_init(&b, 0);
    REQUIRE(lks_delta_dv_serialize(rows, 6, &b) == LKS_OK);
    lks_delta_rowset *rs = NULL;
    lks_err err = {0};
    CHECK_OK(lks_delta_dv_parse(b.ptr, b.len, &rs, &err), &err);
    REQUIRE(rs);
    CHECK_EQ_INT(lks_delta_rowset_cardinality(rs), 6);
    for (int i = 0; i < 6; i++) CHECK(lks_delta_rowset_contains(rs, rows[i]));
    CHECK(!lks_delta_rowset_contains(rs, 5));
    lks_delta_rowset_free(rs);
    /* each truncation is refused, never read past the end */
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, b.ptr, n);
        rs = NULL;
        lks_err_clear(&err);
        int rc = lks_delta_dv_parse(cut, n, &rs, &err);
        if (rc != LKS_ECORRUPT || rs || !err.msg[0]) FAILF("truncated to %zu bytes: status %d", n, rc);
        lks_delta_rowset_free(rs);
        free(cut);
    }
    lks_buf_free(&b);

    lks_buf f;
    lks_buf_init(&f, 0);
    if (read_file("fuzz/crashes_delta/dv-container-count-overflow.bin", &f) == 0) {
        lks_err_clear(&err);
        CHECK_EQ_INT(lks_delta_dv_parse(f.ptr, f.len, &rs, &err), LKS_ECORRUPT);
        CHECK(HAS(err.msg, "containers"));
    }
    lks_buf_reset(&f);
    if (read_file("fuzz/crashes_delta/dv-bitset-card-mismatch.bin", &f) == 0) {
        lks_err_clear(&err);
        CHECK_EQ_INT(lks_delta_dv_parse(f.ptr, f.len, &rs, &err), LKS_ECORRUPT);
        CHECK(HAS(err.msg, "header says"));
    }
    lks_buf_free(&f);
}

/* ---- 2. hostile logs ------------------------------------------------------------------ */

#define T_CP "dat-with_checkpoint"
#define C3 "_delta_log/00000000000000000003.json"

static void t_baseline(void) {
    fx f;
    OPEN_OR_SKIP(f, T_CP);
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->version, 3);
        CHECK_EQ_INT(s->checkpoint_version, 2);
        CHECK_EQ_INT(s->nfiles, 1);
        int rc;
        CHECK_EQ_INT(scan_rows(&f, s, &rc, &err), 5);
        CHECK_EQ_INT(rc, 0);
    }
    lks_delta_snapshot_free(s);
    fx_close(&f);
}

static void t_truncated_commit(void) {
    fx f;
    OPEN_OR_SKIP(f, T_CP);
    lks_buf b;
    lks_buf_init(&b, 0);
    REQUIRE(read_file(fx_path(&f, C3), &b) == 0);
    /* cut the last line in the middle (drop the final newline and half of the line) */
    size_t end = b.len;
    while (end > 0 && b.ptr[end - 1] == '\n') end--;
    size_t start = end;
    while (start > 0 && b.ptr[start - 1] != '\n') start--;
    size_t nlines = 0;
    for (size_t i = 0; i < start; i++) nlines += b.ptr[i] == '\n';
    REQUIRE(write_file(fx_path(&f, C3), b.ptr, start + (end - start) / 2) == 0);
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    int rc = lks_delta_snapshot_latest(f.t, &s, &err);
    CHECK_EQ_INT(rc, LKS_ECORRUPT);
    CHECK(s == NULL);
    char want[64];
    snprintf(want, sizeof want, "00000000000000000003.json line %zu", nlines + 1);
    if (!HAS(err.msg, want)) FAILF("message does not name \"%s\": %s", want, err.msg);
    /* earlier versions still read */
    lks_err_clear(&err);
    CHECK_OK(lks_delta_snapshot_at_version(f.t, 2, &s, &err), &err);
    lks_delta_snapshot_free(s);
    /* a line cut right after its opening brace, in the middle of the file */
    REQUIRE(write_file(fx_path(&f, C3), "{\"add\":{\"path\":\"x\n{\"commitInfo\":{}}\n", 36) == 0);
    lks_err_clear(&err);
    s = NULL;
    CHECK_EQ_INT(lks_delta_snapshot_latest(f.t, &s, &err), LKS_ECORRUPT);
    CHECK(HAS(err.msg, "00000000000000000003.json line 1"));
    lks_buf_free(&b);
    fx_close(&f);
}

static void t_unknown_actions_and_fields(void) {
    fx f;
    OPEN_OR_SKIP(f, T_CP);
    /* commit 4: an unknown action, unknown fields everywhere, and a remove +
     * re-add of the live file with an extra field (dataChange false) */
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    REQUIRE(s && s->nfiles == 1);
    char line[4096];
    snprintf(line, sizeof line,
             "{\"commitInfo\":{\"timestamp\":1700000000000,\"operation\":\"FUTURE OP\",\"newThing\":[1,{\"a\":null}]}}\n"
             "{\"someFutureAction\":{\"path\":\"x.parquet\",\"size\":\"big\"}}\n"
             "{\"anotherOne\":42}\n"
             "{\"remove\":{\"path\":\"%s\",\"deletionTimestamp\":1700000000000,\"dataChange\":false,\"futureFlag\":true}}\n"
             "{\"add\":{\"path\":\"%s\",\"partitionValues\":{},\"size\":%lld,\"modificationTime\":1700000000000,"
             "\"dataChange\":false,\"stats\":null,\"futureField\":{\"nested\":[1,2,3]},\"zzz\":\"ignored\"}}\n"
             "{\"txn\":{\"appId\":\"app-1\",\"version\":7,\"unknown\":1}}\n",
             s->files[0].path, s->files[0].path, (long long)s->files[0].size);
    lks_delta_snapshot_free(s);
    s = NULL;
    REQUIRE(write_file(fx_path(&f, "_delta_log/00000000000000000004.json"), line, strlen(line)) == 0);
    lks_err_clear(&err);
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->version, 4);
        CHECK_EQ_INT(s->nfiles, 1);
        CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "app-1"), 7);
        int rc;
        CHECK_EQ_INT(scan_rows(&f, s, &rc, &err), 5);
        CHECK_EQ_INT(rc, 0);
    }
    lks_delta_snapshot_free(s);
    fx_close(&f);
}

static void t_mistyped_field(void) {
    fx f;
    OPEN_OR_SKIP(f, T_CP);
    const char *bad = "{\"commitInfo\":{\"timestamp\":1}}\n"
                      "{\"add\":{\"path\":\"a.parquet\",\"partitionValues\":{},\"size\":\"ten\","
                      "\"modificationTime\":1,\"dataChange\":true}}\n";
    REQUIRE(write_file(fx_path(&f, "_delta_log/00000000000000000004.json"), bad, strlen(bad)) == 0);
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    CHECK_EQ_INT(lks_delta_snapshot_latest(f.t, &s, &err), LKS_ECORRUPT);
    if (!HAS(err.msg, "00000000000000000004.json line 2") || !HAS(err.msg, "add.size"))
        FAILF("message: %s", err.msg);
    /* an action that is not an object */
    REQUIRE(write_file(fx_path(&f, "_delta_log/00000000000000000004.json"), "[1,2]\n", 6) == 0);
    lks_err_clear(&err);
    CHECK_EQ_INT(lks_delta_snapshot_latest(f.t, &s, &err), LKS_ECORRUPT);
    CHECK(HAS(err.msg, "00000000000000000004.json line 1"));
    fx_close(&f);
}

static void t_missing_data_file(void) {
    fx f;
    OPEN_OR_SKIP(f, T_CP);
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    REQUIRE(s && s->nfiles == 1);
    REQUIRE(unlink(fx_path(&f, s->files[0].path)) == 0);
    int rc;
    (void)scan_rows(&f, s, &rc, &err);
    CHECK(rc < 0 || rc == LKS_ENOTFOUND);
    CHECK_EQ_INT(err.code, LKS_ENOTFOUND);
    if (!HAS(err.msg, s->files[0].path)) FAILF("message does not name the data file: %s", err.msg);
    lks_delta_snapshot_free(s);
    fx_close(&f);
}

#define CP2 "_delta_log/00000000000000000002.checkpoint.parquet"

static void check_fallback(fx *f, const char *what) {
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    int rc = lks_delta_snapshot_latest(f->t, &s, &err);
    if (rc != LKS_OK) {
        FAILF("%s: %d %s", what, rc, err.msg);
        return;
    }
    CHECK_EQ_INT(s->version, 3);
    CHECK_EQ_INT(s->checkpoint_version, -1); /* replayed from the commits */
    CHECK_EQ_INT(s->nfiles, 1);
    CHECK_EQ_INT(scan_rows(f, s, &rc, &err), 5);
    lks_delta_snapshot_free(s);
    /* and at the checkpoint's own version */
    lks_err_clear(&err);
    rc = lks_delta_snapshot_at_version(f->t, 2, &s, &err);
    if (rc != LKS_OK) FAILF("%s at version 2: %d %s", what, rc, err.msg);
    lks_delta_snapshot_free(s);
}

static void t_corrupt_checkpoint(void) {
    fx f;
    OPEN_OR_SKIP(f, T_CP);
    lks_buf b;
    lks_buf_init(&b, 0);
    REQUIRE(read_file(fx_path(&f, CP2), &b) == 0);
    /* truncated */
    REQUIRE(write_file(fx_path(&f, CP2), b.ptr, b.len / 2) == 0);
    check_fallback(&f, "truncated checkpoint");
    /* garbage of the same size */
    uint8_t *g = malloc(b.len);
    for (size_t i = 0; i < b.len; i++) g[i] = (uint8_t)(i * 131 + 7);
    REQUIRE(write_file(fx_path(&f, CP2), g, b.len) == 0);
    check_fallback(&f, "garbage checkpoint");
    /* a valid Parquet footer around a corrupted body */
    memcpy(g, b.ptr, b.len);
    for (size_t i = 4; i < b.len / 2; i += 7) g[i] ^= 0x5A;
    REQUIRE(write_file(fx_path(&f, CP2), g, b.len) == 0);
    check_fallback(&f, "checkpoint with a corrupted body");
    /* empty */
    REQUIRE(write_file(fx_path(&f, CP2), "", 0) == 0);
    check_fallback(&f, "empty checkpoint");
    /* without the commits it summarises: a clear error, no crash */
    REQUIRE(unlink(fx_path(&f, "_delta_log/00000000000000000000.json")) == 0);
    REQUIRE(unlink(fx_path(&f, "_delta_log/00000000000000000001.json")) == 0);
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    int rc = lks_delta_snapshot_latest(f.t, &s, &err);
    CHECK(rc != LKS_OK && s == NULL);
    CHECK(rc == LKS_ECORRUPT || rc == LKS_ENOTFOUND);
    if (!HAS(err.msg, "00000000000000000002.checkpoint.parquet") || !HAS(err.msg, "unreadable"))
        FAILF("message does not say why the checkpoint was left out: %s", err.msg);
    /* with the checkpoint intact again, the table reads */
    REQUIRE(write_file(fx_path(&f, CP2), b.ptr, b.len) == 0);
    lks_err_clear(&err);
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) CHECK_EQ_INT(s->checkpoint_version, 2);
    lks_delta_snapshot_free(s);
    free(g);
    lks_buf_free(&b);
    fx_close(&f);
}

static void t_corrupt_last_checkpoint(void) {
    fx f;
    OPEN_OR_SKIP(f, T_CP);
    static const char *const bad[] = {
        "",                                 /* empty */
        "{\"version\":2,\"size\":",          /* truncated JSON */
        "\x01\x02garbage\xff",               /* not JSON */
        "[2]",                              /* not an object */
        "{\"version\":\"two\",\"size\":4}",  /* mistyped */
        "{\"version\":99,\"size\":4}",       /* beyond the log */
        "{\"version\":1,\"size\":4}",        /* names a checkpoint that does not exist */
        "{\"version\":-5,\"size\":4}",       /* negative */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        REQUIRE(write_file(fx_path(&f, "_delta_log/_last_checkpoint"), bad[i], strlen(bad[i])) == 0);
        lks_delta_snapshot *s = NULL;
        lks_err err = {0};
        int rc = lks_delta_snapshot_latest(f.t, &s, &err);
        if (rc != LKS_OK) {
            FAILF("_last_checkpoint \"%s\": %d %s", bad[i], rc, err.msg);
            continue;
        }
        CHECK_EQ_INT(s->version, 3);
        CHECK_EQ_INT(s->nfiles, 1);
        lks_delta_snapshot_free(s);
    }
    /* no _last_checkpoint at all */
    REQUIRE(unlink(fx_path(&f, "_delta_log/_last_checkpoint")) == 0);
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) CHECK_EQ_INT(s->checkpoint_version, 2);
    lks_delta_snapshot_free(s);
    fx_close(&f);
}

static void t_two_metadata(void) {
    fx f;
    OPEN_OR_SKIP(f, T_CP);
    lks_buf b;
    lks_buf_init(&b, 0);
    REQUIRE(read_file(fx_path(&f, "_delta_log/00000000000000000000.json"), &b) == 0);
    /* the metaData line of commit 0, twice, as commit 4 */
    const char *p = strstr((const char *)b.ptr, "{\"metaData\"");
    REQUIRE(p);
    const char *nl = strchr(p, '\n');
    REQUIRE(nl);
    lks_buf c;
    lks_buf_init(&c, 0);
    lks_buf_append(&c, p, (size_t)(nl - p + 1));
    lks_buf_append(&c, p, (size_t)(nl - p + 1));
    REQUIRE(write_file(fx_path(&f, "_delta_log/00000000000000000004.json"), c.ptr, c.len) == 0);
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    CHECK_EQ_INT(lks_delta_snapshot_latest(f.t, &s, &err), LKS_ECORRUPT);
    if (!HAS(err.msg, "00000000000000000004.json") || !HAS(err.msg, "metaData")) FAILF("message: %s", err.msg);
    /* version 3 is still readable */
    lks_err_clear(&err);
    CHECK_OK(lks_delta_snapshot_at_version(f.t, 3, &s, &err), &err);
    lks_delta_snapshot_free(s);
    s = NULL;
    /* two protocol actions */
    const char *two = "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
                      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":3}}\n";
    REQUIRE(write_file(fx_path(&f, "_delta_log/00000000000000000004.json"), two, strlen(two)) == 0);
    lks_err_clear(&err);
    CHECK_EQ_INT(lks_delta_snapshot_latest(f.t, &s, &err), LKS_ECORRUPT);
    CHECK(HAS(err.msg, "protocol"));
    /* one of each is fine */
    lks_buf_reset(&c);
    lks_buf_append(&c, two, strchr(two, '\n') - two + 1);
    lks_buf_append(&c, p, (size_t)(nl - p + 1));
    REQUIRE(write_file(fx_path(&f, "_delta_log/00000000000000000004.json"), c.ptr, c.len) == 0);
    lks_err_clear(&err);
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    lks_delta_snapshot_free(s);
    lks_buf_free(&b);
    lks_buf_free(&c);
    fx_close(&f);
}

static void t_commit_gap(void) {
    fx f;
    OPEN_OR_SKIP(f, T_CP);
    /* commit 5 without commit 4: the latest readable version is refused or 3, never a silent 5 */
    const char *c5 = "{\"commitInfo\":{\"timestamp\":1}}\n";
    REQUIRE(write_file(fx_path(&f, "_delta_log/00000000000000000005.json"), c5, strlen(c5)) == 0);
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    int rc = lks_delta_snapshot_latest(f.t, &s, &err);
    CHECK(rc != LKS_OK);
    if (rc != LKS_OK && !HAS(err.msg, "4")) FAILF("message does not name the missing version: %s", err.msg);
    lks_delta_snapshot_free(s);
    fx_close(&f);
}

/* ---- deletion vector files ------------------------------------------------------------- */

#define T_DV "deltars-table-with-dv-small"
#define DVF "deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin"

/* Loads the table's one DV and scans it; returns the load status. */
static int dv_try(fx *f, lks_err *err, int *scan_rc) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(f->t, &s, err);
    if (rc) return -1000 + rc;
    if (s->nfiles != 1 || !s->files[0].has_dv) {
        lks_delta_snapshot_free(s);
        return -2000;
    }
    lks_delta_rowset *rs = NULL;
    rc = lks_delta_dv_load(f->t, &s->files[0].dv, &rs, err);
    if (rc == LKS_OK) {
        if (lks_delta_rowset_cardinality(rs) != 2 || !lks_delta_rowset_contains(rs, 0) ||
            !lks_delta_rowset_contains(rs, 9))
            rc = -3000;
    }
    lks_delta_rowset_free(rs);
    lks_err e2 = {0};
    long n = scan_rows(f, s, scan_rc, &e2);
    if (*scan_rc == 0 && n != 8) *scan_rc = -4000;
    if (*scan_rc != 0 && !HAS(e2.msg, DVF)) *scan_rc = -5000;
    lks_delta_snapshot_free(s);
    return rc;
}

static void t_corrupt_dv(void) {
    fx f;
    OPEN_OR_SKIP(f, T_DV);
    lks_buf b;
    lks_buf_init(&b, 0);
    REQUIRE(read_file(fx_path(&f, DVF), &b) == 0);
    REQUIRE(b.len == 45);
    lks_err err = {0};
    int src;
    CHECK_EQ_INT(dv_try(&f, &err, &src), LKS_OK);
    CHECK_EQ_INT(src, 0);
    uint8_t *m = malloc(b.len);
    /* a flipped bit in the bitmap: CRC mismatch */
    memcpy(m, b.ptr, b.len);
    m[20] ^= 0x10;
    REQUIRE(write_file(fx_path(&f, DVF), m, b.len) == 0);
    lks_err_clear(&err);
    CHECK_EQ_INT(dv_try(&f, &err, &src), LKS_ECHECKSUM);
    CHECK(HAS(err.msg, DVF) && HAS(err.msg, "CRC"));
    CHECK(src < 0 && src != -5000);
    /* a bad magic with a CRC that matches it: the bitmap is refused */
    memcpy(m, b.ptr, b.len);
    m[5] ^= 0xFF;
    uint32_t crc = lks_crc32(0, m + 5, 36);
    m[41] = (uint8_t)(crc >> 24), m[42] = (uint8_t)(crc >> 16), m[43] = (uint8_t)(crc >> 8), m[44] = (uint8_t)crc;
    REQUIRE(write_file(fx_path(&f, DVF), m, b.len) == 0);
    lks_err_clear(&err);
    CHECK_EQ_INT(dv_try(&f, &err, &src), LKS_ECORRUPT);
    CHECK(HAS(err.msg, DVF) && HAS(err.msg, "magic"));
    CHECK(src < 0 && src != -5000);
    /* a bad version byte */
    memcpy(m, b.ptr, b.len);
    m[0] = 7;
    REQUIRE(write_file(fx_path(&f, DVF), m, b.len) == 0);
    lks_err_clear(&err);
    int rc = dv_try(&f, &err, &src);
    CHECK(rc == LKS_EUNSUPPORTED || rc == LKS_ECORRUPT);
    CHECK(HAS(err.msg, DVF) && HAS(err.msg, "version"));
    /* a size field that disagrees with sizeInBytes */
    memcpy(m, b.ptr, b.len);
    m[4] ^= 1;
    REQUIRE(write_file(fx_path(&f, DVF), m, b.len) == 0);
    lks_err_clear(&err);
    CHECK_EQ_INT(dv_try(&f, &err, &src), LKS_ECORRUPT);
    CHECK(HAS(err.msg, DVF));
    /* truncated */
    REQUIRE(write_file(fx_path(&f, DVF), b.ptr, 30) == 0);
    lks_err_clear(&err);
    CHECK_EQ_INT(dv_try(&f, &err, &src), LKS_ECORRUPT);
    CHECK(HAS(err.msg, DVF));
    /* missing */
    REQUIRE(unlink(fx_path(&f, DVF)) == 0);
    lks_err_clear(&err);
    CHECK_EQ_INT(dv_try(&f, &err, &src), LKS_ENOTFOUND);
    CHECK(HAS(err.msg, DVF));
    free(m);
    lks_buf_free(&b);
    fx_close(&f);
}

/* A log cardinality that disagrees with the DV. */
static void t_dv_cardinality(void) {
    fx f;
    OPEN_OR_SKIP(f, T_DV);
    const char *c1 = fx_path(&f, "_delta_log/00000000000000000001.json");
    lks_buf b;
    lks_buf_init(&b, 0);
    REQUIRE(read_file(c1, &b) == 0);
    lks_buf_cstr(&b);
    char *at = strstr((char *)b.ptr, "\"cardinality\":2");
    REQUIRE(at);
    at[14] = '3';
    REQUIRE(write_file(c1, b.ptr, b.len) == 0);
    lks_err err = {0};
    int src;
    CHECK_EQ_INT(dv_try(&f, &err, &src), LKS_ECORRUPT);
    CHECK(HAS(err.msg, DVF) && HAS(err.msg, "the log says 3"));
    lks_buf_free(&b);
    fx_close(&f);
}

/* ---- appended garbage ------------------------------------------------------------------- */

static void t_garbage_commits(void) {
    fx f;
    OPEN_OR_SKIP(f, T_CP);
    /* binary garbage, a NUL inside JSON, deep nesting, a huge number */
    static const char *const bad[] = {
        "\xff\xfe\x00\x01garbage\n",
        "{\"add\":{\"path\":\"a\\u0000b\",\"size\":1,\"modificationTime\":1}}\n",
        "{\"txn\":{\"appId\":\"a\",\"version\":1e400}}\n",
        "{\"protocol\":{\"minReaderVersion\":99999999999999999999,\"minWriterVersion\":2}}\n",
        "{\"add\":{\"path\":\"p\",\"size\":1,\"modificationTime\":1,\"deletionVector\":{\"storageType\":\"q\","
        "\"pathOrInlineDv\":\"x\",\"sizeInBytes\":1,\"cardinality\":1}}}\n",
        "{\"metaData\":{\"id\":\"x\",\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":1}]}\"}}\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        REQUIRE(write_file(fx_path(&f, "_delta_log/00000000000000000004.json"), bad[i], strlen(bad[i]) + (i == 0 ? 3 : 0)) ==
                0);
        lks_delta_snapshot *s = NULL;
        lks_err err = {0};
        int rc = lks_delta_snapshot_latest(f.t, &s, &err);
        if (rc != LKS_ECORRUPT || !HAS(err.msg, "00000000000000000004.json"))
            FAILF("input %zu: status %d: %s", i, rc, err.msg);
        lks_delta_snapshot_free(s);
    }
    /* deep nesting in a field nobody reads: ignored or refused, no crash */
    lks_buf deep;
    lks_buf_init(&deep, 0);
    lks_buf_printf(&deep, "{\"commitInfo\":{\"timestamp\":1,\"x\":");
    for (int i = 0; i < 100000; i++) lks_buf_append_byte(&deep, '[');
    for (int i = 0; i < 100000; i++) lks_buf_append_byte(&deep, ']');
    lks_buf_printf(&deep, "}}\n");
    REQUIRE(write_file(fx_path(&f, "_delta_log/00000000000000000004.json"), deep.ptr, deep.len) == 0);
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    int rc = lks_delta_snapshot_latest(f.t, &s, &err);
    CHECK(rc == LKS_OK || (rc == LKS_ECORRUPT && HAS(err.msg, "00000000000000000004.json")));
    lks_delta_snapshot_free(s);
    lks_buf_free(&deep);
    fx_close(&f);
}

int main(void) {
    RUN(t_fuzz_seeds);
    RUN(t_fuzz_crashes);
    RUN(t_dv_known);
    RUN(t_baseline);
    RUN(t_truncated_commit);
    RUN(t_unknown_actions_and_fields);
    RUN(t_mistyped_field);
    RUN(t_missing_data_file);
    RUN(t_corrupt_checkpoint);
    RUN(t_corrupt_last_checkpoint);
    RUN(t_two_metadata);
    RUN(t_commit_gap);
    RUN(t_corrupt_dv);
    RUN(t_dv_cardinality);
    RUN(t_garbage_commits);
    return lks_test_done();
}
