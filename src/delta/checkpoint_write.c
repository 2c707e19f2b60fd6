/*
 * checkpoint_write.c — classic single-file Parquet checkpoints
 * (`_delta_log/<v>.checkpoint.parquet`, V1 spec) and `_last_checkpoint`.
 *
 * One action per row, in the column layout Spark uses: txn, add, remove,
 * metaData, protocol, domainMetadata, each an optional struct of which
 * exactly one is set per row.  Maps are 3-level MAP<string,string>, lists
 * 3-level LIST<string>.  Stats are kept as the JSON string (unless
 * delta.checkpoint.writeStatsAsJson=false); no stats_parsed.  Both files
 * are published with a plain put: a checkpoint may be rewritten with the
 * same content, and the latest writer wins as the protocol allows.
 */
#include "delta/delta_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXF 96

typedef struct sb {
    lks_pq_field f[MAXF];
    int n;
} sb;

static int g_begin(sb *s, const char *name, int rep, int lt) {
    lks_pq_field *f = &s->f[s->n];
    memset(f, 0, sizeof *f);
    f->name = name;
    f->repetition = rep;
    f->type = -1;
    f->field_id = -1;
    f->logical = lks_pq_lt(lt);
    return s->n++;
}

static void g_end(sb *s, int idx, int nchildren) { s->f[idx].num_children = nchildren; }

static void leaf(sb *s, const char *name, int rep, int type, int lt) {
    lks_pq_field *f = &s->f[s->n++];
    memset(f, 0, sizeof *f);
    f->name = name;
    f->repetition = rep;
    f->type = type;
    f->field_id = -1;
    f->logical = lks_pq_lt(lt);
}

#define OPT LKS_PQ_OPTIONAL
static void str(sb *s, const char *name) { leaf(s, name, OPT, LKS_PQ_BYTE_ARRAY, LKS_PQ_LT_STRING); }
static void i64(sb *s, const char *name) { leaf(s, name, OPT, LKS_PQ_INT64, LKS_PQ_LT_NONE); }
static void i32(sb *s, const char *name) { leaf(s, name, OPT, LKS_PQ_INT32, LKS_PQ_LT_NONE); }
static void boo(sb *s, const char *name) { leaf(s, name, OPT, LKS_PQ_BOOLEAN, LKS_PQ_LT_NONE); }

static void map_ss(sb *s, const char *name) {
    int g = g_begin(s, name, OPT, LKS_PQ_LT_MAP);
    int kv = g_begin(s, "key_value", LKS_PQ_REPEATED, LKS_PQ_LT_NONE);
    leaf(s, "key", LKS_PQ_REQUIRED, LKS_PQ_BYTE_ARRAY, LKS_PQ_LT_STRING);
    str(s, "value");
    g_end(s, kv, 2);
    g_end(s, g, 1);
}

static void list_s(sb *s, const char *name) {
    int g = g_begin(s, name, OPT, LKS_PQ_LT_LIST);
    int l = g_begin(s, "list", LKS_PQ_REPEATED, LKS_PQ_LT_NONE);
    str(s, "element");
    g_end(s, l, 1);
    g_end(s, g, 1);
}

static void dv_struct(sb *s) {
    int g = g_begin(s, "deletionVector", OPT, LKS_PQ_LT_NONE);
    str(s, "storageType");
    str(s, "pathOrInlineDv");
    i32(s, "offset");
    i32(s, "sizeInBytes");
    i64(s, "cardinality");
    g_end(s, g, 5);
}

enum { C_TXN, C_ADD, C_REMOVE, C_METADATA, C_PROTOCOL, C_DOMAIN, C_N };

