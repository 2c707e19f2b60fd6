/*
 * txn.c — Delta transactions: collect actions, check that the table's
 * protocol lets us write them, commit as the next version with
 * put-if-absent, and on a lost race read the winning commits, check them
 * for logical conflicts and retry.
 *
 * A commit file is: commitInfo (always first; it carries a fresh UUID v4
 * `txnId` so a writer whose successful put was reported as failed knows
 * the version as its own), then protocol, metaData, txn, remove and add
 * actions.  After a commit whose version is a multiple of
 * delta.checkpointInterval (default 10) a checkpoint is written; failing
 * to write it is logged, never a commit failure.
 */
#include "delta/delta_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

typedef struct param {
    char *key;
    char *json; /* a JSON value (params) */
    int64_t num; /* metrics */
} param;

struct lks_delta_txn {
    lks_delta_table *t;
    const lks_delta_snapshot *read;
    char *operation;
    lks_arena a;
    int has_protocol, has_metadata, committed;
    lks_delta_protocol protocol;
    lks_delta_metadata metadata;
    lks_delta_add *adds;
    size_t nadds, cadds;
    lks_delta_remove *removes;
    size_t nremoves, cremoves;
    lks_delta_txn_action *apps;
    size_t napps, capps;
    param *params;
    size_t nparams, cparams;
    param *metrics;
    size_t nmetrics, cmetrics;
    int read_all;
    const char **read_files;
    size_t nread, cread;
    lks_delta_conflict_fn *conflict_fn;
    void *conflict_ud;
    char txn_id[40];
};

/* ---- small helpers ---------------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return LKS_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, nc * elem);
    if (!q) return LKS_ENOMEM;
    *p = q;
    *cap = nc;
    return LKS_OK;
}

static int64_t now_ms(void) { return lks_now_us() / 1000; }



static const char *adup(lks_arena *a, const char *s, int *fail) {
    if (!s) return NULL;
    char *d = lks_arena_strdup(a, s);
    if (!d) *fail = 1;
    return d;
}

static lks_delta_kv *dup_kv(lks_arena *a, const lks_delta_kv *kv, int n, int *fail) {
    if (n <= 0 || !kv) return NULL;
    lks_delta_kv *d = lks_arena_alloc(a, (size_t)n * sizeof *d);
    if (!d) {
        *fail = 1;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        d[i].key = adup(a, kv[i].key ? kv[i].key : "", fail);
        d[i].value = adup(a, kv[i].value, fail);
    }
    return d;
}

static const char **dup_strs(lks_arena *a, const char **v, int n, int *fail) {
    if (!v) return NULL;
    const char **d = lks_arena_alloc(a, (size_t)(n > 0 ? n : 1) * sizeof *d);
    if (!d) {
        *fail = 1;
        return NULL;
    }
    for (int i = 0; i < n; i++) d[i] = adup(a, v[i] ? v[i] : "", fail);
    return d;
}

static void dup_dv(lks_arena *a, lks_delta_dv *dv, int *fail) { dv->path_or_inline = adup(a, dv->path_or_inline, fail); }

static const char *kv_get(const lks_delta_kv *kv, int n, const char *key) {
    for (int i = 0; i < n; i++)
        if (kv[i].key && strcmp(kv[i].key, key) == 0) return kv[i].value;
    return NULL;
}

/* The metadata / protocol the commit leaves in force. */
static const lks_delta_metadata *eff_meta(const lks_delta_txn *x) {
    if (x->has_metadata) return &x->metadata;
    return x->read ? &x->read->metadata : NULL;
}
static const lks_delta_protocol *eff_protocol(const lks_delta_txn *x) {
    if (x->has_protocol) return &x->protocol;
    return x->read ? &x->read->protocol : NULL;
}

static const char *prop(const lks_delta_txn *x, const char *key) {
    const lks_delta_metadata *m = eff_meta(x);
    return m ? kv_get(m->configuration, m->nconfiguration, key) : NULL;
}

static int prop_true(const lks_delta_txn *x, const char *key) {
    const char *v = prop(x, key);
    return v && strcasecmp(v, "true") == 0;
}

/* The table a transaction writes to (used by writer.c, which declares it too). */
lks_delta_table *lks_delta__txn_table(const lks_delta_txn *x);
lks_delta_table *lks_delta__txn_table(const lks_delta_txn *x) { return x->t; }

/* Transaction internals for dv_write.c (declared in delta_int.h). */
const lks_delta_snapshot *lks_delta__txn_read(const lks_delta_txn *x) { return x->read; }
const lks_delta_protocol *lks_delta__txn_protocol(const lks_delta_txn *x) { return eff_protocol(x); }
const lks_delta_metadata *lks_delta__txn_metadata(const lks_delta_txn *x) { return eff_meta(x); }

