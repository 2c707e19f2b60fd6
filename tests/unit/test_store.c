/* test_store.c — the local store: URIs, round trips, ranged reads, listing
 * order and prefixes, key validation, put_if_absent races between
 * processes, atomic replacement, no temporary files left behind. */
#include "harness.h"
#include "store/store.h"

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

static int get_str(lks_store *st, const char *key, char *out, size_t cap) {
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_err err;
    int rc = lks_store_get(st, key, &b, &err);
    if (rc == LKS_OK) {
        size_t n = b.len < cap - 1 ? b.len : cap - 1;
        memcpy(out, b.ptr, n);
        out[n] = 0;
    }
    lks_buf_free(&b);
    return rc;
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
    CHECK_OK(get_str(st, "k", v, sizeof v), (lks_err *)NULL);
    CHECK_EQ_STR(v, "v");
    lks_store_close(st);
    snprintf(uri, sizeof uri, "file://localhost%s/a%%20b/wh", root);
    CHECK_OK(lks_store_open(uri, &st, &err), &err);
    lks_store_close(st);

    CHECK_EQ_INT(lks_store_open("s3://bucket/prefix", &st, &err), LKS_EUNSUPPORTED);
    CHECK(strstr(err.msg, "not supported yet") != NULL);
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

    /* every entry point refuses bad keys before touching the disk */
    REQUIRE(fresh_root());
    lks_store *st = open_root();
    REQUIRE(st);
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_store_entry ent;
    lks_err err;
    CHECK_EQ_INT(lks_store_put(st, "../escape", "x", 1, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_store_put_if_absent(st, "a/../../escape", "x", 1, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_store_get(st, "/etc/passwd", &b, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_store_get_range(st, "a//b", 0, 1, &b, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_store_head(st, "..", &ent, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_store_delete(st, "./x", &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_store_list(st, "../", NULL, NULL, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_store_list(st, "/", NULL, NULL, &err), LKS_EINVAL);
    char parent[300];
    snprintf(parent, sizeof parent, "%s/../escape", root);
    CHECK(access(parent, F_OK) != 0);
    lks_buf_free(&b);
    lks_store_close(st);
    rm_rf(root);
}

static void t_roundtrip(void) {
    REQUIRE(fresh_root());
    lks_store *st = open_root();
    REQUIRE(st);
    lks_err err;
    CHECK_OK(lks_store_put(st, "db/table/_delta_log/00000000000000000000.json", "{\"a\":1}\n", 8, &err), &err);
    char v[64];
    CHECK_OK(get_str(st, "db/table/_delta_log/00000000000000000000.json", v, sizeof v), (lks_err *)NULL);
    CHECK_EQ_STR(v, "{\"a\":1}\n");
    /* overwrite */
    CHECK_OK(lks_store_put(st, "db/table/_delta_log/00000000000000000000.json", "short", 5, &err), &err);
    CHECK_OK(get_str(st, "db/table/_delta_log/00000000000000000000.json", v, sizeof v), (lks_err *)NULL);
    CHECK_EQ_STR(v, "short");
    /* empty object */
    CHECK_OK(lks_store_put(st, "empty", "", 0, &err), &err);
    lks_store_entry ent = {"junk", 99, 99};
    CHECK_OK(lks_store_head(st, "empty", &ent, &err), &err);
    CHECK(ent.key == NULL);
    CHECK_EQ_INT(ent.size, 0);
    CHECK(ent.mtime_us > INT64_C(1600000000000000));
    /* a larger object with every byte value; get appends to the buffer */
    size_t n = (1 << 20) + 7;
    uint8_t *big = malloc(n);
    REQUIRE(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (uint8_t)(i * 131 + (i >> 8));
    CHECK_OK(lks_store_put(st, "big.bin", big, n, &err), &err);
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_buf_append(&b, "pre", 3);
    CHECK_OK(lks_store_get(st, "big.bin", &b, &err), &err);
    CHECK(b.len == n + 3 && memcmp(b.ptr, "pre", 3) == 0 && memcmp(b.ptr + 3, big, n) == 0);
    CHECK_OK(lks_store_head(st, "big.bin", &ent, &err), &err);
    CHECK_EQ_INT(ent.size, n);
    /* a buffer cap smaller than the object fails cleanly */
    lks_buf small;
    lks_buf_init(&small, 1000);
    CHECK_EQ_INT(lks_store_get(st, "big.bin", &small, &err), LKS_ELIMIT);
    CHECK(strstr(err.msg, "big.bin") != NULL);
    lks_buf_free(&small);
    /* absent objects */
    lks_buf_reset(&b);
    CHECK_EQ_INT(lks_store_get(st, "nope", &b, &err), LKS_ENOTFOUND);
    CHECK(strstr(err.msg, root) != NULL && strstr(err.msg, "nope") != NULL);
    CHECK_EQ_INT(lks_store_get(st, "empty/below", &b, &err), LKS_ENOTFOUND); /* parent is a file */
    CHECK_EQ_INT(lks_store_head(st, "nope", &ent, &err), LKS_ENOTFOUND);
    CHECK_EQ_INT(lks_store_get(st, "db", &b, &err), LKS_ENOTFOUND); /* a folder is not an object */
    CHECK_EQ_INT(lks_store_head(st, "db/table", &ent, &err), LKS_ENOTFOUND);
    /* a key below an object cannot be written; a folder cannot be overwritten */
    CHECK_EQ_INT(lks_store_put(st, "empty/below", "x", 1, &err), LKS_EIO);
    CHECK(strstr(err.msg, "empty") != NULL);
    CHECK_EQ_INT(lks_store_put(st, "db/table", "x", 1, &err), LKS_EIO);
    /* delete: present, then absent, both OK */
    CHECK_OK(lks_store_delete(st, "big.bin", &err), &err);
    CHECK_EQ_INT(lks_store_head(st, "big.bin", &ent, &err), LKS_ENOTFOUND);
    CHECK_OK(lks_store_delete(st, "big.bin", &err), &err);
    CHECK_OK(lks_store_delete(st, "no/such/dir/x", &err), &err);
    CHECK_EQ_INT(count_temp(root), 0);
    free(big);
    lks_buf_free(&b);
    lks_store_close(st);
    rm_rf(root);
}

static void t_ranged(void) {
    REQUIRE(fresh_root());
    lks_store *st = open_root();
    REQUIRE(st);
    lks_err err;
    const char *data = "0123456789abcdef";
    CHECK_OK(lks_store_put(st, "r", data, 16, &err), &err);
    static const struct {
        uint64_t off, len;
        int rc;
    } cases[] = {
        {0, 16, LKS_OK},
        {0, 0, LKS_OK},
        {16, 0, LKS_OK},
        {4, 4, LKS_OK},
        {15, 1, LKS_OK},
        {15, 2, LKS_ECORRUPT},
        {17, 0, LKS_ECORRUPT},
        {0, 17, LKS_ECORRUPT},
        {UINT64_MAX, 2, LKS_ECORRUPT},
        {8, UINT64_MAX, LKS_ECORRUPT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_buf b;
        lks_buf_init(&b, 0);
        int rc = lks_store_get_range(st, "r", cases[i].off, cases[i].len, &b, &err);
        if (rc != cases[i].rc)
            FAILF("range %llu+%llu: rc %d, want %d", (unsigned long long)cases[i].off, (unsigned long long)cases[i].len,
                  rc, cases[i].rc);
        else if (rc == LKS_OK && (b.len != cases[i].len || (b.len && memcmp(b.ptr, data + cases[i].off, b.len))))
            FAILF("range %llu+%llu: wrong bytes", (unsigned long long)cases[i].off, (unsigned long long)cases[i].len);
        lks_buf_free(&b);
    }
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_EQ_INT(lks_store_get_range(st, "missing", 0, 1, &b, &err), LKS_ENOTFOUND);
    lks_buf_free(&b);
    lks_store_close(st);
    rm_rf(root);
}

typedef struct collected {
    char keys[64][128];
    uint64_t sizes[64];
    int n, stop_after;
} collected;

static int collect(void *ud, const lks_store_entry *ent) {
    collected *c = ud;
    if (c->n < 64) {
        snprintf(c->keys[c->n], sizeof c->keys[0], "%s", ent->key);
        c->sizes[c->n] = ent->size;
    }
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static void t_list(void) {
    REQUIRE(fresh_root());
    lks_store *st = open_root();
    REQUIRE(st);
    lks_err err;
    /* in byte order: "a-x" < "a.txt" < "a/b" < "a/c/d" < "a0" < "ab" < "b/x" ... */
    static const char *keys[] = {"b/x",
                                 "a/c/d",
                                 "ab",
                                 "a-x",
                                 "a0",
                                 "a.txt",
                                 "a/b",
                                 "z/y/x/w",
                                 "B",
                                 "_delta_log/1.json",
                                 "_delta_log/0.json",
                                 "_delta_log/.0.json.crc"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK_OK(lks_store_put(st, keys[i], keys[i], strlen(keys[i]), &err), &err);
    /* a stray temporary file (a crashed writer) and an empty folder */
    char path[512];
    snprintf(path, sizeof path, "%s/a/.b.tmp.4242.00112233aabbccdd", root);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    close(fd);
    snprintf(path, sizeof path, "%s/emptydir", root);
    mkdir(path, 0755);

    static const struct {
        const char *prefix;
        const char *want; /* space-separated */
    } cases[] = {
        {"", "B _delta_log/.0.json.crc _delta_log/0.json _delta_log/1.json a-x a.txt a/b a/c/d a0 ab b/x z/y/x/w"},
        {"a", "a-x a.txt a/b a/c/d a0 ab"},
        {"a-", "a-x"},
        {"a.", "a.txt"},
        {"a/", "a/b a/c/d"},
        {"a/c", "a/c/d"},
        {"a/c/", "a/c/d"},
        {"a/c/d", "a/c/d"},
        {"a/c/dd", ""},
        {"_delta_log/", "_delta_log/.0.json.crc _delta_log/0.json _delta_log/1.json"},
        {"_delta_log/0", "_delta_log/0.json"},
        {"z/", "z/y/x/w"},
        {"zz", ""},
        {"nodir/x", ""},
        {"emptydir/", ""},
        {"b", "b/x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        collected c;
        memset(&c, 0, sizeof c);
        CHECK_OK(lks_store_list(st, cases[i].prefix, collect, &c, &err), &err);
        char got[1024] = "";
        for (int k = 0; k < c.n && k < 64; k++) {
            if (k)
                strcat(got, " ");
            strcat(got, c.keys[k]);
            if (c.sizes[k] != strlen(c.keys[k]))
                FAILF("size of %s: %llu", c.keys[k], (unsigned long long)c.sizes[k]);
        }
        if (strcmp(got, cases[i].want) != 0)
            FAILF("prefix '%s': got [%s] want [%s]", cases[i].prefix, got, cases[i].want);
    }
    /* early stop */
    collected c;
    memset(&c, 0, sizeof c);
    c.stop_after = 3;
    CHECK_OK(lks_store_list(st, "", collect, &c, &err), &err);
    CHECK_EQ_INT(c.n, 3);
    CHECK_EQ_STR(c.keys[2], "_delta_log/0.json");
    lks_store_close(st);
    rm_rf(root);
}

/* Forks `nproc` writers racing put_if_absent on the same key, each with its
 * own byte pattern; they start together when the parent closes a pipe. */
static void race_round(const char *key, int nproc, size_t size, int *winners, int *bad) {
    int go[2];
    if (pipe(go) != 0) {
        *bad = 1;
        return;
    }
    pid_t pids[16];
    for (int i = 0; i < nproc; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            close(go[1]);
            char c;
            while (read(go[0], &c, 1) < 0 && errno == EINTR) {
            }
            lks_store *st = NULL;
            lks_err err;
            if (lks_store_open(root, &st, &err) != LKS_OK)
                _exit(10);
            uint8_t *data = malloc(size);
            if (!data)
                _exit(11);
            memset(data, 'A' + i, size);
            int rc = lks_store_put_if_absent(st, key, data, size, &err);
            free(data);
            lks_store_close(st);
            _exit(rc == LKS_OK ? 0 : rc == LKS_EEXIST ? 3 : 12);
        }
    }
    close(go[0]);
    close(go[1]);
    int winner = -1;
    *winners = 0;
    for (int i = 0; i < nproc; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 99;
        if (code == 0) {
            (*winners)++;
            winner = i;
        } else if (code != 3) {
            *bad = 1;
        }
    }
    if (winner < 0)
        return;
    /* the winner's bytes, whole */
    lks_store *st = open_root();
    if (!st) {
        *bad = 1;
        return;
    }
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_err err;
    if (lks_store_get(st, key, &b, &err) != LKS_OK || b.len != size)
        *bad = 1;
    for (size_t k = 0; k < b.len; k++)
        if (b.ptr[k] != (uint8_t)('A' + winner)) {
            *bad = 1;
            break;
        }
    lks_buf_free(&b);
    lks_store_close(st);
}

static void t_put_if_absent_race(void) {
    REQUIRE(fresh_root());
    lks_store *st = open_root();
    REQUIRE(st);
    lks_err err;
    CHECK_OK(lks_store_put_if_absent(st, "t/_delta_log/0.json", "first", 5, &err), &err);
    CHECK_EQ_INT(lks_store_put_if_absent(st, "t/_delta_log/0.json", "second", 6, &err), LKS_EEXIST);
    CHECK(strstr(err.msg, "0.json") != NULL);
    char v[16];
    CHECK_OK(get_str(st, "t/_delta_log/0.json", v, sizeof v), (lks_err *)NULL);
    CHECK_EQ_STR(v, "first");
    lks_store_close(st);
    for (int round = 0; round < 12; round++) {
        char key[64];
        snprintf(key, sizeof key, "t/_delta_log/%020d.json", round + 1);
        int winners = 0, bad = 0;
        race_round(key, 8, (size_t)(round % 3 == 0 ? 300000 : 100 + round), &winners, &bad);
        if (winners != 1 || bad) {
            FAILF("round %d: %d winners, bad=%d", round, winners, bad);
            break;
        }
    }
    CHECK_EQ_INT(count_temp(root), 0);
    rm_rf(root);
}

/* Writers replace one key over and over while the parent reads it: every
 * read sees one writer's whole object, never a mix or a short file. */
static void t_put_is_atomic(void) {
    REQUIRE(fresh_root());
    lks_store *st = open_root();
    REQUIRE(st);
    lks_err err;
    const size_t size = 200000;
    uint8_t *data = malloc(size);
    REQUIRE(data);
    memset(data, 'a', size);
    CHECK_OK(lks_store_put(st, "hot/obj", data, size, &err), &err);
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            lks_store *cst;
            if (lks_store_open(root, &cst, &err) != LKS_OK)
                _exit(10);
            memset(data, 'b' + i, size);
            for (int k = 0; k < 40; k++)
                if (lks_store_put(cst, "hot/obj", data, size, &err) != LKS_OK)
                    _exit(11);
            lks_store_close(cst);
            _exit(0);
        }
    }
    int bad = 0, reads = 0;
    for (;;) {
        int running = 0;
        for (int i = 0; i < 3; i++)
            if (pids[i] > 0) {
                int status;
                pid_t r = waitpid(pids[i], &status, WNOHANG);
                if (r == 0)
                    running = 1;
                else {
                    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        bad = 1;
                    pids[i] = -1;
                }
            }
        lks_buf b;
        lks_buf_init(&b, 0);
        if (lks_store_get(st, "hot/obj", &b, &err) != LKS_OK || b.len != size)
            bad = 1;
        for (size_t k = 1; k < b.len && !bad; k++)
            if (b.ptr[k] != b.ptr[0])
                bad = 1;
        lks_buf_free(&b);
        reads++;
        if (!running || bad)
            break;
    }
    for (int i = 0; i < 3; i++)
        if (pids[i] > 0)
            waitpid(pids[i], NULL, 0);
    CHECK(!bad);
    CHECK(reads > 0);
    CHECK_EQ_INT(count_temp(root), 0);
    free(data);
    lks_store_close(st);
    rm_rf(root);
}

int main(void) {
    RUN(t_open_uris);
    RUN(t_key_validation);
    RUN(t_roundtrip);
    RUN(t_ranged);
    RUN(t_list);
    RUN(t_put_if_absent_race);
    RUN(t_put_is_atomic);
    return lks_test_done();
}
