/*
 * store_tool.c — objects of any store location (a directory, file:// or
 * s3://) for the scenario scripts (tests/scenario/s3_warehouse.sh), through
 * the store interface, so it signs and retries like lakesync does:
 *
 *   store_tool mkbucket s3://BUCKET      creates the bucket (an existing one
 *                                        of ours is fine)
 *   store_tool put LOC KEY FILE          publishes FILE as LOC/KEY
 *   store_tool ls LOC                    one line per object: "KEY SIZE"
 *   store_tool copy SRC DST              every object of SRC to DST (same keys)
 *   store_tool rm LOC                    deletes every object under LOC
 *   store_tool verify LOC                no partial objects: every object
 *       reads back whole (as many bytes as listed); every *.parquet starts
 *       and ends with PAR1 and its footer length fits; every line of every
 *       commit in _delta_log/ (NNN.json) is one JSON object; on S3 no multipart
 *       upload is left open under LOC
 *   store_tool validate DIR              the Delta log validator
 *                                        (tests/tools/delta_validate.h) on a
 *                                        local table directory
 *
 * Prints one line on success (what was done) and the problems on failure;
 * exit status 0 on success, 1 on failure, 2 on bad usage.
 */
#include "core/core.h"
#include "store/s3_int.h"
#include "store/store.h"
#include "tools/delta_validate.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct keys {
    char **k;
    uint64_t *size;
    size_t n, cap;
    int oom;
} keys;

static int add_key(void *ud, const lks_store_entry *ent) {
    keys *ks = ud;
    if (ks->n == ks->cap) {
        size_t nc = ks->cap ? ks->cap * 2 : 256;
        char **k = realloc(ks->k, nc * sizeof *k);
        uint64_t *sz = k ? realloc(ks->size, nc * sizeof *sz) : NULL;
        if (k)
            ks->k = k;
        if (!k || !sz)
            return ks->oom = 1;
        ks->size = sz;
        ks->cap = nc;
    }
    ks->k[ks->n] = strdup(ent->key);
    if (!ks->k[ks->n])
        return ks->oom = 1;
    ks->size[ks->n++] = ent->size;
    return 0;
}

static void keys_free(keys *ks) {
    for (size_t i = 0; i < ks->n; i++)
        free(ks->k[i]);
    free(ks->k);
    free(ks->size);
}

static int fail(const char *what, const lks_err *err) {
    fprintf(stderr, "store_tool: %s: %s\n", what, err ? err->msg : "");
    return 1;
}

static int open_list(const char *loc, lks_store **st, keys *ks, lks_err *err) {
    memset(ks, 0, sizeof *ks);
    int rc = lks_store_open(loc, st, err);
    if (rc == LKS_OK)
        rc = lks_store_list(*st, "", add_key, ks, err);
    if (rc == LKS_OK && ks->oom)
        rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
    return rc;
}

static int cmd_mkbucket(const char *loc) {
    lks_err err;
    lks_store *st = NULL;
    if (strncmp(loc, "s3://", 5) != 0) {
        fprintf(stderr, "store_tool: mkbucket needs an s3:// location, not %s\n", loc);
        return 2;
    }
    int rc = lks_store_open(loc, &st, &err);
    if (rc == LKS_OK)
        rc = lks_s3_create_bucket(st, &err);
    lks_store_close(st);
    if (rc)
        return fail("mkbucket", &err);
    printf("bucket of %s ready\n", loc);
    return 0;
}

static int cmd_put(const char *loc, const char *key, const char *file) {
    lks_err err;
    lks_buf b;
    lks_buf_init(&b, 0);
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "store_tool: cannot open %s\n", file);
        return 1;
    }
    char chunk[65536];
    size_t n;
    int rc = LKS_OK;
    while (rc == LKS_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = lks_buf_append(&b, chunk, n);
    fclose(f);
    lks_store *st = NULL;
    if (rc == LKS_OK)
        rc = lks_store_open(loc, &st, &err);
    else
        lks_err_set(&err, rc, "reading %s", file);
    if (rc == LKS_OK)
        rc = lks_store_put(st, key, b.ptr ? (const void *)b.ptr : "", b.len, &err);
    lks_store_close(st);
    lks_buf_free(&b);
    return rc ? fail("put", &err) : 0;
}

static int cmd_ls(const char *loc) {
    lks_err err;
    lks_store *st = NULL;
    keys ks;
    int rc = open_list(loc, &st, &ks, &err);
    for (size_t i = 0; rc == LKS_OK && i < ks.n; i++)
        printf("%s %llu\n", ks.k[i], (unsigned long long)ks.size[i]);
    keys_free(&ks);
    lks_store_close(st);
    return rc ? fail("ls", &err) : 0;
}

