/*
 * action_read.c — one JSON line of a Delta commit (or V2 JSON checkpoint)
 * into an lks_delta_action (PROTOCOL.md "Actions").
 *
 * Unknown action kinds are LKS_DA_NONE and unknown fields are ignored, as
 * the protocol asks; a known field of the wrong JSON type is LKS_ECORRUPT
 * naming "<action>.<field>".  Optional fields that are JSON null count as
 * absent.
 */
#include "delta/delta_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shared with schema.c (declared there too). */
int lks_delta__schema_from_json(json_t *root, lks_arena *a, lks_delta_type **out, lks_err *err);

typedef struct ctx {
    lks_arena *a;
    lks_err *err;
    const char *act; /* action name for messages */
} ctx;

static int nomem(ctx *c) { return lks_err_set(c->err, LKS_ENOMEM, "%s: out of memory", c->act); }

static int bad(ctx *c, const char *field, const char *want) {
    return lks_err_set(c->err, LKS_ECORRUPT, "%s.%s: expected %s", c->act, field, want);
}

/* Optional string: *out NULL when absent or null. */
static int get_str(ctx *c, json_t *o, const char *field, int required, const char **out) {
    json_t *v = json_object_get(o, field);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) return lks_err_set(c->err, LKS_ECORRUPT, "%s.%s: missing", c->act, field);
        return LKS_OK;
    }
    if (!json_is_string(v)) return bad(c, field, "a string");
    *out = lks_arena_strndup(c->a, json_string_value(v), json_string_length(v));
    return *out ? LKS_OK : nomem(c);
}

static int get_int(ctx *c, json_t *o, const char *field, int required, int64_t dflt, int64_t *out) {
    json_t *v = json_object_get(o, field);
    *out = dflt;
    if (!v || json_is_null(v)) {
        if (required) return lks_err_set(c->err, LKS_ECORRUPT, "%s.%s: missing", c->act, field);
        return LKS_OK;
    }
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return LKS_OK;
    }
    if (json_is_real(v)) { /* some writers print integral values as reals */
        double d = json_real_value(v);
        if (d >= -9.2e18 && d <= 9.2e18 && (double)(int64_t)d == d) {
            *out = (int64_t)d;
            return LKS_OK;
        }
    }
    return bad(c, field, "an integer");
}

static int get_bool(ctx *c, json_t *o, const char *field, int required, int dflt, int *out) {
    json_t *v = json_object_get(o, field);
    *out = dflt;
    if (!v || json_is_null(v)) {
        if (required) return lks_err_set(c->err, LKS_ECORRUPT, "%s.%s: missing", c->act, field);
        return LKS_OK;
    }
    if (!json_is_boolean(v)) return bad(c, field, "a boolean");
    *out = json_is_true(v);
    return LKS_OK;
}

/* A string → string (or null) map. */
static int get_map(ctx *c, json_t *o, const char *field, lks_delta_kv **out, int *n) {
    json_t *v = json_object_get(o, field);
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v)) return LKS_OK;
    if (!json_is_object(v)) return bad(c, field, "an object");
    size_t cnt = json_object_size(v);
    if (cnt == 0) return LKS_OK;
    lks_delta_kv *kv = lks_arena_alloc(c->a, cnt * sizeof *kv);
    if (!kv) return nomem(c);
    const char *k;
    json_t *e;
    size_t i = 0;
    json_object_foreach(v, k, e) {
        kv[i].key = lks_arena_strdup(c->a, k);
        if (!kv[i].key) return nomem(c);
        if (json_is_null(e)) {
            kv[i].value = NULL;
        } else if (json_is_string(e)) {
            kv[i].value = lks_arena_strndup(c->a, json_string_value(e), json_string_length(e));
            if (!kv[i].value) return nomem(c);
        } else {
            return lks_err_set(c->err, LKS_ECORRUPT, "%s.%s.%s: expected a string", c->act, field, k);
        }
        i++;
    }
    *out = kv;
    *n = (int)i;
    return LKS_OK;
}

