/*
 * schema.c — Delta schemas (PROTOCOL.md "Schema Serialization Format"):
 * parsing a schemaString, printing it back, and mapping it to the
 * canonical Parquet form described in delta.h.
 */
#include "delta/delta_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct pctx {
    lks_arena *a;
    lks_err *err;
    char path[256]; /* JSON path of the node being parsed, for messages */
} pctx;

static int nomem(pctx *c) { return lks_err_set(c->err, LKS_ENOMEM, "schema: out of memory"); }

/* Appends pre + s + post to the path; returns the old length to restore. */
static size_t path_push(pctx *c, const char *pre, const char *s, const char *post) {
    size_t old = strlen(c->path);
    snprintf(c->path + old, sizeof c->path - old, "%s%.60s%s", pre, s, post);
    return old;
}

static size_t path_push_idx(pctx *c, size_t i) {
    size_t old = strlen(c->path);
    snprintf(c->path + old, sizeof c->path - old, ".fields[%zu]", i);
    return old;
}

static int corrupt(pctx *c, const char *what) {
    return lks_err_set(c->err, LKS_ECORRUPT, "schema%s: %s", c->path, what);
}

static const struct {
    const char *name;
    int kind;
} prims[] = {{"string", LKS_DT_STRING},   {"long", LKS_DT_LONG},       {"integer", LKS_DT_INTEGER},
             {"short", LKS_DT_SHORT},     {"byte", LKS_DT_BYTE},       {"float", LKS_DT_FLOAT},
             {"double", LKS_DT_DOUBLE},   {"boolean", LKS_DT_BOOLEAN}, {"binary", LKS_DT_BINARY},
             {"date", LKS_DT_DATE},       {"timestamp", LKS_DT_TIMESTAMP},
             {"timestamp_ntz", LKS_DT_TIMESTAMP_NTZ}, {"void", LKS_DT_VOID}, {"null", LKS_DT_VOID}};

static int parse_type(pctx *c, json_t *v, lks_delta_type *t, int depth);

static int parse_decimal(pctx *c, const char *s, lks_delta_type *t) {
    /* "decimal" alone is decimal(10,0) in Spark; else "decimal(p,s)" */
    int p = 10, sc = 0;
    if (strcmp(s, "decimal") != 0) {
        const char *q = s + 7;
        char *end;
        while (*q == ' ') q++;
        if (*q++ != '(') return corrupt(c, "bad decimal type");
        long lp = strtol(q, &end, 10);
        if (end == q) return corrupt(c, "bad decimal precision");
        q = end;
        while (*q == ' ') q++;
        if (*q++ != ',') return corrupt(c, "bad decimal type");
        long ls = strtol(q, &end, 10);
        if (end == q) return corrupt(c, "bad decimal scale");
        q = end;
        while (*q == ' ') q++;
        if (*q++ != ')' || *q) return corrupt(c, "bad decimal type");
        if (lp < 1 || lp > 38 || ls < 0 || ls > lp) return corrupt(c, "decimal precision/scale out of range");
        p = (int)lp;
        sc = (int)ls;
    }
    t->kind = LKS_DT_DECIMAL;
    t->precision = p;
    t->scale = sc;
    return LKS_OK;
}

static int get_bool_field(pctx *c, json_t *o, const char *key, int dflt, int *out) {
    json_t *v = json_object_get(o, key);
    *out = dflt;
    if (!v) return LKS_OK;
    if (!json_is_boolean(v)) {
        size_t old = path_push(c, ".", key, "");
        int rc = corrupt(c, "expected a boolean");
        c->path[old] = 0;
        return rc;
    }
    *out = json_is_true(v);
    return LKS_OK;
}

