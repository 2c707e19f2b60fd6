/*
 * snapshot.c — log replay into the state of a version (PROTOCOL.md
 * "Action Reconciliation"), time travel by version and timestamp.
 *
 * Replay reads the segment's checkpoint, then its commits in order.  Files
 * are keyed by (path, deletion vector unique id) in a hash table whose slot
 * holds the key's latest action: an add (live) or a remove (tombstone), so
 * replay is linear in the number of actions.  Within one commit removes are
 * applied before adds (a commit may remove and re-add the same file).
 * Strings are parsed into a scratch arena per commit and what survives is
 * copied into the snapshot's arena.
 */
#include "delta/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_RETENTION_MS (7LL * 24 * 3600 * 1000)

/* ---- a string-keyed hash index: key → entry index -------------------- */

typedef struct kmap {
    uint32_t *slot; /* entry index + 1, 0 empty */
    size_t cap;     /* power of two */
    size_t n;
    const char **key;
    size_t *klen;
    uint64_t *hash;
    size_t ecap;
} kmap;

static void kmap_free(kmap *m) {
    free(m->slot);
    free(m->key);
    free(m->klen);
    free(m->hash);
    memset(m, 0, sizeof *m);
}

static int kmap_rehash(kmap *m, size_t ncap) {
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (!ns) return LKS_ENOMEM;
    for (size_t i = 0; i < m->n; i++) {
        size_t j = m->hash[i] & (ncap - 1);
        while (ns[j]) j = (j + 1) & (ncap - 1);
        ns[j] = (uint32_t)(i + 1);
    }
    free(m->slot);
    m->slot = ns;
    m->cap = ncap;
    return LKS_OK;
}

/* Finds key; when absent and `a` is given, inserts a copy (made in a).
 * Returns the index, -1 when absent (a == NULL), -2 out of memory.
 * *created tells whether it was inserted. */
static long kmap_get(kmap *m, const char *key, size_t klen, lks_arena *a, int *created) {
    uint64_t h = lks_hash(key, klen);
    if (created) *created = 0;
    if (m->cap) {
        size_t j = h & (m->cap - 1);
        while (m->slot[j]) {
            size_t i = m->slot[j] - 1;
            if (m->hash[i] == h && m->klen[i] == klen && memcmp(m->key[i], key, klen) == 0) return (long)i;
            j = (j + 1) & (m->cap - 1);
        }
    }
    if (!a) return -1;
    if (m->n >= UINT32_MAX - 1) return -2;
    if ((m->n + 1) * 2 > m->cap && kmap_rehash(m, m->cap ? m->cap * 2 : 64)) return -2;
    if (m->n == m->ecap) {
        size_t nc = m->ecap ? m->ecap * 2 : 64;
        const char **nk = realloc(m->key, nc * sizeof *nk);
        if (!nk) return -2;
        m->key = nk;
        size_t *nl = realloc(m->klen, nc * sizeof *nl);
        if (!nl) return -2;
        m->klen = nl;
        uint64_t *nh = realloc(m->hash, nc * sizeof *nh);
        if (!nh) return -2;
        m->hash = nh;
        m->ecap = nc;
    }
    char *copy = lks_arena_memdup(a, key, klen + 1);
    if (!copy) return -2;
    size_t i = m->n++;
    m->key[i] = copy;
    m->klen[i] = klen;
    m->hash[i] = h;
    size_t j = h & (m->cap - 1);
    while (m->slot[j]) j = (j + 1) & (m->cap - 1);
    m->slot[j] = (uint32_t)(i + 1);
    if (created) *created = 1;
    return (long)i;
}

/* Grows a value array to hold at least n entries. */
static int grow(void **arr, size_t *cap, size_t n, size_t size) {
    if (n <= *cap) return LKS_OK;
    size_t nc = *cap ? *cap : 64;
    while (nc < n) nc *= 2;
    void *p = realloc(*arr, nc * size);
    if (!p) return LKS_ENOMEM;
    *arr = p;
    *cap = nc;
    return LKS_OK;
}

/* ---- deep copies into the snapshot's arena --------------------------- */

static const char *cp_str(lks_arena *a, const char *s, int *oom) {
    if (!s) return NULL;
    char *r = lks_arena_strdup(a, s);
    if (!r) *oom = 1;
    return r;
}

static const char **cp_strs(lks_arena *a, const char **v, int n, int *oom) {
    if (!v) return NULL;
    const char **r = lks_arena_alloc(a, (size_t)(n ? n : 1) * sizeof *r);
    if (!r) {
        *oom = 1;
        return NULL;
    }
    for (int i = 0; i < n; i++) r[i] = cp_str(a, v[i], oom);
    return r;
}

