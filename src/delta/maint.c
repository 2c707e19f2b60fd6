/*
 * maint.c — table maintenance: VACUUM (deleting data files nothing
 * references any more), OPTIMIZE (bin-packing small files into bigger
 * ones, dataChange=false) and log cleanup (PROTOCOL.md "Metadata Cleanup").
 *
 * VACUUM lists the objects under the table root, leaves out _delta_log/
 * and every hidden name ('_' or '.' first, partition folders of
 * '_'-columns excepted), and deletes what is neither referenced (live
 * files, tombstones within retention, and their DV files) nor younger than
 * the retention.  OPTIMIZE reads each bin of small files through a scan
 * restricted to them and writes the rows back with the data writer, in
 * one transaction that registers the files it rewrites as read.
 */
#include "delta/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HOUR_MS ((int64_t)3600 * 1000)
#define DAY_MS (24 * HOUR_MS)
#define SAFE_RETENTION_MS (168 * HOUR_MS)
#define LOG_RETENTION_MS (30 * DAY_MS)
#define VACUUM_BATCH 1000 /* files per lks_store_delete_many */

static int64_t now_ms(void) { return lks_now_us() / 1000; }

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* ---- object keys of log paths --------------------------------------------------------------- */

/* "file:/x", "file:///x", "file://localhost/x" → "/x"; other strings as they are. */
static const char *fs_form(const char *p) {
    if (strncmp(p, "file:", 5) != 0)
        return p;
    p += 5;
    if (strncmp(p, "//localhost/", 12) == 0)
        return p + 11;
    if (strncmp(p, "///", 3) == 0)
        return p + 2;
    return p;
}

/* The object key (of the table's store) of a path in the log, or NULL when
 * it points outside the store (or out of memory: *oom set). */
static const char *path_key(const lks_delta_table *t, const char *path, lks_arena *a, int *oom) {
    const char *k = lks_delta_table_key(t, path, a);
    if (!k) {
        *oom = 1;
        return NULL;
    }
    int absolute = k[0] == '/';
    for (const char *q = k; !absolute && *q && *q != '/'; q++)
        if (*q == ':')
            absolute = 1;
    if (!absolute)
        return k;
    /* an absolute path inside the store: relative to the store's root */
    const char *root = fs_form(t->st->uri), *abs = fs_form(k);
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/')
        rl--;
    if (strncmp(abs, root, rl) != 0 || abs[rl] != '/')
        return NULL;
    abs += rl;
    while (*abs == '/')
        abs++;
    return *abs ? abs : NULL;
}

/* The path (relative or absolute, as the log would write it) of a DV
 * file, NULL for inline DVs or a malformed descriptor. */
static const char *dv_path(const lks_delta_dv *dv, lks_arena *a, int *oom) {
    if (dv->storage_type == 'p')
        return dv->path_or_inline;
    if (dv->storage_type != 'u' || !dv->path_or_inline)
        return NULL;
    lks_err e = {0};
    const char *p = lks_delta_dv_uuid_path(dv, a, &e);
    if (!p && e.code == LKS_ENOMEM)
        *oom = 1;
    return p;
}

/* ---- VACUUM ----------------------------------------------------------------------------------- */

typedef struct keyset {
    const char **v;
    size_t n, cap;
    lks_arena a;
    int oom;
} keyset;

static void keyset_add(keyset *ks, const lks_delta_table *t, const char *path) {
    if (!path || ks->oom)
        return;
    const char *k = path_key(t, path, &ks->a, &ks->oom);
    if (!k)
        return;
    if (ks->n == ks->cap) {
        size_t nc = ks->cap ? ks->cap * 2 : 256;
        const char **nv = realloc(ks->v, nc * sizeof *nv);
        if (!nv) {
            ks->oom = 1;
            return;
        }
        ks->v = nv;
        ks->cap = nc;
    }
    ks->v[ks->n++] = k;
}

static void keyset_add_dv(keyset *ks, const lks_delta_table *t, int has_dv, const lks_delta_dv *dv) {
    if (!has_dv)
        return;
    keyset_add(ks, t, dv_path(dv, &ks->a, &ks->oom));
}

static int keyset_has(const keyset *ks, const char *key) {
    return ks->n && bsearch(&key, ks->v, ks->n, sizeof *ks->v, cmp_cstr) != NULL;
}

