/*
 * action_write.c — one Delta log action as one JSON line, with the field
 * names and shapes of PROTOCOL.md ("Actions").  Optional fields are written
 * only when set; a NULL partition value is a JSON null.
 */
#include "delta/delta_int.h"

#include <inttypes.h>
#include <string.h>

static int q(lks_buf *b, const char *s) {
    if (!s) return lks_buf_append(b, "null", 4);
    return lks_json_quote(b, s, strlen(s));
}

static int lit(lks_buf *b, const char *s) { return lks_buf_append(b, s, strlen(s)); }

/* ,"name": */
static int key(lks_buf *b, const char *name, int first) {
    int rc = first ? LKS_OK : lks_buf_append_byte(b, ',');
    if (!rc) rc = q(b, name);
    if (!rc) rc = lks_buf_append_byte(b, ':');
    return rc;
}

static int kv_map(lks_buf *b, const lks_delta_kv *kv, int n) {
    int rc = lks_buf_append_byte(b, '{');
    for (int i = 0; i < n && !rc; i++) {
        rc = key(b, kv[i].key ? kv[i].key : "", i == 0);
        if (!rc) rc = q(b, kv[i].value);
    }
    if (!rc) rc = lks_buf_append_byte(b, '}');
    return rc;
}

static int str_array(lks_buf *b, const char **v, int n) {
    int rc = lks_buf_append_byte(b, '[');
    for (int i = 0; i < n && !rc; i++) {
        if (i) rc = lks_buf_append_byte(b, ',');
        if (!rc) rc = q(b, v[i] ? v[i] : "");
    }
    if (!rc) rc = lks_buf_append_byte(b, ']');
    return rc;
}

static int i64f(lks_buf *b, const char *name, int64_t v, int first) {
    int rc = key(b, name, first);
    return rc ? rc : lks_buf_printf(b, "%" PRId64, v);
}

static int boolf(lks_buf *b, const char *name, int v, int first) {
    int rc = key(b, name, first);
    return rc ? rc : lit(b, v ? "true" : "false");
}

static int strf(lks_buf *b, const char *name, const char *v, int first) {
    int rc = key(b, name, first);
    return rc ? rc : q(b, v);
}

static int dv_obj(lks_buf *b, const lks_delta_dv *dv) {
    char st[2] = {dv->storage_type, 0};
    int rc = lks_buf_append_byte(b, '{');
    if (!rc) rc = strf(b, "storageType", st, 1);
    if (!rc) rc = strf(b, "pathOrInlineDv", dv->path_or_inline ? dv->path_or_inline : "", 0);
    if (!rc && dv->offset >= 0) rc = i64f(b, "offset", dv->offset, 0);
    if (!rc) rc = i64f(b, "sizeInBytes", dv->size_in_bytes, 0);
    if (!rc) rc = i64f(b, "cardinality", dv->cardinality, 0);
    if (!rc) rc = lks_buf_append_byte(b, '}');
    return rc;
}

static int write_protocol(lks_buf *b, const lks_delta_protocol *p) {
    int rc = lit(b, "{\"protocol\":{");
    if (!rc) rc = i64f(b, "minReaderVersion", p->min_reader, 1);
    if (!rc) rc = i64f(b, "minWriterVersion", p->min_writer, 0);
    /* The feature lists exist exactly when the versions support them. */
    if (!rc && p->min_reader == 3) {
        rc = key(b, "readerFeatures", 0);
        if (!rc) rc = str_array(b, p->reader_features, p->reader_features ? p->nreader_features : 0);
    }
    if (!rc && p->min_writer == 7) {
        rc = key(b, "writerFeatures", 0);
        if (!rc) rc = str_array(b, p->writer_features, p->writer_features ? p->nwriter_features : 0);
    }
    if (!rc) rc = lit(b, "}}\n");
    return rc;
}

static int write_metadata(lks_buf *b, const lks_delta_metadata *m) {
    int rc = lit(b, "{\"metaData\":{");
    if (!rc) rc = strf(b, "id", m->id ? m->id : "", 1);
    if (!rc && m->name) rc = strf(b, "name", m->name, 0);
    if (!rc && m->description) rc = strf(b, "description", m->description, 0);
    if (!rc) rc = key(b, "format", 0);
    if (!rc) rc = lit(b, "{\"provider\":");
    if (!rc) rc = q(b, m->format_provider ? m->format_provider : "parquet");
    if (!rc) rc = lit(b, ",\"options\":{}}");
    if (!rc) rc = key(b, "schemaString", 0);
    if (!rc) {
        if (m->schema_string) {
            rc = q(b, m->schema_string);
        } else if (m->schema) {
            lks_buf s;
            lks_buf_init(&s, 0);
            rc = lks_delta_schema_to_json(&s, m->schema);
            if (!rc) rc = lks_json_quote(b, (const char *)s.ptr, s.len);
            lks_buf_free(&s);
        } else {
            rc = LKS_EINVAL;
        }
    }
    if (!rc) rc = key(b, "partitionColumns", 0);
    if (!rc) rc = str_array(b, m->partition_columns, m->npartition_columns);
    if (!rc) rc = key(b, "configuration", 0);
    if (!rc) rc = kv_map(b, m->configuration, m->nconfiguration);
    if (!rc && m->created_time >= 0) rc = i64f(b, "createdTime", m->created_time, 0);
    if (!rc) rc = lit(b, "}}\n");
    return rc;
}