const lks_delta_add *lks_delta__txn_pending_add(const lks_delta_txn *x, const char *path) {
    for (size_t i = 0; i < x->nadds; i++)
        if (strcmp(x->adds[i].path, path) == 0) return &x->adds[i];
    return NULL;
}

void lks_delta__txn_drop_add(lks_delta_txn *x, const char *path) {
    for (size_t i = 0; i < x->nadds; i++)
        if (strcmp(x->adds[i].path, path) == 0) {
            memmove(&x->adds[i], &x->adds[i + 1], (x->nadds - i - 1) * sizeof *x->adds);
            x->nadds--;
            return;
        }
}

int lks_delta__txn_removes(const lks_delta_txn *x, const char *path) {
    for (size_t i = 0; i < x->nremoves; i++)
        if (strcmp(x->removes[i].path, path) == 0) return 1;
    return 0;
}

/* The staged adds (maint.c; declared in delta_int.h). */
lks_delta_add *lks_delta__txn_adds(lks_delta_txn *x, size_t *n) {
    *n = x->nadds;
    return x->adds;
}

/* ---- building a transaction ---------------------------------------------------------- */

int lks_delta_txn_begin(lks_delta_table *t, const lks_delta_snapshot *read, const char *operation,
                        lks_delta_txn **out, lks_err *err) {
    *out = NULL;
    if (!t) return lks_err_set(err, LKS_EINVAL, "delta txn: no table");
    lks_delta_txn *x = calloc(1, sizeof *x);
    if (!x) return lks_err_set(err, LKS_ENOMEM, "delta txn: out of memory");
    lks_arena_init(&x->a, 0);
    x->t = t;
    x->read = read;
    x->operation = lks_arena_strdup(&x->a, operation && *operation ? operation : "WRITE");
    if (!x->operation) {
        lks_delta_txn_free(x);
        return lks_err_set(err, LKS_ENOMEM, "delta txn: out of memory");
    }
    lks_uuid4(x->txn_id);
    *out = x;
    return LKS_OK;
}

void lks_delta_txn_free(lks_delta_txn *x) {
    if (!x) return;
    free(x->adds);
    free(x->removes);
    free(x->apps);
    free(x->params);
    free(x->metrics);
    free(x->read_files);
    lks_arena_free(&x->a);
    free(x);
}

int lks_delta_txn_set_protocol(lks_delta_txn *x, const lks_delta_protocol *p) {
    int fail = 0;
    x->protocol = *p;
    x->protocol.reader_features = dup_strs(&x->a, p->reader_features, p->nreader_features, &fail);
    x->protocol.writer_features = dup_strs(&x->a, p->writer_features, p->nwriter_features, &fail);
    if (!p->reader_features) x->protocol.nreader_features = 0;
    if (!p->writer_features) x->protocol.nwriter_features = 0;
    x->has_protocol = 1;
    return fail ? LKS_ENOMEM : LKS_OK;
}

int lks_delta_txn_set_metadata(lks_delta_txn *x, const lks_delta_metadata *m) {
    int fail = 0;
    lks_delta_metadata *d = &x->metadata;
    memset(d, 0, sizeof *d);
    char id[37];
    if (m->id) {
        d->id = adup(&x->a, m->id, &fail);
    } else {
        lks_uuid4(id);
        d->id = adup(&x->a, id, &fail);
    }
    d->name = adup(&x->a, m->name, &fail);
    d->description = adup(&x->a, m->description, &fail);
    d->format_provider = adup(&x->a, m->format_provider ? m->format_provider : "parquet", &fail);
    if (m->schema_string) {
        d->schema_string = adup(&x->a, m->schema_string, &fail);
    } else if (m->schema) {
        lks_buf b;
        lks_buf_init(&b, 0);
        if (lks_delta_schema_to_json(&b, m->schema) != LKS_OK) fail = 1;
        else d->schema_string = lks_arena_strndup(&x->a, (const char *)b.ptr, b.len);
        lks_buf_free(&b);
        if (!d->schema_string) fail = 1;
    } else {
        return LKS_EINVAL;
    }
    if (fail) return LKS_ENOMEM;
    lks_err e;
    if (lks_delta_schema_parse(d->schema_string, strlen(d->schema_string), &x->a, &d->schema, &e) != LKS_OK)
        return e.code ? e.code : LKS_EINVAL;
    d->partition_columns = dup_strs(&x->a, m->partition_columns, m->npartition_columns, &fail);
    d->npartition_columns = m->partition_columns ? m->npartition_columns : 0;
    d->configuration = dup_kv(&x->a, m->configuration, m->nconfiguration, &fail);
    d->nconfiguration = d->configuration ? m->nconfiguration : 0;
    d->created_time = m->created_time >= 0 ? m->created_time : now_ms();
    x->has_metadata = 1;
    return fail ? LKS_ENOMEM : LKS_OK;
}