static int get_str_array(ctx *c, json_t *o, const char *field, const char ***out, int *n) {
    json_t *v = json_object_get(o, field);
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v)) return LKS_OK;
    if (!json_is_array(v)) return bad(c, field, "an array");
    size_t cnt = json_array_size(v);
    const char **arr = lks_arena_alloc(c->a, (cnt ? cnt : 1) * sizeof *arr);
    if (!arr) return nomem(c);
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e))
            return lks_err_set(c->err, LKS_ECORRUPT, "%s.%s[%zu]: expected a string", c->act, field, i);
        arr[i] = lks_arena_strndup(c->a, json_string_value(e), json_string_length(e));
        if (!arr[i]) return nomem(c);
    }
    *out = arr;
    *n = (int)cnt;
    return LKS_OK;
}

/* A JSON value as compact text. */
static int dump(ctx *c, json_t *v, const char **out) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) return nomem(c);
    *out = lks_arena_strdup(c->a, s);
    free(s);
    return *out ? LKS_OK : nomem(c);
}

static int parse_dv(ctx *c, json_t *o, lks_delta_dv *dv, int *has) {
    json_t *v = json_object_get(o, "deletionVector");
    memset(dv, 0, sizeof *dv);
    dv->offset = -1;
    *has = 0;
    if (!v || json_is_null(v)) return LKS_OK;
    if (!json_is_object(v)) return bad(c, "deletionVector", "an object");
    const char *saved = c->act;
    char name[64];
    snprintf(name, sizeof name, "%s.deletionVector", saved);
    c->act = name;
    const char *st;
    int64_t off, sz, card;
    int rc = get_str(c, v, "storageType", 1, &st);
    if (!rc) rc = get_str(c, v, "pathOrInlineDv", 1, &dv->path_or_inline);
    if (!rc) rc = get_int(c, v, "offset", 0, -1, &off);
    if (!rc) rc = get_int(c, v, "sizeInBytes", 1, 0, &sz);
    if (!rc) rc = get_int(c, v, "cardinality", 1, 0, &card);
    if (!rc && (strlen(st) != 1 || (st[0] != 'u' && st[0] != 'p' && st[0] != 'i')))
        rc = lks_err_set(c->err, LKS_ECORRUPT, "%s.storageType: unknown \"%s\"", name, st);
    if (!rc && (off < -1 || off > INT32_MAX || sz < 0 || sz > INT32_MAX || card < 0))
        rc = lks_err_set(c->err, LKS_ECORRUPT, "%s: offset/sizeInBytes/cardinality out of range", name);
    c->act = saved;
    if (rc) return rc;
    dv->storage_type = st[0];
    dv->offset = (int32_t)off;
    dv->size_in_bytes = (int32_t)sz;
    dv->cardinality = card;
    *has = 1;
    return LKS_OK;
}

static int parse_add(ctx *c, json_t *o, lks_delta_add *ad, int is_cdc) {
    memset(ad, 0, sizeof *ad);
    int rc = get_str(c, o, "path", 1, &ad->path);
    if (!rc) rc = get_map(c, o, "partitionValues", &ad->partition_values, &ad->npartition_values);
    if (!rc) rc = get_int(c, o, "size", 1, 0, &ad->size);
    if (!rc) rc = get_int(c, o, "modificationTime", !is_cdc, 0, &ad->modification_time);
    if (!rc) rc = get_bool(c, o, "dataChange", 0, is_cdc ? 0 : 1, &ad->data_change);
    if (!rc) rc = get_map(c, o, "tags", &ad->tags, &ad->ntags);
    if (rc) return rc;
    if (is_cdc) {
        ad->base_row_id = ad->default_row_commit_version = -1;
        return LKS_OK;
    }
    if (!rc) rc = get_str(c, o, "stats", 0, &ad->stats);
    if (!rc) rc = parse_dv(c, o, &ad->dv, &ad->has_dv);
    if (!rc) rc = get_int(c, o, "baseRowId", 0, -1, &ad->base_row_id);
    if (!rc) rc = get_int(c, o, "defaultRowCommitVersion", 0, -1, &ad->default_row_commit_version);
    if (!rc) rc = get_str(c, o, "clusteringProvider", 0, &ad->clustering_provider);
    if (!rc && ad->size < 0) rc = lks_err_set(c->err, LKS_ECORRUPT, "add.size: negative");
    return rc;
}

