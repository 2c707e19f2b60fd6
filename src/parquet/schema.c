/*
 * schema.c — Parquet schemas: validating a caller's depth-first field array
 * (writer side, strict), building one from a file footer's elements (reader
 * side: lenient about legacy annotations, strict about structure), and
 * deriving each leaf column's definition/repetition levels and dotted path.
 *
 * Both entry points copy the fields into the schema's arena and share one
 * walk over the array; they differ in error codes (LKS_EINVAL naming the
 * field's path for lks_pq_schema_build, LKS_ECORRUPT naming the element index
 * for lks_pq_schema_from_meta) and in whether logical annotations are checked
 * against their physical type and LIST/MAP shapes (build only).
 */
#include "parquet/parquet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_BYTES ((size_t)16 << 10)  /* one column's dotted path */
#define PATHS_MAX_BYTES ((size_t)64 << 20) /* all column paths together */
/* Every group has a leaf below it and a leaf has at most MAX_DEPTH
 * ancestors besides the root, so no valid schema has more fields. */
#define MAX_FIELDS ((int64_t)LKS_PQ_MAX_COLUMNS * (LKS_PQ_MAX_DEPTH + 1) + 1)

typedef struct ctx {
    lks_pq_schema *s;
    int strict; /* 1: lks_pq_schema_build, 0: from a footer */
    lks_err *err;
} ctx;

static const char *type_name(int t) {
    static const char *const names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                        "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    if (t == -1)
        return "a group";
    return t >= 0 && t <= 7 ? names[t] : "an unknown type";
}

static const char *lt_name(int kind) {
    switch (kind) {
    case LKS_PQ_LT_STRING: return "STRING";
    case LKS_PQ_LT_MAP: return "MAP";
    case LKS_PQ_LT_LIST: return "LIST";
    case LKS_PQ_LT_ENUM: return "ENUM";
    case LKS_PQ_LT_DECIMAL: return "DECIMAL";
    case LKS_PQ_LT_DATE: return "DATE";
    case LKS_PQ_LT_TIME: return "TIME";
    case LKS_PQ_LT_TIMESTAMP: return "TIMESTAMP";
    case LKS_PQ_LT_INTEGER: return "INTEGER";
    case LKS_PQ_LT_UNKNOWN: return "UNKNOWN";
    case LKS_PQ_LT_JSON: return "JSON";
    case LKS_PQ_LT_BSON: return "BSON";
    case LKS_PQ_LT_UUID: return "UUID";
    case LKS_PQ_LT_FLOAT16: return "FLOAT16";
    case LKS_PQ_LT_VARIANT: return "VARIANT";
    case LKS_PQ_LT_GEOMETRY: return "GEOMETRY";
    case LKS_PQ_LT_GEOGRAPHY: return "GEOGRAPHY";
    default: return "an unknown logical type";
    }
}

/* Dotted path of field i for messages (root excluded; "(root)" for the
 * root), truncated to cap.  Only uses parent[] of i's ancestors, which the
 * walk has set by the time it reports on i. */
static void path_of(const lks_pq_schema *s, int i, char *out, size_t cap) {
    if (i == 0) {
        snprintf(out, cap, "(root)");
        return;
    }
    int chain[LKS_PQ_MAX_DEPTH + 2], k = 0;
    int j = i;
    while (j > 0 && k < LKS_PQ_MAX_DEPTH + 2) {
        chain[k++] = j;
        j = s->parent[j];
    }
    size_t pos = 0;
    out[0] = 0;
    int first = 1;
    if (j > 0)
        pos = (size_t)snprintf(out, cap, "...");
    while (k-- > 0 && pos + 1 < cap) {
        const char *name = s->fields[chain[k]].name;
        int w = snprintf(out + pos, cap - pos, "%s%s", first ? "" : ".", name ? name : "?");
        first = 0;
        if (w < 0 || (size_t)w >= cap - pos)
            break;
        pos += (size_t)w;
    }
}