static void build_schema(sb *s) {
    s->n = 0;
    int root = g_begin(s, "spark_schema", LKS_PQ_REQUIRED, LKS_PQ_LT_NONE);
    int g = g_begin(s, "txn", OPT, LKS_PQ_LT_NONE);
    str(s, "appId");
    i64(s, "version");
    i64(s, "lastUpdated");
    g_end(s, g, 3);
    g = g_begin(s, "add", OPT, LKS_PQ_LT_NONE);
    str(s, "path");
    map_ss(s, "partitionValues");
    i64(s, "size");
    i64(s, "modificationTime");
    boo(s, "dataChange");
    str(s, "stats");
    map_ss(s, "tags");
    dv_struct(s);
    i64(s, "baseRowId");
    i64(s, "defaultRowCommitVersion");
    g_end(s, g, 10);
    g = g_begin(s, "remove", OPT, LKS_PQ_LT_NONE);
    str(s, "path");
    i64(s, "deletionTimestamp");
    boo(s, "dataChange");
    boo(s, "extendedFileMetadata");
    map_ss(s, "partitionValues");
    i64(s, "size");
    dv_struct(s);
    g_end(s, g, 7);
    g = g_begin(s, "metaData", OPT, LKS_PQ_LT_NONE);
    str(s, "id");
    str(s, "name");
    str(s, "description");
    int fg = g_begin(s, "format", OPT, LKS_PQ_LT_NONE);
    str(s, "provider");
    map_ss(s, "options");
    g_end(s, fg, 2);
    str(s, "schemaString");
    list_s(s, "partitionColumns");
    map_ss(s, "configuration");
    i64(s, "createdTime");
    g_end(s, g, 8);
    g = g_begin(s, "protocol", OPT, LKS_PQ_LT_NONE);
    i32(s, "minReaderVersion");
    i32(s, "minWriterVersion");
    list_s(s, "readerFeatures");
    list_s(s, "writerFeatures");
    g_end(s, g, 4);
    g = g_begin(s, "domainMetadata", OPT, LKS_PQ_LT_NONE);
    str(s, "domain");
    str(s, "configuration");
    boo(s, "removed");
    g_end(s, g, 3);
    g_end(s, root, C_N);
}

/* ---- values ------------------------------------------------------------------------- */

typedef struct vb {
    lks_arena *a;
    int fail;
} vb;

static lks_pq_value vnull(void) {
    lks_pq_value v;
    memset(&v, 0, sizeof v);
    v.kind = LKS_PQ_V_NULL;
    return v;
}

static lks_pq_value vstr(const char *s) {
    lks_pq_value v = vnull();
    if (!s) return v;
    v.kind = LKS_PQ_V_BYTES;
    v.u.bytes.ptr = (const uint8_t *)s;
    v.u.bytes.len = strlen(s);
    return v;
}

static lks_pq_value vi64(int64_t x) {
    lks_pq_value v = vnull();
    v.kind = LKS_PQ_V_INT64;
    v.u.i64 = x;
    return v;
}

static lks_pq_value vi64opt(int64_t x) { return x >= 0 ? vi64(x) : vnull(); }

static lks_pq_value vi32(int32_t x) {
    lks_pq_value v = vnull();
    v.kind = LKS_PQ_V_INT32;
    v.u.i32 = x;
    return v;
}

static lks_pq_value vbool(int b) {
    lks_pq_value v = vnull();
    v.kind = LKS_PQ_V_BOOL;
    v.u.b = b != 0;
    return v;
}

static lks_pq_value vgroup(vb *c, size_t n, lks_pq_value **items) {
    lks_pq_value v = vnull();
    lks_pq_value *it = lks_arena_alloc(c->a, (n ? n : 1) * sizeof *it);
    if (!it) {
        c->fail = 1;
        *items = NULL;
        return v;
    }
    for (size_t i = 0; i < n; i++) it[i] = vnull();
    v.kind = LKS_PQ_V_GROUP;
    v.u.list.items = it;
    v.u.list.n = n;
    *items = it;
    return v;
}

static lks_pq_value vrepeated(vb *c, size_t n, lks_pq_value **items) {
    lks_pq_value v = vgroup(c, n, items);
    if (v.kind == LKS_PQ_V_GROUP) v.kind = LKS_PQ_V_REPEATED;
    return v;
}

static lks_pq_value vmap(vb *c, const lks_delta_kv *kv, int n) {
    lks_pq_value *outer, *entries;
    lks_pq_value m = vgroup(c, 1, &outer);
    if (!outer) return vnull();
    outer[0] = vrepeated(c, n > 0 ? (size_t)n : 0, &entries);
    if (!entries) return vnull();
    for (int i = 0; i < n; i++) {
        lks_pq_value *kvv;
        entries[i] = vgroup(c, 2, &kvv);
        if (!kvv) return vnull();
        kvv[0] = vstr(kv[i].key ? kv[i].key : "");
        kvv[1] = vstr(kv[i].value);
    }
    return m;
}

static lks_pq_value vlist(vb *c, const char **s, int n) {
    if (!s) return vnull();
    lks_pq_value *outer, *entries;
    lks_pq_value l = vgroup(c, 1, &outer);
    if (!outer) return vnull();
    outer[0] = vrepeated(c, n > 0 ? (size_t)n : 0, &entries);
    if (!entries) return vnull();
    for (int i = 0; i < n; i++) {
        lks_pq_value *e;
        entries[i] = vgroup(c, 1, &e);
        if (!e) return vnull();
        e[0] = vstr(s[i] ? s[i] : "");
    }
    return l;
}

