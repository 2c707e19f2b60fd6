/*
 * json.c — a value tree as JSON text, following DESIGN.md "Rows as text".
 *
 * Choices the design leaves open, decided here:
 *  - A DECIMAL stored in an empty BYTE_ARRAY prints as zero ("0.00" at scale
 *    2), as the empty two's-complement integer is 0 (Arrow reads it so too).
 *    Decimals wider than 32 significant bytes give LKS_EUNSUPPORTED.
 *  - An annotation that does not fit its physical type (possible in files:
 *    the footer reader keeps them) is ignored: the value prints by its
 *    physical type.  The same for LIST/MAP groups whose shape is not a list
 *    or map: they print as objects.
 *  - TIMESTAMP(MILLIS) prints six fraction digits like micros; NANOS and
 *    INT96 print nine.  INT96 is always "Z" (Impala/Spark store UTC).
 *  - FLOAT16 prints as its float32 value's shortest text.
 *  - JSON-annotated strings print as JSON strings holding the text (the
 *    text is not trusted to be valid JSON).
 *  - A REPEATED field whose value is NULL (not read) prints null; inside a
 *    LIST or MAP group a NULL repeated child prints as an empty list / map.
 *  - A map key that is not a string prints as its JSON text, quoted.
 *
 * Value trees are produced by our own row assembly; a value whose kind does
 * not match its field's type is a caller bug: LKS_EINVAL.
 */
#include "parquet/parquet.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_DAY INT64_C(86400000000000)
#define US_PER_DAY INT64_C(86400000000)
#define MS_PER_DAY INT64_C(86400000)
#define JULIAN_EPOCH_DAY 2440588 /* Julian day number of 1970-01-01 */

typedef struct jctx {
    const lks_pq_schema *s;
    lks_buf *b;
} jctx;