static int parse_field(pctx *c, json_t *f, lks_delta_type *t, int depth) {
    if (!json_is_object(f)) return corrupt(c, "field is not an object");
    json_t *name = json_object_get(f, "name");
    if (!json_is_string(name)) return corrupt(c, "field name missing or not a string");
    t->name = lks_arena_strndup(c->a, json_string_value(name), json_string_length(name));
    if (!t->name) return nomem(c);
    size_t old = strlen(c->path);
    path_push(c, "(", t->name, ")");
    json_t *ty = json_object_get(f, "type");
    if (!ty) {
        int rc = corrupt(c, "field type missing");
        c->path[old] = 0;
        return rc;
    }
    int rc = parse_type(c, ty, t, depth + 1);
    if (!rc) rc = get_bool_field(c, f, "nullable", 1, &t->nullable);
    if (rc) return rc;
    json_t *md = json_object_get(f, "metadata");
    if (md && !json_is_null(md)) {
        if (!json_is_object(md)) return corrupt(c, "metadata is not an object");
        json_t *pn = json_object_get(md, "delta.columnMapping.physicalName");
        if (pn) {
            if (!json_is_string(pn)) return corrupt(c, "delta.columnMapping.physicalName is not a string");
            t->physical_name = lks_arena_strndup(c->a, json_string_value(pn), json_string_length(pn));
            if (!t->physical_name) return nomem(c);
        }
        json_t *id = json_object_get(md, "delta.columnMapping.id");
        if (id) {
            if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) > INT32_MAX)
                return corrupt(c, "delta.columnMapping.id is not a non-negative 32-bit integer");
            t->field_id = (int64_t)json_integer_value(id);
        }
        char *s = json_dumps(md, JSON_COMPACT);
        if (!s) return nomem(c);
        t->metadata_json = lks_arena_strdup(c->a, s);
        free(s);
        if (!t->metadata_json) return nomem(c);
    }
    c->path[old] = 0;
    return LKS_OK;
}

static void init_node(lks_delta_type *t) {
    memset(t, 0, sizeof *t);
    t->nullable = 1;
    t->field_id = -1;
    t->metadata_json = "{}";
}

static int parse_type(pctx *c, json_t *v, lks_delta_type *t, int depth) {
    if (depth > MAX_DEPTH) return lks_err_set(c->err, LKS_ELIMIT, "schema%s: nested deeper than %d", c->path, MAX_DEPTH);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
            if (strcmp(s, prims[i].name) == 0) {
                t->kind = prims[i].kind;
                return LKS_OK;
            }
        if (strncmp(s, "decimal", 7) == 0) return parse_decimal(c, s, t);
        return lks_err_set(c->err, LKS_EUNSUPPORTED, "schema%s: unsupported type \"%.60s\"", c->path, s);
    }
    if (!json_is_object(v)) return corrupt(c, "type is neither a string nor an object");
    json_t *tt = json_object_get(v, "type");
    if (!json_is_string(tt)) return corrupt(c, "type object without a \"type\" string");
    const char *k = json_string_value(tt);
    if (strcmp(k, "struct") == 0) {
        json_t *fs = json_object_get(v, "fields");
        if (!json_is_array(fs)) return corrupt(c, "struct without a \"fields\" array");
        size_t n = json_array_size(fs);
        if (n > 1000000) return lks_err_set(c->err, LKS_ELIMIT, "schema%s: too many fields", c->path);
        t->kind = LKS_DT_STRUCT;
        t->nchildren = (int)n;
        t->children = lks_arena_alloc(c->a, (n ? n : 1) * sizeof *t->children);
        if (!t->children) return nomem(c);
        for (size_t i = 0; i < n; i++) {
            init_node(&t->children[i]);
            size_t old = path_push_idx(c, i);
            int rc = parse_field(c, json_array_get(fs, i), &t->children[i], depth);
            if (rc) return rc;
            c->path[old] = 0;
        }
        /* duplicate names are a malformed schema */
        for (size_t i = 0; i < n && n <= 4096; i++)
            for (size_t j = i + 1; j < n; j++)
                if (strcmp(t->children[i].name, t->children[j].name) == 0) {
                    char msg[200];
                    snprintf(msg, sizeof msg, "duplicate field name \"%.100s\"", t->children[i].name);
                    return corrupt(c, msg);
                }
        return LKS_OK;
    }
    if (strcmp(k, "array") == 0) {
        json_t *et = json_object_get(v, "elementType");
        if (!et) return corrupt(c, "array without elementType");
        t->kind = LKS_DT_ARRAY;
        t->nchildren = 1;
        t->children = lks_arena_alloc(c->a, sizeof *t->children);
        if (!t->children) return nomem(c);
        init_node(&t->children[0]);
        int rc = get_bool_field(c, v, "containsNull", 1, &t->children[0].nullable);
        if (rc) return rc;
        size_t old = path_push(c, ".elementType", "", "");
        rc = parse_type(c, et, &t->children[0], depth + 1);
        if (rc) return rc;
        c->path[old] = 0;
        return LKS_OK;
    }
    if (strcmp(k, "map") == 0) {
        json_t *kt = json_object_get(v, "keyType"), *vt = json_object_get(v, "valueType");
        if (!kt || !vt) return corrupt(c, "map without keyType/valueType");
        t->kind = LKS_DT_MAP;
        t->nchildren = 2;
        t->children = lks_arena_alloc(c->a, 2 * sizeof *t->children);
        if (!t->children) return nomem(c);
        init_node(&t->children[0]);
        init_node(&t->children[1]);
        t->children[0].nullable = 0;
        int rc = get_bool_field(c, v, "valueContainsNull", 1, &t->children[1].nullable);
        if (rc) return rc;
        size_t old = path_push(c, ".keyType", "", "");
        rc = parse_type(c, kt, &t->children[0], depth + 1);
        if (rc) return rc;
        c->path[old] = 0;
        path_push(c, ".valueType", "", "");
        rc = parse_type(c, vt, &t->children[1], depth + 1);
        if (rc) return rc;
        c->path[old] = 0;
        return LKS_OK;
    }
    return lks_err_set(c->err, LKS_EUNSUPPORTED, "schema%s: unsupported type \"%.60s\"", c->path, k);
}