static lks_delta_kv *cp_kv(lks_arena *a, const lks_delta_kv *kv, int n, int *oom) {
    if (!kv || n == 0) return NULL;
    lks_delta_kv *r = lks_arena_alloc(a, (size_t)n * sizeof *r);
    if (!r) {
        *oom = 1;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        r[i].key = cp_str(a, kv[i].key, oom);
        r[i].value = cp_str(a, kv[i].value, oom);
    }
    return r;
}

static void cp_add(lks_arena *a, lks_delta_add *d, const lks_delta_add *s, int *oom) {
    *d = *s;
    d->path = cp_str(a, s->path, oom);
    d->partition_values = cp_kv(a, s->partition_values, s->npartition_values, oom);
    d->stats = cp_str(a, s->stats, oom);
    d->tags = cp_kv(a, s->tags, s->ntags, oom);
    d->dv.path_or_inline = cp_str(a, s->dv.path_or_inline, oom);
    d->clustering_provider = cp_str(a, s->clustering_provider, oom);
}

static void cp_remove(lks_arena *a, lks_delta_remove *d, const lks_delta_remove *s, int *oom) {
    *d = *s;
    d->path = cp_str(a, s->path, oom);
    d->partition_values = cp_kv(a, s->partition_values, s->npartition_values, oom);
    d->dv.path_or_inline = cp_str(a, s->dv.path_or_inline, oom);
}

static void cp_protocol(lks_arena *a, lks_delta_protocol *d, const lks_delta_protocol *s, int *oom) {
    *d = *s;
    d->reader_features = cp_strs(a, s->reader_features, s->nreader_features, oom);
    d->writer_features = cp_strs(a, s->writer_features, s->nwriter_features, oom);
}

static int cp_metadata(lks_arena *a, lks_delta_metadata *d, const lks_delta_metadata *s, int *oom, lks_err *err) {
    *d = *s;
    d->id = cp_str(a, s->id, oom);
    d->name = cp_str(a, s->name, oom);
    d->description = cp_str(a, s->description, oom);
    d->format_provider = cp_str(a, s->format_provider, oom);
    d->schema_string = cp_str(a, s->schema_string, oom);
    d->partition_columns = cp_strs(a, s->partition_columns, s->npartition_columns, oom);
    d->configuration = cp_kv(a, s->configuration, s->nconfiguration, oom);
    d->schema = NULL;
    if (*oom || !d->schema_string) return LKS_OK;
    return lks_delta_schema_parse(d->schema_string, strlen(d->schema_string), a, &d->schema, err);
}

/* ---- replay ---------------------------------------------------------- */

typedef struct fent {
    int is_add;
    lks_delta_add add;
    lks_delta_remove rem;
} fent;

typedef struct replay {
    lks_delta_table *t;
    lks_delta_snapshot *snap;
    lks_arena *a; /* the snapshot's */
    lks_err *err;
    kmap files;
    fent *fe;
    size_t fecap;
    kmap apps;
    lks_delta_txn_action *tx;
    size_t txcap;
    kmap doms;
    lks_delta_domain *dm;
    size_t dmcap;
    int have_protocol, have_metadata;
    int64_t commit_ict;   /* inCommitTimestamp of the last commit replayed, -1 */
    int64_t commit_ts;    /* its commitInfo.timestamp */
    int in_checkpoint;
    lks_delta_sidecar *sc;
    size_t nsc, sccap;
    lks_buf keybuf;
} replay;

static int oom_err(replay *r) { return lks_err_set(r->err, LKS_ENOMEM, "log replay: out of memory"); }

/* Key of a file action: path, NUL, DV unique id. */
static int file_key(replay *r, const char *path, int has_dv, const lks_delta_dv *dv) {
    lks_buf_reset(&r->keybuf);
    int rc = lks_buf_append(&r->keybuf, path, strlen(path) + 1);
    if (!rc && has_dv) {
        rc = lks_buf_append_byte(&r->keybuf, (uint8_t)dv->storage_type);
        if (!rc) rc = lks_buf_append(&r->keybuf, dv->path_or_inline, strlen(dv->path_or_inline));
        if (!rc && dv->offset >= 0) rc = lks_buf_printf(&r->keybuf, "@%d", (int)dv->offset);
    }
    if (!rc) rc = lks_buf_cstr(&r->keybuf);
    return rc;
}

