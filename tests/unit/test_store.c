/* test_store.c — the local store: URIs, key validation, and the store
 * conformance checks (store_conformance.h, which the S3 backend passes too):
 * round trips, ranged reads, listing order and prefixes, put_if_absent races
 * between processes, atomic replacement, no temporary files left behind. */
#include "harness.h"
#include "store/store.h"
#include "store_conformance.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[256];

/* A fresh temporary directory per test. */
static int fresh_root(void) {
    snprintf(root, sizeof root, "/tmp/lks_test_store_XXXXXX");
    return mkdtemp(root) != NULL;
}

static void rm_rf(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            rm_rf(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Counts files anywhere under path whose name contains ".tmp.". */
static int count_temp(const char *path) {
    int n = 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        struct stat sb;
        if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
            n += count_temp(sub);
        else if (strstr(de->d_name, ".tmp."))
            n++;
    }
    closedir(d);
    return n;
}

static lks_store *open_root(void) {
    lks_store *st = NULL;
    lks_err err;
    if (lks_store_open(root, &st, &err) != LKS_OK) {
        printf("# open %s: %s\n", root, err.msg);
        return NULL;
    }
    return st;
}

static void t_open_uris(void) {
    REQUIRE(fresh_root());
    lks_store *st;
    lks_err err;
    char uri[512], sub[512];
    /* a plain path that does not exist yet is created */
    snprintf(sub, sizeof sub, "%s/a b/wh", root);
    CHECK_OK(lks_store_open(sub, &st, &err), &err);
    REQUIRE(st);
    snprintf(uri, sizeof uri, "file://%s/a%%20b/wh", root);
    CHECK_EQ_STR(st->uri, uri);
    CHECK_EQ_STR(st->ops->scheme, "file");
    CHECK_OK(lks_store_put(st, "k", "v", 1, &err), &err);
    lks_store_close(st);
    /* the normalised URI opens the same place */
    CHECK_OK(lks_store_open(uri, &st, &err), &err);
    REQUIRE(st);
    char v[8];
    CHECK_OK(conf_get_str(st, "k", v, sizeof v), (lks_err *)NULL);
    CHECK_EQ_STR(v, "v");
    lks_store_close(st);
    snprintf(uri, sizeof uri, "file://localhost%s/a%%20b/wh", root);
    CHECK_OK(lks_store_open(uri, &st, &err), &err);
    lks_store_close(st);

    /* s3:// goes to the S3 backend (opening does no network traffic) */
    CHECK_OK(lks_store_open("s3://bucket/prefix/", &st, &err), &err);
    REQUIRE(st);
    CHECK_EQ_STR(st->ops->scheme, "s3");
    CHECK_EQ_STR(st->uri, "s3://bucket/prefix");
    lks_store_close(st);
    CHECK_EQ_INT(lks_store_open("s3://", &st, &err), LKS_EINVAL);
    CHECK(st == NULL);
    CHECK_EQ_INT(lks_store_open("gs://bucket/x", &st, &err), LKS_EUNSUPPORTED);
    CHECK_EQ_INT(lks_store_open("file://host/x", &st, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_store_open("file:relative", &st, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_store_open("file:///tmp/%zz", &st, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_store_open("", &st, &err), LKS_EINVAL);
    /* a path through a regular file cannot be a store */
    snprintf(sub, sizeof sub, "%s/a b/wh/k/sub", root);
    CHECK_EQ_INT(lks_store_open(sub, &st, &err), LKS_EIO);
    CHECK(strstr(err.msg, sub) != NULL);
    rm_rf(root);
}

static void t_key_validation(void) {
    static const struct {
        const char *key;
        int ok;
    } cases[] = {
        {"a", 1},
        {"a/b/c.parquet", 1},
        {"_delta_log/00000000000000000000.json", 1},
        {".hidden", 1},
        {"..dots", 1},
        {"a/...", 1},
        {"part-0000-x.snappy.parquet", 1},
        {"d=2024-01-01/x", 1},
        {"caf\xc3\xa9", 1},
        {"", 0},
        {"/abs", 0},
        {"a/", 0},
        {"a//b", 0},
        {".", 0},
        {"..", 0},
        {"a/./b", 0},
        {"a/../b", 0},
        {"../x", 0},
        {"a/..", 0},
        {"a\\b", 0},
        {"a\nb", 0},
        {"tab\there", 0},
        {"del\x7f", 0},
        {"x/.obj.tmp.123.0123456789abcdef", 0}, /* our temporary-file form */
        {".obj.tmp.1.0123456789abcde", 1},      /* 15 hex digits: not a temp name */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_err err;
        lks_err_clear(&err);
        int rc = lks_store_check_key(cases[i].key, &err);
        if ((rc == LKS_OK) != cases[i].ok)
            FAILF("key '%s': rc %d (%s)", cases[i].key, rc, err.msg);
        if (rc != LKS_OK)
            CHECK_EQ_INT(rc, LKS_EINVAL);
    }
    char longseg[300];
    memset(longseg, 'x', 256);
    longseg[256] = 0;
    CHECK_EQ_INT(lks_store_check_key(longseg, NULL), LKS_EINVAL);
    longseg[255] = 0;
    CHECK_EQ_INT(lks_store_check_key(longseg, NULL), LKS_OK);
    CHECK_EQ_INT(lks_store_check_key(NULL, NULL), LKS_EINVAL);

    /* a rejected key never reaches the disk */
    REQUIRE(fresh_root());
    lks_store *st = open_root();
    REQUIRE(st);
    lks_err err;
    CHECK_EQ_INT(lks_store_put(st, "../escape", "x", 1, &err), LKS_EINVAL);
    char parent[300];
    snprintf(parent, sizeof parent, "%s/../escape", root);
    CHECK(access(parent, F_OK) != 0);
    lks_store_close(st);
    rm_rf(root);
}

/* ---- the conformance checks on the local backend ---------------------------- */

static lks_store *local_fresh(void) { return fresh_root() ? open_root() : NULL; }

static const char *local_where(lks_store *st) {
    (void)st;
    return root;
}

/* A crashed writer's temporary file and an empty folder. */
static int local_plant_junk(lks_store *st) {
    (void)st;
    char path[512];
    snprintf(path, sizeof path, "%s/a/.b.tmp.4242.00112233aabbccdd", root);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    snprintf(path, sizeof path, "%s/emptydir", root);
    return mkdir(path, 0755) == 0 ? 0 : -1;
}

static int local_leftovers(lks_store *st) {
    (void)st;
    return count_temp(root);
}

static void local_finish(lks_store *st) {
    lks_store_close(st);
    rm_rf(root);
}

static const conf_backend local_be = {local_fresh, local_where, local_plant_junk, local_leftovers, local_finish, 1};

static void t_bad_keys(void) { conf_bad_keys(&local_be); }
static void t_roundtrip(void) { conf_roundtrip(&local_be); }
static void t_ranged(void) { conf_ranged(&local_be); }
static void t_list(void) { conf_list(&local_be); }
static void t_delete_many(void) { conf_delete_many(&local_be); }
static void t_put_if_absent_race(void) { conf_put_if_absent(&local_be, 12); }
static void t_put_is_atomic(void) { conf_put_is_atomic(&local_be, 40); }
static void t_writer(void) { conf_writer(&local_be); }

int main(void) {
    RUN(t_open_uris);
    RUN(t_key_validation);
    RUN(t_bad_keys);
    RUN(t_roundtrip);
    RUN(t_ranged);
    RUN(t_list);
    RUN(t_delete_many);
    RUN(t_put_if_absent_race);
    RUN(t_put_is_atomic);
    RUN(t_writer);
    return lks_test_done();
}