int lks_delta_txn_add(lks_delta_txn *x, const lks_delta_add *a) {
    if (!a->path || !*a->path) return LKS_EINVAL;
    if (grow((void **)&x->adds, &x->cadds, x->nadds, sizeof *x->adds)) return LKS_ENOMEM;
    int fail = 0;
    lks_delta_add *d = &x->adds[x->nadds];
    *d = *a;
    d->path = adup(&x->a, a->path, &fail);
    d->partition_values = dup_kv(&x->a, a->partition_values, a->npartition_values, &fail);
    d->npartition_values = d->partition_values ? a->npartition_values : 0;
    d->stats = adup(&x->a, a->stats, &fail);
    d->tags = dup_kv(&x->a, a->tags, a->ntags, &fail);
    d->ntags = d->tags ? a->ntags : 0;
    if (a->has_dv) dup_dv(&x->a, &d->dv, &fail);
    d->clustering_provider = adup(&x->a, a->clustering_provider, &fail);
    if (fail) return LKS_ENOMEM;
    x->nadds++;
    return LKS_OK;
}

int lks_delta_txn_remove(lks_delta_txn *x, const lks_delta_remove *r) {
    if (!r->path || !*r->path) return LKS_EINVAL;
    if (grow((void **)&x->removes, &x->cremoves, x->nremoves, sizeof *x->removes)) return LKS_ENOMEM;
    int fail = 0;
    lks_delta_remove *d = &x->removes[x->nremoves];
    *d = *r;
    d->path = adup(&x->a, r->path, &fail);
    d->partition_values = dup_kv(&x->a, r->partition_values, r->npartition_values, &fail);
    d->npartition_values = d->partition_values ? r->npartition_values : 0;
    if (r->has_dv) dup_dv(&x->a, &d->dv, &fail);
    if (d->deletion_timestamp < 0) d->deletion_timestamp = now_ms();
    if (fail) return LKS_ENOMEM;
    x->nremoves++;
    return LKS_OK;
}

int lks_delta_txn_set_app_version(lks_delta_txn *x, const char *app_id, int64_t version) {
    if (!app_id) return LKS_EINVAL;
    for (size_t i = 0; i < x->napps; i++)
        if (strcmp(x->apps[i].app_id, app_id) == 0) {
            x->apps[i].version = version;
            return LKS_OK;
        }
    if (grow((void **)&x->apps, &x->capps, x->napps, sizeof *x->apps)) return LKS_ENOMEM;
    int fail = 0;
    lks_delta_txn_action *d = &x->apps[x->napps];
    d->app_id = adup(&x->a, app_id, &fail);
    d->version = version;
    d->last_updated = -1;
    if (fail) return LKS_ENOMEM;
    x->napps++;
    return LKS_OK;
}

static int set_kv(lks_delta_txn *x, param **arr, size_t *n, size_t *cap, const char *key, const char *json,
                  int64_t num) {
    if (!key) return LKS_EINVAL;
    int fail = 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i].key, key) == 0) {
            (*arr)[i].json = json ? (char *)adup(&x->a, json, &fail) : NULL;
            (*arr)[i].num = num;
            return fail ? LKS_ENOMEM : LKS_OK;
        }
    if (grow((void **)arr, cap, *n, sizeof **arr)) return LKS_ENOMEM;
    param *p = &(*arr)[*n];
    p->key = (char *)adup(&x->a, key, &fail);
    p->json = json ? (char *)adup(&x->a, json, &fail) : NULL;
    p->num = num;
    if (fail) return LKS_ENOMEM;
    (*n)++;
    return LKS_OK;
}

int lks_delta_txn_set_param(lks_delta_txn *x, const char *key, const char *json_value) {
    if (!json_value) return LKS_EINVAL;
    /* must be one JSON value: it is embedded verbatim */
    json_error_t je;
    json_t *j = json_loads(json_value, JSON_DECODE_ANY, &je);
    if (!j) return LKS_EINVAL;
    json_decref(j);
    return set_kv(x, &x->params, &x->nparams, &x->cparams, key, json_value, 0);
}

int lks_delta_txn_set_metric(lks_delta_txn *x, const char *key, int64_t value) {
    return set_kv(x, &x->metrics, &x->nmetrics, &x->cmetrics, key, NULL, value);
}

int lks_delta_txn_read_all(lks_delta_txn *x) {
    x->read_all = 1;
    return LKS_OK;
}

int lks_delta_txn_read_file(lks_delta_txn *x, const char *path) {
    if (!path) return LKS_EINVAL;
    if (grow((void **)&x->read_files, &x->cread, x->nread, sizeof *x->read_files)) return LKS_ENOMEM;
    int fail = 0;
    x->read_files[x->nread] = adup(&x->a, path, &fail);
    if (fail) return LKS_ENOMEM;
    x->nread++;
    return LKS_OK;
}

