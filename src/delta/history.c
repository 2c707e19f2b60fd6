/* history.c — the commits still in a table's log, newest first. */
#include "delta/delta_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct commit_file {
    int64_t version;
    int64_t mtime_ms;
    char *key;
} commit_file;

typedef struct listing {
    commit_file *v;
    size_t n, cap;
    size_t plen;
    int failed;
} listing;

static int on_entry(void *ud, const lks_store_entry *ent) {
    listing *l = ud;
    const char *name = ent->key + l->plen;
    char kind = 0;
    int64_t ver = lks_delta_log_name_version(name, &kind);
    if (ver < 0 || kind != 'j')
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        commit_file *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->failed = 1;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    char *key = strdup(ent->key);
    if (!key) {
        l->failed = 1;
        return 1;
    }
    l->v[l->n++] = (commit_file){ver, ent->mtime_us / 1000, key};
    return 0;
}

int lks_delta_history(lks_delta_table *t, int64_t limit, lks_delta_history_fn *fn, void *ud, lks_err *err) {
    listing l = {0};
    l.plen = strlen(t->log_prefix);
    int rc = lks_store_list(t->st, t->log_prefix, on_entry, &l, err);
    if (rc == LKS_OK && l.failed)
        rc = lks_err_set(err, LKS_ENOMEM, "out of memory listing %s", t->log_prefix);
    if (rc == LKS_OK && l.n == 0)
        rc = lks_err_set(err, LKS_ENOTFOUND, "%s: no commits (not a Delta table?)", t->log_prefix);
    lks_buf data;
    lks_buf_init(&data, 0);
    lks_arena a;
    lks_arena_init(&a, 0);
    int64_t shown = 0;
    /* listing is in key order, which is version order for 20-digit names */
    for (size_t i = l.n; rc == LKS_OK && i-- > 0 && (limit <= 0 || shown < limit);) {
        lks_buf_reset(&data);
        lks_arena_reset(&a);
        rc = lks_store_get(t->st, l.v[i].key, &data, err);
        if (rc != LKS_OK)
            break;
        lks_delta_commit c = {l.v[i].version, l.v[i].mtime_ms, NULL, NULL, 0, 0};
        int64_t info_ts = -1, ict = -1;
        const char *p = (const char *)data.ptr, *end = p + data.len;
        for (int line = 1; p < end; line++) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (len > 0 && !(len == 1 && p[0] == '\r')) {
                lks_delta_action act;
                rc = lks_delta_action_parse(p, len, &a, &act, err);
                if (rc != LKS_OK) {
                    lks_err_prefix(err, "%s line %d", l.v[i].key, line);
                    break;
                }
                if (act.kind == LKS_DA_ADD)
                    c.nadd++;
                else if (act.kind == LKS_DA_REMOVE)
                    c.nremove++;
                else if (act.kind == LKS_DA_COMMIT_INFO) {
                    c.operation = act.u.commit_info.operation;
                    c.commit_info_json = act.u.commit_info.json;
                    info_ts = act.u.commit_info.timestamp;
                    ict = act.u.commit_info.in_commit_timestamp;
                }
            }
            p += len + (nl ? 1 : 0);
        }
        if (rc != LKS_OK)
            break;
        c.timestamp = ict >= 0 ? ict : info_ts >= 0 ? info_ts : l.v[i].mtime_ms;
        shown++;
        if (fn(ud, &c))
            break;
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i].key);
    free(l.v);
    lks_buf_free(&data);
    lks_arena_free(&a);
    return rc;
}