static int parse_remove(ctx *c, json_t *o, lks_delta_remove *r) {
    memset(r, 0, sizeof *r);
    int rc = get_str(c, o, "path", 1, &r->path);
    if (!rc) rc = get_int(c, o, "deletionTimestamp", 0, -1, &r->deletion_timestamp);
    if (!rc) rc = get_bool(c, o, "dataChange", 0, 1, &r->data_change);
    if (!rc) rc = get_bool(c, o, "extendedFileMetadata", 0, 0, &r->extended_file_metadata);
    if (!rc) rc = get_map(c, o, "partitionValues", &r->partition_values, &r->npartition_values);
    if (!rc) rc = get_int(c, o, "size", 0, -1, &r->size);
    if (!rc) rc = parse_dv(c, o, &r->dv, &r->has_dv);
    return rc;
}

static int parse_protocol(ctx *c, json_t *o, lks_delta_protocol *p) {
    memset(p, 0, sizeof *p);
    int64_t r, w;
    int rc = get_int(c, o, "minReaderVersion", 1, 0, &r);
    if (!rc) rc = get_int(c, o, "minWriterVersion", 1, 0, &w);
    if (!rc) rc = get_str_array(c, o, "readerFeatures", &p->reader_features, &p->nreader_features);
    if (!rc) rc = get_str_array(c, o, "writerFeatures", &p->writer_features, &p->nwriter_features);
    if (rc) return rc;
    if (r < 0 || r > 1000000 || w < 0 || w > 1000000)
        return lks_err_set(c->err, LKS_ECORRUPT, "protocol: version out of range");
    p->min_reader = (int)r;
    p->min_writer = (int)w;
    return LKS_OK;
}

static int parse_metadata(ctx *c, json_t *o, lks_delta_metadata *m) {
    memset(m, 0, sizeof *m);
    int rc = get_str(c, o, "id", 1, &m->id);
    if (!rc) rc = get_str(c, o, "name", 0, &m->name);
    if (!rc) rc = get_str(c, o, "description", 0, &m->description);
    if (!rc) {
        json_t *f = json_object_get(o, "format");
        if (f && !json_is_null(f)) {
            if (!json_is_object(f)) return bad(c, "format", "an object");
            c->act = "metaData.format";
            rc = get_str(c, f, "provider", 0, &m->format_provider);
            c->act = "metaData";
        }
    }
    if (!rc) rc = get_str(c, o, "schemaString", 0, &m->schema_string);
    if (!rc) rc = get_str_array(c, o, "partitionColumns", &m->partition_columns, &m->npartition_columns);
    if (!rc) rc = get_map(c, o, "configuration", &m->configuration, &m->nconfiguration);
    if (!rc) rc = get_int(c, o, "createdTime", 0, -1, &m->created_time);
    if (rc) return rc;
    if (!m->format_provider) m->format_provider = "parquet";
    /* very old tables (and empty ones) may lack a schema: an empty struct */
    if (!m->schema_string) m->schema_string = "{\"type\":\"struct\",\"fields\":[]}";
    rc = lks_delta_schema_parse(m->schema_string, strlen(m->schema_string), c->a, &m->schema, c->err);
    if (rc) return lks_err_prefix(c->err, "metaData.schemaString");
    if (m->schema->kind != LKS_DT_STRUCT)
        return lks_err_set(c->err, LKS_ECORRUPT, "metaData.schemaString: not a struct type");
    return LKS_OK;
}

static int parse_commit_info(ctx *c, json_t *o, lks_delta_commit_info *ci) {
    memset(ci, 0, sizeof *ci);
    int rc = get_int(c, o, "timestamp", 0, -1, &ci->timestamp);
    if (!rc) rc = get_int(c, o, "inCommitTimestamp", 0, -1, &ci->in_commit_timestamp);
    if (!rc) rc = get_str(c, o, "operation", 0, &ci->operation);
    if (!rc) rc = get_str(c, o, "txnId", 0, &ci->txn_id);
    if (!rc) rc = dump(c, o, &ci->json);
    return rc;
}