/* Writer features whose files VACUUM knows: everything the transaction
 * code honours, plus features that only add log-side files (sidecars under
 * _delta_log/) or none at all. */
static const char *const vacuum_known_writer[] = {"appendOnly",
                                                  "invariants",
                                                  "checkConstraints",
                                                  "changeDataFeed",
                                                  "generatedColumns",
                                                  "identityColumns",
                                                  "columnMapping",
                                                  "timestampNtz",
                                                  "deletionVectors",
                                                  "domainMetadata",
                                                  "inCommitTimestamp",
                                                  "vacuumProtocolCheck",
                                                  "typeWidening",
                                                  "typeWidening-preview",
                                                  "v2Checkpoint",
                                                  "rowTracking",
                                                  NULL};

/* PROTOCOL.md "VACUUM Protocol Check": check the write protocol, always. */
static int check_vacuum_protocol(const lks_delta_protocol *p, lks_err *err) {
    if (p->min_writer < 1 || p->min_writer > 7)
        return lks_err_set(err, LKS_EUNSUPPORTED, "vacuum: the table needs writer version %d (we support 1..7)",
                           p->min_writer);
    if (p->min_writer == 7)
        for (int i = 0; i < p->nwriter_features; i++) {
            int ok = 0;
            for (int k = 0; vacuum_known_writer[k] && !ok; k++)
                ok = strcmp(vacuum_known_writer[k], p->writer_features[i]) == 0;
            if (!ok)
                return lks_err_set(err, LKS_EUNSUPPORTED,
                                   "vacuum: the table uses writer feature '%s', which lakesync does not know; "
                                   "vacuuming could delete files it needs",
                                   p->writer_features[i]);
        }
    return LKS_OK;
}

typedef struct vac_list {
    char **keys;
    int64_t *sizes;
    size_t n, cap;
} vac_list;

typedef struct vac {
    lks_delta_table *t;
    const lks_delta_snapshot *s;
    const keyset *refs;
    size_t plen;       /* bytes of "<prefix>/" to skip ("" prefix: 0) */
    int64_t cutoff_us; /* files modified before this may go */
    /* candidates, collected while listing and deleted afterwards */
    vac_list files;
    vac_list temps; /* temporary files of writers killed mid-write */
    int oom;
} vac;

/* Non-zero when the folder or file name seg[0..n) is hidden from VACUUM. */
static int hidden_name(const vac *v, const char *seg, size_t n, int is_dir) {
    if (n == 0)
        return 1;
    if (seg[0] == '.')
        return 1;
    if (seg[0] != '_')
        return 0;
    if (!is_dir)
        return 1;
    /* "_col=value": a partition folder of a column whose name starts with '_' */
    for (int i = 0; i < v->s->metadata.npartition_columns; i++) {
        const char *c = v->s->metadata.partition_columns[i];
        size_t cl = strlen(c);
        if (cl < n && strncmp(seg, c, cl) == 0 && seg[cl] == '=')
            return 0;
    }
    return 1;
}

static int vac_push(vac_list *l, const lks_store_entry *ent) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        char **nk = realloc(l->keys, nc * sizeof *nk);
        if (!nk) return -1;
        l->keys = nk;
        int64_t *ns = realloc(l->sizes, nc * sizeof *ns);
        if (!ns) return -1;
        l->sizes = ns;
        l->cap = nc;
    }
    if (!(l->keys[l->n] = strdup(ent->key))) return -1;
    l->sizes[l->n++] = (int64_t)ent->size;
    return 0;
}

static void vac_list_free(vac_list *l) {
    for (size_t i = 0; i < l->n; i++) free(l->keys[i]);
    free(l->keys);
    free(l->sizes);
}