static lks_pq_value vdv(vb *c, const lks_delta_dv *dv, int has) {
    if (!has) return vnull();
    lks_pq_value *it;
    lks_pq_value g = vgroup(c, 5, &it);
    if (!it) return vnull();
    char *st = lks_arena_alloc(c->a, 2);
    if (!st) {
        c->fail = 1;
        return vnull();
    }
    st[0] = dv->storage_type;
    st[1] = 0;
    it[0] = vstr(st);
    it[1] = vstr(dv->path_or_inline ? dv->path_or_inline : "");
    it[2] = dv->offset >= 0 ? vi32(dv->offset) : vnull();
    it[3] = vi32(dv->size_in_bytes);
    it[4] = vi64(dv->cardinality);
    return g;
}

/* ---- writing ------------------------------------------------------------------------ */

typedef struct cw {
    lks_pq_writer *pw;
    lks_arena a;
    int64_t rows;
} cw;

/* Writes one row with column `col` set to `val`. */
static int put_row(cw *w, int col, lks_pq_value val, int fail, lks_err *err) {
    if (fail) return lks_err_set(err, LKS_ENOMEM, "delta checkpoint: out of memory");
    lks_pq_value items[C_N];
    for (int i = 0; i < C_N; i++) items[i] = vnull();
    items[col] = val;
    lks_pq_value row = vnull();
    row.kind = LKS_PQ_V_GROUP;
    row.u.list.items = items;
    row.u.list.n = C_N;
    int rc = lks_pq_write_row(w->pw, &row, err);
    lks_arena_reset(&w->a);
    if (rc) return lks_err_prefix(err, "delta checkpoint");
    w->rows++;
    return LKS_OK;
}