static long file_slot(replay *r, const char *path, int has_dv, const lks_delta_dv *dv) {
    if (file_key(r, path, has_dv, dv)) return -2;
    int created;
    long i = kmap_get(&r->files, (const char *)r->keybuf.ptr, r->keybuf.len, r->a, &created);
    if (i < 0) return -2;
    if (grow((void **)&r->fe, &r->fecap, (size_t)i + 1, sizeof *r->fe)) return -2;
    if (created) memset(&r->fe[i], 0, sizeof r->fe[i]);
    return i;
}

/* Applies one action (strings borrowed from a scratch arena: copied). */
static int apply(replay *r, const lks_delta_action *act) {
    int oom = 0;
    switch (act->kind) {
    case LKS_DA_ADD: {
        long i = file_slot(r, act->u.add.path, act->u.add.has_dv, &act->u.add.dv);
        if (i < 0) return oom_err(r);
        r->fe[i].is_add = 1;
        cp_add(r->a, &r->fe[i].add, &act->u.add, &oom);
        break;
    }
    case LKS_DA_REMOVE: {
        long i = file_slot(r, act->u.remove.path, act->u.remove.has_dv, &act->u.remove.dv);
        if (i < 0) return oom_err(r);
        r->fe[i].is_add = 0;
        cp_remove(r->a, &r->fe[i].rem, &act->u.remove, &oom);
        break;
    }
    case LKS_DA_PROTOCOL:
        cp_protocol(r->a, &r->snap->protocol, &act->u.protocol, &oom);
        r->have_protocol = 1;
        break;
    case LKS_DA_METADATA:
        if (cp_metadata(r->a, &r->snap->metadata, &act->u.metadata, &oom, r->err) != LKS_OK)
            return r->err ? r->err->code : LKS_ECORRUPT;
        r->have_metadata = 1;
        break;
    case LKS_DA_TXN: {
        const char *id = act->u.txn.app_id;
        int created;
        long i = kmap_get(&r->apps, id, strlen(id), r->a, &created);
        if (i < 0 || grow((void **)&r->tx, &r->txcap, (size_t)i + 1, sizeof *r->tx)) return oom_err(r);
        r->tx[i] = act->u.txn;
        r->tx[i].app_id = r->apps.key[i];
        break;
    }
    case LKS_DA_DOMAIN: {
        const char *d = act->u.domain.domain;
        int created;
        long i = kmap_get(&r->doms, d, strlen(d), r->a, &created);
        if (i < 0 || grow((void **)&r->dm, &r->dmcap, (size_t)i + 1, sizeof *r->dm)) return oom_err(r);
        r->dm[i].domain = r->doms.key[i];
        r->dm[i].configuration = cp_str(r->a, act->u.domain.configuration, &oom);
        r->dm[i].removed = act->u.domain.removed;
        break;
    }
    case LKS_DA_COMMIT_INFO:
        if (!r->in_checkpoint) {
            r->commit_ict = act->u.commit_info.in_commit_timestamp;
            r->commit_ts = act->u.commit_info.timestamp;
        }
        break;
    case LKS_DA_SIDECAR:
        if (!r->in_checkpoint) return lks_err_set(r->err, LKS_ECORRUPT, "a sidecar action outside a checkpoint");
        if (grow((void **)&r->sc, &r->sccap, r->nsc + 1, sizeof *r->sc)) return oom_err(r);
        r->sc[r->nsc] = act->u.sidecar;
        r->sc[r->nsc].path = cp_str(r->a, act->u.sidecar.path, &oom);
        r->nsc++;
        break;
    default: break; /* cdc, checkpointMetadata, unknown: no state */
    }
    return oom ? oom_err(r) : LKS_OK;
}

static int apply_cb(void *ud, const lks_delta_action *act, lks_err *err) {
    (void)err;
    return apply(ud, act);
}

/* Parses the non-blank lines of buf into *acts (strings in `a`), leaving
 * out unknown actions. */
static int parse_lines(replay *r, const char *name, const lks_buf *buf, lks_arena *a, lks_delta_action **acts,
                       size_t *nacts, size_t *cap) {
    const char *p = (const char *)buf->ptr, *end = p + buf->len;
    size_t line = 0;
    *nacts = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *q = p, *qe = le;
        while (q < qe && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        while (qe > q && (qe[-1] == ' ' || qe[-1] == '\t' || qe[-1] == '\r')) qe--;
        if (q < qe) {
            if (grow((void **)acts, cap, *nacts + 1, sizeof **acts)) return oom_err(r);
            int rc = lks_delta_action_parse(q, (size_t)(qe - q), a, &(*acts)[*nacts], r->err);
            if (rc) return lks_err_prefix(r->err, "%s line %zu", name, line);
            if ((*acts)[*nacts].kind != LKS_DA_NONE) (*nacts)++;
        }
        p = nl ? nl + 1 : end;
    }
    return LKS_OK;
}