int lks_delta__schema_from_json(json_t *root, lks_arena *a, lks_delta_type **out, lks_err *err);
int lks_delta__schema_from_json(json_t *root, lks_arena *a, lks_delta_type **out, lks_err *err) {
    pctx c;
    c.a = a;
    c.err = err;
    c.path[0] = 0;
    *out = NULL;
    lks_delta_type *t = lks_arena_alloc(a, sizeof *t);
    if (!t) return nomem(&c);
    init_node(t);
    int rc = parse_type(&c, root, t, 0);
    if (rc) return rc;
    if (t->kind != LKS_DT_STRUCT) return lks_err_set(err, LKS_ECORRUPT, "schema: the root is not a struct");
    t->nullable = 0;
    *out = t;
    return LKS_OK;
}

int lks_delta_schema_parse(const char *json, size_t len, lks_arena *a, lks_delta_type **out, lks_err *err) {
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_DECODE_ANY, &je);
    if (!root) return lks_err_set(err, LKS_ECORRUPT, "schema: invalid JSON at column %d: %s", je.column, je.text);
    int rc = lks_delta__schema_from_json(root, a, out, err);
    json_decref(root);
    return rc;
}

/* ---- to JSON ---- */

static int type_json(lks_buf *b, const lks_delta_type *t);

static int field_json(lks_buf *b, const lks_delta_type *f) {
    int rc = lks_buf_append(b, "{\"name\":", 8);
    if (!rc) rc = lks_json_quote(b, f->name ? f->name : "", f->name ? strlen(f->name) : 0);
    if (!rc) rc = lks_buf_append(b, ",\"type\":", 8);
    if (!rc) rc = type_json(b, f);
    if (!rc) rc = lks_buf_printf(b, ",\"nullable\":%s,\"metadata\":%s}", f->nullable ? "true" : "false",
                                 f->metadata_json && f->metadata_json[0] ? f->metadata_json : "{}");
    return rc;
}

static int type_json(lks_buf *b, const lks_delta_type *t) {
    switch (t->kind) {
    case LKS_DT_DECIMAL: return lks_buf_printf(b, "\"decimal(%d,%d)\"", t->precision, t->scale);
    case LKS_DT_STRUCT: {
        int rc = lks_buf_printf(b, "{\"type\":\"struct\",\"fields\":[");
        for (int i = 0; !rc && i < t->nchildren; i++) {
            if (i) rc = lks_buf_append_byte(b, ',');
            if (!rc) rc = field_json(b, &t->children[i]);
        }
        if (!rc) rc = lks_buf_append(b, "]}", 2);
        return rc;
    }
    case LKS_DT_ARRAY: {
        if (t->nchildren != 1) return LKS_EINVAL;
        int rc = lks_buf_printf(b, "{\"type\":\"array\",\"elementType\":");
        if (!rc) rc = type_json(b, &t->children[0]);
        if (!rc) rc = lks_buf_printf(b, ",\"containsNull\":%s}", t->children[0].nullable ? "true" : "false");
        return rc;
    }
    case LKS_DT_MAP: {
        if (t->nchildren != 2) return LKS_EINVAL;
        int rc = lks_buf_printf(b, "{\"type\":\"map\",\"keyType\":");
        if (!rc) rc = type_json(b, &t->children[0]);
        if (!rc) rc = lks_buf_printf(b, ",\"valueType\":");
        if (!rc) rc = type_json(b, &t->children[1]);
        if (!rc) rc = lks_buf_printf(b, ",\"valueContainsNull\":%s}", t->children[1].nullable ? "true" : "false");
        return rc;
    }
    default:
        for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
            if (prims[i].kind == t->kind) return lks_buf_printf(b, "\"%s\"", prims[i].name);
        return LKS_EINVAL;
    }
}