static int fail(ctx *c, int i, const char *fmt, ...) LKS_PRINTF(3, 4);
static int fail(ctx *c, int i, const char *fmt, ...) {
    char path[200], what[280];
    path_of(c->s, i, path, sizeof path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (c->strict)
        return lks_err_set(c->err, LKS_EINVAL, "schema field '%s': %s", path, what);
    return lks_err_set(c->err, LKS_ECORRUPT, "schema element %d ('%s'): %s", i, path, what);
}

/* Index just past field j's subtree.  Requires a walked (valid) tree. */
static int subtree_end(const lks_pq_field *f, int j) {
    int pending = 1;
    while (pending > 0) {
        if (f[j].type == -1)
            pending += f[j].num_children;
        pending--;
        j++;
    }
    return j;
}

/* Walks the depth-first array: parents, structure, caps.  Leaves get their
 * levels packed into leaf[] (max_def << 8 | max_rep, both <= 64) for
 * columns(), groups -1. */
static int walk(ctx *c) {
    lks_pq_schema *s = c->s;
    lks_pq_field *f = s->fields;
    int n = s->num_fields;
    int st_idx[LKS_PQ_MAX_DEPTH + 1], st_left[LKS_PQ_MAX_DEPTH + 1];
    int st_def[LKS_PQ_MAX_DEPTH + 1], st_rep[LKS_PQ_MAX_DEPTH + 1];
    size_t st_plen[LKS_PQ_MAX_DEPTH + 1];

    s->parent[0] = -1;
    s->leaf[0] = -1;
    if (f[0].type != -1)
        return fail(c, 0, "the root must be a group, not %s", type_name(f[0].type));
    if (c->strict && (!f[0].name || !f[0].name[0]))
        return fail(c, 0, "empty name");
    if (f[0].num_children < 0)
        return fail(c, 0, "negative num_children %d", f[0].num_children);
    int sp = 0, ncols = 0;
    st_idx[0] = 0, st_left[0] = f[0].num_children, st_def[0] = st_rep[0] = 0, st_plen[0] = 0;
    int i = 1;
    while (sp >= 0) {
        if (st_left[sp] == 0) {
            sp--;
            continue;
        }
        int p = st_idx[sp];
        if (i >= n)
            return fail(c, p, "declares %d children, more than the %d fields hold", f[p].num_children, n);
        st_left[sp]--;
        s->parent[i] = p;
        s->leaf[i] = -1;
        lks_pq_field *fl = &f[i];
        if (!fl->name || (c->strict && !fl->name[0]))
            return fail(c, i, "%s", fl->name ? "empty name" : "no name");
        if (fl->repetition < LKS_PQ_REQUIRED || fl->repetition > LKS_PQ_REPEATED)
            return fail(c, i, "%s repetition %d", fl->repetition == -1 ? "missing" : "invalid", fl->repetition);
        if (sp + 1 > LKS_PQ_MAX_DEPTH)
            return fail(c, i, "nested deeper than %d levels", LKS_PQ_MAX_DEPTH);
        size_t plen = st_plen[sp] + (sp ? 1 : 0) + strlen(fl->name);
        if (plen > PATH_MAX_BYTES)
            return fail(c, i, "path longer than %zu bytes", PATH_MAX_BYTES);
        int def = st_def[sp] + (fl->repetition != LKS_PQ_REQUIRED);
        int rep = st_rep[sp] + (fl->repetition == LKS_PQ_REPEATED);
        if (fl->num_children < 0)
            return fail(c, i, "negative num_children %d", fl->num_children);
        if (fl->type == -1) {
            if (fl->num_children == 0)
                return fail(c, i, "%s", c->strict ? "a group needs at least one child" : "a leaf without a physical type");
            sp++;
            st_idx[sp] = i, st_left[sp] = fl->num_children, st_def[sp] = def, st_rep[sp] = rep, st_plen[sp] = plen;
        } else {
            if (fl->type < LKS_PQ_BOOLEAN || fl->type > LKS_PQ_FIXED_LEN_BYTE_ARRAY)
                return fail(c, i, "invalid physical type %d", fl->type);
            if (fl->num_children != 0)
                return fail(c, i, "a %s leaf cannot have children (num_children %d)", type_name(fl->type),
                            fl->num_children);
            if (fl->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY && fl->type_length <= 0)
                return fail(c, i, "FIXED_LEN_BYTE_ARRAY needs type_length > 0 (got %d)", fl->type_length);
            if (++ncols > LKS_PQ_MAX_COLUMNS)
                return fail(c, i, "more than %d columns", LKS_PQ_MAX_COLUMNS);
            s->leaf[i] = def << 8 | rep;
        }
        i++;
    }
    if (i < n) {
        s->parent[i] = -1; /* for the message: outside the tree */
        return fail(c, i, "field outside the tree (the root's subtree ends at field %d of %d)", i, n);
    }
    s->num_cols = ncols;
    return LKS_OK;
}

/* Fills cols[] and turns leaf[] into column indexes. */
static int columns(ctx *c) {
    lks_pq_schema *s = c->s;
    s->cols = lks_arena_alloc(&s->arena, sizeof *s->cols * (size_t)(s->num_cols ? s->num_cols : 1));
    if (!s->cols)
        return lks_err_set(c->err, LKS_ENOMEM, "schema: out of memory for %d columns", s->num_cols);
    size_t total = 0;
    int k = 0;
    for (int i = 1; i < s->num_fields; i++) {
        const lks_pq_field *fl = &s->fields[i];
        if (fl->type == -1)
            continue;
        lks_pq_column *col = &s->cols[k];
        memset(col, 0, sizeof *col);
        col->field = i;
        col->type = fl->type;
        col->type_length = fl->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY ? fl->type_length : 0;
        col->logical = fl->logical;
        col->max_def = s->leaf[i] >> 8;
        col->max_rep = s->leaf[i] & 0xFF;
        s->leaf[i] = k++;
        /* the walk bounded each path; bound the sum too */
        size_t len = 0;
        for (int j = i; j > 0; j = s->parent[j])
            len += strlen(s->fields[j].name) + 1;
        len--;
        total += len + 1;
        if (total > PATHS_MAX_BYTES)
            return fail(c, i, "column paths longer than %zu bytes in total", PATHS_MAX_BYTES);
        char *path = lks_arena_alloc(&s->arena, len + 1);
        if (!path)
            return lks_err_set(c->err, LKS_ENOMEM, "schema: out of memory for column paths");
        size_t end = len;
        path[end] = 0;
        for (int j = i; j > 0; j = s->parent[j]) {
            size_t nl = strlen(s->fields[j].name);
            end -= nl;
            memcpy(path + end, s->fields[j].name, nl);
            if (end)
                path[--end] = '.';
        }
        col->path = path;
    }
    return LKS_OK;
}

/* Most decimal digits a two's-complement integer of len bytes holds. */
static int flba_max_precision(int len) {
    if (len > 1024)
        return INT32_MAX;
    return (int)floor((8.0 * len - 1) * log10(2.0));
}

static int check_list(ctx *c, int i) {
    const lks_pq_field *f = c->s->fields;
    if (f[i].type != -1)
        return fail(c, i, "LIST annotation needs a group, not %s", type_name(f[i].type));
    if (f[i].repetition == LKS_PQ_REPEATED)
        return fail(c, i, "a LIST group must be required or optional, not repeated");
    if (f[i].num_children != 1)
        return fail(c, i, "a LIST group needs exactly one child (the repeated group), has %d", f[i].num_children);
    int r = i + 1;
    if (f[r].repetition != LKS_PQ_REPEATED || f[r].type != -1 || f[r].num_children != 1)
        return fail(c, r, "the child of a LIST group must be a repeated group with one child (the element)");
    if (f[r + 1].repetition == LKS_PQ_REPEATED)
        return fail(c, r + 1, "a LIST element must be required or optional, not repeated");
    return LKS_OK;
}

static int check_map(ctx *c, int i) {
    const lks_pq_field *f = c->s->fields;
    if (f[i].type != -1)
        return fail(c, i, "MAP annotation needs a group, not %s", type_name(f[i].type));
    if (f[i].repetition == LKS_PQ_REPEATED)
        return fail(c, i, "a MAP group must be required or optional, not repeated");
    if (f[i].num_children != 1)
        return fail(c, i, "a MAP group needs exactly one child (the repeated key_value group), has %d",
                    f[i].num_children);
    int kv = i + 1;
    if (f[kv].repetition != LKS_PQ_REPEATED || f[kv].type != -1 || f[kv].num_children > 2)
        return fail(c, kv, "the child of a MAP group must be a repeated group of a key and an optional value");
    int key = kv + 1;
    if (f[key].repetition != LKS_PQ_REQUIRED)
        return fail(c, key, "a MAP key must be required");
    if (f[kv].num_children == 2) {
        int val = subtree_end(f, key);
        if (f[val].repetition == LKS_PQ_REPEATED)
            return fail(c, val, "a MAP value must be required or optional, not repeated");
    }
    return LKS_OK;
}

/* Writer-side check of one field's logical annotation. */
static int check_logical(ctx *c, int i) {
    const lks_pq_field *fl = &c->s->fields[i];
    const lks_pq_logical *lt = &fl->logical;
    int t = fl->type;
    if (lt->kind == LKS_PQ_LT_NONE)
        return LKS_OK;
    if (i == 0)
        return fail(c, i, "the root cannot carry a logical type (%s)", lt_name(lt->kind));
    int ok = 0;
    switch (lt->kind) {
    case LKS_PQ_LT_LIST: return check_list(c, i);
    case LKS_PQ_LT_MAP: return check_map(c, i);
    case LKS_PQ_LT_STRING:
    case LKS_PQ_LT_JSON:
    case LKS_PQ_LT_ENUM:
    case LKS_PQ_LT_BSON: ok = t == LKS_PQ_BYTE_ARRAY; break;
    case LKS_PQ_LT_DATE: ok = t == LKS_PQ_INT32; break;
    case LKS_PQ_LT_TIMESTAMP:
        if (t == LKS_PQ_INT64 && (lt->unit < LKS_PQ_UNIT_MILLIS || lt->unit > LKS_PQ_UNIT_NANOS))
            return fail(c, i, "TIMESTAMP needs a unit (millis, micros or nanos), got %d", lt->unit);
        ok = t == LKS_PQ_INT64;
        break;
    case LKS_PQ_LT_TIME:
        if (t == LKS_PQ_INT32 || t == LKS_PQ_INT64) {
            int fits = t == LKS_PQ_INT32 ? lt->unit == LKS_PQ_UNIT_MILLIS
                                         : lt->unit == LKS_PQ_UNIT_MICROS || lt->unit == LKS_PQ_UNIT_NANOS;
            if (!fits)
                return fail(c, i, "TIME unit %d does not fit %s (INT32: millis, INT64: micros or nanos)", lt->unit,
                            type_name(t));
        }
        ok = t == LKS_PQ_INT32 || t == LKS_PQ_INT64;
        break;
    case LKS_PQ_LT_INTEGER:
        if (lt->bit_width != 8 && lt->bit_width != 16 && lt->bit_width != 32 && lt->bit_width != 64)
            return fail(c, i, "INTEGER bit width must be 8, 16, 32 or 64, got %d", lt->bit_width);
        ok = t == (lt->bit_width == 64 ? LKS_PQ_INT64 : LKS_PQ_INT32);
        if (!ok)
            return fail(c, i, "INTEGER(%d) needs %s, not %s", lt->bit_width,
                        lt->bit_width == 64 ? "INT64" : "INT32", type_name(t));
        break;
    case LKS_PQ_LT_DECIMAL: {
        int p = lt->precision, sc = lt->scale, maxp;
        if (p < 1 || sc < 0 || sc > p)
            return fail(c, i, "DECIMAL(%d, %d) needs precision >= 1 and 0 <= scale <= precision", p, sc);
        switch (t) {
        case LKS_PQ_INT32: maxp = 9; break;
        case LKS_PQ_INT64: maxp = 18; break;
        case LKS_PQ_FIXED_LEN_BYTE_ARRAY: maxp = flba_max_precision(fl->type_length); break;
        case LKS_PQ_BYTE_ARRAY: maxp = INT32_MAX; break;
        default: return fail(c, i, "DECIMAL annotation does not fit %s", type_name(t));
        }
        if (p > maxp) {
            if (t == LKS_PQ_FIXED_LEN_BYTE_ARRAY)
                return fail(c, i, "DECIMAL precision %d does not fit FIXED_LEN_BYTE_ARRAY(%d) (at most %d digits)", p,
                            fl->type_length, maxp);
            return fail(c, i, "DECIMAL precision %d does not fit %s (at most %d digits)", p, type_name(t), maxp);
        }
        return LKS_OK;
    }
    case LKS_PQ_LT_UUID:
        ok = t == LKS_PQ_FIXED_LEN_BYTE_ARRAY && fl->type_length == 16;
        if (!ok)
            return fail(c, i, "UUID needs FIXED_LEN_BYTE_ARRAY(16)");
        break;
    case LKS_PQ_LT_FLOAT16:
        ok = t == LKS_PQ_FIXED_LEN_BYTE_ARRAY && fl->type_length == 2;
        if (!ok)
            return fail(c, i, "FLOAT16 needs FIXED_LEN_BYTE_ARRAY(2)");
        break;
    case LKS_PQ_LT_UNKNOWN: ok = t != -1; break;
    default: return fail(c, i, "logical type %s (%d) is not supported here", lt_name(lt->kind), lt->kind);
    }
    if (!ok)
        return fail(c, i, "%s annotation does not fit %s", lt_name(lt->kind), type_name(t));
    return LKS_OK;
}

/* A schema with room for n fields; fields are filled by the caller. */
static int schema_new(int n, lks_pq_schema **out, lks_err *err, int code) {
    if (n < 1)
        return lks_err_set(err, code, "schema: no fields (the root group is required)");
    if ((int64_t)n > MAX_FIELDS)
        return lks_err_set(err, code, "schema: %d fields, more than any schema of at most %d columns nested %d deep",
                           n, LKS_PQ_MAX_COLUMNS, LKS_PQ_MAX_DEPTH);
    lks_pq_schema *s = calloc(1, sizeof *s);
    if (!s)
        return lks_err_set(err, LKS_ENOMEM, "schema: out of memory");
    lks_arena_init(&s->arena, 0);
    s->num_fields = n;
    s->fields = lks_arena_alloc(&s->arena, sizeof *s->fields * (size_t)n);
    s->parent = lks_arena_alloc(&s->arena, sizeof *s->parent * (size_t)n);
    s->leaf = lks_arena_alloc(&s->arena, sizeof *s->leaf * (size_t)n);
    if (!s->fields || !s->parent || !s->leaf) {
        lks_pq_schema_free(s);
        return lks_err_set(err, LKS_ENOMEM, "schema: out of memory for %d fields", n);
    }
    *out = s;
    return LKS_OK;
}

static int copy_name(lks_pq_schema *s, lks_pq_field *dst, const char *name, lks_err *err) {
    dst->name = NULL;
    if (!name)
        return LKS_OK; /* the walk reports it with the field's path */
    dst->name = lks_arena_strdup(&s->arena, name);
    if (!dst->name)
        return lks_err_set(err, LKS_ENOMEM, "schema: out of memory for field names");
    return LKS_OK;
}

static int finish(lks_pq_schema *s, int strict, lks_pq_schema **out, lks_err *err) {
    ctx c = {s, strict, err};
    int rc = walk(&c);
    if (!rc && strict)
        for (int i = 0; i < s->num_fields && !rc; i++)
            rc = check_logical(&c, i);
    if (!rc)
        rc = columns(&c);
    if (rc) {
        lks_pq_schema_free(s);
        return rc;
    }
    *out = s;
    return LKS_OK;
}

int lks_pq_schema_build(const lks_pq_field *fields, int num_fields, lks_pq_schema **out, lks_err *err) {
    *out = NULL;
    lks_pq_schema *s;
    if (!fields)
        num_fields = 0;
    int rc = schema_new(num_fields, &s, err, LKS_EINVAL);
    if (rc)
        return rc;
    for (int i = 0; i < num_fields; i++) {
        s->fields[i] = fields[i];
        rc = copy_name(s, &s->fields[i], fields[i].name, err);
        if (rc) {
            lks_pq_schema_free(s);
            return rc;
        }
    }
    return finish(s, 1, out, err);
}

/* The logical type an element means: its own, else the legacy converted
 * type's equivalent. */
static lks_pq_logical effective_logical(const lks_pq_schema_elem *e) {
    if (e->logical.kind != LKS_PQ_LT_NONE)
        return e->logical;
    lks_pq_logical lt;
    memset(&lt, 0, sizeof lt);
    switch (e->converted_type) {
    case LKS_PQ_CT_UTF8: lt.kind = LKS_PQ_LT_STRING; break;
    case LKS_PQ_CT_MAP: lt.kind = LKS_PQ_LT_MAP; break;
    case LKS_PQ_CT_MAP_KEY_VALUE:
        /* Old writers put it on the outer map group; on the repeated
         * key_value group inside a MAP it adds nothing. */
        if (e->repetition != LKS_PQ_REPEATED)
            lt.kind = LKS_PQ_LT_MAP;
        break;
    case LKS_PQ_CT_LIST: lt.kind = LKS_PQ_LT_LIST; break;
    case LKS_PQ_CT_ENUM: lt.kind = LKS_PQ_LT_ENUM; break;
    case LKS_PQ_CT_DECIMAL: lt = lks_pq_lt_decimal(e->precision, e->scale); break;
    case LKS_PQ_CT_DATE: lt.kind = LKS_PQ_LT_DATE; break;
    case LKS_PQ_CT_TIME_MILLIS:
    case LKS_PQ_CT_TIME_MICROS:
        lt.kind = LKS_PQ_LT_TIME;
        lt.unit = e->converted_type == LKS_PQ_CT_TIME_MILLIS ? LKS_PQ_UNIT_MILLIS : LKS_PQ_UNIT_MICROS;
        lt.utc = 1;
        break;
    case LKS_PQ_CT_TIMESTAMP_MILLIS:
        lt = lks_pq_lt_timestamp(LKS_PQ_UNIT_MILLIS, 1);
        break;
    case LKS_PQ_CT_TIMESTAMP_MICROS:
        lt = lks_pq_lt_timestamp(LKS_PQ_UNIT_MICROS, 1);
        break;
    case LKS_PQ_CT_UINT_8:
    case LKS_PQ_CT_UINT_16:
    case LKS_PQ_CT_UINT_32:
    case LKS_PQ_CT_UINT_64:
        lt.kind = LKS_PQ_LT_INTEGER;
        lt.bit_width = (uint8_t)(8 << (e->converted_type - LKS_PQ_CT_UINT_8));
        lt.is_signed = 0;
        break;
    case LKS_PQ_CT_INT_8:
    case LKS_PQ_CT_INT_16:
    case LKS_PQ_CT_INT_32:
    case LKS_PQ_CT_INT_64:
        lt.kind = LKS_PQ_LT_INTEGER;
        lt.bit_width = (uint8_t)(8 << (e->converted_type - LKS_PQ_CT_INT_8));
        lt.is_signed = 1;
        break;
    case LKS_PQ_CT_JSON: lt.kind = LKS_PQ_LT_JSON; break;
    case LKS_PQ_CT_BSON: lt.kind = LKS_PQ_LT_BSON; break;
    default: break; /* INTERVAL and unknown values: bytes as they are */
    }
    return lt;
}

int lks_pq_schema_from_meta(const lks_pq_schema_elem *elems, int n, lks_pq_schema **out, lks_err *err) {
    *out = NULL;
    lks_pq_schema *s;
    if (!elems)
        n = 0;
    int rc = schema_new(n, &s, err, LKS_ECORRUPT);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++) {
        const lks_pq_schema_elem *e = &elems[i];
        lks_pq_field *fl = &s->fields[i];
        memset(fl, 0, sizeof *fl);
        rc = copy_name(s, fl, e->name ? e->name : (i == 0 ? "" : NULL), err);
        if (rc) {
            lks_pq_schema_free(s);
            return rc;
        }
        fl->repetition = e->repetition;
        fl->num_children = e->num_children;
        /* Children make a group whatever the type says; the root is a
         * group also without children (a file with no columns). */
        int group = e->num_children > 0 || (i == 0 && e->type == -1);
        fl->type = group ? -1 : e->type;
        fl->type_length = e->type_length;
        fl->field_id = e->has_field_id ? e->field_id : -1;
        fl->logical = effective_logical(e);
    }
    return finish(s, 0, out, err);
}