void lks_delta_txn_set_conflict_fn(lks_delta_txn *x, lks_delta_conflict_fn *fn, void *ud) {
    x->conflict_fn = fn;
    x->conflict_ud = ud;
}

/* ---- protocol checks ---------------------------------------------------------------- */

/* Non-zero when some field of the schema (at any depth) has a metadata key
 * equal to `key` (or starting with it when prefix is set); *col names it. */
static int schema_has_meta(const lks_delta_type *t, const char *key, int prefix, const char **col) {
    if (!t) return 0;
    if (t->metadata_json && strstr(t->metadata_json, key)) {
        json_error_t je;
        json_t *m = json_loads(t->metadata_json, 0, &je);
        int hit = 0;
        if (json_is_object(m)) {
            const char *k;
            json_t *v;
            size_t kl = strlen(key);
            json_object_foreach(m, k, v) {
                (void)v;
                if (prefix ? strncmp(k, key, kl) == 0 : strcmp(k, key) == 0) hit = 1;
            }
        }
        json_decref(m);
        if (hit) {
            *col = t->name ? t->name : "(element)";
            return 1;
        }
    }
    for (int i = 0; i < t->nchildren; i++)
        if (schema_has_meta(&t->children[i], key, prefix, col)) return 1;
    return 0;
}

enum {
    F_APPEND_ONLY = 1 << 0, F_INVARIANTS = 1 << 1, F_CHECK = 1 << 2, F_CDF = 1 << 3, F_GENERATED = 1 << 4,
    F_COLMAP = 1 << 5, F_IDENTITY = 1 << 6
};

static const char *const honoured_writer[] = {
    "appendOnly", "invariants", "checkConstraints", "changeDataFeed", "generatedColumns", "identityColumns",
    "columnMapping", "timestampNtz", "deletionVectors", "domainMetadata", "inCommitTimestamp",
    "vacuumProtocolCheck", "typeWidening", "typeWidening-preview", NULL};
static const char *const honoured_reader[] = {"columnMapping", "timestampNtz", "deletionVectors",
                                              "vacuumProtocolCheck", "typeWidening", "typeWidening-preview",
                                              NULL};

static int in_list(const char *const *l, const char *s) {
    for (; *l; l++)
        if (strcmp(*l, s) == 0) return 1;
    return 0;
}

/* Checks that we may commit these actions under the protocol and metadata
 * in force: LKS_EUNSUPPORTED naming the feature otherwise. */