/* Reads a checkpoint file ('c' part or 'v'), its sidecars included. */
static int read_checkpoint_file(replay *r, const lks_delta_log_file *f, lks_arena *scratch) {
    size_t n = strlen(f->name);
    int rc;
    r->in_checkpoint = 1;
    r->nsc = 0;
    if (n > 5 && strcmp(f->name + n - 5, ".json") == 0) {
        lks_buf b;
        lks_buf_init(&b, LKS_BUF_MAX_DEFAULT);
        rc = lks_store_get(r->t->st, f->key, &b, r->err);
        lks_delta_action *acts = NULL;
        size_t nacts = 0, cap = 0;
        if (!rc) rc = parse_lines(r, f->name, &b, scratch, &acts, &nacts, &cap);
        for (size_t i = 0; !rc && i < nacts; i++) rc = apply(r, &acts[i]);
        free(acts);
        lks_buf_free(&b);
    } else {
        rc = lks_delta_checkpoint_read_parquet(r->t, f->key, scratch, apply_cb, r, r->err);
    }
    lks_arena_reset(scratch);
    /* sidecars: files of add/remove actions under _delta_log/_sidecars/ */
    size_t nsc = r->nsc;
    for (size_t i = 0; !rc && i < nsc; i++) {
        const char *sp = r->sc[i].path;
        if (strchr(sp, ':')) {
            rc = lks_err_set(r->err, LKS_EUNSUPPORTED, "%s: sidecar with an absolute path \"%s\"", f->name, sp);
            break;
        }
        struct lks_delta_table side = *r->t;
        char *pre = lks_arena_printf(scratch, "%s_sidecars", r->t->log_prefix);
        if (!pre) {
            rc = oom_err(r);
            break;
        }
        side.prefix = pre;
        const char *key = lks_delta_table_key(&side, sp, scratch);
        if (!key) {
            rc = oom_err(r);
            break;
        }
        size_t before = r->nsc;
        rc = lks_delta_checkpoint_read_parquet(r->t, key, scratch, apply_cb, r, r->err);
        if (!rc && r->nsc != before)
            rc = lks_err_set(r->err, LKS_ECORRUPT, "sidecar %s names further sidecars", key);
        lks_arena_reset(scratch);
    }
    r->in_checkpoint = 0;
    if (rc) return lks_err_prefix(r->err, "checkpoint %s", f->name);
    return LKS_OK;
}

static int read_commit(replay *r, const lks_delta_log_file *f, lks_arena *scratch, lks_delta_action **acts,
                       size_t *cap) {
    lks_buf b;
    lks_buf_init(&b, LKS_BUF_MAX_DEFAULT);
    int rc = lks_store_get(r->t->st, f->key, &b, r->err);
    size_t nacts = 0;
    r->commit_ict = r->commit_ts = -1;
    if (!rc) rc = parse_lines(r, f->name, &b, scratch, acts, &nacts, cap);
    lks_buf_free(&b);
    /* PROTOCOL.md: at most one metaData (and one protocol) action per version */
    int nmeta = 0, nproto = 0;
    for (size_t i = 0; !rc && i < nacts; i++) {
        nmeta += (*acts)[i].kind == LKS_DA_METADATA;
        nproto += (*acts)[i].kind == LKS_DA_PROTOCOL;
    }
    if (!rc && (nmeta > 1 || nproto > 1))
        rc = lks_err_set(r->err, LKS_ECORRUPT, "%s: %d %s actions in one commit (at most one per version)", f->name,
                         nmeta > 1 ? nmeta : nproto, nmeta > 1 ? "metaData" : "protocol");
    /* removes (and everything else) first, then adds */
    for (size_t i = 0; !rc && i < nacts; i++)
        if ((*acts)[i].kind != LKS_DA_ADD) rc = apply(r, &(*acts)[i]);
    for (size_t i = 0; !rc && i < nacts; i++)
        if ((*acts)[i].kind == LKS_DA_ADD) rc = apply(r, &(*acts)[i]);
    if (rc && r->err && strncmp(r->err->msg, f->name, strlen(f->name)) != 0)
        lks_err_prefix(r->err, "%s", f->name);
    lks_arena_reset(scratch);
    return rc;
}

static void replay_free(replay *r) {
    kmap_free(&r->files);
    kmap_free(&r->apps);
    kmap_free(&r->doms);
    free(r->fe);
    free(r->tx);
    free(r->dm);
    free(r->sc);
    lks_buf_free(&r->keybuf);
}

/* ---- protocol, properties, retention --------------------------------- */