static int vac_entry(void *ud, const lks_store_entry *ent) {
    vac *v = ud;
    if (strlen(ent->key) <= v->plen)
        return 0;
    const char *rel = ent->key + v->plen;
    /* every folder and the file name must be visible, but for the
     * temporary files of our writers (a running writer's is younger than
     * the retention) */
    const char *seg = rel;
    int temp = 0;
    for (;;) {
        const char *sl = strchr(seg, '/');
        size_t n = sl ? (size_t)(sl - seg) : strlen(seg);
        if (!sl && lks_store_is_temp_name(seg, n))
            temp = 1;
        else if (hidden_name(v, seg, n, sl != NULL))
            return 0;
        if (!sl)
            break;
        seg = sl + 1;
    }
    if (!temp && keyset_has(v->refs, ent->key))
        return 0;
    if (ent->mtime_us <= 0 || ent->mtime_us >= v->cutoff_us)
        return 0; /* unknown or too young */
    if (vac_push(temp ? &v->temps : &v->files, ent)) {
        v->oom = 1;
        return 1;
    }
    return 0;
}

int lks_delta_vacuum(lks_delta_table *t, const lks_delta_vacuum_opts *o, lks_delta_vacuum_result *r, lks_err *err) {
    lks_delta_vacuum_result dummy;
    if (!r)
        r = &dummy;
    memset(r, 0, sizeof *r);
    if (!t)
        return lks_err_set(err, LKS_EINVAL, "vacuum: no table");
    lks_delta_vacuum_opts def = {-1, 0, 0, NULL, NULL};
    if (!o)
        o = &def;
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(t, &s, err);
    if (rc)
        return lks_err_prefix(err, "vacuum");
    rc = check_vacuum_protocol(&s->protocol, err);
    if (rc) {
        lks_delta_snapshot_free(s);
        return rc;
    }
    /* the retention, and the minimum that is safe without --force */
    int64_t safe_ms = SAFE_RETENTION_MS;
    const char *pv = lks_delta_snapshot_property(s, "delta.deletedFileRetentionDuration");
    if (pv) {
        int64_t ms = lks_delta_interval_ms(pv);
        if (ms >= 0)
            safe_ms = ms;
    }
    int64_t retention_ms = safe_ms;
    if (o->retention_hours >= 0) {
        if (o->retention_hours > INT64_MAX / HOUR_MS) {
            lks_delta_snapshot_free(s);
            return lks_err_set(err, LKS_EINVAL, "vacuum: retention of %" PRId64 " hours is too long",
                               o->retention_hours);
        }
        retention_ms = o->retention_hours * HOUR_MS;
    }
    if (retention_ms < safe_ms && !o->force) {
        lks_delta_snapshot_free(s);
        return lks_err_set(err, LKS_EINVAL,
                           "vacuum: a retention of %g hours is below the safe minimum of %g hours (%s): files "
                           "that readers of older versions or running writers still need could be deleted; "
                           "force it to proceed anyway",
                           (double)retention_ms / (double)HOUR_MS, (double)safe_ms / (double)HOUR_MS,
                           pv ? "delta.deletedFileRetentionDuration" : "7 days");
    }
    int64_t now = now_ms();
    int64_t horizon_ms = now - retention_ms;

    /* what the table still references */
    keyset refs;
    memset(&refs, 0, sizeof refs);
    lks_arena_init(&refs.a, 0);
    for (size_t i = 0; i < s->nfiles; i++) {
        keyset_add(&refs, t, s->files[i].path);
        keyset_add_dv(&refs, t, s->files[i].has_dv, &s->files[i].dv);
    }
    for (size_t i = 0; i < s->ntombstones; i++) {
        const lks_delta_remove *rm = &s->tombstones[i];
        if (rm->deletion_timestamp >= 0 && rm->deletion_timestamp <= horizon_ms)
            continue;
        keyset_add(&refs, t, rm->path);
        keyset_add_dv(&refs, t, rm->has_dv, &rm->dv);
    }
    vac v;
    memset(&v, 0, sizeof v);
    char *list_prefix = NULL;
    if (refs.oom) {
        rc = lks_err_set(err, LKS_ENOMEM, "vacuum: out of memory");
        goto out;
    }
    if (refs.n)
        qsort(refs.v, refs.n, sizeof *refs.v, cmp_cstr);

    v.t = t;
    v.s = s;
    v.refs = &refs;
    size_t pl = strlen(t->prefix);
    v.plen = pl ? pl + 1 : 0;
    v.cutoff_us = horizon_ms * 1000;
    list_prefix = malloc(pl + 2);
    if (!list_prefix) {
        rc = lks_err_set(err, LKS_ENOMEM, "vacuum: out of memory");
        goto out;
    }
    memcpy(list_prefix, t->prefix, pl);
    if (pl)
        list_prefix[pl++] = '/';
    list_prefix[pl] = 0;
    rc = lks_store_list_flags(t->st, list_prefix, LKS_STORE_LIST_TEMP, vac_entry, &v, err);
    if (rc) {
        lks_err_prefix(err, "vacuum: listing the table");
        goto out;
    }
    if (v.oom) {
        rc = lks_err_set(err, LKS_ENOMEM, "vacuum: out of memory");
        goto out;
    }
    /* in batches, so an object store deletes up to 1000 files per request;
     * files are reported once their batch is deleted */
    int stop = 0;
    for (size_t at = 0; at < v.files.n && !stop; at += VACUUM_BATCH) {
        size_t m = v.files.n - at < VACUUM_BATCH ? v.files.n - at : VACUUM_BATCH;
        if (!o->dry_run) {
            rc = lks_store_delete_many(t->st, (const char *const *)v.files.keys + at, m, err);
            if (rc) {
                lks_err_prefix(err, "vacuum: deleting files");
                goto out;
            }
        }
        for (size_t i = at; i < at + m; i++) {
            r->files++;
            r->bytes += v.files.sizes[i];
        }
        for (size_t i = at; i < at + m && !stop; i++)
            if (o->on_file && o->on_file(o->ud, v.files.keys[i] + v.plen, v.files.sizes[i]))
                stop = 1;
    }
    /* writers' temporary files, one by one (a batch delete takes only keys) */
    for (size_t i = 0; i < v.temps.n && !stop; i++) {
        if (!o->dry_run && (rc = lks_store_delete_temp(t->st, v.temps.keys[i], err)) != LKS_OK) {
            lks_err_prefix(err, "vacuum: deleting a killed writer's temporary file");
            goto out;
        }
        r->files++;
        r->bytes += v.temps.sizes[i];
        if (o->on_file && o->on_file(o->ud, v.temps.keys[i] + v.plen, v.temps.sizes[i]))
            stop = 1;
    }
    /* their unfinished uploads (object stores) */
    if (!stop && (rc = lks_store_purge_uploads(t->st, list_prefix, v.cutoff_us, o->dry_run, &r->uploads, err))) {
        lks_err_prefix(err, "vacuum: aborting killed writers' uploads");
        goto out;
    }
    if (!o->dry_run && r->files)
        lks_log(LKS_LOG_INFO, "delta",
                "vacuum: deleted %" PRId64 " files (%" PRId64 " bytes) from table version %" PRId64, r->files, r->bytes,
                s->version);
out:
    free(list_prefix);
    vac_list_free(&v.files);
    vac_list_free(&v.temps);
    free(refs.v);
    lks_arena_free(&refs.a);
    lks_delta_snapshot_free(s);
    return rc;
}