int lks_delta_schema_to_json(lks_buf *b, const lks_delta_type *root) {
    if (!root || root->kind != LKS_DT_STRUCT) return LKS_EINVAL;
    return type_json(b, root);
}

/* ---- to Parquet ---- */

static int count_nodes(const lks_delta_type *t, int depth) {
    if (depth > MAX_DEPTH) return -1;
    int n = 1;
    switch (t->kind) {
    case LKS_DT_STRUCT:
        for (int i = 0; i < t->nchildren; i++) {
            int k = count_nodes(&t->children[i], depth + 1);
            if (k < 0) return -1;
            n += k;
        }
        return n;
    case LKS_DT_ARRAY: {
        int k = t->nchildren == 1 ? count_nodes(&t->children[0], depth + 1) : -1;
        return k < 0 ? -1 : n + 1 + k; /* group, repeated "list", element subtree */
    }
    case LKS_DT_MAP: {
        if (t->nchildren != 2) return -1;
        int k = count_nodes(&t->children[0], depth + 1), v = count_nodes(&t->children[1], depth + 1);
        return k < 0 || v < 0 ? -1 : n + 1 + k + v;
    }
    default: return n;
    }
}

static int decimal_bytes(int p) {
    /* fewest bytes n with 2^(8n-1) > 10^p - 1 */
    double lim = 1;
    for (int i = 0; i < p; i++) lim *= 10;
    int n = 1;
    double cap = 128; /* 2^(8n-1) */
    while (cap < lim) {
        n++;
        cap *= 256;
    }
    return n;
}

typedef struct bctx {
    lks_pq_field *f;
    int n;
    int physical;
    lks_err *err;
} bctx;