static int check_writable(lks_delta_txn *x, lks_err *err) {
    const lks_delta_protocol *p = eff_protocol(x);
    const lks_delta_metadata *m = eff_meta(x);
    if (!p || !m)
        return lks_err_set(err, LKS_EINVAL, "delta commit: a new table needs a protocol and a metaData action");
    if (p->min_reader < 1 || p->min_reader > 3)
        return lks_err_set(err, LKS_EUNSUPPORTED, "delta commit: table needs reader version %d (we support 1..3)",
                           p->min_reader);
    if (p->min_writer < 1 || p->min_writer > 7)
        return lks_err_set(err, LKS_EUNSUPPORTED, "delta commit: table needs writer version %d (we support 1..7)",
                           p->min_writer);
    if (p->min_reader == 3)
        for (int i = 0; i < p->nreader_features; i++)
            if (!in_list(honoured_reader, p->reader_features[i]))
                return lks_err_set(err, LKS_EUNSUPPORTED,
                                   "delta commit: reader feature '%s' is not supported", p->reader_features[i]);
    unsigned f = 0;
    if (p->min_writer == 7) {
        for (int i = 0; i < p->nwriter_features; i++) {
            const char *n = p->writer_features[i];
            if (strcmp(n, "v2Checkpoint") == 0)
                return lks_err_set(err, LKS_EUNSUPPORTED,
                                   "delta commit: writer feature 'v2Checkpoint' is not supported for writing "
                                   "(lakesync writes only classic checkpoints)");
            if (strcmp(n, "rowTracking") == 0)
                return lks_err_set(err, LKS_EUNSUPPORTED,
                                   "delta commit: writer feature 'rowTracking' is not supported for writing "
                                   "(lakesync does not assign row ids)");
            if (!in_list(honoured_writer, n))
                return lks_err_set(err, LKS_EUNSUPPORTED, "delta commit: writer feature '%s' is not supported", n);
            if (!strcmp(n, "appendOnly")) f |= F_APPEND_ONLY;
            if (!strcmp(n, "invariants")) f |= F_INVARIANTS;
            if (!strcmp(n, "checkConstraints")) f |= F_CHECK;
            if (!strcmp(n, "changeDataFeed")) f |= F_CDF;
            if (!strcmp(n, "generatedColumns")) f |= F_GENERATED;
            if (!strcmp(n, "columnMapping")) f |= F_COLMAP;
            if (!strcmp(n, "identityColumns")) f |= F_IDENTITY;
        }
    } else {
        /* legacy protocol: the feature set grows with the version */
        if (p->min_writer >= 2) f |= F_APPEND_ONLY | F_INVARIANTS;
        if (p->min_writer >= 3) f |= F_CHECK;
        if (p->min_writer >= 4) f |= F_CDF | F_GENERATED;
        if (p->min_writer >= 5) f |= F_COLMAP;
        if (p->min_writer >= 6) f |= F_IDENTITY;
    }
    size_t data_removes = 0;
    for (size_t i = 0; i < x->nremoves; i++) data_removes += x->removes[i].data_change != 0;
    const char *col = NULL;
    if ((f & F_APPEND_ONLY) && prop_true(x, "delta.appendOnly") && data_removes)
        return lks_err_set(err, LKS_EUNSUPPORTED,
                           "delta commit: the table is append-only (delta.appendOnly=true): %zu remove action(s) "
                           "with dataChange=true refused",
                           data_removes);
    if ((f & F_INVARIANTS) && schema_has_meta(m->schema, "delta.invariants", 0, &col))
        return lks_err_set(err, LKS_EUNSUPPORTED,
                           "delta commit: column '%s' has an invariant (feature 'invariants'), which lakesync does "
                           "not evaluate",
                           col);
    if (f & F_CHECK)
        for (int i = 0; i < m->nconfiguration; i++)
            if (m->configuration[i].key && strncmp(m->configuration[i].key, "delta.constraints.", 18) == 0)
                return lks_err_set(err, LKS_EUNSUPPORTED,
                                   "delta commit: CHECK constraint '%s' (feature 'checkConstraints') is not "
                                   "evaluated by lakesync",
                                   m->configuration[i].key + 18);
    if ((f & F_CDF) && prop_true(x, "delta.enableChangeDataFeed") && data_removes)
        return lks_err_set(err, LKS_EUNSUPPORTED,
                           "delta commit: change data feed is enabled (feature 'changeDataFeed') and lakesync does "
                           "not write change data files; only appends are allowed");
    if ((f & F_GENERATED) && x->nadds && schema_has_meta(m->schema, "delta.generationExpression", 0, &col))
        return lks_err_set(err, LKS_EUNSUPPORTED,
                           "delta commit: column '%s' is a generated column (feature 'generatedColumns'), which "
                           "lakesync does not compute",
                           col);
    if ((f & F_IDENTITY) && x->nadds && schema_has_meta(m->schema, "delta.identity.", 1, &col))
        return lks_err_set(err, LKS_EUNSUPPORTED,
                           "delta commit: column '%s' is an identity column (feature 'identityColumns'), which "
                           "lakesync does not generate",
                           col);
    /* partition values must name exactly the partition columns */
    int colmap = (f & F_COLMAP) && prop(x, "delta.columnMapping.mode") &&
                 strcmp(prop(x, "delta.columnMapping.mode"), "none") != 0;
    for (size_t i = 0; i < x->nadds && !colmap; i++) {
        const lks_delta_add *a = &x->adds[i];
        int ok = a->npartition_values == m->npartition_columns;
        for (int k = 0; ok && k < m->npartition_columns; k++) {
            int found = 0;
            for (int j = 0; j < a->npartition_values; j++)
                if (a->partition_values[j].key && strcmp(a->partition_values[j].key, m->partition_columns[k]) == 0)
                    found = 1;
            ok = found;
        }
        if (!ok)
            return lks_err_set(err, LKS_EINVAL,
                               "delta commit: add '%s': partitionValues do not match the partition columns", a->path);
    }
    return LKS_OK;
}

/* ---- the commit file ------------------------------------------------------------------ */

/* A transaction with a conflict_fn depends on what concurrent adds hold
 * (a merge inserting keys it found nowhere), so it is never blind. */
static int blind_append(const lks_delta_txn *x) {
    return !x->read_all && x->nread == 0 && x->nremoves == 0 && !x->has_metadata && !x->has_protocol &&
           !x->conflict_fn;
}