static int emit_field(jctx *c, int f, const lks_pq_value *v);
static int emit_inst(jctx *c, int f, const lks_pq_value *v);

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}
static int64_t floor_mod(int64_t a, int64_t b) {
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

static int put(jctx *c, const char *s) { return lks_buf_append(c->b, s, strlen(s)); }

static int put_quoted_ascii(jctx *c, const char *s, size_t n) {
    int rc = lks_buf_reserve(c->b, n + 2);
    if (rc)
        return rc;
    lks_buf_append_byte(c->b, '"');
    lks_buf_append(c->b, s, n);
    return lks_buf_append_byte(c->b, '"');
}

/* "YYYY-MM-DDTHH:MM:SS.f{digits}[Z]" from a day number and the nanoseconds
 * of that day (0 <= nod < NS_PER_DAY); digits is 6 or 9. */
static int put_timestamp(jctx *c, int64_t days, int64_t nod, int digits, int utc) {
    char out[96];
    int n = lks_fmt_date(out, days);
    int64_t secs = nod / INT64_C(1000000000), ns = nod % INT64_C(1000000000);
    if (digits == 6)
        n += snprintf(out + n, sizeof out - (size_t)n, "T%02d:%02d:%02d.%06d%s", (int)(secs / 3600),
                      (int)(secs / 60 % 60), (int)(secs % 60), (int)(ns / 1000), utc ? "Z" : "");
    else
        n += snprintf(out + n, sizeof out - (size_t)n, "T%02d:%02d:%02d.%09d%s", (int)(secs / 3600),
                      (int)(secs / 60 % 60), (int)(secs % 60), (int)ns, utc ? "Z" : "");
    return put_quoted_ascii(c, out, (size_t)n);
}

/* Time of day from nanoseconds, nine fraction digits (sign and hours past
 * 23 printed as they are, like lks_fmt_time_us). */
static int put_time_ns(jctx *c, int64_t ns) {
    char out[64];
    int n = 0;
    uint64_t mag = (uint64_t)ns;
    if (ns < 0) {
        out[n++] = '-';
        mag = (uint64_t)0 - mag;
    }
    uint64_t frac = mag % 1000000000u, secs = mag / 1000000000u;
    n += snprintf(out + n, sizeof out - (size_t)n, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%09" PRIu64,
                  secs / 3600, secs / 60 % 60, secs % 60, frac);
    return put_quoted_ascii(c, out, (size_t)n);
}

static int put_time_us(jctx *c, int64_t us) {
    char out[64];
    int n = lks_fmt_time_us(out, us);
    return put_quoted_ascii(c, out, (size_t)n);
}

/* Float text from lks_fmt_*: numbers bare, NaN/Infinity as strings. */
static int put_float_text(jctx *c, const char *t, int n) {
    if (t[0] == 'N' || t[0] == 'I' || (t[0] == '-' && t[1] == 'I'))
        return put_quoted_ascii(c, t, (size_t)n);
    return lks_buf_append(c->b, t, (size_t)n);
}

static float half_to_float(uint16_t h) {
    int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float v;
    if (exp == 0)
        v = ldexpf((float)mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexpf((float)(mant | 0x400), exp - 25);
    return (h & 0x8000) ? -v : v;
}

static int put_decimal_i64(jctx *c, int64_t unscaled, int scale) {
    int rc = lks_buf_append_byte(c->b, '"');
    if (!rc)
        rc = lks_fmt_decimal_i64(c->b, unscaled, scale);
    if (!rc)
        rc = lks_buf_append_byte(c->b, '"');
    return rc;
}

static int put_decimal_be(jctx *c, const uint8_t *be, size_t len, int scale) {
    if (len == 0)
        return put_decimal_i64(c, 0, scale);
    /* drop sign-extension bytes so wide containers still format */
    while (len > 1 && ((be[0] == 0x00 && !(be[1] & 0x80)) || (be[0] == 0xFF && (be[1] & 0x80))))
        be++, len--;
    if (len > 32)
        return LKS_EUNSUPPORTED;
    int rc = lks_buf_append_byte(c->b, '"');
    if (!rc)
        rc = lks_fmt_decimal_be(c->b, be, len, scale);
    if (!rc)
        rc = lks_buf_append_byte(c->b, '"');
    return rc;
}

static int put_uuid(jctx *c, const uint8_t *u) {
    static const char hex[] = "0123456789abcdef";
    char out[36];
    int n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        out[n++] = hex[u[i] >> 4];
        out[n++] = hex[u[i] & 15];
    }
    return put_quoted_ascii(c, out, (size_t)n);
}

static int put_base64(jctx *c, const uint8_t *p, size_t n) {
    int rc = lks_buf_append_byte(c->b, '"');
    if (!rc)
        rc = lks_base64_encode(c->b, p, n);
    if (!rc)
        rc = lks_buf_append_byte(c->b, '"');
    return rc;
}

static int emit_int32(jctx *c, const lks_pq_logical *lt, int32_t x) {
    char out[40];
    switch (lt->kind) {
    case LKS_PQ_LT_DATE: {
        int n = lks_fmt_date(out, x);
        return put_quoted_ascii(c, out, (size_t)n);
    }
    case LKS_PQ_LT_DECIMAL: return put_decimal_i64(c, x, lt->scale);
    case LKS_PQ_LT_TIME:
        if (lt->unit == LKS_PQ_UNIT_MILLIS)
            return put_time_us(c, (int64_t)x * 1000);
        break;
    case LKS_PQ_LT_INTEGER:
        if (!lt->is_signed)
            return lks_buf_printf(c->b, "%" PRIu32, (uint32_t)x);
        break;
    default: break;
    }
    return lks_buf_printf(c->b, "%" PRId32, x);
}

static int emit_int64(jctx *c, const lks_pq_logical *lt, int64_t x) {
    switch (lt->kind) {
    case LKS_PQ_LT_TIMESTAMP:
        switch (lt->unit) {
        case LKS_PQ_UNIT_MILLIS:
            return put_timestamp(c, floor_div(x, MS_PER_DAY), floor_mod(x, MS_PER_DAY) * 1000000, 6, lt->utc);
        case LKS_PQ_UNIT_MICROS:
            return put_timestamp(c, floor_div(x, US_PER_DAY), floor_mod(x, US_PER_DAY) * 1000, 6, lt->utc);
        case LKS_PQ_UNIT_NANOS: return put_timestamp(c, floor_div(x, NS_PER_DAY), floor_mod(x, NS_PER_DAY), 9, lt->utc);
        default: break;
        }
        break;
    case LKS_PQ_LT_TIME:
        if (lt->unit == LKS_PQ_UNIT_MICROS)
            return put_time_us(c, x);
        if (lt->unit == LKS_PQ_UNIT_NANOS)
            return put_time_ns(c, x);
        break;
    case LKS_PQ_LT_DECIMAL: return put_decimal_i64(c, x, lt->scale);
    case LKS_PQ_LT_INTEGER:
        if (!lt->is_signed)
            return lks_buf_printf(c->b, "%" PRIu64, (uint64_t)x);
        break;
    default: break;
    }
    return lks_buf_printf(c->b, "%" PRId64, x);
}

/* INT96: nanoseconds of the day (int64) then the Julian day (a signed int32).
 * Spark writes microseconds + the Julian epoch as an int64 sum and lets it
 * wrap, so an instant outside the int64 microsecond range can only be such a
 * wrapped value: it is read back the way Spark reads it, modulo 2^64 us
 * (parquet-testing int96_from_spark.md: year 290000). */
static int emit_int96(jctx *c, const lks_pq_int96 *v) {
    int64_t nanos = (int64_t)lks_load_le64(v->b);
    int32_t jd = (int32_t)lks_load_le32(v->b + 8);
    __int128 ns = (__int128)((int64_t)jd - JULIAN_EPOCH_DAY) * NS_PER_DAY + nanos;
    __int128 us = ns / 1000 - (ns % 1000 < 0);
    if (us > INT64_MAX || us < INT64_MIN) {
        int64_t sub = (int64_t)(ns - us * 1000); /* [0, 999] */
        ns = (__int128)(int64_t)(uint64_t)us * 1000 + sub;
    }
    __int128 days = ns / NS_PER_DAY - (ns % NS_PER_DAY < 0);
    return put_timestamp(c, (int64_t)days, (int64_t)(ns - days * NS_PER_DAY), 9, 1);
}

static int emit_bytes(jctx *c, const lks_pq_field *fl, lks_slice v) {
    const lks_pq_logical *lt = &fl->logical;
    int flba = fl->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY;
    switch (lt->kind) {
    case LKS_PQ_LT_STRING:
    case LKS_PQ_LT_ENUM:
    case LKS_PQ_LT_JSON:
        if (!flba)
            return lks_json_quote(c->b, (const char *)v.ptr, v.len);
        break;
    case LKS_PQ_LT_DECIMAL: return put_decimal_be(c, v.ptr, v.len, lt->scale);
    case LKS_PQ_LT_UUID:
        if (flba && v.len == 16)
            return put_uuid(c, v.ptr);
        break;
    case LKS_PQ_LT_FLOAT16:
        if (flba && v.len == 2) {
            char out[32];
            int n = lks_fmt_float(out, half_to_float((uint16_t)(v.ptr[0] | v.ptr[1] << 8)));
            return put_float_text(c, out, n);
        }
        break;
    default: break;
    }
    return put_base64(c, v.ptr, v.len);
}

static int emit_leaf(jctx *c, const lks_pq_field *fl, const lks_pq_value *v) {
    static const int want[] = {LKS_PQ_V_BOOL,  LKS_PQ_V_INT32,  LKS_PQ_V_INT64, LKS_PQ_V_INT96,
                               LKS_PQ_V_FLOAT, LKS_PQ_V_DOUBLE, LKS_PQ_V_BYTES, LKS_PQ_V_BYTES};
    if (fl->type < 0 || fl->type > LKS_PQ_FIXED_LEN_BYTE_ARRAY || v->kind != want[fl->type])
        return LKS_EINVAL;
    char out[32];
    switch (fl->type) {
    case LKS_PQ_BOOLEAN: return put(c, v->u.b ? "true" : "false");
    case LKS_PQ_INT32: return emit_int32(c, &fl->logical, v->u.i32);
    case LKS_PQ_INT64: return emit_int64(c, &fl->logical, v->u.i64);
    case LKS_PQ_INT96: return emit_int96(c, &v->u.i96);
    case LKS_PQ_FLOAT: return put_float_text(c, out, lks_fmt_float(out, v->u.f32));
    case LKS_PQ_DOUBLE: return put_float_text(c, out, lks_fmt_double(out, v->u.f64));
    default:
        if (fl->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY && v->u.bytes.len != (size_t)fl->type_length)
            return LKS_EINVAL;
        if (!v->u.bytes.ptr && v->u.bytes.len)
            return LKS_EINVAL;
        return emit_bytes(c, fl, v->u.bytes);
    }
}

/* A group value must have one item per child. */
static int group_items(const lks_pq_field *fl, const lks_pq_value *v) {
    if (v->kind != LKS_PQ_V_GROUP || v->u.list.n != (size_t)fl->num_children || (v->u.list.n && !v->u.list.items))
        return LKS_EINVAL;
    return LKS_OK;
}

static int repeated_items(const lks_pq_value *v) {
    if (v->kind != LKS_PQ_V_REPEATED || (v->u.list.n && !v->u.list.items))
        return LKS_EINVAL;
    return LKS_OK;
}

static int emit_object(jctx *c, int f, const lks_pq_value *v) {
    const lks_pq_field *fl = &c->s->fields[f];
    int rc = group_items(fl, v);
    if (!rc)
        rc = lks_buf_append_byte(c->b, '{');
    int child = f + 1;
    for (int k = 0; k < fl->num_children && !rc; k++) {
        const char *name = c->s->fields[child].name;
        if (k)
            rc = lks_buf_append_byte(c->b, ',');
        if (!rc)
            rc = lks_json_quote(c->b, name, strlen(name));
        if (!rc)
            rc = lks_buf_append_byte(c->b, ':');
        if (!rc)
            rc = emit_field(c, child, &v->u.list.items[k]);
        child = lks_pq_schema_subtree_end(c->s, child);
    }
    return rc ? rc : lks_buf_append_byte(c->b, '}');
}

/* LIST shapes (parquet-format LogicalTypes.md, backward compatibility):
 * the group's single child r must be repeated; r is the element itself when
 * it is a leaf, a group of several fields, or a one-field group named
 * "array" or "<list>_tuple" (two-level lists); otherwise r's only child is
 * the element (three-level).  Returns the element field and sets *three,
 * or -1 when the group is no list. */
static int list_element(const lks_pq_schema *s, int f, int *three) {
    const lks_pq_field *fl = &s->fields[f];
    if (fl->type != -1 || fl->num_children != 1)
        return -1;
    int r = f + 1;
    const lks_pq_field *rf = &s->fields[r];
    if (rf->repetition != LKS_PQ_REPEATED)
        return -1;
    *three = 0;
    if (rf->type != -1 || rf->num_children != 1 || strcmp(rf->name, "array") == 0)
        return r;
    size_t ln = strlen(fl->name);
    if (strlen(rf->name) == ln + 6 && memcmp(rf->name, fl->name, ln) == 0 && strcmp(rf->name + ln, "_tuple") == 0)
        return r;
    *three = 1;
    return r + 1;
}

static int emit_list(jctx *c, int f, int elem, int three, const lks_pq_value *v) {
    int rc = group_items(&c->s->fields[f], v);
    if (rc)
        return rc;
    const lks_pq_value *rv = &v->u.list.items[0];
    if (rv->kind == LKS_PQ_V_NULL)
        return put(c, "[]");
    if ((rc = repeated_items(rv)) != 0)
        return rc;
    rc = lks_buf_append_byte(c->b, '[');
    const lks_pq_field *rf = &c->s->fields[f + 1];
    for (size_t k = 0; k < rv->u.list.n && !rc; k++) {
        const lks_pq_value *item = &rv->u.list.items[k];
        if (k)
            rc = lks_buf_append_byte(c->b, ',');
        if (rc)
            break;
        if (!three) {
            rc = emit_inst(c, elem, item);
        } else if (item->kind == LKS_PQ_V_NULL) {
            rc = put(c, "null");
        } else {
            rc = group_items(rf, item);
            if (!rc)
                rc = emit_field(c, elem, &item->u.list.items[0]);
        }
    }
    return rc ? rc : lks_buf_append_byte(c->b, ']');
}

/* MAP shape: a single repeated group child holding the key and optionally
 * the value.  Returns the key field (and *val, -1 without values), or -1
 * when the group is no map. */
static int map_key(const lks_pq_schema *s, int f, int *val) {
    const lks_pq_field *fl = &s->fields[f];
    if (fl->type != -1 || fl->num_children != 1)
        return -1;
    const lks_pq_field *kv = &s->fields[f + 1];
    if (kv->repetition != LKS_PQ_REPEATED || kv->type != -1 || kv->num_children < 1 || kv->num_children > 2)
        return -1;
    int key = f + 2;
    *val = kv->num_children == 2 ? lks_pq_schema_subtree_end(s, key) : -1;
    return key;
}

/* Object key: the key's JSON text, quoted unless it is a string already. */
static int emit_key(jctx *c, int key, const lks_pq_value *v) {
    size_t start = c->b->len;
    int rc = emit_field(c, key, v);
    if (rc || c->b->ptr[start] == '"')
        return rc;
    size_t n = c->b->len - start;
    char *text = malloc(n);
    if (!text)
        return LKS_ENOMEM;
    memcpy(text, c->b->ptr + start, n);
    c->b->len = start;
    rc = lks_json_quote(c->b, text, n);
    free(text);
    return rc;
}

static int emit_map(jctx *c, int f, int key, int val, const lks_pq_value *v) {
    int rc = group_items(&c->s->fields[f], v);
    if (rc)
        return rc;
    const lks_pq_value *rv = &v->u.list.items[0];
    if (rv->kind == LKS_PQ_V_NULL)
        return put(c, "{}");
    if ((rc = repeated_items(rv)) != 0)
        return rc;
    const lks_pq_field *kvf = &c->s->fields[f + 1];
    rc = lks_buf_append_byte(c->b, '{');
    for (size_t k = 0; k < rv->u.list.n && !rc; k++) {
        const lks_pq_value *item = &rv->u.list.items[k];
        if (k)
            rc = lks_buf_append_byte(c->b, ',');
        if (!rc)
            rc = group_items(kvf, item);
        if (!rc)
            rc = emit_key(c, key, &item->u.list.items[0]);
        if (!rc)
            rc = lks_buf_append_byte(c->b, ':');
        if (!rc)
            rc = val < 0 ? put(c, "null") : emit_field(c, val, &item->u.list.items[1]);
    }
    return rc ? rc : lks_buf_append_byte(c->b, '}');
}

/* One instance of field f (one repetition, or the value of a
 * non-repeated field). */
static int emit_inst(jctx *c, int f, const lks_pq_value *v) {
    if (v->kind == LKS_PQ_V_NULL)
        return put(c, "null");
    const lks_pq_field *fl = &c->s->fields[f];
    if (fl->type != -1)
        return emit_leaf(c, fl, v);
    if (fl->logical.kind == LKS_PQ_LT_LIST) {
        int three, elem = list_element(c->s, f, &three);
        if (elem >= 0)
            return emit_list(c, f, elem, three, v);
    } else if (fl->logical.kind == LKS_PQ_LT_MAP) {
        int val, key = map_key(c->s, f, &val);
        if (key >= 0)
            return emit_map(c, f, key, val, v);
    }
    return emit_object(c, f, v);
}

/* The value of field f as it sits in its parent's items: the REPEATED
 * wrapper of a repeated field becomes an array. */
static int emit_field(jctx *c, int f, const lks_pq_value *v) {
    if (f == 0 || c->s->fields[f].repetition != LKS_PQ_REPEATED || v->kind == LKS_PQ_V_NULL)
        return emit_inst(c, f, v);
    int rc = repeated_items(v);
    if (!rc)
        rc = lks_buf_append_byte(c->b, '[');
    for (size_t k = 0; k < v->u.list.n && !rc; k++) {
        if (k)
            rc = lks_buf_append_byte(c->b, ',');
        if (!rc)
            rc = emit_inst(c, f, &v->u.list.items[k]);
    }
    return rc ? rc : lks_buf_append_byte(c->b, ']');
}

int lks_pq_value_to_json(lks_buf *b, const lks_pq_schema *s, int field, const lks_pq_value *v) {
    if (!b || !s || !v || field < 0 || field >= s->num_fields)
        return LKS_EINVAL;
    jctx c = {s, b};
    size_t start = b->len;
    int rc = emit_field(&c, field, v);
    /* nothing partial: a failed append already emptied the buffer */
    if (rc && b->len >= start)
        b->len = start;
    return rc;
}
