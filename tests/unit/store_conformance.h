/*
 * store_conformance.h — the store contract checks every backend passes
 * (included by test_store.c for the local backend and test_store_s3.c for
 * S3).  Each check takes a conf_backend: how to get a fresh empty store,
 * what name its errors carry, what a crashed writer or a foreign tool leaves
 * that listing must hide, and what must be left over (nothing) afterwards.
 * Child processes open their own store on st->uri, so the races run between
 * processes for every backend.
 */
#ifndef LKS_TEST_STORE_CONFORMANCE_H
#define LKS_TEST_STORE_CONFORMANCE_H

#include "harness.h"
#include "store/store.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct conf_backend {
    /* A fresh, empty store for one check (NULL after printing why). */
    lks_store *(*fresh)(void);
    /* The location every error message about the store names. */
    const char *(*where)(lks_store *st);
    /* Creates what list must not show: a crashed writer's temporary file,
     * an empty folder or folder marker.  0 on success. */
    int (*plant_junk)(lks_store *st);
    /* Temporary files or unfinished uploads left behind (must be 0). */
    int (*leftovers)(lks_store *st);
    /* Removes everything the check wrote and closes st. */
    void (*finish)(lks_store *st);
    /* Local filesystem semantics: a key below an object, or an object
     * where a folder is, cannot be written (S3 allows both). */
    int local;
} conf_backend;