int lks_delta_action_parse(const char *line, size_t len, lks_arena *a, lks_delta_action *out, lks_err *err) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(line, len, 0, &je);
    if (!root) return lks_err_set(err, LKS_ECORRUPT, "invalid JSON at column %d: %s", je.column, je.text);
    ctx c = {a, err, "action"};
    int rc = LKS_OK;
    if (!json_is_object(root)) {
        rc = lks_err_set(err, LKS_ECORRUPT, "action: not a JSON object");
        goto done;
    }
    static const struct {
        const char *name;
        int kind;
    } kinds[] = {{"add", LKS_DA_ADD},
                 {"remove", LKS_DA_REMOVE},
                 {"metaData", LKS_DA_METADATA},
                 {"protocol", LKS_DA_PROTOCOL},
                 {"txn", LKS_DA_TXN},
                 {"domainMetadata", LKS_DA_DOMAIN},
                 {"commitInfo", LKS_DA_COMMIT_INFO},
                 {"cdc", LKS_DA_CDC},
                 {"checkpointMetadata", LKS_DA_CHECKPOINT_META},
                 {"sidecar", LKS_DA_SIDECAR}};
    json_t *body = NULL;
    int kind = LKS_DA_NONE;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        json_t *v = json_object_get(root, kinds[i].name);
        if (!v || json_is_null(v)) continue;
        if (body) {
            rc = lks_err_set(err, LKS_ECORRUPT, "action: both %s and %s in one line", c.act, kinds[i].name);
            goto done;
        }
        body = v;
        kind = kinds[i].kind;
        c.act = kinds[i].name;
    }
    if (!body) goto done; /* unknown action: ignored */
    if (!json_is_object(body)) {
        rc = lks_err_set(err, LKS_ECORRUPT, "%s: not a JSON object", c.act);
        goto done;
    }
    out->kind = kind;
    switch (kind) {
    case LKS_DA_ADD: rc = parse_add(&c, body, &out->u.add, 0); break;
    case LKS_DA_CDC: rc = parse_add(&c, body, &out->u.cdc, 1); break;
    case LKS_DA_REMOVE: rc = parse_remove(&c, body, &out->u.remove); break;
    case LKS_DA_METADATA: rc = parse_metadata(&c, body, &out->u.metadata); break;
    case LKS_DA_PROTOCOL: rc = parse_protocol(&c, body, &out->u.protocol); break;
    case LKS_DA_TXN:
        rc = get_str(&c, body, "appId", 1, &out->u.txn.app_id);
        if (!rc) rc = get_int(&c, body, "version", 1, 0, &out->u.txn.version);
        if (!rc) rc = get_int(&c, body, "lastUpdated", 0, -1, &out->u.txn.last_updated);
        break;
    case LKS_DA_DOMAIN:
        rc = get_str(&c, body, "domain", 1, &out->u.domain.domain);
        if (!rc) rc = get_str(&c, body, "configuration", 1, &out->u.domain.configuration);
        if (!rc) rc = get_bool(&c, body, "removed", 1, 0, &out->u.domain.removed);
        break;
    case LKS_DA_COMMIT_INFO: rc = parse_commit_info(&c, body, &out->u.commit_info); break;
    case LKS_DA_CHECKPOINT_META: rc = get_int(&c, body, "version", 1, 0, &out->u.checkpoint_version); break;
    case LKS_DA_SIDECAR:
        rc = get_str(&c, body, "path", 1, &out->u.sidecar.path);
        if (!rc) rc = get_int(&c, body, "sizeInBytes", 1, 0, &out->u.sidecar.size_in_bytes);
        if (!rc) rc = get_int(&c, body, "modificationTime", 0, 0, &out->u.sidecar.modification_time);
        break;
    default: break;
    }
    if (rc) out->kind = LKS_DA_NONE;
done:
    json_decref(root);
    return rc;
}