static int build_commit(lks_delta_txn *x, int64_t ts, int64_t ict, lks_buf *b) {
    lks_buf ci;
    lks_buf_init(&ci, 0);
    int rc = lks_buf_printf(&ci, "{\"timestamp\":%" PRId64, ict >= 0 ? ict : ts);
    if (!rc && ict >= 0) rc = lks_buf_printf(&ci, ",\"inCommitTimestamp\":%" PRId64, ict);
    if (!rc) rc = lks_buf_printf(&ci, ",\"operation\":");
    if (!rc) rc = lks_json_quote(&ci, x->operation, strlen(x->operation));
    if (!rc) rc = lks_buf_printf(&ci, ",\"operationParameters\":{");
    for (size_t i = 0; i < x->nparams && !rc; i++) {
        if (i) rc = lks_buf_append_byte(&ci, ',');
        if (!rc) rc = lks_json_quote(&ci, x->params[i].key, strlen(x->params[i].key));
        if (!rc) rc = lks_buf_printf(&ci, ":%s", x->params[i].json);
    }
    if (!rc) rc = lks_buf_append_byte(&ci, '}');
    if (!rc && x->read) rc = lks_buf_printf(&ci, ",\"readVersion\":%" PRId64, x->read->version);
    if (!rc && x->nmetrics) {
        rc = lks_buf_printf(&ci, ",\"operationMetrics\":{");
        for (size_t i = 0; i < x->nmetrics && !rc; i++) {
            if (i) rc = lks_buf_append_byte(&ci, ',');
            if (!rc) rc = lks_json_quote(&ci, x->metrics[i].key, strlen(x->metrics[i].key));
            /* Spark writes metric values as strings */
            if (!rc) rc = lks_buf_printf(&ci, ":\"%" PRId64 "\"", x->metrics[i].num);
        }
        if (!rc) rc = lks_buf_append_byte(&ci, '}');
    }
    if (!rc)
        rc = lks_buf_printf(&ci, ",\"isBlindAppend\":%s,\"engineInfo\":\"lakesync/" LKS_VERSION "\",\"txnId\":\"%s\"}",
                            blind_append(x) ? "true" : "false", x->txn_id);
    if (!rc) rc = lks_buf_cstr(&ci);
    lks_delta_action act;
    memset(&act, 0, sizeof act);
    if (!rc) {
        act.kind = LKS_DA_COMMIT_INFO;
        act.u.commit_info.json = (const char *)ci.ptr;
        rc = lks_delta_action_write(b, &act);
    }
    lks_buf_free(&ci);
    if (!rc && x->has_protocol) {
        act.kind = LKS_DA_PROTOCOL;
        act.u.protocol = x->protocol;
        rc = lks_delta_action_write(b, &act);
    }
    if (!rc && x->has_metadata) {
        act.kind = LKS_DA_METADATA;
        act.u.metadata = x->metadata;
        rc = lks_delta_action_write(b, &act);
    }
    for (size_t i = 0; i < x->napps && !rc; i++) {
        act.kind = LKS_DA_TXN;
        act.u.txn = x->apps[i];
        act.u.txn.last_updated = ts;
        rc = lks_delta_action_write(b, &act);
    }
    for (size_t i = 0; i < x->nremoves && !rc; i++) {
        act.kind = LKS_DA_REMOVE;
        act.u.remove = x->removes[i];
        rc = lks_delta_action_write(b, &act);
    }
    for (size_t i = 0; i < x->nadds && !rc; i++) {
        act.kind = LKS_DA_ADD;
        act.u.add = x->adds[i];
        rc = lks_delta_action_write(b, &act);
    }
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static int in_sorted(const char **v, size_t n, const char *s) {
    return n && bsearch(&s, v, n, sizeof *v, cmp_str) != NULL;
}

typedef struct conflict_ctx {
    lks_delta_txn *x;
    const char **removed; /* our removes, sorted */
    size_t nremoved;
    int ours;            /* the commit carries our txnId */
    int64_t ict;         /* its inCommitTimestamp, -1 */
} conflict_ctx;

/* Checks one winning commit (version v, its bytes) against ours.  Sets
 * c->ours when it is our own commit.  LKS_ECONFLICT names v and why. */
static int check_winner(conflict_ctx *c, int64_t v, const lks_buf *body, lks_err *err) {
    lks_delta_txn *x = c->x;
    int blind = blind_append(x);
    lks_arena a;
    lks_arena_init(&a, 0);
    const char *p = (const char *)body->ptr, *end = p + body->len;
    int rc = LKS_OK, line = 0;
    c->ours = 0;
    c->ict = -1;
    while (p < end && rc == LKS_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        int blank = 1;
        for (size_t i = 0; i < len; i++)
            if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') blank = 0;
        if (!blank) {
            lks_delta_action act;
            rc = lks_delta_action_parse(p, len, &a, &act, err);
            if (rc != LKS_OK) {
                rc = lks_err_prefix(err, "delta commit: winning commit %" PRId64 " line %d", v, line);
                break;
            }
            switch (act.kind) {
            case LKS_DA_COMMIT_INFO:
                if (act.u.commit_info.txn_id && strcmp(act.u.commit_info.txn_id, x->txn_id) == 0) {
                    c->ours = 1;
                    lks_arena_free(&a);
                    return LKS_OK;
                }
                c->ict = act.u.commit_info.in_commit_timestamp;
                break;
            case LKS_DA_PROTOCOL:
                rc = lks_err_set(err, LKS_ECONFLICT,
                                 "delta commit: concurrent commit %" PRId64 " changed the protocol", v);
                break;
            case LKS_DA_METADATA:
                rc = lks_err_set(err, LKS_ECONFLICT,
                                 "delta commit: concurrent commit %" PRId64 " changed the table metadata", v);
                break;
            case LKS_DA_REMOVE: {
                const char *path = act.u.remove.path;
                if (in_sorted(c->removed, c->nremoved, path))
                    rc = lks_err_set(err, LKS_ECONFLICT,
                                     "delta commit: concurrent commit %" PRId64 " also removed '%s'", v, path);
                else if (!blind && x->read_all)
                    rc = lks_err_set(err, LKS_ECONFLICT,
                                     "delta commit: concurrent commit %" PRId64
                                     " removed '%s' while this transaction read the whole table",
                                     v, path);
                else if (in_sorted(x->read_files, x->nread, path))
                    rc = lks_err_set(err, LKS_ECONFLICT,
                                     "delta commit: concurrent commit %" PRId64 " removed '%s', which this transaction read",
                                     v, path);
                break;
            }
            case LKS_DA_ADD:
                if (!blind && act.u.add.data_change &&
                    (!x->conflict_fn || x->conflict_fn(x->conflict_ud, &act.u.add) != 0))
                    rc = lks_err_set(err, LKS_ECONFLICT,
                                     "delta commit: concurrent commit %" PRId64
                                     " added '%s', which may hold rows this transaction depends on",
                                     v, act.u.add.path);
                break;
            case LKS_DA_TXN:
                for (size_t i = 0; i < x->napps; i++)
                    if (strcmp(x->apps[i].app_id, act.u.txn.app_id) == 0)
                        rc = lks_err_set(err, LKS_ECONFLICT,
                                         "delta commit: concurrent commit %" PRId64
                                         " also wrote application '%s' (version %" PRId64 ")",
                                         v, act.u.txn.app_id, act.u.txn.version);
                break;
            default: break;
            }
        }
        if (!nl) break;
        p = nl + 1;
    }
    /* Our own metadata/protocol change must not slip past a concurrent write. */
    if (rc == LKS_OK && !c->ours && (x->has_metadata || x->has_protocol))
        rc = x->read ? lks_err_set(err, LKS_ECONFLICT,
                                   "delta commit: concurrent commit %" PRId64
                                   " happened while this transaction changes the table metadata/protocol",
                                   v)
                     : lks_err_set(err, LKS_ECONFLICT,
                                   "delta commit: the table was created concurrently (version %" PRId64 " exists)", v);
    lks_arena_free(&a);
    return rc;
}

static void commit_key(const lks_delta_table *t, int64_t v, char *out, size_t cap) {
    snprintf(out, cap, "%s%020" PRId64 ".json", t->log_prefix, v);
}

static void backoff(int attempt) {
    unsigned r;
    lks_random_bytes(&r, sizeof r);
    int cap_ms = attempt < 7 ? 1 << attempt : 100;
    long us = (long)(r % (unsigned)(cap_ms * 1000 + 1)) + 100;
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void maybe_checkpoint(lks_delta_txn *x, int64_t v) {
    const char *iv = prop(x, "delta.checkpointInterval");
    long interval = 10;
    if (iv) {
        char *e;
        long n = strtol(iv, &e, 10);
        if (e != iv && *e == 0 && n > 0) interval = n;
    }
    if (v <= 0 || v % interval != 0) return;
    lks_err e;
    lks_err_clear(&e);
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_at_version(x->t, v, &s, &e);
    if (rc == LKS_OK) rc = lks_delta_checkpoint_write(x->t, s, &e);
    if (rc != LKS_OK)
        lks_log(LKS_LOG_WARN, "delta", "checkpoint of version %" PRId64 " failed (the commit stands): %s", v, e.msg);
    /* expired log files go after a checkpoint, unless the table says not to */
    const char *cl = rc == LKS_OK ? lks_delta_snapshot_property(s, "delta.enableExpiredLogCleanup") : NULL;
    if (rc == LKS_OK && !(cl && strcasecmp(cl, "false") == 0) && lks_delta_log_cleanup(x->t, s, &e) != LKS_OK)
        lks_log(LKS_LOG_WARN, "delta", "log cleanup after checkpoint %" PRId64 " failed (the commit stands): %s", v,
                e.msg);
    lks_delta_snapshot_free(s);
}

int lks_delta_txn_commit(lks_delta_txn *x, int max_attempts, int64_t *version, lks_err *err) {
    if (x->committed) return lks_err_set(err, LKS_EINVAL, "delta commit: transaction already committed");
    if (max_attempts <= 0) max_attempts = 10;
    int rc = check_writable(x, err);
    if (rc != LKS_OK) return rc;
    /* no duplicate file actions in one commit */
    const char **paths = NULL;
    size_t np = x->nadds > x->nremoves ? x->nadds : x->nremoves;
    if (np) {
        paths = malloc(np * sizeof *paths);
        if (!paths) return lks_err_set(err, LKS_ENOMEM, "delta commit: out of memory");
    }
    for (int pass = 0; pass < 2; pass++) {
        size_t n = pass ? x->nremoves : x->nadds;
        for (size_t i = 0; i < n; i++) paths[i] = pass ? x->removes[i].path : x->adds[i].path;
        if (n) qsort(paths, n, sizeof *paths, cmp_str);
        for (size_t i = 1; i < n; i++)
            if (strcmp(paths[i - 1], paths[i]) == 0) {
                rc = lks_err_set(err, LKS_EINVAL, "delta commit: '%s' is %s twice in one commit", paths[i],
                                 pass ? "removed" : "added");
                free(paths);
                return rc;
            }
    }
    /* sorted views for conflict checks */
    conflict_ctx cc = {x, paths, x->nremoves, 0, -1};
    for (size_t i = 0; i < x->nremoves; i++) paths[i] = x->removes[i].path;
    if (x->nremoves) qsort(paths, x->nremoves, sizeof *paths, cmp_str);
    if (x->nread) qsort(x->read_files, x->nread, sizeof *x->read_files, cmp_str);

    int ict_on = prop_true(x, "delta.enableInCommitTimestamps");
    int64_t prev_ict = x->read && ict_on ? x->read->timestamp : -1;
    int64_t v = x->read ? x->read->version + 1 : 0;
    lks_buf body, win;
    lks_buf_init(&body, 0);
    lks_buf_init(&win, 0);
    char key[1024];
    int attempt = 0;
    rc = LKS_OK;
    for (;;) {
        attempt++;
        int64_t ts = now_ms();
        int64_t ict = -1;
        if (ict_on) ict = prev_ict >= ts ? prev_ict + 1 : ts;
        lks_buf_reset(&body);
        rc = build_commit(x, ts, ict, &body);
        if (rc != LKS_OK) {
            rc = lks_err_set(err, rc, "delta commit: building the commit: %s", lks_strerror(rc));
            break;
        }
        commit_key(x->t, v, key, sizeof key);
        rc = lks_store_put_if_absent(x->t->st, key, body.ptr, body.len, err);
        if (rc == LKS_OK) {
            *version = v;
            break;
        }
        if (rc != LKS_EEXIST && rc != LKS_EIO) break;
        /* Either a lost race, or an I/O error after which our put may have
         * landed: read what holds version v and onwards.  After the last
         * try's I/O error too, so a commit that landed is never reported
         * as failed (its batch would be applied again). */
        int io_last = rc == LKS_EIO && attempt >= max_attempts;
        char put_msg[sizeof err->msg];
        snprintf(put_msg, sizeof put_msg, "%s", err ? err->msg : lks_strerror(rc));
        int done = 0;
        for (;;) {
            lks_buf_reset(&win);
            commit_key(x->t, v, key, sizeof key);
            int g = lks_store_get(x->t->st, key, &win, err);
            if (g == LKS_ENOTFOUND) break;
            if (g != LKS_OK) {
                rc = g;
                if (io_last && err)
                    rc = lks_err_prefix(
                        err, "delta commit: version %" PRId64 " may be committed or not (%s); reading it", v, put_msg);
                done = 1;
                break;
            }
            g = check_winner(&cc, v, &win, err);
            if (g != LKS_OK) {
                rc = g;
                done = 1;
                break;
            }
            if (cc.ours) {
                *version = v;
                rc = LKS_OK;
                done = 1;
                break;
            }
            if (cc.ict > prev_ict) prev_ict = cc.ict;
            v++;
        }
        if (done) break;
        if (io_last) {
            rc = lks_err_set(err, LKS_EIO, "%s", put_msg);
            break;
        }
        if (attempt >= max_attempts) {
            rc = lks_err_set(err, LKS_ECONFLICT,
                             "delta commit: gave up after %d attempts: versions up to %" PRId64
                             " were taken by concurrent writers",
                             attempt, v - 1);
            break;
        }
        backoff(attempt);
    }
    lks_buf_free(&body);
    lks_buf_free(&win);
    free(paths);
    if (rc != LKS_OK) return rc;
    x->committed = 1;
    maybe_checkpoint(x, *version);
    return LKS_OK;
}