static int conf_get_str(lks_store *st, const char *key, char *out, size_t cap) {
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

/* Every entry point refuses bad keys before touching the store. */
static void conf_bad_keys(const conf_backend *be) {
    lks_store *st = be->fresh();
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
    CHECK_EQ_INT(lks_store_put(st, "x/.obj.tmp.123.0123456789abcdef", "x", 1, &err), LKS_EINVAL);
    lks_buf_free(&b);
    be->finish(st);
}

static void conf_roundtrip(const conf_backend *be) {
    lks_store *st = be->fresh();
    REQUIRE(st);
    lks_err err;
    CHECK_OK(lks_store_put(st, "db/table/_delta_log/00000000000000000000.json", "{\"a\":1}\n", 8, &err), &err);
    char v[64];
    CHECK_OK(conf_get_str(st, "db/table/_delta_log/00000000000000000000.json", v, sizeof v), (lks_err *)NULL);
    CHECK_EQ_STR(v, "{\"a\":1}\n");
    /* overwrite */
    CHECK_OK(lks_store_put(st, "db/table/_delta_log/00000000000000000000.json", "short", 5, &err), &err);
    CHECK_OK(conf_get_str(st, "db/table/_delta_log/00000000000000000000.json", v, sizeof v), (lks_err *)NULL);
    CHECK_EQ_STR(v, "short");
    /* keys with characters that need escaping on the way */
    static const char *odd = "d=2024-01-01/part 0+1 $&'()*,;=@%25~\xc3\xa9.parquet";
    CHECK_OK(lks_store_put(st, odd, odd, strlen(odd), &err), &err);
    CHECK_OK(conf_get_str(st, odd, v, sizeof v), (lks_err *)NULL);
    CHECK_EQ_STR(v, odd);
    /* empty object */
    CHECK_OK(lks_store_put(st, "empty", "", 0, &err), &err);
    lks_store_entry ent = {"junk", 99, 99};
    CHECK_OK(lks_store_head(st, "empty", &ent, &err), &err);
    CHECK(ent.key == NULL);
    CHECK_EQ_INT(ent.size, 0);
    CHECK(ent.mtime_us > INT64_C(1600000000000000));
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_store_get(st, "empty", &b, &err), &err);
    CHECK_EQ_INT(b.len, 0);
    /* a larger object with every byte value; get appends to the buffer */
    size_t n = (1 << 20) + 7;
    uint8_t *big = malloc(n);
    REQUIRE(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (uint8_t)(i * 131 + (i >> 8));
    CHECK_OK(lks_store_put(st, "big.bin", big, n, &err), &err);
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
    CHECK(strstr(err.msg, be->where(st)) != NULL && strstr(err.msg, "nope") != NULL);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(lks_store_get(st, "empty/below", &b, &err), LKS_ENOTFOUND);
    CHECK_EQ_INT(lks_store_head(st, "nope", &ent, &err), LKS_ENOTFOUND);
    CHECK_EQ_INT(lks_store_get(st, "db", &b, &err), LKS_ENOTFOUND); /* a folder is not an object */
    CHECK_EQ_INT(lks_store_head(st, "db/table", &ent, &err), LKS_ENOTFOUND);
    if (be->local) {
        /* a key below an object cannot be written; a folder cannot be overwritten */
        CHECK_EQ_INT(lks_store_put(st, "empty/below", "x", 1, &err), LKS_EIO);
        CHECK(strstr(err.msg, "empty") != NULL);
        CHECK_EQ_INT(lks_store_put(st, "db/table", "x", 1, &err), LKS_EIO);
    }
    /* delete: present, then absent, both OK */
    CHECK_OK(lks_store_delete(st, "big.bin", &err), &err);
    CHECK_EQ_INT(lks_store_head(st, "big.bin", &ent, &err), LKS_ENOTFOUND);
    CHECK_OK(lks_store_delete(st, "big.bin", &err), &err);
    CHECK_OK(lks_store_delete(st, "no/such/dir/x", &err), &err);
    CHECK_EQ_INT(be->leftovers(st), 0);
    free(big);
    lks_buf_free(&b);
    be->finish(st);
}

static void conf_ranged(const conf_backend *be) {
    lks_store *st = be->fresh();
    REQUIRE(st);
    lks_err err;
    const char *data = "0123456789abcdef";
    CHECK_OK(lks_store_put(st, "r", data, 16, &err), &err);
    CHECK_OK(lks_store_put(st, "e", "", 0, &err), &err);
    static const struct {
        const char *key;
        uint64_t off, len;
        int rc;
    } cases[] = {
        {"r", 0, 16, LKS_OK},
        {"r", 0, 0, LKS_OK},
        {"r", 16, 0, LKS_OK},
        {"r", 4, 4, LKS_OK},
        {"r", 15, 1, LKS_OK},
        {"r", 15, 2, LKS_ECORRUPT},
        {"r", 16, 1, LKS_ECORRUPT},
        {"r", 17, 0, LKS_ECORRUPT},
        {"r", 0, 17, LKS_ECORRUPT},
        {"r", UINT64_MAX, 2, LKS_ECORRUPT},
        {"r", 8, UINT64_MAX, LKS_ECORRUPT},
        {"e", 0, 0, LKS_OK},
        {"e", 0, 1, LKS_ECORRUPT},
        {"e", 1, 0, LKS_ECORRUPT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_buf b;
        lks_buf_init(&b, 0);
        lks_buf_append(&b, "x", 1);
        int rc = lks_store_get_range(st, cases[i].key, cases[i].off, cases[i].len, &b, &err);
        if (rc != cases[i].rc)
            FAILF("%s range %llu+%llu: rc %d, want %d (%s)", cases[i].key, (unsigned long long)cases[i].off,
                  (unsigned long long)cases[i].len, rc, cases[i].rc, rc ? err.msg : "");
        else if (rc == LKS_OK &&
                 (b.len != cases[i].len + 1 || (cases[i].len && memcmp(b.ptr + 1, data + cases[i].off, cases[i].len))))
            FAILF("range %llu+%llu: wrong bytes", (unsigned long long)cases[i].off, (unsigned long long)cases[i].len);
        else if (rc != LKS_OK && b.len != 1)
            FAILF("range %llu+%llu: a failed read left %zu bytes", (unsigned long long)cases[i].off,
                  (unsigned long long)cases[i].len, b.len);
        lks_buf_free(&b);
    }
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_EQ_INT(lks_store_get_range(st, "missing", 0, 1, &b, &err), LKS_ENOTFOUND);
    CHECK_EQ_INT(lks_store_get_range(st, "missing", 0, 0, &b, &err), LKS_ENOTFOUND);
    lks_buf_free(&b);
    be->finish(st);
}

typedef struct conf_collected {
    char keys[64][128];
    uint64_t sizes[64];
    int64_t mtimes[64];
    int n, stop_after;
} conf_collected;

static int conf_collect(void *ud, const lks_store_entry *ent) {
    conf_collected *c = ud;
    if (c->n < 64) {
        snprintf(c->keys[c->n], sizeof c->keys[0], "%s", ent->key);
        c->sizes[c->n] = ent->size;
        c->mtimes[c->n] = ent->mtime_us;
    }
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static void conf_list(const conf_backend *be) {
    lks_store *st = be->fresh();
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
    REQUIRE(be->plant_junk(st) == 0);

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
        for (int flags = 0; flags <= LKS_STORE_LIST_NAMES; flags += LKS_STORE_LIST_NAMES) {
            conf_collected c;
            memset(&c, 0, sizeof c);
            CHECK_OK(lks_store_list_flags(st, cases[i].prefix, flags, conf_collect, &c, &err), &err);
            char got[1024] = "";
            for (int k = 0; k < c.n && k < 64; k++) {
                if (k)
                    strcat(got, " ");
                strcat(got, c.keys[k]);
                /* without the names-only flag, sizes and times are known */
                if (!flags && (c.sizes[k] != strlen(c.keys[k]) || c.mtimes[k] < INT64_C(1600000000000000)))
                    FAILF("size/mtime of %s: %llu %lld", c.keys[k], (unsigned long long)c.sizes[k],
                          (long long)c.mtimes[k]);
            }
            if (strcmp(got, cases[i].want) != 0)
                FAILF("prefix '%s' flags %d: got [%s] want [%s]", cases[i].prefix, flags, got, cases[i].want);
        }
    }
    /* early stop */
    conf_collected c;
    memset(&c, 0, sizeof c);
    c.stop_after = 3;
    CHECK_OK(lks_store_list(st, "", conf_collect, &c, &err), &err);
    CHECK_EQ_INT(c.n, 3);
    CHECK_EQ_STR(c.keys[2], "_delta_log/0.json");
    be->finish(st);
}

/* lks_store_delete_many: absent keys are fine, a bad key deletes nothing,
 * more keys than one S3 request takes (1000) go in batches. */
static void conf_delete_many(const conf_backend *be) {
    lks_store *st = be->fresh();
    REQUIRE(st);
    lks_err err;
    enum { N = 1003 };
    static char names[N][24];
    const char *keys[N + 1];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "part=%d/f%04d.parquet", i % 3, i);
        keys[i] = names[i];
    }
    /* the first 5 and the last 3 exist; the rest are absent */
    for (int i = 0; i < N; i++)
        if (i < 5 || i >= N - 3)
            CHECK_OK(lks_store_put(st, keys[i], "x", 1, &err), &err);
    CHECK_OK(lks_store_put(st, "keep/me", "k", 1, &err), &err);
    keys[N] = "a/../b";
    CHECK_EQ_INT(lks_store_delete_many(st, keys + 1, N, &err), LKS_EINVAL);
    conf_collected c;
    memset(&c, 0, sizeof c);
    CHECK_OK(lks_store_list(st, "", conf_collect, &c, &err), &err);
    CHECK_EQ_INT(c.n, 9); /* nothing deleted */
    CHECK_OK(lks_store_delete_many(st, keys, 0, &err), &err);
    CHECK_OK(lks_store_delete_many(st, keys, N, &err), &err);
    memset(&c, 0, sizeof c);
    CHECK_OK(lks_store_list(st, "", conf_collect, &c, &err), &err);
    CHECK_EQ_INT(c.n, 1);
    if (c.n == 1)
        CHECK_EQ_STR(c.keys[0], "keep/me");
    be->finish(st);
}