/* ---- OPTIMIZE --------------------------------------------------------------------------------- */

/* "134217728", "128m", "128mb", "1g", "64 KiB" → bytes; -1 when not understood. */
static int64_t parse_bytes(const char *s) {
    if (!s)
        return -1;
    char *e;
    long long n = strtoll(s, &e, 10);
    if (e == s || n <= 0)
        return -1;
    while (*e == ' ')
        e++;
    int64_t mul = 1;
    switch (*e | 0x20) {
    case 'k': mul = 1LL << 10; break;
    case 'm': mul = 1LL << 20; break;
    case 'g': mul = 1LL << 30; break;
    case 't': mul = 1LL << 40; break;
    case 'b': mul = 1; break;
    default:
        if (*e)
            return -1;
    }
    if (*e) {
        e++;
        if ((*e | 0x20) == 'i')
            e++;
        if ((*e | 0x20) == 'b')
            e++;
        if (*e)
            return -1;
    }
    if (n > INT64_MAX / mul)
        return -1;
    return n * mul;
}

/* One candidate file: index into the snapshot's files, and its partition. */
typedef struct cand {
    size_t idx;
    const char *pkey; /* partition values as one string */
    int64_t size;
    const char *path;
} cand;

static int cmp_cand(const void *a, const void *b) {
    const cand *x = a, *y = b;
    int c = strcmp(x->pkey, y->pkey);
    if (c)
        return c;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* Partition values as one comparable string: "k=v\x1f" per key, sorted by key, nulls marked. */
static const char *partition_key(const lks_delta_add *f, lks_arena *a) {
    int n = f->npartition_values;
    const lks_delta_kv **kv = n ? malloc((size_t)n * sizeof *kv) : NULL;
    if (n && !kv)
        return NULL;
    for (int i = 0; i < n; i++)
        kv[i] = &f->partition_values[i];
    for (int i = 1; i < n; i++) /* few keys: insertion sort */
        for (int j = i; j > 0 && strcmp(kv[j - 1]->key ? kv[j - 1]->key : "", kv[j]->key ? kv[j]->key : "") > 0; j--) {
            const lks_delta_kv *tmp = kv[j];
            kv[j] = kv[j - 1];
            kv[j - 1] = tmp;
        }
    lks_buf b;
    lks_buf_init(&b, 0);
    int rc = LKS_OK;
    for (int i = 0; i < n && !rc; i++)
        rc = kv[i]->value ? lks_buf_printf(&b, "%s=%s\x1f", kv[i]->key ? kv[i]->key : "", kv[i]->value)
                          : lks_buf_printf(&b, "%s\x1e\x1f", kv[i]->key ? kv[i]->key : "");
    free(kv);
    const char *out = rc ? NULL : lks_arena_strndup(a, b.len ? (const char *)b.ptr : "", b.len);
    lks_buf_free(&b);
    return out;
}

typedef struct binsel {
    const lks_delta_snapshot *s;
    const int *bin_of; /* per snapshot file: bin number, -1 none */
    int bin;
} binsel;

static int in_bin(void *ud, const lks_delta_add *a) {
    const binsel *b = ud;
    if (a < b->s->files || a >= b->s->files + b->s->nfiles)
        return 0;
    return b->bin_of[a - b->s->files] == b->bin;
}

static int never_conflicts(void *ud, const lks_delta_add *a) {
    (void)ud, (void)a;
    return 0; /* rows appended concurrently are not in the files we rewrite */
}

/* Reads the files of bin `bin` and writes their rows into new files of x. */
static int rewrite_bin(lks_delta_table *t, const lks_delta_snapshot *s, lks_delta_txn *x, const int *bin_of, int bin,
                       int64_t target, lks_err *err) {
    binsel sel = {s, bin_of, bin};
    lks_delta_scan_opts so;
    memset(&so, 0, sizeof so);
    so.file_filter = in_bin;
    so.file_filter_ud = &sel;
    lks_delta_writer_opts wo;
    memset(&wo, 0, sizeof wo);
    lks_pq_writer_opts_default(&wo.parquet);
    wo.target_file_bytes = target;
    lks_delta_scan *sc = NULL;
    lks_delta_writer *w = NULL;
    int rc = lks_delta_scan_open(t, s, &so, &sc, err);
    if (!rc)
        rc = lks_delta_writer_open(x, &s->metadata, &wo, &w, err);
    while (!rc) {
        const lks_pq_value *row;
        int more = lks_delta_scan_next(sc, &row, err);
        if (more < 0)
            rc = more;
        if (more <= 0)
            break;
        rc = lks_delta_writer_write(w, row, err);
    }
    if (!rc)
        rc = lks_delta_writer_close(w, err);
    lks_delta_writer_free(w);
    lks_delta_scan_free(sc);
    return rc;
}

int lks_delta_optimize(lks_delta_table *t, const lks_delta_optimize_opts *o, lks_delta_optimize_result *r,
                       lks_err *err) {
    lks_delta_optimize_result dummy;
    if (!r)
        r = &dummy;
    memset(r, 0, sizeof *r);
    r->version = -1;
    if (!t)
        return lks_err_set(err, LKS_EINVAL, "optimize: no table");
    lks_delta_optimize_opts def;
    memset(&def, 0, sizeof def);
    if (!o)
        o = &def;
    lks_delta_snapshot *own = NULL;
    const lks_delta_snapshot *s = o->read;
    int rc;
    if (!s) {
        rc = lks_delta_snapshot_latest(t, &own, err);
        if (rc)
            return lks_err_prefix(err, "optimize");
        s = own;
    }
    int64_t target = o->target_file_bytes;
    if (target <= 0)
        target = parse_bytes(lks_delta_snapshot_property(s, "delta.targetFileSize"));
    if (target <= 0)
        target = (int64_t)128 << 20;
    int64_t min_bytes = o->min_file_bytes > 0 ? o->min_file_bytes : target / 4 * 3;

    lks_arena a;
    lks_arena_init(&a, 0);
    cand *c = malloc((s->nfiles ? s->nfiles : 1) * sizeof *c);
    int *bin_of = malloc((s->nfiles ? s->nfiles : 1) * sizeof *bin_of);
    lks_delta_txn *x = NULL;
    size_t nc = 0;
    if (!c || !bin_of) {
        rc = lks_err_set(err, LKS_ENOMEM, "optimize: out of memory");
        goto out;
    }
    for (size_t i = 0; i < s->nfiles; i++) {
        bin_of[i] = -1;
        const lks_delta_add *f = &s->files[i];
        if (f->size >= min_bytes)
            continue;
        const char *pk = partition_key(f, &a);
        if (!pk) {
            rc = lks_err_set(err, LKS_ENOMEM, "optimize: out of memory");
            goto out;
        }
        c[nc++] = (cand){i, pk, f->size, f->path};
    }
    if (nc)
        qsort(c, nc, sizeof *c, cmp_cand);
    /* bins: consecutive candidates of one partition, at most `target` bytes together */
    int nbins = 0;
    for (size_t i = 0; i < nc;) {
        size_t j = i;
        int64_t total = 0;
        while (j < nc && strcmp(c[j].pkey, c[i].pkey) == 0 && (j == i || total + c[j].size <= target)) {
            total += c[j].size;
            j++;
        }
        if (j - i >= 2) {
            for (size_t k = i; k < j; k++)
                bin_of[c[k].idx] = nbins;
            nbins++;
        }
        i = j;
    }
    if (nbins == 0) {
        rc = LKS_OK;
        goto out;
    }
    rc = lks_delta_txn_begin(t, s, "OPTIMIZE", &x, err);
    if (rc)
        goto out;
    lks_delta_txn_set_conflict_fn(x, never_conflicts, NULL);
    if ((rc = lks_delta_txn_set_param(x, "predicate", "[]")) || (rc = lks_delta_txn_set_param(x, "zOrderBy", "[]")) ||
        (rc = lks_delta_txn_set_param(x, "auto", "false"))) {
        rc = lks_err_set(err, rc, "optimize: %s", lks_strerror(rc));
        goto out;
    }
    for (int b = 0; b < nbins && !rc; b++)
        rc = rewrite_bin(t, s, x, bin_of, b, target, err);
    if (rc) {
        lks_err_prefix(err, "optimize");
        goto out;
    }
    int64_t del_ts = now_ms();
    for (size_t i = 0; i < s->nfiles && !rc; i++) {
        if (bin_of[i] < 0)
            continue;
        const lks_delta_add *f = &s->files[i];
        lks_delta_remove rm;
        memset(&rm, 0, sizeof rm);
        rm.path = f->path;
        rm.deletion_timestamp = del_ts;
        rm.data_change = 0;
        rm.extended_file_metadata = 1;
        rm.partition_values = f->partition_values;
        rm.npartition_values = f->npartition_values;
        rm.size = f->size;
        rm.dv = f->dv;
        rm.has_dv = f->has_dv;
        rc = lks_delta_txn_remove(x, &rm);
        if (!rc)
            rc = lks_delta_txn_read_file(x, f->path);
        if (rc)
            rc = lks_err_set(err, rc, "optimize: %s", lks_strerror(rc));
        r->files_removed++;
        r->bytes_before += f->size;
    }
    if (rc)
        goto out;
    size_t nadds;
    lks_delta_add *adds = lks_delta__txn_adds(x, &nadds);
    for (size_t i = 0; i < nadds; i++) {
        adds[i].data_change = 0;
        r->files_added++;
        r->bytes_after += adds[i].size;
    }
    if ((rc = lks_delta_txn_set_metric(x, "numRemovedFiles", r->files_removed)) ||
        (rc = lks_delta_txn_set_metric(x, "numAddedFiles", r->files_added)) ||
        (rc = lks_delta_txn_set_metric(x, "numRemovedBytes", r->bytes_before)) ||
        (rc = lks_delta_txn_set_metric(x, "numAddedBytes", r->bytes_after))) {
        rc = lks_err_set(err, rc, "optimize: %s", lks_strerror(rc));
        goto out;
    }
    int64_t v = -1;
    rc = lks_delta_txn_commit(x, o->max_attempts, &v, err);
    if (rc) {
        lks_err_prefix(err, "optimize");
        goto out;
    }
    r->version = v;
out:
    if (rc) {
        int64_t keep = r->version;
        memset(r, 0, sizeof *r);
        r->version = keep < 0 ? -1 : keep;
    }
    lks_delta_txn_free(x);
    free(c);
    free(bin_of);
    lks_arena_free(&a);
    lks_delta_snapshot_free(own);
    return rc;
}

/* ---- log cleanup ------------------------------------------------------------------------------ */

int lks_delta_log_cleanup(lks_delta_table *t, const lks_delta_snapshot *s, lks_err *err) {
    if (!t)
        return lks_err_set(err, LKS_EINVAL, "log cleanup: no table");
    lks_delta_snapshot *own = NULL;
    int rc;
    if (!s) {
        rc = lks_delta_snapshot_latest(t, &own, err);
        if (rc)
            return lks_err_prefix(err, "log cleanup");
        s = own;
    }
    int64_t retention = LOG_RETENTION_MS;
    const char *pv = lks_delta_snapshot_property(s, "delta.logRetentionDuration");
    if (pv) {
        int64_t ms = lks_delta_interval_ms(pv);
        if (ms >= 0)
            retention = ms;
    }
    int64_t cutoff = now_ms() - retention;
    cutoff = cutoff >= 0 ? cutoff / DAY_MS * DAY_MS : -((-cutoff + DAY_MS - 1) / DAY_MS) * DAY_MS;

    lks_delta_log_listing l;
    rc = lks_delta_log_list(t, &l, err);
    if (rc) {
        lks_err_prefix(err, "log cleanup");
        goto out;
    }
    /* the newest commit not newer than the cutoff, timestamps made monotonic */
    int64_t cutoff_commit = -1, prev = INT64_MIN;
    for (size_t i = 0; i < l.n; i++) {
        const lks_delta_log_file *f = &l.files[i];
        if (f->kind != 'j' || f->version > s->version)
            continue;
        int64_t ts = f->mtime_us / 1000;
        if (prev != INT64_MIN && ts <= prev)
            ts = prev + 1;
        prev = ts;
        if (ts <= cutoff)
            cutoff_commit = f->version;
    }
    /* the newest complete checkpoint at or below it, and at or below the
     * checkpoint s was read from (known readable: the history never starts
     * at a checkpoint nobody has read back) */
    int64_t limit = cutoff_commit < s->checkpoint_version ? cutoff_commit : s->checkpoint_version;
    int64_t cp = -1;
    for (size_t i = 0; i < l.n && limit >= 0; i++) {
        const lks_delta_log_file *f = &l.files[i];
        if ((f->kind != 'c' && f->kind != 'v') || f->version > limit || f->version <= cp)
            continue;
        lks_delta_segment sg;
        int src = lks_delta_log_segment(&l, f->version, f->version, &sg, NULL);
        if (src == LKS_OK && sg.checkpoint_version == f->version)
            cp = f->version;
        lks_delta_segment_free(&sg);
    }
    size_t deleted = 0;
    for (size_t i = 0; i < l.n && cp > 0; i++) {
        const lks_delta_log_file *f = &l.files[i];
        int go = (f->kind == 'x' && f->version <= cp) ||
                 (f->version < cp && (f->kind == 'j' || f->kind == 'c' || f->kind == 'v' || f->kind == 'r'));
        if (!go)
            continue;
        rc = lks_store_delete(t->st, f->key, err);
        if (rc) {
            lks_err_prefix(err, "log cleanup: deleting %s", f->key);
            break;
        }
        deleted++;
    }
    if (deleted)
        lks_log(LKS_LOG_INFO, "delta", "log cleanup: deleted %zu log files below checkpoint %" PRId64, deleted, cp);
out:
    lks_delta_log_listing_free(&l);
    lks_delta_snapshot_free(own);
    return rc;
}