static int check_protocol(const lks_delta_protocol *p, lks_err *err) {
    static const char *const supported[] = {"deletionVectors", "columnMapping",       "timestampNtz",
                                            "v2Checkpoint",    "vacuumProtocolCheck", "typeWidening",
                                            "typeWidening-preview"};
    if (p->min_reader < 1)
        return lks_err_set(err, LKS_ECORRUPT, "protocol: invalid minReaderVersion %d", p->min_reader);
    if (p->min_reader > 3)
        return lks_err_set(err, LKS_EUNSUPPORTED, "table needs reader version %d (we support up to 3)",
                           p->min_reader);
    if (p->min_reader == 3) {
        for (int i = 0; i < p->nreader_features; i++) {
            int ok = 0;
            for (size_t k = 0; k < sizeof supported / sizeof supported[0] && !ok; k++)
                ok = strcmp(p->reader_features[i], supported[k]) == 0;
            if (!ok)
                return lks_err_set(err, LKS_EUNSUPPORTED, "table needs reader feature \"%s\"", p->reader_features[i]);
        }
    }
    return LKS_OK;
}

const char *lks_delta_snapshot_property(const lks_delta_snapshot *s, const char *key) {
    if (!s || !key) return NULL;
    for (int i = s->metadata.nconfiguration; i-- > 0;)
        if (strcmp(s->metadata.configuration[i].key, key) == 0) return s->metadata.configuration[i].value;
    return NULL;
}

static int prop_true(const lks_delta_snapshot *s, const char *key) {
    const char *v = lks_delta_snapshot_property(s, key);
    return v && strcasecmp(v, "true") == 0;
}

/* "interval 1 week", "interval 7 days", "2 hours", ... → ms; -1 when not
 * understood. */
static int64_t parse_interval_ms(const char *s) {
    while (*s == ' ') s++;
    if (strncasecmp(s, "interval", 8) == 0) s += 8;
    int64_t total = 0;
    int any = 0;
    for (;;) {
        while (*s == ' ') s++;
        if (!*s) break;
        char *e;
        long long n = strtoll(s, &e, 10);
        if (e == s || n < 0) return -1;
        s = e;
        while (*s == ' ') s++;
        const char *u = s;
        while (*s && *s != ' ') s++;
        size_t ul = (size_t)(s - u);
        if (ul > 1 && (u[ul - 1] == 's' || u[ul - 1] == 'S')) ul--;
        static const struct {
            const char *u;
            int64_t ms;
        } units[] = {{"week", 604800000LL}, {"day", 86400000LL}, {"hour", 3600000LL},      {"minute", 60000LL},
                     {"second", 1000LL},     {"millisecond", 1}, {"msec", 1},              {"sec", 1000LL},
                     {"min", 60000LL},      {"ms", 1},          {"microsecond", 0}};
        int found = 0;
        for (size_t k = 0; k < sizeof units / sizeof units[0] && !found; k++)
            if (strlen(units[k].u) == ul && strncasecmp(units[k].u, u, ul) == 0) {
                if (units[k].ms && n > INT64_MAX / units[k].ms) return -1;
                total += units[k].ms ? n * units[k].ms : n / 1000;
                found = 1;
            }
        if (!found) return -1;
        any = 1;
    }
    return any ? total : -1;
}

int64_t lks_delta_interval_ms(const char *s) { return s ? parse_interval_ms(s) : -1; }

static int cmp_add(const void *a, const void *b) {
    const lks_delta_add *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c) return c;
    if (x->has_dv != y->has_dv) return x->has_dv - y->has_dv;
    return x->has_dv ? strcmp(x->dv.path_or_inline, y->dv.path_or_inline) : 0;
}
static int cmp_remove(const void *a, const void *b) {
    const lks_delta_remove *x = a, *y = b;
    return strcmp(x->path, y->path);
}
static int cmp_txn(const void *a, const void *b) {
    return strcmp(((const lks_delta_txn_action *)a)->app_id, ((const lks_delta_txn_action *)b)->app_id);
}
static int cmp_domain(const void *a, const void *b) {
    return strcmp(((const lks_delta_domain *)a)->domain, ((const lks_delta_domain *)b)->domain);
}