void lks_pq_schema_free(lks_pq_schema *s) {
    if (!s)
        return;
    lks_arena_free(&s->arena);
    free(s);
}

int lks_pq_schema_find(const lks_pq_schema *s, const char *path) {
    if (!s || !path)
        return -1;
    for (int k = 0; k < s->num_cols; k++)
        if (strcmp(s->cols[k].path, path) == 0)
            return k;
    return -1;
}

int lks_pq_schema_subtree_end(const lks_pq_schema *s, int f) {
    int end = f, pending = 1;
    while (pending > 0 && end < s->num_fields) {
        pending += s->fields[end].type < 0 ? s->fields[end].num_children : 0;
        pending--;
        end++;
    }
    return end;
}

/* Kind only; TIME and TIMESTAMP default to microseconds adjusted to UTC.
 * INTEGER needs bit_width (and is_signed) set by the caller. */
lks_pq_logical lks_pq_lt(int kind) {
    lks_pq_logical lt;
    memset(&lt, 0, sizeof lt);
    lt.kind = (int16_t)kind;
    if (kind == LKS_PQ_LT_TIME || kind == LKS_PQ_LT_TIMESTAMP) {
        lt.unit = LKS_PQ_UNIT_MICROS;
        lt.utc = 1;
    }
    return lt;
}

lks_pq_logical lks_pq_lt_decimal(int precision, int scale) {
    lks_pq_logical lt = lks_pq_lt(LKS_PQ_LT_DECIMAL);
    lt.precision = precision;
    lt.scale = scale;
    return lt;
}

lks_pq_logical lks_pq_lt_timestamp(int unit, int utc) {
    lks_pq_logical lt = lks_pq_lt(LKS_PQ_LT_TIMESTAMP);
    lt.unit = (uint8_t)unit;
    lt.utc = (uint8_t)(utc != 0);
    return lt;
}