/* Emits the subtree of t (named `name`) with the given repetition. */
static int emit(bctx *c, const lks_delta_type *t, const char *name, int rep, int field_id) {
    lks_pq_field *f = &c->f[c->n++];
    memset(f, 0, sizeof *f);
    f->name = name;
    f->repetition = rep;
    f->type = -1;
    f->field_id = field_id;
    f->logical = lks_pq_lt(LKS_PQ_LT_NONE);
    switch (t->kind) {
    case LKS_DT_BOOLEAN: f->type = LKS_PQ_BOOLEAN; break;
    case LKS_DT_BYTE:
    case LKS_DT_SHORT:
        f->type = LKS_PQ_INT32;
        f->logical = lks_pq_lt(LKS_PQ_LT_INTEGER);
        f->logical.bit_width = t->kind == LKS_DT_BYTE ? 8 : 16;
        f->logical.is_signed = 1;
        break;
    case LKS_DT_INTEGER: f->type = LKS_PQ_INT32; break;
    case LKS_DT_LONG: f->type = LKS_PQ_INT64; break;
    case LKS_DT_FLOAT: f->type = LKS_PQ_FLOAT; break;
    case LKS_DT_DOUBLE: f->type = LKS_PQ_DOUBLE; break;
    case LKS_DT_STRING:
        f->type = LKS_PQ_BYTE_ARRAY;
        f->logical = lks_pq_lt(LKS_PQ_LT_STRING);
        break;
    case LKS_DT_BINARY: f->type = LKS_PQ_BYTE_ARRAY; break;
    case LKS_DT_DATE:
        f->type = LKS_PQ_INT32;
        f->logical = lks_pq_lt(LKS_PQ_LT_DATE);
        break;
    case LKS_DT_TIMESTAMP:
    case LKS_DT_TIMESTAMP_NTZ:
        f->type = LKS_PQ_INT64;
        f->logical = lks_pq_lt_timestamp(LKS_PQ_UNIT_MICROS, t->kind == LKS_DT_TIMESTAMP);
        break;
    case LKS_DT_VOID:
        /* always null: an optional INT32 annotated UNKNOWN */
        f->type = LKS_PQ_INT32;
        f->logical = lks_pq_lt(LKS_PQ_LT_UNKNOWN);
        f->repetition = rep == LKS_PQ_REPEATED ? rep : LKS_PQ_OPTIONAL;
        break;
    case LKS_DT_DECIMAL:
        if (t->precision <= 9)
            f->type = LKS_PQ_INT32;
        else if (t->precision <= 18)
            f->type = LKS_PQ_INT64;
        else {
            f->type = LKS_PQ_FIXED_LEN_BYTE_ARRAY;
            f->type_length = decimal_bytes(t->precision);
        }
        f->logical = lks_pq_lt_decimal(t->precision, t->scale);
        break;
    case LKS_DT_STRUCT:
        f->num_children = t->nchildren;
        for (int i = 0; i < t->nchildren; i++) {
            const lks_delta_type *ch = &t->children[i];
            const char *nm = c->physical && ch->physical_name ? ch->physical_name : ch->name;
            int id = c->physical && ch->field_id >= 0 ? (int)ch->field_id : -1;
            int rc = emit(c, ch, nm, ch->nullable ? LKS_PQ_OPTIONAL : LKS_PQ_REQUIRED, id);
            if (rc) return rc;
        }
        break;
    case LKS_DT_ARRAY: {
        f->num_children = 1;
        f->logical = lks_pq_lt(LKS_PQ_LT_LIST);
        lks_pq_field *l = &c->f[c->n++];
        memset(l, 0, sizeof *l);
        l->name = "list";
        l->repetition = LKS_PQ_REPEATED;
        l->type = -1;
        l->field_id = -1;
        l->num_children = 1;
        const lks_delta_type *e = &t->children[0];
        return emit(c, e, "element", e->nullable ? LKS_PQ_OPTIONAL : LKS_PQ_REQUIRED, -1);
    }
    case LKS_DT_MAP: {
        f->num_children = 1;
        f->logical = lks_pq_lt(LKS_PQ_LT_MAP);
        lks_pq_field *kv = &c->f[c->n++];
        memset(kv, 0, sizeof *kv);
        kv->name = "key_value";
        kv->repetition = LKS_PQ_REPEATED;
        kv->type = -1;
        kv->field_id = -1;
        kv->num_children = 2;
        int rc = emit(c, &t->children[0], "key", LKS_PQ_REQUIRED, -1);
        if (rc) return rc;
        const lks_delta_type *v = &t->children[1];
        return emit(c, v, "value", v->nullable ? LKS_PQ_OPTIONAL : LKS_PQ_REQUIRED, -1);
    }
    default: return lks_err_set(c->err, LKS_EINVAL, "schema to parquet: bad type kind %d", t->kind);
    }
    return LKS_OK;
}

int lks_delta_schema_to_parquet(const lks_delta_type *root, int physical, lks_pq_schema **out, lks_err *err) {
    *out = NULL;
    if (!root || root->kind != LKS_DT_STRUCT)
        return lks_err_set(err, LKS_EINVAL, "schema to parquet: the root is not a struct");
    int n = count_nodes(root, 0);
    if (n < 0) return lks_err_set(err, LKS_ELIMIT, "schema to parquet: nested too deep or malformed");
    lks_pq_field *f = calloc((size_t)n, sizeof *f);
    if (!f) return lks_err_set(err, LKS_ENOMEM, "schema to parquet: out of memory");
    bctx c = {f, 0, physical, err};
    int rc = emit(&c, root, "spark_schema", LKS_PQ_REQUIRED, -1);
    if (!rc) {
        rc = lks_pq_schema_build(f, c.n, out, err);
        /* the Delta schema came from a table's log: a schema Parquet cannot
         * hold (an empty field name...) is a table we cannot read, not a
         * caller's mistake */
        if (rc == LKS_EINVAL) {
            lks_err_prefix(err, "table schema");
            rc = err ? (err->code = LKS_EUNSUPPORTED) : LKS_EUNSUPPORTED;
        }
    }
    free(f);
    return rc;
}
