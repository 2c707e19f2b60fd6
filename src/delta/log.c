/*
 * log.c — the names of Delta log files, listing the log, and choosing the
 * log segment of a version (PROTOCOL.md "Delta Log Entries", "Checkpoints",
 * "Last Checkpoint File").
 *
 * The listing is the truth: _last_checkpoint is only read as a hint and a
 * missing, stale or corrupt one changes nothing.
 */
#include "delta/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int all_digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return n > 0;
}

static int64_t digits_value(const char *s, size_t n) {
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Full parse of a log file name. */
static int64_t parse_name(const char *name, char *kind, int *part, int *nparts) {
    size_t n = strlen(name);
    *part = *nparts = 1;
    if (n < 21 || !all_digits(name, 20) || name[20] != '.') return -1;
    int64_t v = digits_value(name, 20);
    if (v < 0) return -1;
    const char *r = name + 21;
    size_t rn = n - 21;
    if (strcmp(r, "json") == 0) {
        *kind = 'j';
        return v;
    }
    if (strcmp(r, "crc") == 0) {
        *kind = 'r';
        return v;
    }
    if (rn == 20 + 15 && all_digits(r, 20) && strcmp(r + 20, ".compacted.json") == 0) {
        *kind = 'x';
        return v;
    }
    if (strncmp(r, "checkpoint.", 11) != 0) return -1;
    r += 11;
    rn -= 11;
    if (strcmp(r, "parquet") == 0) {
        *kind = 'c';
        return v;
    }
    /* multi-part: <part>.<nparts>.parquet (10 digits each) */
    const char *d1 = strchr(r, '.');
    if (d1 && all_digits(r, (size_t)(d1 - r))) {
        const char *d2 = strchr(d1 + 1, '.');
        if (!d2 || !all_digits(d1 + 1, (size_t)(d2 - d1 - 1)) || strcmp(d2, ".parquet") != 0) return -1;
        int64_t p = digits_value(r, (size_t)(d1 - r)), np = digits_value(d1 + 1, (size_t)(d2 - d1 - 1));
        if (p < 1 || np < 1 || p > np || np > 1000000) return -1;
        *part = (int)p;
        *nparts = (int)np;
        *kind = 'c';
        return v;
    }
    /* V2: <uuid>.json | <uuid>.parquet */
    if (!d1 || d1 == r || strchr(d1 + 1, '.')) return -1;
    if (strcmp(d1, ".json") != 0 && strcmp(d1, ".parquet") != 0) return -1;
    for (const char *q = r; q < d1; q++)
        if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F') || *q == '-'))
            return -1;
    (void)rn;
    *kind = 'v';
    return v;
}

int64_t lks_delta_log_name_version(const char *name, char *kind) {
    char k = 0;
    int p, np;
    int64_t v = parse_name(name, &k, &p, &np);
    if (kind) *kind = v >= 0 ? k : 0;
    return v;
}

typedef struct lctx {
    lks_delta_log_listing *l;
    size_t cap;
    size_t plen;
    int oom;
    int any; /* anything at all under _delta_log/ */
} lctx;

static int list_cb(void *ud, const lks_store_entry *ent) {
    lctx *c = ud;
    c->any = 1;
    const char *name = ent->key + c->plen;
    if (strchr(name, '/')) return 0;
    char kind;
    int part, nparts;
    int64_t v = parse_name(name, &kind, &part, &nparts);
    if (v < 0) return 0;
    lks_delta_log_listing *l = c->l;
    if (l->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        lks_delta_log_file *nf = realloc(l->files, nc * sizeof *nf);
        if (!nf) {
            c->oom = 1;
            return 1;
        }
        l->files = nf;
        c->cap = nc;
    }
    lks_delta_log_file *f = &l->files[l->n];
    f->key = lks_arena_strdup(&l->arena, ent->key);
    if (!f->key) {
        c->oom = 1;
        return 1;
    }
    f->name = f->key + c->plen;
    f->version = v;
    f->kind = kind;
    f->part = part;
    f->nparts = nparts;
    f->size = ent->size;
    f->mtime_us = ent->mtime_us;
    l->n++;
    return 0;
}

static int cmp_file(const void *a, const void *b) {
    const lks_delta_log_file *x = a, *y = b;
    if (x->version != y->version) return x->version < y->version ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int64_t read_last_checkpoint(lks_delta_table *t) {
    lks_arena tmp;
    lks_arena_init(&tmp, 0);
    char *key = lks_arena_printf(&tmp, "%s_last_checkpoint", t->log_prefix);
    int64_t v = -1;
    lks_buf b;
    lks_buf_init(&b, 1 << 20);
    if (key && lks_store_get(t->st, key, &b, NULL) == LKS_OK) {
        json_t *root = json_loadb((const char *)b.ptr, b.len, 0, NULL);
        json_t *jv = root ? json_object_get(root, "version") : NULL;
        if (json_is_integer(jv) && json_integer_value(jv) >= 0) v = (int64_t)json_integer_value(jv);
        if (root) json_decref(root);
    }
    lks_buf_free(&b);
    lks_arena_free(&tmp);
    return v;
}

static int log_list(lks_delta_table *t, int flags, lks_delta_log_listing *out, lks_err *err) {
    memset(out, 0, sizeof *out);
    lks_arena_init(&out->arena, 0);
    out->last_checkpoint = -1;
    out->names_only = (flags & LKS_STORE_LIST_NAMES) != 0;
    lctx c = {out, 0, strlen(t->log_prefix), 0, 0};
    int rc = lks_store_list_flags(t->st, t->log_prefix, flags, list_cb, &c, err);
    if (rc) return lks_err_prefix(err, "listing %s", t->log_prefix);
    if (c.oom) return lks_err_set(err, LKS_ENOMEM, "listing %s: out of memory", t->log_prefix);
    if (out->n == 0)
        return lks_err_set(err, LKS_ENOTFOUND, "no Delta table at %s%s%s: %s has no log files", t->st->uri,
                           t->prefix[0] ? "/" : "", t->prefix, t->log_prefix);
    /* the store lists in byte order, which is version order for
     * zero-padded names; sort anyway so the invariant holds for any backend */
    int sorted = 1;
    for (size_t i = 1; i < out->n && sorted; i++) sorted = cmp_file(&out->files[i - 1], &out->files[i]) <= 0;
    if (!sorted) qsort(out->files, out->n, sizeof *out->files, cmp_file);
    out->last_checkpoint = read_last_checkpoint(t);
    return LKS_OK;
}

int lks_delta_log_list(lks_delta_table *t, lks_delta_log_listing *out, lks_err *err) {
    return log_list(t, 0, out, err);
}

int lks_delta_log_list_names(lks_delta_table *t, lks_delta_log_listing *out, lks_err *err) {
    return log_list(t, LKS_STORE_LIST_NAMES, out, err);
}

int lks_delta_log_mtime(lks_delta_table *t, const lks_delta_log_listing *l, const lks_delta_log_file *f,
                        int64_t *mtime_us, lks_err *err) {
    if (!l->names_only) {
        *mtime_us = f->mtime_us;
        return LKS_OK;
    }
    lks_store_entry ent;
    int rc = lks_store_head(t->st, f->key, &ent, err);
    *mtime_us = rc ? 0 : ent.mtime_us;
    return rc;
}

void lks_delta_log_listing_free(lks_delta_log_listing *l) {
    if (!l) return;
    free(l->files);
    lks_arena_free(&l->arena);
    memset(l, 0, sizeof *l);
}

/* Index of the first file with version >= v. */
static size_t lower_bound(const lks_delta_log_listing *l, int64_t v) {
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->files[mid].version < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const lks_delta_log_file *lks_delta_log_find_commit(const lks_delta_log_listing *l, int64_t version) {
    for (size_t i = lower_bound(l, version); i < l->n && l->files[i].version == version; i++)
        if (l->files[i].kind == 'j') return &l->files[i];
    return NULL;
}

/* A complete checkpoint at files [lo, hi) (all of one version): sets
 * the chosen files go to `pick` and their number to *count; returns 1 when
 * found. */
static int pick_checkpoint(const lks_delta_log_listing *l, size_t lo, size_t hi, const lks_delta_log_file **pick,
                           int *count) {
    /* classic single file */
    for (size_t i = lo; i < hi; i++)
        if (l->files[i].kind == 'c' && l->files[i].nparts == 1 && strstr(l->files[i].name, ".checkpoint.parquet")) {
            pick[0] = &l->files[i];
            *count = 1;
            return 1;
        }
    /* V2 (uuid-named) */
    for (size_t i = lo; i < hi; i++)
        if (l->files[i].kind == 'v') {
            pick[0] = &l->files[i];
            *count = 1;
            return 1;
        }
    /* multi-part: some nparts with every part present */
    for (size_t i = lo; i < hi; i++) {
        const lks_delta_log_file *f = &l->files[i];
        if (f->kind != 'c' || f->part != 1) continue;
        int np = f->nparts, got = 0;
        if ((size_t)np > hi - lo) continue;
        for (int p = 1; p <= np; p++) {
            const lks_delta_log_file *found = NULL;
            for (size_t j = lo; j < hi && !found; j++)
                if (l->files[j].kind == 'c' && l->files[j].nparts == np && l->files[j].part == p) found = &l->files[j];
            if (!found) break;
            pick[p - 1] = found;
            got++;
        }
        if (got == np) {
            *count = np;
            return 1;
        }
    }
    return 0;
}

int64_t lks_delta_log_latest(const lks_delta_log_listing *l) {
    int64_t best = -1;
    for (size_t i = l->n; i-- > 0;) {
        const lks_delta_log_file *f = &l->files[i];
        if (f->version <= best) break;
        if (f->kind == 'j' || f->kind == 'v' || (f->kind == 'c' && f->nparts == 1)) {
            best = f->version;
            break;
        }
        if (f->kind == 'c') {
            /* multi-part: count only when complete */
            size_t lo = lower_bound(l, f->version), hi = lo;
            while (hi < l->n && l->files[hi].version == f->version) hi++;
            const lks_delta_log_file **pick = calloc(hi - lo, sizeof *pick);
            int cnt = 0;
            if (pick && pick_checkpoint(l, lo, hi, pick, &cnt)) best = f->version;
            free(pick);
            if (best >= 0) break;
            i = lo; /* skip the rest of this version */
        }
    }
    return best;
}

void lks_delta_segment_free(lks_delta_segment *sg) {
    if (!sg) return;
    lks_arena_free(&sg->arena);
    memset(sg, 0, sizeof *sg);
}

int lks_delta_log_segment(const lks_delta_log_listing *l, int64_t version, int64_t max_checkpoint,
                          lks_delta_segment *out, lks_err *err) {
    memset(out, 0, sizeof *out);
    lks_arena_init(&out->arena, 0);
    out->checkpoint_version = -1;
    int64_t latest = lks_delta_log_latest(l);
    if (latest < 0) return lks_err_set(err, LKS_ENOTFOUND, "the log has no commits or checkpoints");
    if (version < 0) version = latest;
    if (version > latest)
        return lks_err_set(err, LKS_ENOTFOUND, "version %lld does not exist (latest is %lld)", (long long)version,
                           (long long)latest);
    out->version = version;
    int64_t cp_limit = version;
    if (max_checkpoint >= 0 && max_checkpoint < cp_limit) cp_limit = max_checkpoint;
    /* newest complete checkpoint <= cp_limit */
    size_t end = lower_bound(l, cp_limit + 1);
    while (end > 0) {
        int64_t v = l->files[end - 1].version;
        size_t lo = lower_bound(l, v);
        int has_cp = 0;
        for (size_t i = lo; i < end; i++) has_cp |= l->files[i].kind == 'c' || l->files[i].kind == 'v';
        if (has_cp) {
            const lks_delta_log_file **pick = lks_arena_alloc(&out->arena, (end - lo) * sizeof *pick);
            if (!pick) return lks_err_set(err, LKS_ENOMEM, "log segment: out of memory");
            int cnt = 0;
            if (pick_checkpoint(l, lo, end, pick, &cnt)) {
                out->checkpoint = pick;
                out->ncheckpoint = cnt;
                out->checkpoint_version = v;
                break;
            }
        }
        end = lo;
    }
    /* commits checkpoint_version+1 .. version, contiguous */
    int64_t from = out->checkpoint_version + 1;
    size_t want = (size_t)(version - from + 1);
    if (version >= from) {
        out->commits = lks_arena_alloc(&out->arena, want * sizeof *out->commits);
        if (!out->commits) return lks_err_set(err, LKS_ENOMEM, "log segment: out of memory");
    }
    int64_t expect = from;
    for (size_t i = lower_bound(l, from); i < l->n && expect <= version; i++) {
        const lks_delta_log_file *f = &l->files[i];
        if (f->kind != 'j') continue;
        if (f->version > expect) {
            if (expect == 0 && out->checkpoint_version < 0)
                return lks_err_set(err, LKS_ENOTFOUND,
                                   "version %lld cannot be reconstructed: no checkpoint at or below it and commits "
                                   "before %lld are gone",
                                   (long long)version, (long long)f->version);
            return lks_err_set(err, LKS_ECORRUPT, "the log is not contiguous: commit %lld is missing (found %s)",
                               (long long)expect, f->name);
        }
        out->commits[out->ncommits++] = f;
        expect++;
    }
    if (expect <= version) {
        if (expect == 0 && out->checkpoint_version < 0)
            return lks_err_set(err, LKS_ENOTFOUND, "version %lld cannot be reconstructed: no commit 0 and no checkpoint",
                               (long long)version);
        return lks_err_set(err, LKS_ECORRUPT, "the log is not contiguous: commit %lld is missing", (long long)expect);
    }
    return LKS_OK;
}