/* Forks `nproc` writers racing put_if_absent on the same key, each with its
 * own byte pattern; they start together when the parent closes a pipe. */
static void conf_race_round(const char *uri, const char *key, int nproc, size_t size, int *winners, int *bad) {
    int go[2];
    if (pipe(go) != 0) {
        *bad = 1;
        return;
    }
    fflush(stdout);
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
            if (lks_store_open(uri, &st, &err) != LKS_OK)
                _exit(10);
            uint8_t *data = malloc(size);
            if (!data)
                _exit(11);
            memset(data, 'A' + i, size);
            int rc = lks_store_put_if_absent(st, key, data, size, &err);
            if (rc != LKS_OK && rc != LKS_EEXIST)
                printf("# writer %d: %s\n", i, err.msg);
            fflush(stdout);
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
    lks_store *st = NULL;
    lks_err err;
    if (lks_store_open(uri, &st, &err) != LKS_OK) {
        *bad = 1;
        return;
    }
    lks_buf b;
    lks_buf_init(&b, 0);
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

static void conf_put_if_absent(const conf_backend *be, int race_rounds) {
    lks_store *st = be->fresh();
    REQUIRE(st);
    lks_err err;
    CHECK_OK(lks_store_put_if_absent(st, "t/_delta_log/0.json", "first", 5, &err), &err);
    CHECK_EQ_INT(lks_store_put_if_absent(st, "t/_delta_log/0.json", "second", 6, &err), LKS_EEXIST);
    CHECK(strstr(err.msg, "0.json") != NULL);
    char v[16];
    CHECK_OK(conf_get_str(st, "t/_delta_log/0.json", v, sizeof v), (lks_err *)NULL);
    CHECK_EQ_STR(v, "first");
    /* a plain put still replaces it */
    CHECK_OK(lks_store_put(st, "t/_delta_log/0.json", "third", 5, &err), &err);
    CHECK_OK(conf_get_str(st, "t/_delta_log/0.json", v, sizeof v), (lks_err *)NULL);
    CHECK_EQ_STR(v, "third");
    for (int round = 0; round < race_rounds; round++) {
        char key[64];
        snprintf(key, sizeof key, "t/_delta_log/%020d.json", round + 1);
        int winners = 0, bad = 0;
        conf_race_round(st->uri, key, 8, (size_t)(round % 3 == 0 ? 300000 : 100 + round), &winners, &bad);
        if (winners != 1 || bad) {
            FAILF("round %d: %d winners, bad=%d", round, winners, bad);
            break;
        }
    }
    CHECK_EQ_INT(be->leftovers(st), 0);
    be->finish(st);
}

/* Count of keys under prefix (temporary names are never listed). */
static int conf_list_count_fn(void *ud, const lks_store_entry *ent) {
    (void)ent;
    ++*(int *)ud;
    return 0;
}
static int conf_count(lks_store *st, const char *prefix) {
    int n = 0;
    lks_err err;
    if (lks_store_list(st, prefix, conf_list_count_fn, &n, &err) != LKS_OK)
        return -1;
    return n;
}

/* An object written in pieces: invisible until commit, then exactly the
 * bytes written; it replaces an existing object; abort and bad keys leave
 * nothing behind. */
static void conf_writer(const conf_backend *be) {
    lks_store *st = be->fresh();
    REQUIRE(st);
    lks_err err;
    lks_store_writer *w = NULL;
    CHECK_EQ_INT(lks_store_writer_open(st, "../x", &w, &err), LKS_EINVAL);
    CHECK(w == NULL);
    /* pieces of every size around the chunk: small, odd, one larger than a chunk */
    const size_t sizes[] = {1, 7, 4096, LKS_STORE_WRITER_CHUNK - 5, 3, LKS_STORE_WRITER_CHUNK * 2 + 11, 0, 100000};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        total += sizes[i];
    uint8_t *data = malloc(total);
    REQUIRE(data);
    for (size_t i = 0; i < total; i++)
        data[i] = (uint8_t)(i * 167 + (i >> 11));
    CHECK_OK(lks_store_put(st, "w/obj.parquet", "old", 3, &err), &err);
    CHECK_OK(lks_store_writer_open(st, "w/obj.parquet", &w, &err), &err);
    REQUIRE(w);
    size_t off = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        CHECK_OK(lks_store_writer_write(w, data + off, sizes[i], &err), &err);
        off += sizes[i];
        CHECK(lks_store_writer_size(w) == off);
    }
    /* not visible before commit: the old object is still there, whole */
    char v[16];
    CHECK_OK(conf_get_str(st, "w/obj.parquet", v, sizeof v), (lks_err *)NULL);
    CHECK_EQ_STR(v, "old");
    CHECK_EQ_INT(conf_count(st, "w/"), 1);
    CHECK_OK(lks_store_writer_commit(w, &err), &err);
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_store_get(st, "w/obj.parquet", &b, &err), &err);
    CHECK(b.len == total && memcmp(b.ptr, data, total) == 0);
    /* an empty object, in a new folder */
    CHECK_OK(lks_store_writer_open(st, "w/new/empty", &w, &err), &err);
    CHECK_OK(lks_store_writer_commit(w, &err), &err);
    lks_store_entry ent;
    CHECK_OK(lks_store_head(st, "w/new/empty", &ent, &err), &err);
    CHECK_EQ_INT(ent.size, 0);
    /* abort: nothing published, nothing left over */
    CHECK_OK(lks_store_writer_open(st, "w/aborted", &w, &err), &err);
    CHECK_OK(lks_store_writer_write(w, data, LKS_STORE_WRITER_CHUNK + 1, &err), &err);
    lks_store_writer_abort(w);
    CHECK_EQ_INT(lks_store_head(st, "w/aborted", &ent, &err), LKS_ENOTFOUND);
    CHECK_EQ_INT(conf_count(st, "w/"), 2);
    lks_store_writer_abort(NULL);
    CHECK_EQ_INT(be->leftovers(st), 0);
    lks_buf_free(&b);
    free(data);
    be->finish(st);
}

/* Writers replace one key over and over while the parent reads it: every
 * read sees one writer's whole object, never a mix or a short one. */
static void conf_put_is_atomic(const conf_backend *be, int puts_per_writer) {
    lks_store *st = be->fresh();
    REQUIRE(st);
    lks_err err;
    const size_t size = 200000;
    uint8_t *data = malloc(size);
    REQUIRE(data);
    memset(data, 'a', size);
    CHECK_OK(lks_store_put(st, "hot/obj", data, size, &err), &err);
    fflush(stdout);
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            lks_store *cst;
            if (lks_store_open(st->uri, &cst, &err) != LKS_OK)
                _exit(10);
            memset(data, 'b' + i, size);
            for (int k = 0; k < puts_per_writer; k++)
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
    CHECK_EQ_INT(be->leftovers(st), 0);
    free(data);
    be->finish(st);
}

#endif