static int cmd_copy(const char *src, const char *dst) {
    lks_err err;
    lks_store *s = NULL, *d = NULL;
    keys ks;
    int rc = open_list(src, &s, &ks, &err);
    if (rc == LKS_OK)
        rc = lks_store_open(dst, &d, &err);
    lks_buf b;
    lks_buf_init(&b, 0);
    for (size_t i = 0; rc == LKS_OK && i < ks.n; i++) {
        lks_buf_reset(&b);
        rc = lks_store_get(s, ks.k[i], &b, &err);
        if (rc == LKS_OK)
            rc = lks_store_put(d, ks.k[i], b.ptr ? (const void *)b.ptr : "", b.len, &err);
    }
    if (rc == LKS_OK)
        printf("%zu objects copied\n", ks.n);
    lks_buf_free(&b);
    keys_free(&ks);
    lks_store_close(s);
    lks_store_close(d);
    return rc ? fail("copy", &err) : 0;
}

static int cmd_rm(const char *loc) {
    lks_err err;
    lks_store *st = NULL;
    keys ks;
    int rc = open_list(loc, &st, &ks, &err);
    if (rc == LKS_OK)
        rc = lks_store_delete_many(st, (const char *const *)ks.k, ks.n, &err);
    if (rc == LKS_OK)
        printf("%zu objects deleted\n", ks.n);
    keys_free(&ks);
    lks_store_close(st);
    return rc ? fail("rm", &err) : 0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int cmd_verify(const char *loc) {
    lks_err err;
    lks_store *st = NULL;
    keys ks;
    int rc = open_list(loc, &st, &ks, &err);
    if (rc)
        return fail("verify", &err);
    lks_buf b;
    lks_buf_init(&b, 0);
    int problems = 0;
    size_t parquet = 0, commits = 0;
    for (size_t i = 0; i < ks.n; i++) {
        const char *k = ks.k[i];
        lks_buf_reset(&b);
        if (lks_store_get(st, k, &b, &err) != LKS_OK) {
            fprintf(stderr, "store_tool: %s: %s\n", k, err.msg);
            problems++;
            continue;
        }
        if (b.len != ks.size[i]) {
            fprintf(stderr, "store_tool: %s: %zu bytes read, %llu listed\n", k, b.len, (unsigned long long)ks.size[i]);
            problems++;
        }
        if (ends_with(k, ".parquet")) {
            parquet++;
            uint32_t footer = 0;
            if (b.len >= 12)
                footer = (uint32_t)b.ptr[b.len - 8] | (uint32_t)b.ptr[b.len - 7] << 8 |
                         (uint32_t)b.ptr[b.len - 6] << 16 | (uint32_t)b.ptr[b.len - 5] << 24;
            if (b.len < 12 || memcmp(b.ptr, "PAR1", 4) != 0 || memcmp(b.ptr + b.len - 4, "PAR1", 4) != 0 ||
                footer > b.len - 12) {
                fprintf(stderr, "store_tool: %s: not a whole Parquet file (%zu bytes)\n", k, b.len);
                problems++;
            }
        } else if (strstr(k, "_delta_log/") && ends_with(k, ".json")) {
            commits++;
            const char *p = (const char *)b.ptr, *end = p + b.len;
            int line = 0;
            while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                line++;
                if (len) {
                    json_error_t je;
                    json_t *o = json_loadb(p, len, 0, &je);
                    if (!json_is_object(o)) {
                        fprintf(stderr, "store_tool: %s line %d: not a JSON object\n", k, line);
                        problems++;
                    }
                    json_decref(o);
                }
                p += len + (nl ? 1 : 0);
            }
            if (!b.len || b.ptr[b.len - 1] != '\n') {
                fprintf(stderr, "store_tool: %s: commit does not end with a newline\n", k);
                problems++;
            }
        }
    }
    if (strcmp(st->ops->scheme, "s3") == 0) {
        int open_uploads = -1;
        if (lks_s3_count_uploads(st, &open_uploads, &err) != LKS_OK) {
            fprintf(stderr, "store_tool: counting multipart uploads: %s\n", err.msg);
            problems++;
        } else if (open_uploads) {
            fprintf(stderr, "store_tool: %d multipart uploads left open\n", open_uploads);
            problems++;
        }
    }
    if (!problems)
        printf("%zu objects whole (%zu Parquet files, %zu commits)\n", ks.n, parquet, commits);
    lks_buf_free(&b);
    keys_free(&ks);
    lks_store_close(st);
    return problems ? 1 : 0;
}

static int cmd_validate(const char *dir) {
    char msg[2048];
    int problems = lks_delta_validate(dir, msg, sizeof msg);
    if (problems) {
        fprintf(stderr, "store_tool: %s: log validator: %d problem(s): %s\n", dir, problems, msg);
        return 1;
    }
    printf("log of %s valid\n", dir);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "mkbucket"))
        return cmd_mkbucket(argv[2]);
    if (argc == 5 && !strcmp(argv[1], "put"))
        return cmd_put(argv[2], argv[3], argv[4]);
    if (argc == 3 && !strcmp(argv[1], "ls"))
        return cmd_ls(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "copy"))
        return cmd_copy(argv[2], argv[3]);
    if (argc == 3 && !strcmp(argv[1], "rm"))
        return cmd_rm(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "verify"))
        return cmd_verify(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "validate"))
        return cmd_validate(argv[2]);
    fprintf(stderr, "usage: store_tool mkbucket s3://BUCKET | put LOC KEY FILE | ls LOC | copy SRC DST | rm LOC | "
                    "verify LOC | validate DIR\n");
    return 2;
}