/* inCommitTimestamp of commit file f (its commitInfo, the first action). */
static int read_ict(lks_delta_table *t, const lks_delta_log_file *f, int64_t *ict, lks_err *err) {
    *ict = -1;
    lks_buf b;
    lks_buf_init(&b, LKS_BUF_MAX_DEFAULT);
    int rc = lks_store_get(t->st, f->key, &b, err);
    lks_arena a;
    lks_arena_init(&a, 0);
    const char *p = (const char *)b.ptr, *end = p + b.len;
    while (!rc && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le > p + 1) {
            lks_delta_action act;
            rc = lks_delta_action_parse(p, (size_t)(le - p), &a, &act, err);
            if (rc) {
                lks_err_prefix(err, "%s", f->name);
                break;
            }
            if (act.kind == LKS_DA_COMMIT_INFO) {
                *ict = act.u.commit_info.in_commit_timestamp;
                break;
            }
        }
        p = nl ? nl + 1 : end;
    }
    lks_arena_free(&a);
    lks_buf_free(&b);
    if (!rc && *ict < 0)
        rc = lks_err_set(err, LKS_ECORRUPT, "%s: in-commit timestamps are enabled but the commit has none", f->name);
    return rc;
}

/* ---- building a snapshot --------------------------------------------- */

/* One replay attempt of a segment.  *cp_failed tells whether reading the
 * checkpoint itself failed (the caller may retry an older one). */
static int build(lks_delta_table *t, const lks_delta_log_listing *l, const lks_delta_segment *sg,
                 lks_delta_snapshot **out, int *cp_failed, lks_err *err) {
    *out = NULL;
    *cp_failed = 0;
    lks_err local;
    if (!err) err = &local;
    lks_delta_snapshot *s = calloc(1, sizeof *s);
    if (!s) return lks_err_set(err, LKS_ENOMEM, "snapshot: out of memory");
    lks_arena_init(&s->arena, 0);
    s->version = sg->version;
    s->checkpoint_version = sg->checkpoint_version;
    replay r;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.snap = s;
    r.a = &s->arena;
    r.err = err;
    r.commit_ict = r.commit_ts = -1;
    lks_buf_init(&r.keybuf, (size_t)1 << 24);
    lks_arena scratch;
    lks_arena_init(&scratch, 0);
    lks_delta_action *acts = NULL;
    size_t acap = 0;
    int rc = LKS_OK;
    for (int i = 0; !rc && i < sg->ncheckpoint; i++) {
        rc = read_checkpoint_file(&r, sg->checkpoint[i], &scratch);
        if (rc) *cp_failed = 1;
    }
    for (size_t i = 0; !rc && i < sg->ncommits; i++) rc = read_commit(&r, sg->commits[i], &scratch, &acts, &acap);
    free(acts);
    lks_arena_free(&scratch);
    if (!rc && !r.have_protocol)
        rc = lks_err_set(err, LKS_ECORRUPT, "version %lld has no protocol action", (long long)sg->version);
    if (!rc && !r.have_metadata)
        rc = lks_err_set(err, LKS_ECORRUPT, "version %lld has no metaData action", (long long)sg->version);
    if (!rc) rc = check_protocol(&s->protocol, err);
    /* the live state */
    if (!rc) {
        size_t nadd = 0, nrem = 0;
        for (size_t i = 0; i < r.files.n; i++) {
            if (r.fe[i].is_add)
                nadd++;
            else
                nrem++;
        }
        s->files = lks_arena_alloc(&s->arena, (nadd ? nadd : 1) * sizeof *s->files);
        s->tombstones = lks_arena_alloc(&s->arena, (nrem ? nrem : 1) * sizeof *s->tombstones);
        if (!s->files || !s->tombstones) rc = oom_err(&r);
    }
    if (!rc) {
        int64_t retention = DEFAULT_RETENTION_MS;
        const char *rv = lks_delta_snapshot_property(s, "delta.deletedFileRetentionDuration");
        if (rv) {
            int64_t ms = parse_interval_ms(rv);
            if (ms >= 0) retention = ms;
        }
        int64_t horizon = lks_now_us() / 1000 - retention;
        for (size_t i = 0; i < r.files.n; i++) {
            if (r.fe[i].is_add)
                s->files[s->nfiles++] = r.fe[i].add;
            else if (r.fe[i].rem.deletion_timestamp > horizon)
                s->tombstones[s->ntombstones++] = r.fe[i].rem;
        }
        qsort(s->files, s->nfiles, sizeof *s->files, cmp_add);
        qsort(s->tombstones, s->ntombstones, sizeof *s->tombstones, cmp_remove);
        s->txns = lks_arena_alloc(&s->arena, (r.apps.n ? r.apps.n : 1) * sizeof *s->txns);
        if (s->txns && r.apps.n) memcpy(s->txns, r.tx, r.apps.n * sizeof *s->txns);
        s->domains = lks_arena_alloc(&s->arena, (r.doms.n ? r.doms.n : 1) * sizeof *s->domains);
        if (!s->txns || !s->domains) rc = oom_err(&r);
    }
    if (!rc) {
        s->ntxns = r.apps.n;
        qsort(s->txns, s->ntxns, sizeof *s->txns, cmp_txn);
        for (size_t i = 0; i < r.doms.n; i++)
            if (!r.dm[i].removed) s->domains[s->ndomains++] = r.dm[i];
        qsort(s->domains, s->ndomains, sizeof *s->domains, cmp_domain);
    }
    /* the timestamp of the version */
    if (!rc) {
        const lks_delta_log_file *cf = lks_delta_log_find_commit(l, sg->version);
        int ict_on = prop_true(s, "delta.enableInCommitTimestamps");
        if (ict_on && sg->ncommits > 0) {
            if (r.commit_ict < 0)
                rc = lks_err_set(err, LKS_ECORRUPT, "%s: in-commit timestamps are enabled but the commit has none",
                                 sg->commits[sg->ncommits - 1]->name);
            s->timestamp = r.commit_ict;
        } else if (ict_on && cf) {
            rc = read_ict(t, cf, &s->timestamp, err);
        } else if (cf || sg->ncheckpoint > 0) {
            int64_t mt;
            rc = lks_delta_log_mtime(t, l, cf ? cf : sg->checkpoint[0], &mt, err);
            s->timestamp = mt / 1000;
        }
    }
    replay_free(&r);
    if (rc) {
        lks_delta_snapshot_free(s);
        return rc;
    }
    *out = s;
    return LKS_OK;
}