static int write_add(lks_buf *b, const char *kind, const lks_delta_add *a, int cdc) {
    int rc = lks_buf_printf(b, "{\"%s\":{", kind);
    if (!rc) rc = strf(b, "path", a->path ? a->path : "", 1);
    if (!rc) rc = key(b, "partitionValues", 0);
    if (!rc) rc = kv_map(b, a->partition_values, a->npartition_values);
    if (!rc) rc = i64f(b, "size", a->size, 0);
    if (!rc && !cdc) rc = i64f(b, "modificationTime", a->modification_time, 0);
    if (!rc) rc = boolf(b, "dataChange", a->data_change, 0);
    if (!rc && a->stats && !cdc) rc = strf(b, "stats", a->stats, 0);
    if (!rc && a->ntags > 0) {
        rc = key(b, "tags", 0);
        if (!rc) rc = kv_map(b, a->tags, a->ntags);
    }
    if (!rc && a->has_dv && !cdc) {
        rc = key(b, "deletionVector", 0);
        if (!rc) rc = dv_obj(b, &a->dv);
    }
    if (!rc && !cdc && a->base_row_id >= 0) rc = i64f(b, "baseRowId", a->base_row_id, 0);
    if (!rc && !cdc && a->default_row_commit_version >= 0)
        rc = i64f(b, "defaultRowCommitVersion", a->default_row_commit_version, 0);
    if (!rc && !cdc && a->clustering_provider) rc = strf(b, "clusteringProvider", a->clustering_provider, 0);
    if (!rc) rc = lit(b, "}}\n");
    return rc;
}

static int write_remove(lks_buf *b, const lks_delta_remove *r) {
    int rc = lit(b, "{\"remove\":{");
    if (!rc) rc = strf(b, "path", r->path ? r->path : "", 1);
    if (!rc && r->deletion_timestamp >= 0) rc = i64f(b, "deletionTimestamp", r->deletion_timestamp, 0);
    if (!rc) rc = boolf(b, "dataChange", r->data_change, 0);
    if (!rc && r->extended_file_metadata) rc = boolf(b, "extendedFileMetadata", 1, 0);
    if (!rc && (r->extended_file_metadata || r->npartition_values > 0)) {
        rc = key(b, "partitionValues", 0);
        if (!rc) rc = kv_map(b, r->partition_values, r->npartition_values);
    }
    if (!rc && r->size >= 0) rc = i64f(b, "size", r->size, 0);
    if (!rc && r->has_dv) {
        rc = key(b, "deletionVector", 0);
        if (!rc) rc = dv_obj(b, &r->dv);
    }
    if (!rc) rc = lit(b, "}}\n");
    return rc;
}

int lks_delta_action_write(lks_buf *b, const lks_delta_action *act) {
    int rc;
    switch (act->kind) {
    case LKS_DA_PROTOCOL:
        return write_protocol(b, &act->u.protocol);
    case LKS_DA_METADATA:
        return write_metadata(b, &act->u.metadata);
    case LKS_DA_ADD:
        return write_add(b, "add", &act->u.add, 0);
    case LKS_DA_CDC:
        return write_add(b, "cdc", &act->u.cdc, 1);
    case LKS_DA_REMOVE:
        return write_remove(b, &act->u.remove);
    case LKS_DA_TXN: {
        const lks_delta_txn_action *t = &act->u.txn;
        rc = lit(b, "{\"txn\":{");
        if (!rc) rc = strf(b, "appId", t->app_id ? t->app_id : "", 1);
        if (!rc) rc = i64f(b, "version", t->version, 0);
        if (!rc && t->last_updated >= 0) rc = i64f(b, "lastUpdated", t->last_updated, 0);
        if (!rc) rc = lit(b, "}}\n");
        return rc;
    }
    case LKS_DA_DOMAIN: {
        const lks_delta_domain *d = &act->u.domain;
        rc = lit(b, "{\"domainMetadata\":{");
        if (!rc) rc = strf(b, "domain", d->domain ? d->domain : "", 1);
        if (!rc) rc = strf(b, "configuration", d->configuration ? d->configuration : "", 0);
        if (!rc) rc = boolf(b, "removed", d->removed, 0);
        if (!rc) rc = lit(b, "}}\n");
        return rc;
    }
    case LKS_DA_COMMIT_INFO: {
        const char *j = act->u.commit_info.json;
        rc = lit(b, "{\"commitInfo\":");
        if (!rc) rc = lit(b, j && *j ? j : "{}");
        if (!rc) rc = lit(b, "}\n");
        return rc;
    }
    case LKS_DA_CHECKPOINT_META:
        return lks_buf_printf(b, "{\"checkpointMetadata\":{\"version\":%" PRId64 ",\"tags\":{}}}\n",
                              act->u.checkpoint_version);
    case LKS_DA_SIDECAR: {
        const lks_delta_sidecar *s = &act->u.sidecar;
        rc = lit(b, "{\"sidecar\":{");
        if (!rc) rc = strf(b, "path", s->path ? s->path : "", 1);
        if (!rc) rc = i64f(b, "sizeInBytes", s->size_in_bytes, 0);
        if (!rc) rc = i64f(b, "modificationTime", s->modification_time, 0);
        if (!rc) rc = lit(b, "}}\n");
        return rc;
    }
    default:
        return LKS_EINVAL;
    }
}
