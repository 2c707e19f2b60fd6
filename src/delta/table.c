/*
 * table.c — the Delta table handle: a store (borrowed) and a key prefix,
 * and the mapping from paths in the log to object keys.
 */
#include "delta/delta_int.h"

#include <stdlib.h>
#include <string.h>

int lks_delta_table_open(lks_store *st, const char *prefix, lks_delta_table **out, lks_err *err) {
    *out = NULL;
    if (!st || !prefix) return lks_err_set(err, LKS_EINVAL, "delta table: no store or prefix");
    size_t n = strlen(prefix);
    while (n > 0 && prefix[n - 1] == '/') n--;
    size_t skip = 0;
    while (skip < n && prefix[skip] == '/') skip++;
    lks_delta_table *t = calloc(1, sizeof *t);
    if (!t) return lks_err_set(err, LKS_ENOMEM, "delta table: out of memory");
    t->prefix = malloc(n - skip + 1);
    t->log_prefix = malloc(n - skip + sizeof "/_delta_log/");
    if (!t->prefix || !t->log_prefix) {
        lks_delta_table_close(t);
        return lks_err_set(err, LKS_ENOMEM, "delta table: out of memory");
    }
    memcpy(t->prefix, prefix + skip, n - skip);
    t->prefix[n - skip] = 0;
    if (n - skip == 0) {
        strcpy(t->log_prefix, "_delta_log/");
    } else {
        memcpy(t->log_prefix, t->prefix, n - skip);
        strcpy(t->log_prefix + (n - skip), "/_delta_log/");
        if (lks_store_check_key(t->prefix, err) != LKS_OK) {
            lks_delta_table_close(t);
            return lks_err_prefix(err, "delta table prefix");
        }
    }
    t->st = st;
    *out = t;
    return LKS_OK;
}

void lks_delta_table_close(lks_delta_table *t) {
    if (!t) return;
    free(t->prefix);
    free(t->log_prefix);
    free(t);
}

/* Decodes %XX escapes (an invalid escape is kept as it is). */
static size_t uri_decode(char *dst, const char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n) {
            int h = lks_hex_value(s[i + 1]), l = lks_hex_value(s[i + 2]);
            if (h >= 0 && l >= 0) {
                dst[o++] = (char)(h << 4 | l);
                i += 2;
                continue;
            }
        }
        dst[o++] = s[i];
    }
    dst[o] = 0;
    return o;
}

/* Non-zero when path starts with a URI scheme ("s3:", "file:", ...). */
/* An absolute path, or a URI: an RFC 3986 scheme (ALPHA *(ALPHA / DIGIT /
 * "+" / "-" / ".")) and ':'.  "time=1971-07-22T03:06:40Z/part-0.parquet" is
 * a relative path: '=' cannot occur in a scheme. */
static int is_absolute_uri(const char *p) {
    if (p[0] == '/') return 1;
    if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z'))) return 0;
    size_t i = 1;
    while ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
           p[i] == '+' || p[i] == '-' || p[i] == '.')
        i++;
    return p[i] == ':';
}

const char *lks_delta_table_key(const lks_delta_table *t, const char *path, lks_arena *a) {
    if (!path) return NULL;
    size_t n = strlen(path);
    size_t plen = strlen(t->prefix);
    char *out = lks_arena_alloc(a, plen + 1 + n + 1);
    if (!out) return NULL;
    if (is_absolute_uri(path)) {
        uri_decode(out, path, n);
        return out;
    }
    size_t o = 0;
    if (plen) {
        memcpy(out, t->prefix, plen);
        out[plen] = '/';
        o = plen + 1;
    }
    uri_decode(out + o, path, n);
    return out;
}

lks_store *lks_delta_table_store(const lks_delta_table *t) { return t->st; }