static int snapshot_from_listing(lks_delta_table *t, const lks_delta_log_listing *l, int64_t version,
                                 lks_delta_snapshot **out, lks_err *err) {
    int64_t max_cp = -1;
    int64_t bad_cp = -1;  /* the first checkpoint that failed, and why */
    char bad_msg[256] = "";
    for (int attempt = 0;; attempt++) {
        lks_delta_segment sg;
        int rc = lks_delta_log_segment(l, version, max_cp, &sg, err);
        int cp_failed = 0;
        int64_t cpv = sg.checkpoint_version;
        if (!rc) rc = build(t, l, &sg, out, &cp_failed, err);
        lks_delta_segment_free(&sg);
        /* an unreadable checkpoint: fall back to an older one (or none) */
        if (rc && cp_failed && cpv >= 0 && (rc == LKS_ECORRUPT || rc == LKS_ENOTFOUND) && attempt < 16) {
            lks_log(LKS_LOG_WARN, "delta", "checkpoint %lld unreadable (%s); trying an older one", (long long)cpv,
                    err ? err->msg : "");
            if (cpv == 0) return rc;
            if (bad_cp < 0) {
                bad_cp = cpv;
                snprintf(bad_msg, sizeof bad_msg, "%.200s", err ? err->msg : "");
            }
            max_cp = cpv - 1;
            /* lks_delta_log_segment treats max_checkpoint -1 as "any":
             * with no older checkpoint, segment() starts from commit 0 */
            continue;
        }
        /* the fallback failed too: say why the checkpoint was left out */
        if (rc && bad_cp >= 0 && err) {
            char first[256];
            snprintf(first, sizeof first, "%.200s", err->msg);
            lks_err_set(err, rc, "%s (checkpoint %lld was unreadable: %s)", first, (long long)bad_cp, bad_msg);
        }
        return rc;
    }
}

int lks_delta_snapshot_at_version(lks_delta_table *t, int64_t version, lks_delta_snapshot **out, lks_err *err) {
    *out = NULL;
    if (!t) return lks_err_set(err, LKS_EINVAL, "snapshot: no table");
    lks_delta_log_listing l;
    /* names only: the one mtime a snapshot needs is asked for in build() */
    int rc = lks_delta_log_list_names(t, &l, err);
    if (!rc) rc = snapshot_from_listing(t, &l, version, out, err);
    lks_delta_log_listing_free(&l);
    return rc;
}

int lks_delta_snapshot_latest(lks_delta_table *t, lks_delta_snapshot **out, lks_err *err) {
    return lks_delta_snapshot_at_version(t, -1, out, err);
}

/* Earliest version that can be reconstructed: 0 with commit 0, else the
 * oldest complete checkpoint. */
static int64_t earliest_version(const lks_delta_log_listing *l, int64_t latest) {
    if (lks_delta_log_find_commit(l, 0)) return 0;
    for (size_t i = 0; i < l->n; i++) {
        int64_t v = l->files[i].version;
        if (v > latest) break;
        if (l->files[i].kind != 'c' && l->files[i].kind != 'v') continue;
        lks_delta_segment sg;
        int rc = lks_delta_log_segment(l, v, v, &sg, NULL);
        int ok = !rc && sg.checkpoint_version == v;
        lks_delta_segment_free(&sg);
        if (ok) return v;
    }
    return latest;
}