int lks_delta_checkpoint_write(lks_delta_table *t, const lks_delta_snapshot *s, lks_err *err) {
    if (!t || !s) return lks_err_set(err, LKS_EINVAL, "delta checkpoint: no table or snapshot");
    int stats_json = 1;
    for (int i = 0; i < s->metadata.nconfiguration; i++) {
        const lks_delta_kv *kv = &s->metadata.configuration[i];
        if (kv->key && strcmp(kv->key, "delta.checkpoint.writeStatsAsJson") == 0 && kv->value &&
            strcasecmp(kv->value, "false") == 0)
            stats_json = 0;
    }
    sb *schema_fields = malloc(sizeof *schema_fields);
    if (!schema_fields) return lks_err_set(err, LKS_ENOMEM, "delta checkpoint: out of memory");
    build_schema(schema_fields);
    lks_pq_schema *ps = NULL;
    int rc = lks_pq_schema_build(schema_fields->f, schema_fields->n, &ps, err);
    free(schema_fields);
    if (rc) return lks_err_prefix(err, "delta checkpoint schema");
    lks_buf data;
    lks_buf_init(&data, 0);
    cw w;
    memset(&w, 0, sizeof w);
    lks_arena_init(&w.a, 0);
    lks_pq_writer_opts po;
    lks_pq_writer_opts_default(&po);
    rc = lks_pq_writer_open(ps, &po, lks_pq_sink_buf, &data, &w.pw, err);
    if (rc) {
        lks_err_prefix(err, "delta checkpoint");
        goto done;
    }
    vb c = {&w.a, 0};
    lks_pq_value *it;
    lks_pq_value g;

    /* protocol */
    const lks_delta_protocol *p = &s->protocol;
    g = vgroup(&c, 4, &it);
    if (it) {
        it[0] = vi32(p->min_reader);
        it[1] = vi32(p->min_writer);
        it[2] = p->min_reader == 3 ? vlist(&c, p->reader_features ? p->reader_features : (const char *[]){NULL},
                                           p->reader_features ? p->nreader_features : 0)
                                   : vnull();
        it[3] = p->min_writer == 7 ? vlist(&c, p->writer_features ? p->writer_features : (const char *[]){NULL},
                                           p->writer_features ? p->nwriter_features : 0)
                                   : vnull();
    }
    if ((rc = put_row(&w, C_PROTOCOL, g, c.fail, err))) goto done;

    /* metaData */
    const lks_delta_metadata *m = &s->metadata;
    g = vgroup(&c, 8, &it);
    if (it) {
        it[0] = vstr(m->id ? m->id : "");
        it[1] = vstr(m->name);
        it[2] = vstr(m->description);
        lks_pq_value *fi;
        it[3] = vgroup(&c, 2, &fi);
        if (fi) {
            fi[0] = vstr(m->format_provider ? m->format_provider : "parquet");
            fi[1] = vmap(&c, NULL, 0);
        }
        it[4] = vstr(m->schema_string ? m->schema_string : "");
        it[5] = vlist(&c, m->partition_columns ? m->partition_columns : (const char *[]){NULL},
                      m->npartition_columns);
        it[6] = vmap(&c, m->configuration, m->nconfiguration);
        it[7] = vi64opt(m->created_time);
    }
    if ((rc = put_row(&w, C_METADATA, g, c.fail, err))) goto done;

    for (size_t i = 0; i < s->ntxns; i++) {
        const lks_delta_txn_action *tx = &s->txns[i];
        g = vgroup(&c, 3, &it);
        if (it) {
            it[0] = vstr(tx->app_id ? tx->app_id : "");
            it[1] = vi64(tx->version);
            it[2] = vi64opt(tx->last_updated);
        }
        if ((rc = put_row(&w, C_TXN, g, c.fail, err))) goto done;
    }
    for (size_t i = 0; i < s->ndomains; i++) {
        const lks_delta_domain *d = &s->domains[i];
        g = vgroup(&c, 3, &it);
        if (it) {
            it[0] = vstr(d->domain ? d->domain : "");
            it[1] = vstr(d->configuration ? d->configuration : "");
            it[2] = vbool(d->removed);
        }
        if ((rc = put_row(&w, C_DOMAIN, g, c.fail, err))) goto done;
    }
    for (size_t i = 0; i < s->nfiles; i++) {
        const lks_delta_add *a = &s->files[i];
        g = vgroup(&c, 10, &it);
        if (it) {
            it[0] = vstr(a->path ? a->path : "");
            it[1] = vmap(&c, a->partition_values, a->npartition_values);
            it[2] = vi64(a->size);
            it[3] = vi64(a->modification_time);
            it[4] = vbool(a->data_change);
            it[5] = stats_json ? vstr(a->stats) : vnull();
            it[6] = a->ntags > 0 ? vmap(&c, a->tags, a->ntags) : vnull();
            it[7] = vdv(&c, &a->dv, a->has_dv);
            it[8] = vi64opt(a->base_row_id);
            it[9] = vi64opt(a->default_row_commit_version);
        }
        if ((rc = put_row(&w, C_ADD, g, c.fail, err))) goto done;
    }
    for (size_t i = 0; i < s->ntombstones; i++) {
        const lks_delta_remove *r = &s->tombstones[i];
        g = vgroup(&c, 7, &it);
        if (it) {
            it[0] = vstr(r->path ? r->path : "");
            it[1] = vi64opt(r->deletion_timestamp);
            it[2] = vbool(r->data_change);
            it[3] = vbool(r->extended_file_metadata);
            it[4] = r->extended_file_metadata || r->npartition_values ? vmap(&c, r->partition_values,
                                                                              r->npartition_values)
                                                                       : vnull();
            it[5] = vi64opt(r->size);
            it[6] = vdv(&c, &r->dv, r->has_dv);
        }
        if ((rc = put_row(&w, C_REMOVE, g, c.fail, err))) goto done;
    }
    rc = lks_pq_writer_close(w.pw, err);
    if (rc) {
        lks_err_prefix(err, "delta checkpoint");
        goto done;
    }
    char key[1024];
    snprintf(key, sizeof key, "%s%020" PRId64 ".checkpoint.parquet", t->log_prefix, s->version);
    rc = lks_store_put(t->st, key, data.ptr, data.len, err);
    if (rc) {
        lks_err_prefix(err, "delta checkpoint: writing %s", key);
        goto done;
    }
    lks_buf lc;
    lks_buf_init(&lc, 0);
    rc = lks_buf_printf(&lc, "{\"version\":%" PRId64 ",\"size\":%" PRId64 ",\"sizeInBytes\":%zu,\"numOfAddFiles\":%zu}",
                        s->version, w.rows, data.len, s->nfiles);
    snprintf(key, sizeof key, "%s_last_checkpoint", t->log_prefix);
    if (!rc) rc = lks_store_put(t->st, key, lc.ptr, lc.len, err);
    lks_buf_free(&lc);
    if (rc) lks_err_prefix(err, "delta checkpoint: writing %s", key);
done:
    lks_pq_writer_free(w.pw);
    lks_pq_schema_free(ps);
    lks_arena_free(&w.a);
    lks_buf_free(&data);
    return rc;
}