static int64_t file_ts_ms(const lks_delta_log_listing *l, int64_t v) {
    const lks_delta_log_file *f = lks_delta_log_find_commit(l, v);
    if (f) return f->mtime_us / 1000;
    for (size_t i = 0; i < l->n; i++)
        if (l->files[i].version == v) return l->files[i].mtime_us / 1000;
    return 0;
}

int lks_delta_snapshot_at_timestamp(lks_delta_table *t, int64_t ts_ms, lks_delta_snapshot **out, lks_err *err) {
    *out = NULL;
    if (!t) return lks_err_set(err, LKS_EINVAL, "snapshot: no table");
    lks_delta_log_listing l;
    lks_delta_snapshot *latest = NULL;
    int64_t *adj = NULL;
    int rc = lks_delta_log_list(t, &l, err);
    if (!rc) rc = snapshot_from_listing(t, &l, -1, &latest, err);
    if (rc) goto out;
    int64_t lv = latest->version;
    int64_t first = earliest_version(&l, lv);
    int64_t ict_from = lv + 1; /* versions >= ict_from use in-commit timestamps */
    if (prop_true(latest, "delta.enableInCommitTimestamps")) {
        const char *ev = lks_delta_snapshot_property(latest, "delta.inCommitTimestampEnablementVersion");
        ict_from = ev ? strtoll(ev, NULL, 10) : 0;
        if (ict_from < first) ict_from = first;
        if (ict_from > lv) ict_from = lv;
    }
    int64_t chosen = -1;
    if (ict_from <= lv) {
        /* binary search over in-commit timestamps (monotonic by the protocol) */
        int64_t lo = ict_from, hi = lv, best = -1;
        while (lo <= hi) {
            int64_t mid = lo + (hi - lo) / 2;
            int64_t ict;
            const lks_delta_log_file *f = lks_delta_log_find_commit(&l, mid);
            if (!f) {
                rc = lks_err_set(err, LKS_ENOTFOUND, "commit %lld is gone: cannot read its timestamp", (long long)mid);
                goto out;
            }
            rc = read_ict(t, f, &ict, err);
            if (rc) goto out;
            if (ict <= ts_ms) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        chosen = best;
    }
    if (chosen < 0 && ict_from > first) {
        /* file modification times, made monotonic as Delta does */
        size_t n = (size_t)(ict_from - first);
        adj = malloc(n * sizeof *adj);
        if (!adj) {
            rc = lks_err_set(err, LKS_ENOMEM, "snapshot: out of memory");
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            int64_t ts = file_ts_ms(&l, first + (int64_t)i);
            if (i > 0 && ts <= adj[i - 1]) ts = adj[i - 1] + 1;
            adj[i] = ts;
        }
        for (size_t i = n; i-- > 0;)
            if (adj[i] <= ts_ms) {
                chosen = first + (int64_t)i;
                break;
            }
        if (chosen < 0) {
            char when[40];
            lks_fmt_timestamp_us(when, adj[0] * 1000, 1);
            rc = lks_err_set(err, LKS_ENOTFOUND,
                             "timestamp %lld is before the earliest available version %lld (committed at %s, %lld ms)",
                             (long long)ts_ms, (long long)first, when, (long long)adj[0]);
            goto out;
        }
    }
    if (chosen < 0) {
        int64_t ict = -1;
        const lks_delta_log_file *f = lks_delta_log_find_commit(&l, ict_from);
        if (f) read_ict(t, f, &ict, NULL);
        char when[40];
        lks_fmt_timestamp_us(when, ict * 1000, 1);
        rc = lks_err_set(err, LKS_ENOTFOUND,
                         "timestamp %lld is before the earliest available version %lld (committed at %s, %lld ms)",
                         (long long)ts_ms, (long long)ict_from, when, (long long)ict);
        goto out;
    }
    if (chosen == lv) {
        *out = latest;
        latest = NULL;
    } else {
        rc = snapshot_from_listing(t, &l, chosen, out, err);
    }
out:
    free(adj);
    lks_delta_snapshot_free(latest);
    lks_delta_log_listing_free(&l);
    return rc;
}

void lks_delta_snapshot_free(lks_delta_snapshot *s) {
    if (!s) return;
    lks_arena_free(&s->arena);
    free(s);
}

int64_t lks_delta_snapshot_app_version(const lks_delta_snapshot *s, const char *app_id) {
    if (!s || !app_id) return -1;
    size_t lo = 0, hi = s->ntxns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->txns[mid].app_id, app_id);
        if (c == 0) return s->txns[mid].version;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}
