/*
 * scan.c — reading a snapshot's rows in the table's read schema.
 *
 * A scan walks the snapshot's live files in order.  Each file is first
 * tested against the predicates: partition values exactly, then the
 * add.stats JSON (minValues / maxValues / nullCount / numRecords) only when
 * the answer is certain — Spark truncates string bounds to a prefix and
 * timestamp bounds to milliseconds, so a long string max and a timestamp
 * max are widened before use.  A file that survives is read with the
 * Parquet record reader, projected to the leaves the read schema needs;
 * its columns are found by physical name (column mapping "name"), field id
 * ("id") or logical name ("none"), a missing column reads as NULL, and
 * every value is converted to the canonical form of its Delta type
 * (delta.h): INT96 and TIMESTAMP millis/nanos to micros, decimals of any
 * physical form and width to the canonical width, and the type-widening
 * conversions (int to long or double, float to double, date to
 * timestamp_ntz, integers and narrower decimals to decimals).  Partition
 * columns come from the add's partitionValues (PROTOCOL.md "Partition
 * Value Serialization"; a timestamp without a zone is read in the zone TZ
 * names, UTC when TZ is unset).  Rows whose index (position in the file) is in
 * the file's deletion vector are dropped.  Row groups are skipped by
 * their Parquet statistics where the column needs no conversion.  Rows
 * come one by one, or in batches column by column when the file's
 * selected columns are flat (lks_pq_rows_next_columns), deleted rows
 * compacted away.
 */
#include "delta/delta_int.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__extension__ typedef __int128 i128;

#define US_PER_DAY INT64_C(86400000000)
#define JULIAN_EPOCH_DAY 2440588

enum { CM_NONE = 0, CM_NAME, CM_ID };

/* Leaf conversions. */
enum {
    CV_NULL = 0,    /* always null (void, or no column in the file) */
    CV_COPY,        /* the file's physical value is canonical */
    CV_I32_TO_I64,
    CV_U32_TO_I64,
    CV_F32_TO_F64,
    CV_I32_TO_F64,
    CV_I64_TO_F64,
    CV_INT96_TO_US,
    CV_MS_TO_US,
    CV_NS_TO_US,
    CV_DATE_TO_US,
    CV_DECIMAL      /* any decimal / integer form → canonical decimal */
};

/* Per read-schema field: where it is in the file and how to convert it. */
typedef struct pnode {
    int ff;    /* file field, -1: absent */
    int pos;   /* position among the file parent's items (top level: the root's) */
    int op;    /* leaves: CV_* */
    int fscale; /* CV_DECIMAL: the file's scale */
    int lmode; /* lists: 1 bare repeated field, 2 two-level, 3 three-level */
} pnode;

/* ---- small helpers ----------------------------------------------------------------- */

static const char *kind_name(int kind) {
    static const char *names[] = {"?",       "string", "long",      "integer",   "short",  "byte",
                                  "float",   "double", "decimal",   "boolean",   "binary", "date",
                                  "timestamp", "timestamp_ntz", "void", "struct", "array", "map"};
    return kind >= 0 && kind <= LKS_DT_MAP ? names[kind] : "?";
}

static const char *ptype_name(int t) {
    static const char *names[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY",
                                  "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t <= 7 ? names[t] : "group";
}

static i128 pow10_i128(int n) {
    i128 r = 1;
    for (int i = 0; i < n; i++)
        r *= 10;
    return r;
}

/* 10^38 - 1 fits easily; anything past 38 digits is out of range. */
static int i128_fits_digits(i128 v, int digits) {
    if (digits > 38)
        digits = 38;
    i128 lim = pow10_i128(digits);
    return v < lim && v > -lim;
}

/* Two's-complement big-endian bytes → i128; 0 when it does not fit. */
static int be_to_i128(const uint8_t *p, size_t n, i128 *out) {
    if (n == 0) {
        *out = 0;
        return 1;
    }
    while (n > 16 && ((p[0] == 0x00 && !(p[1] & 0x80)) || (p[0] == 0xFF && (p[1] & 0x80))))
        p++, n--;
    if (n > 16)
        return 0;
    unsigned __int128 u = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
    for (size_t i = 0; i < n; i++)
        u = u << 8 | p[i];
    *out = (i128)u;
    return 1;
}

static void i128_to_be(i128 v, uint8_t *p, int n) {
    unsigned __int128 u = (unsigned __int128)v;
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)u;
        u >>= 8;
    }
}

/* Does v fit a two's-complement integer of n bytes? */
static int i128_fits_bytes(i128 v, int n) {
    if (n >= 16)
        return 1;
    i128 lim = (i128)1 << (8 * n - 1);
    return v < lim && v >= -lim;
}

/* Stores an unscaled decimal in the canonical physical form of read field rf. */
static int put_decimal(const lks_pq_field *rf, i128 v, lks_arena *a, lks_pq_value *out) {
    switch (rf->type) {
    case LKS_PQ_INT32:
        if (v > INT32_MAX || v < INT32_MIN)
            return LKS_ECORRUPT;
        out->kind = LKS_PQ_V_INT32, out->u.i32 = (int32_t)v;
        return LKS_OK;
    case LKS_PQ_INT64:
        if (v > INT64_MAX || v < INT64_MIN)
            return LKS_ECORRUPT;
        out->kind = LKS_PQ_V_INT64, out->u.i64 = (int64_t)v;
        return LKS_OK;
    case LKS_PQ_FIXED_LEN_BYTE_ARRAY:
    case LKS_PQ_BYTE_ARRAY: {
        int n = rf->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY ? rf->type_length : 16;
        if (n <= 0 || n > 64 || !i128_fits_bytes(v, n))
            return LKS_ECORRUPT;
        uint8_t *p = lks_arena_alloc(a, (size_t)n);
        if (!p)
            return LKS_ENOMEM;
        if (n > 16) {
            memset(p, v < 0 ? 0xFF : 0x00, (size_t)n - 16);
            i128_to_be(v, p + n - 16, 16);
        } else {
            i128_to_be(v, p, n);
        }
        out->kind = LKS_PQ_V_BYTES, out->u.bytes.ptr = p, out->u.bytes.len = (size_t)n;
        return LKS_OK;
    }
    default: return LKS_EINTERNAL;
    }
}

/* The unscaled value of a canonical decimal pq value. */
static int get_decimal(const lks_pq_value *v, i128 *out) {
    switch (v->kind) {
    case LKS_PQ_V_INT32: *out = v->u.i32; return 1;
    case LKS_PQ_V_INT64: *out = v->u.i64; return 1;
    case LKS_PQ_V_BYTES: return be_to_i128(v->u.bytes.ptr, v->u.bytes.len, out);
    default: return 0;
    }
}

static int floor_div64(int64_t a, int64_t b, int64_t *q) {
    int64_t r = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        r--;
    *q = r;
    return 1;
}

/* ---- partition values ------------------------------------------------------------------ */

/* Decimal text ("-12.30", "1.5E+3") → unscaled value at `scale`. */
static int parse_decimal_text(const char *s, int precision, int scale, i128 *out) {
    const char *p = s;
    int neg = 0;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    i128 v = 0;
    int digits = 0, frac = 0, any = 0, seen_dot = 0;
    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            any = 1;
            if (v == 0 && *p == '0') {
                if (seen_dot)
                    frac++;
                continue;
            }
            if (++digits > 38)
                return 0;
            v = v * 10 + (*p - '0');
            if (seen_dot)
                frac++;
        } else if (*p == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            break;
        }
    }
    if (!any)
        return 0;
    long e = 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        char *end;
        e = strtol(p, &end, 10);
        if (end == p || e > 100 || e < -100)
            return 0;
        p = end;
    }
    if (*p)
        return 0;
    long shift = e - frac + scale; /* v * 10^shift */
    if (shift >= 0) {
        if (shift > 38 || (v != 0 && digits + shift > 38))
            return 0;
        v *= pow10_i128((int)shift);
    } else {
        if (-shift > 38) {
            if (v != 0)
                return 0;
        } else {
            i128 d = pow10_i128((int)-shift);
            if (v % d != 0)
                return 0; /* would lose digits */
            v /= d;
        }
    }
    if (!i128_fits_digits(v, precision))
        return 0;
    *out = neg ? -v : v;
    return 1;
}

static int parse_int_text(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    const char *p = s;
    while (*p == ' ')
        p++;
    if (!*p)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno || *end || end == p || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* A timestamp text without 'Z' or an offset after its date. */
static int zoneless(const char *s) {
    size_t n = strlen(s);
    for (size_t i = 10; i < n; i++)
        if (s[i] == 'Z' || s[i] == 'z' || s[i] == '+' || s[i] == '-')
            return 0;
    return 1;
}

/* A zoneless timestamp partition value is wall-clock time "of the system
 * which wrote to the table" (PROTOCOL.md); Spark reads it in its session
 * zone.  We read it in the zone the TZ environment variable names, and as
 * UTC when TZ is unset or empty (never the machine's /etc/localtime, so
 * results do not depend on where they are computed).  *us holds the wall
 * clock read as UTC on entry. */
static int local_to_utc(int64_t *us) {
    const char *tz = getenv("TZ");
    if (!tz || !*tz || strcmp(tz, "UTC") == 0 || strcmp(tz, ":UTC") == 0)
        return LKS_OK;
    int64_t secs, frac;
    floor_div64(*us, 1000000, &secs);
    frac = *us - secs * 1000000;
    int64_t days, sod;
    floor_div64(secs, 86400, &days);
    sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    lks_civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        return LKS_ECORRUPT;
    struct tm tmv;
    memset(&tmv, 0, sizeof tmv);
    tmv.tm_year = (int)(y - 1900);
    tmv.tm_mon = (int)m - 1;
    tmv.tm_mday = (int)d;
    tmv.tm_hour = (int)(sod / 3600);
    tmv.tm_min = (int)(sod / 60 % 60);
    tmv.tm_sec = (int)(sod % 60);
    tmv.tm_isdst = -1;
    tzset();
    time_t t = mktime(&tmv);
    if (t == (time_t)-1 && !(tmv.tm_year == 69 && tmv.tm_mon == 11 && tmv.tm_mday == 31))
        return LKS_ECORRUPT;
    *us = (int64_t)t * 1000000 + frac;
    return LKS_OK;
}

int lks_delta_partition_value_parse(const lks_delta_type *dt, const lks_pq_field *rf, const char *s, lks_arena *a,
                                    lks_pq_value *out, lks_err *err) {
    memset(out, 0, sizeof *out);
    if (!s || !*s) {
        out->kind = LKS_PQ_V_NULL; /* JSON null or "" */
        return LKS_OK;
    }
    int64_t i = 0;
    switch (dt->kind) {
    case LKS_DT_STRING:
    case LKS_DT_BINARY:
        out->kind = LKS_PQ_V_BYTES;
        out->u.bytes.ptr = (const uint8_t *)s;
        out->u.bytes.len = strlen(s);
        return LKS_OK;
    case LKS_DT_BOOLEAN:
        if (strcasecmp(s, "true") == 0)
            out->kind = LKS_PQ_V_BOOL, out->u.b = 1;
        else if (strcasecmp(s, "false") == 0)
            out->kind = LKS_PQ_V_BOOL, out->u.b = 0;
        else
            break;
        return LKS_OK;
    case LKS_DT_BYTE:
        if (!parse_int_text(s, INT8_MIN, INT8_MAX, &i))
            break;
        out->kind = LKS_PQ_V_INT32, out->u.i32 = (int32_t)i;
        return LKS_OK;
    case LKS_DT_SHORT:
        if (!parse_int_text(s, INT16_MIN, INT16_MAX, &i))
            break;
        out->kind = LKS_PQ_V_INT32, out->u.i32 = (int32_t)i;
        return LKS_OK;
    case LKS_DT_INTEGER:
        if (!parse_int_text(s, INT32_MIN, INT32_MAX, &i))
            break;
        out->kind = LKS_PQ_V_INT32, out->u.i32 = (int32_t)i;
        return LKS_OK;
    case LKS_DT_LONG:
        if (!parse_int_text(s, INT64_MIN, INT64_MAX, &i))
            break;
        out->kind = LKS_PQ_V_INT64, out->u.i64 = i;
        return LKS_OK;
    case LKS_DT_FLOAT:
    case LKS_DT_DOUBLE: {
        char *end;
        double d = strtod(s, &end);
        if (end == s || *end)
            break;
        if (dt->kind == LKS_DT_FLOAT)
            out->kind = LKS_PQ_V_FLOAT, out->u.f32 = (float)d;
        else
            out->kind = LKS_PQ_V_DOUBLE, out->u.f64 = d;
        return LKS_OK;
    }
    case LKS_DT_DECIMAL: {
        i128 v;
        if (!parse_decimal_text(s, dt->precision, dt->scale, &v))
            break;
        int rc = put_decimal(rf, v, a, out);
        if (rc == LKS_ENOMEM)
            return lks_err_set(err, rc, "out of memory");
        if (rc != LKS_OK)
            break;
        return LKS_OK;
    }
    case LKS_DT_DATE: {
        int64_t us;
        if (strlen(s) > 40 || lks_parse_timestamp_us(s, strlen(s), &us) != LKS_OK)
            break;
        int64_t days;
        floor_div64(us, US_PER_DAY, &days);
        if (days * US_PER_DAY != us || days > INT32_MAX || days < INT32_MIN)
            break;
        out->kind = LKS_PQ_V_INT32, out->u.i32 = (int32_t)days;
        return LKS_OK;
    }
    case LKS_DT_TIMESTAMP:
    case LKS_DT_TIMESTAMP_NTZ: {
        int64_t us;
        if (lks_parse_timestamp_us(s, strlen(s), &us) != LKS_OK)
            break;
        if (dt->kind == LKS_DT_TIMESTAMP && zoneless(s) && local_to_utc(&us) != LKS_OK)
            break;
        out->kind = LKS_PQ_V_INT64, out->u.i64 = us;
        return LKS_OK;
    }
    case LKS_DT_VOID: out->kind = LKS_PQ_V_NULL; return LKS_OK;
    default:
        return lks_err_set(err, LKS_EUNSUPPORTED, "partition column %s of type %s", dt->name ? dt->name : "?",
                           kind_name(dt->kind));
    }
    return lks_err_set(err, LKS_ECORRUPT, "partition column %s: bad %s value '%.80s'", dt->name ? dt->name : "?",
                       kind_name(dt->kind), s);
}

/* ---- comparing values ----------------------------------------------------------------------- */

/* Compares two scalar values of the same canonical kind: -1/0/1, or 2 when
 * they cannot be compared (kinds differ, NaN). */
static int cmp_values(const lks_pq_value *x, const lks_pq_value *y, int is_decimal) {
    if (is_decimal) {
        i128 a, b;
        if (!get_decimal(x, &a) || !get_decimal(y, &b))
            return 2;
        return a < b ? -1 : a > b;
    }
    if (x->kind != y->kind)
        return 2;
    switch (x->kind) {
    case LKS_PQ_V_BOOL: return (x->u.b != 0) < (y->u.b != 0) ? -1 : (x->u.b != 0) > (y->u.b != 0);
    case LKS_PQ_V_INT32: return x->u.i32 < y->u.i32 ? -1 : x->u.i32 > y->u.i32;
    case LKS_PQ_V_INT64: return x->u.i64 < y->u.i64 ? -1 : x->u.i64 > y->u.i64;
    case LKS_PQ_V_FLOAT:
        if (isnan(x->u.f32) || isnan(y->u.f32))
            return 2;
        return x->u.f32 < y->u.f32 ? -1 : x->u.f32 > y->u.f32;
    case LKS_PQ_V_DOUBLE:
        if (isnan(x->u.f64) || isnan(y->u.f64))
            return 2;
        return x->u.f64 < y->u.f64 ? -1 : x->u.f64 > y->u.f64;
    case LKS_PQ_V_BYTES: {
        size_t n = x->u.bytes.len < y->u.bytes.len ? x->u.bytes.len : y->u.bytes.len;
        int c = n ? memcmp(x->u.bytes.ptr, y->u.bytes.ptr, n) : 0;
        if (c)
            return c < 0 ? -1 : 1;
        return x->u.bytes.len < y->u.bytes.len ? -1 : x->u.bytes.len > y->u.bytes.len;
    }
    default: return 2;
    }
}

/* Given bounds lo <= every non-null value <= hi (either may be NULL when
 * unknown), is `op lit` certainly false for every non-null value? */
static int bounds_exclude(int op, const lks_pq_value *lit, const lks_pq_value *lo, const lks_pq_value *hi,
                          int is_decimal) {
    int clo = lo ? cmp_values(lit, lo, is_decimal) : 2; /* lit vs lo */
    int chi = hi ? cmp_values(lit, hi, is_decimal) : 2;
    switch (op) {
    case LKS_DELTA_EQ: return (clo == -1) || (chi == 1);
    case LKS_DELTA_LT: return clo == -1 || clo == 0; /* lit <= lo: no value < lit */
    case LKS_DELTA_LE: return clo == -1;
    case LKS_DELTA_GT: return chi == 1 || chi == 0;
    case LKS_DELTA_GE: return chi == 1;
    default: return 0;
    }
}

/* Exact evaluation of `v op lit` for a partition value: 1 true, 0 false,
 * -1 unknown. */
static int eval_exact(int op, const lks_pq_value *v, const lks_pq_value *lit, int is_decimal) {
    if (op == LKS_DELTA_IS_NULL)
        return v->kind == LKS_PQ_V_NULL;
    if (op == LKS_DELTA_NOT_NULL)
        return v->kind != LKS_PQ_V_NULL;
    if (v->kind == LKS_PQ_V_NULL || lit->kind == LKS_PQ_V_NULL)
        return 0; /* comparisons with null are never true */
    int c = cmp_values(v, lit, is_decimal);
    if (c == 2)
        return -1;
    switch (op) {
    case LKS_DELTA_EQ: return c == 0;
    case LKS_DELTA_LT: return c < 0;
    case LKS_DELTA_LE: return c <= 0;
    case LKS_DELTA_GT: return c > 0;
    case LKS_DELTA_GE: return c >= 0;
    default: return -1;
    }
}

/* ---- stats JSON ---------------------------------------------------------------------------- */

static size_t utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* A stats bound as a value of dt's canonical form; 0 when unusable. */
static int stat_value(const lks_delta_type *dt, const lks_pq_field *rf, json_t *j, int is_max, lks_arena *a,
                      lks_pq_value *out) {
    memset(out, 0, sizeof *out);
    if (!j || json_is_null(j))
        return 0;
    switch (dt->kind) {
    case LKS_DT_BYTE:
    case LKS_DT_SHORT:
    case LKS_DT_INTEGER:
        if (!json_is_integer(j) || json_integer_value(j) > INT32_MAX || json_integer_value(j) < INT32_MIN)
            return 0;
        out->kind = LKS_PQ_V_INT32, out->u.i32 = (int32_t)json_integer_value(j);
        return 1;
    case LKS_DT_LONG:
        if (!json_is_integer(j))
            return 0;
        out->kind = LKS_PQ_V_INT64, out->u.i64 = json_integer_value(j);
        return 1;
    case LKS_DT_FLOAT:
    case LKS_DT_DOUBLE: {
        if (!json_is_number(j))
            return 0;
        double d = json_number_value(j);
        if (isnan(d))
            return 0;
        if (dt->kind == LKS_DT_FLOAT) {
            /* a float bound printed as a double: widen it one float step */
            float f = (float)d;
            if ((double)f != d)
                f = is_max ? nextafterf(f, INFINITY) : nextafterf(f, -INFINITY);
            out->kind = LKS_PQ_V_FLOAT, out->u.f32 = f;
        } else {
            out->kind = LKS_PQ_V_DOUBLE, out->u.f64 = d;
        }
        return 1;
    }
    case LKS_DT_BOOLEAN:
        if (!json_is_boolean(j))
            return 0;
        out->kind = LKS_PQ_V_BOOL, out->u.b = json_is_true(j);
        return 1;
    case LKS_DT_STRING: {
        if (!json_is_string(j))
            return 0;
        const char *s = json_string_value(j);
        size_t n = json_string_length(j);
        /* a max of 32+ characters may be a truncated prefix (an upper
         * bound no longer); a truncated min is still a lower bound */
        if (is_max && utf8_chars(s, n) >= 32)
            return 0;
        char *c = lks_arena_memdup(a, s, n ? n : 1);
        if (!c)
            return 0;
        out->kind = LKS_PQ_V_BYTES, out->u.bytes.ptr = (const uint8_t *)c, out->u.bytes.len = n;
        return 1;
    }
    case LKS_DT_DATE: {
        if (!json_is_string(j))
            return 0;
        int64_t us, days;
        const char *s = json_string_value(j);
        if (lks_parse_timestamp_us(s, strlen(s), &us) != LKS_OK)
            return 0;
        floor_div64(us, US_PER_DAY, &days);
        if (days > INT32_MAX || days < INT32_MIN)
            return 0;
        out->kind = LKS_PQ_V_INT32, out->u.i32 = (int32_t)days;
        return 1;
    }
    case LKS_DT_TIMESTAMP:
    case LKS_DT_TIMESTAMP_NTZ: {
        if (!json_is_string(j))
            return 0;
        int64_t us;
        const char *s = json_string_value(j);
        if (lks_parse_timestamp_us(s, strlen(s), &us) != LKS_OK)
            return 0;
        /* bounds are truncated to milliseconds: the max may hide up to
         * 999 more microseconds */
        if (is_max) {
            if (us > INT64_MAX - 999)
                return 0;
            us += 999;
        }
        out->kind = LKS_PQ_V_INT64, out->u.i64 = us;
        return 1;
    }
    case LKS_DT_DECIMAL: {
        /* exact only while a double holds every digit */
        if (dt->precision > 15 || !json_is_number(j))
            return 0;
        double d = json_number_value(j) * pow(10.0, dt->scale);
        if (!isfinite(d) || fabs(d) > 1e15)
            return 0;
        double r = nearbyint(d);
        if (fabs(d - r) > 1e-3)
            return 0;
        return put_decimal(rf, (i128)(int64_t)r, a, out) == LKS_OK;
    }
    default: return 0;
    }
}

/* ---- the file reader: one Parquet file as rows of the read schema ------------------------- */

typedef struct frd {
    const lks_delta_type *root;
    const lks_pq_schema *rs;
    int cm;
    lks_pq_reader *rd;
    const lks_pq_schema *fs;
    lks_pq_rows *rows;
    pnode *plan;     /* per read field */
    int *cols;       /* file columns to read */
    int ncols;
    uint8_t *colsel; /* per file column */
    lks_arena row_arena;
    /* row-group position, for row indexes */
    int rg;
    int64_t rg_left, row_index;
    uint8_t *rg_skip;
    int64_t *rg_start;     /* per row group: index of its first row in the file */
    lks_pq_value **pqcols; /* column-wise reading: per item of the file's root */
    const char *name;
    /* per top-level column: its read field, and 1 when the file value is
     * taken as it is (a planned leaf needing no conversion) */
    int ntop;
    int *topg;
    uint8_t *direct;
} frd;

/* File child of group f matching delta field dt, or -1; *pos its position. */
static int find_child(const frd *x, int f, const lks_delta_type *dt, int *pos) {
    const lks_pq_schema *fs = x->fs;
    const char *want = dt->name;
    if (x->cm == CM_NAME && dt->physical_name)
        want = dt->physical_name;
    for (int pass = 0; pass < 2; pass++) {
        int c = f + 1;
        for (int k = 0; k < fs->fields[f].num_children && c < fs->num_fields; k++) {
            const lks_pq_field *fl = &fs->fields[c];
            int hit;
            if (x->cm == CM_ID)
                hit = pass == 0 && dt->field_id >= 0 && fl->field_id == dt->field_id;
            else if (pass == 0)
                hit = want && strcmp(fl->name, want) == 0;
            else
                hit = want && strcasecmp(fl->name, want) == 0; /* Spark resolves names case-insensitively */
            if (hit) {
                *pos = k;
                return c;
            }
            c = lks_pq_schema_subtree_end(fs, c);
        }
    }
    return -1;
}

static int mismatch(const frd *x, const lks_delta_type *dt, int ff, lks_err *err) {
    const lks_pq_field *fl = &x->fs->fields[ff];
    return lks_err_set(err, LKS_EUNSUPPORTED, "column %s: a %s%s%s in the file cannot be read as Delta type %s",
                       dt->name ? dt->name : x->fs->fields[ff].name, ptype_name(fl->type),
                       fl->logical.kind ? " with a logical type" : "", fl->repetition == LKS_PQ_REPEATED ? " (repeated)" : "",
                       kind_name(dt->kind));
}

static int leaf_op(frd *x, const lks_delta_type *dt, int g, int ff, lks_err *err) {
    const lks_pq_field *fl = &x->fs->fields[ff];
    const lks_pq_field *rf = &x->rs->fields[g];
    const lks_pq_logical *lt = &x->fs->cols[x->fs->leaf[ff]].logical;
    pnode *pn = &x->plan[g];
    int t = fl->type;
    switch (dt->kind) {
    case LKS_DT_VOID: pn->op = CV_NULL; return LKS_OK;
    case LKS_DT_BOOLEAN:
        if (t == LKS_PQ_BOOLEAN)
            return pn->op = CV_COPY, LKS_OK;
        break;
    case LKS_DT_BYTE:
    case LKS_DT_SHORT:
    case LKS_DT_INTEGER:
        if (t == LKS_PQ_INT32 && lt->kind != LKS_PQ_LT_DECIMAL)
            return pn->op = CV_COPY, LKS_OK;
        break;
    case LKS_DT_LONG:
        if (t == LKS_PQ_INT64 && lt->kind != LKS_PQ_LT_DECIMAL)
            return pn->op = CV_COPY, LKS_OK;
        if (t == LKS_PQ_INT32 && lt->kind != LKS_PQ_LT_DECIMAL) {
            pn->op = (lt->kind == LKS_PQ_LT_INTEGER && !lt->is_signed) ? CV_U32_TO_I64 : CV_I32_TO_I64;
            return LKS_OK;
        }
        break;
    case LKS_DT_FLOAT:
        if (t == LKS_PQ_FLOAT)
            return pn->op = CV_COPY, LKS_OK;
        break;
    case LKS_DT_DOUBLE:
        if (t == LKS_PQ_DOUBLE)
            return pn->op = CV_COPY, LKS_OK;
        if (t == LKS_PQ_FLOAT)
            return pn->op = CV_F32_TO_F64, LKS_OK;
        if (t == LKS_PQ_INT32 && lt->kind != LKS_PQ_LT_DECIMAL)
            return pn->op = CV_I32_TO_F64, LKS_OK;
        if (t == LKS_PQ_INT64 && lt->kind != LKS_PQ_LT_DECIMAL)
            return pn->op = CV_I64_TO_F64, LKS_OK;
        break;
    case LKS_DT_STRING:
    case LKS_DT_BINARY:
        if (t == LKS_PQ_BYTE_ARRAY || t == LKS_PQ_FIXED_LEN_BYTE_ARRAY)
            return pn->op = CV_COPY, LKS_OK;
        break;
    case LKS_DT_DATE:
        if (t == LKS_PQ_INT32)
            return pn->op = CV_COPY, LKS_OK;
        break;
    case LKS_DT_TIMESTAMP:
    case LKS_DT_TIMESTAMP_NTZ:
        if (t == LKS_PQ_INT96)
            return pn->op = CV_INT96_TO_US, LKS_OK;
        if (t == LKS_PQ_INT64) {
            if (lt->kind == LKS_PQ_LT_TIMESTAMP && lt->unit == LKS_PQ_UNIT_MILLIS)
                pn->op = CV_MS_TO_US;
            else if (lt->kind == LKS_PQ_LT_TIMESTAMP && lt->unit == LKS_PQ_UNIT_NANOS)
                pn->op = CV_NS_TO_US;
            else
                pn->op = CV_COPY;
            return LKS_OK;
        }
        if (t == LKS_PQ_INT32 && dt->kind == LKS_DT_TIMESTAMP_NTZ && lt->kind == LKS_PQ_LT_DATE)
            return pn->op = CV_DATE_TO_US, LKS_OK;
        break;
    case LKS_DT_DECIMAL:
        if (lt->kind == LKS_PQ_LT_DECIMAL &&
            (t == LKS_PQ_INT32 || t == LKS_PQ_INT64 || t == LKS_PQ_BYTE_ARRAY || t == LKS_PQ_FIXED_LEN_BYTE_ARRAY)) {
            if (lt->scale > dt->scale)
                break; /* narrowing: not a widening Delta allows */
            pn->fscale = lt->scale;
            pn->op = (t == rf->type && lt->scale == dt->scale &&
                      (t != LKS_PQ_FIXED_LEN_BYTE_ARRAY || fl->type_length == rf->type_length))
                         ? CV_COPY
                         : CV_DECIMAL;
            return LKS_OK;
        }
        if ((t == LKS_PQ_INT32 || t == LKS_PQ_INT64) && lt->kind != LKS_PQ_LT_DATE && lt->kind != LKS_PQ_LT_TIMESTAMP &&
            lt->kind != LKS_PQ_LT_TIME) {
            pn->fscale = 0; /* integer widened to decimal */
            pn->op = CV_DECIMAL;
            return LKS_OK;
        }
        break;
    default: break;
    }
    return mismatch(x, dt, ff, err);
}

static int plan_node(frd *x, const lks_delta_type *dt, int g, int ff, lks_err *err);

static void mark_leaves(frd *x, int ff) {
    int end = lks_pq_schema_subtree_end(x->fs, ff);
    for (int k = ff; k < end; k++) {
        int c = x->fs->leaf[k];
        if (c >= 0 && !x->colsel[c]) {
            x->colsel[c] = 1;
            x->cols[x->ncols++] = c;
        }
    }
}

static int plan_node(frd *x, const lks_delta_type *dt, int g, int ff, lks_err *err) {
    const lks_pq_schema *fs = x->fs, *rs = x->rs;
    const lks_pq_field *fl = &fs->fields[ff];
    pnode *pn = &x->plan[g];
    pn->ff = ff;
    switch (dt->kind) {
    case LKS_DT_STRUCT: {
        if (fl->type != -1 || fl->repetition == LKS_PQ_REPEATED)
            return mismatch(x, dt, ff, err);
        int gc = g + 1;
        for (int k = 0; k < dt->nchildren && gc < rs->num_fields; k++) {
            int pos = -1;
            int fc = find_child(x, ff, &dt->children[k], &pos);
            x->plan[gc].ff = -1;
            if (fc >= 0) {
                x->plan[gc].pos = pos;
                int rc = plan_node(x, &dt->children[k], gc, fc, err);
                if (rc != LKS_OK)
                    return rc;
            }
            gc = lks_pq_schema_subtree_end(rs, gc);
        }
        return LKS_OK;
    }
    case LKS_DT_ARRAY: {
        int elem;
        if (dt->nchildren < 1)
            return lks_err_set(err, LKS_EINTERNAL, "array type without an element");
        if (fl->repetition == LKS_PQ_REPEATED) {
            pn->lmode = 1; /* legacy: the repeated field is the list */
            elem = ff;
        } else {
            if (fl->type != -1 || fl->num_children != 1)
                return mismatch(x, dt, ff, err);
            int r = ff + 1;
            const lks_pq_field *rfl = &fs->fields[r];
            if (rfl->repetition != LKS_PQ_REPEATED)
                return mismatch(x, dt, ff, err);
            size_t ln = strlen(fl->name);
            if (rfl->type != -1 || rfl->num_children != 1 || strcmp(rfl->name, "array") == 0 ||
                (strlen(rfl->name) == ln + 6 && strncmp(rfl->name, fl->name, ln) == 0 &&
                 strcmp(rfl->name + ln, "_tuple") == 0)) {
                pn->lmode = 2;
                elem = r;
            } else {
                pn->lmode = 3;
                elem = r + 1;
            }
        }
        int ge = g + 2; /* LIST group → repeated "list" → element */
        if (ge >= rs->num_fields)
            return lks_err_set(err, LKS_EINTERNAL, "read schema: list %s has no element", dt->name ? dt->name : "");
        if (pn->lmode == 1) {
            /* the element is the repeated field itself: plan it as a
             * non-repeated node (its items are the element values) */
            x->plan[ge].ff = elem;
            if (dt->children[0].kind == LKS_DT_STRUCT || dt->children[0].kind == LKS_DT_ARRAY ||
                dt->children[0].kind == LKS_DT_MAP) {
                if (dt->children[0].kind != LKS_DT_STRUCT || fl->type != -1)
                    return mismatch(x, dt, ff, err);
                int gc = ge + 1;
                const lks_delta_type *et = &dt->children[0];
                for (int k = 0; k < et->nchildren && gc < rs->num_fields; k++) {
                    int pos = -1;
                    int fc = find_child(x, ff, &et->children[k], &pos);
                    x->plan[gc].ff = -1;
                    if (fc >= 0) {
                        x->plan[gc].pos = pos;
                        int rc = plan_node(x, &et->children[k], gc, fc, err);
                        if (rc != LKS_OK)
                            return rc;
                    }
                    gc = lks_pq_schema_subtree_end(rs, gc);
                }
                return LKS_OK;
            }
            if (fl->type == -1)
                return mismatch(x, dt, ff, err);
            int rc = leaf_op(x, &dt->children[0], ge, elem, err);
            if (rc == LKS_OK)
                mark_leaves(x, elem);
            return rc;
        }
        return plan_node(x, &dt->children[0], ge, elem, err);
    }
    case LKS_DT_MAP: {
        if (dt->nchildren < 2)
            return lks_err_set(err, LKS_EINTERNAL, "map type without key and value");
        if (fl->type != -1 || fl->num_children != 1 || fl->repetition == LKS_PQ_REPEATED)
            return mismatch(x, dt, ff, err);
        int kv = ff + 1;
        const lks_pq_field *kvf = &fs->fields[kv];
        if (kvf->repetition != LKS_PQ_REPEATED || kvf->type != -1 || kvf->num_children < 1 || kvf->num_children > 2)
            return mismatch(x, dt, ff, err);
        int fk = kv + 1, fv = kvf->num_children == 2 ? lks_pq_schema_subtree_end(fs, fk) : -1;
        int gk = g + 2, gv = lks_pq_schema_subtree_end(rs, gk);
        if (gv >= rs->num_fields)
            return lks_err_set(err, LKS_EINTERNAL, "read schema: map %s has no value", dt->name ? dt->name : "");
        int rc = plan_node(x, &dt->children[0], gk, fk, err);
        x->plan[gk].pos = 0;
        x->plan[gv].ff = -1;
        if (rc == LKS_OK && fv >= 0) {
            rc = plan_node(x, &dt->children[1], gv, fv, err);
            x->plan[gv].pos = 1;
        }
        return rc;
    }
    default: {
        if (fl->type == -1 || fl->repetition == LKS_PQ_REPEATED)
            return mismatch(x, dt, ff, err);
        int rc = leaf_op(x, dt, g, ff, err);
        if (rc == LKS_OK && pn->op != CV_NULL)
            mark_leaves(x, ff);
        return rc;
    }
    }
}

static void frd_close(frd *x) {
    lks_pq_rows_free(x->rows);
    free(x->plan);
    free(x->cols);
    free(x->colsel);
    free(x->rg_skip);
    free(x->rg_start);
    free(x->pqcols);
    free(x->topg);
    free(x->direct);
    lks_arena_free(&x->row_arena);
    memset(x, 0, sizeof *x);
}

/* Plans reading rd as rows of root's read schema rs; want[k] says whether
 * top-level column k is read from the file (else it stays NULL for the
 * caller to fill). */
static int frd_open(frd *x, const lks_delta_type *root, const lks_pq_schema *rs, int cm, lks_pq_reader *rd,
                    const uint8_t *want, const char *name, lks_err *err) {
    memset(x, 0, sizeof *x);
    x->root = root;
    x->rs = rs;
    x->cm = cm;
    x->rd = rd;
    x->name = name;
    x->fs = lks_pq_reader_schema(rd);
    x->rg = -1;
    lks_arena_init(&x->row_arena, 0);
    int nrg = lks_pq_reader_meta(rd)->num_row_groups;
    x->plan = calloc((size_t)rs->num_fields, sizeof *x->plan);
    x->cols = calloc((size_t)x->fs->num_cols + 1, sizeof *x->cols);
    x->colsel = calloc((size_t)x->fs->num_cols + 1, 1);
    x->rg_skip = calloc((size_t)nrg + 1, 1);
    x->rg_start = calloc((size_t)nrg + 1, sizeof(int64_t));
    x->pqcols = calloc((size_t)(x->fs->num_fields > 0 ? x->fs->fields[0].num_children : 0) + 1, sizeof(lks_pq_value *));
    x->topg = calloc((size_t)root->nchildren + 1, sizeof(int));
    x->direct = calloc((size_t)root->nchildren + 1, 1);
    if (!x->plan || !x->cols || !x->colsel || !x->rg_skip || !x->rg_start || !x->pqcols || !x->topg || !x->direct) {
        frd_close(x);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    for (int g = 0; g < rs->num_fields; g++)
        x->plan[g].ff = -1;
    const lks_pq_file_meta *fm = lks_pq_reader_meta(rd);
    for (int r = 1; r <= nrg; r++) { /* row counts are >= 0; saturate a hostile sum */
        int64_t prev = x->rg_start[r - 1], add = fm->row_groups[r - 1].num_rows;
        x->rg_start[r] = add > INT64_MAX - prev ? INT64_MAX : prev + add;
    }
    int g = 1;
    for (int k = 0; k < root->nchildren && g < rs->num_fields; k++) {
        if (want[k]) {
            int pos = -1;
            int ff = find_child(x, 0, &root->children[k], &pos);
            if (ff >= 0) {
                x->plan[g].pos = pos;
                int rc = plan_node(x, &root->children[k], g, ff, err);
                if (rc != LKS_OK) {
                    frd_close(x);
                    return rc;
                }
            }
        }
        int dk = root->children[k].kind;
        x->topg[k] = g;
        x->direct[k] = x->plan[g].ff >= 0 && x->plan[g].op == CV_COPY && dk != LKS_DT_STRUCT &&
                       dk != LKS_DT_ARRAY && dk != LKS_DT_MAP;
        x->ntop = k + 1;
        g = lks_pq_schema_subtree_end(rs, g);
    }
    return LKS_OK;
}

static int frd_start(frd *x, lks_err *err) {
    int rc = lks_pq_rows_open(x->rd, x->cols, x->ncols, &x->rows, err);
    if (rc != LKS_OK)
        return rc;
    int nrg = lks_pq_reader_meta(x->rd)->num_row_groups;
    for (int r = 0; r < nrg; r++)
        if (x->rg_skip[r])
            lks_pq_rows_skip_row_group(x->rows, r);
    return LKS_OK;
}

static int conv(frd *x, const lks_delta_type *dt, int g, const lks_pq_value *in, lks_pq_value *out, lks_err *err);

static lks_pq_value *alloc_items(frd *x, size_t n) {
    lks_pq_value *v = lks_arena_alloc(&x->row_arena, sizeof(lks_pq_value) * (n ? n : 1));
    if (v)
        memset(v, 0, sizeof(lks_pq_value) * (n ? n : 1));
    return v;
}

static int bad_value(frd *x, const lks_delta_type *dt, lks_err *err) {
    return lks_err_set(err, LKS_ECORRUPT, "%s: column %s: value does not have the file schema's shape",
                       x->name ? x->name : "parquet", dt->name ? dt->name : "(element)");
}

static int conv_struct_items(frd *x, const lks_delta_type *dt, int g, const lks_pq_value *in, lks_pq_value *out,
                             lks_err *err) {
    if (in->kind != LKS_PQ_V_GROUP)
        return bad_value(x, dt, err);
    lks_pq_value *items = alloc_items(x, (size_t)dt->nchildren);
    if (!items)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    out->kind = LKS_PQ_V_GROUP;
    out->u.list.items = items;
    out->u.list.n = (size_t)dt->nchildren;
    int gc = g + 1;
    for (int k = 0; k < dt->nchildren; k++) {
        const pnode *pc = &x->plan[gc];
        if (pc->ff >= 0) {
            if ((size_t)pc->pos >= in->u.list.n)
                return bad_value(x, dt, err);
            int rc = conv(x, &dt->children[k], gc, &in->u.list.items[pc->pos], &items[k], err);
            if (rc != LKS_OK)
                return rc;
        }
        gc = lks_pq_schema_subtree_end(x->rs, gc);
    }
    return LKS_OK;
}

static int conv_leaf(frd *x, const lks_delta_type *dt, int g, const lks_pq_value *in, lks_pq_value *out,
                     lks_err *err) {
    const pnode *pn = &x->plan[g];
    int k = in->kind;
    switch (pn->op) {
    case CV_NULL: out->kind = LKS_PQ_V_NULL; return LKS_OK;
    case CV_COPY: *out = *in; return LKS_OK;
    case CV_I32_TO_I64:
        if (k != LKS_PQ_V_INT32)
            break;
        out->kind = LKS_PQ_V_INT64, out->u.i64 = in->u.i32;
        return LKS_OK;
    case CV_U32_TO_I64:
        if (k != LKS_PQ_V_INT32)
            break;
        out->kind = LKS_PQ_V_INT64, out->u.i64 = (uint32_t)in->u.i32;
        return LKS_OK;
    case CV_F32_TO_F64:
        if (k != LKS_PQ_V_FLOAT)
            break;
        out->kind = LKS_PQ_V_DOUBLE, out->u.f64 = in->u.f32;
        return LKS_OK;
    case CV_I32_TO_F64:
        if (k != LKS_PQ_V_INT32)
            break;
        out->kind = LKS_PQ_V_DOUBLE, out->u.f64 = in->u.i32;
        return LKS_OK;
    case CV_I64_TO_F64:
        if (k != LKS_PQ_V_INT64)
            break;
        out->kind = LKS_PQ_V_DOUBLE, out->u.f64 = (double)in->u.i64;
        return LKS_OK;
    case CV_INT96_TO_US: {
        if (k != LKS_PQ_V_INT96)
            break;
        int64_t nanos = (int64_t)lks_load_le64(in->u.i96.b);
        int64_t jd = (int64_t)lks_load_le32(in->u.i96.b + 8);
        int64_t us_of_day;
        floor_div64(nanos, 1000, &us_of_day);
        out->kind = LKS_PQ_V_INT64;
        out->u.i64 = (jd - JULIAN_EPOCH_DAY) * US_PER_DAY + us_of_day;
        return LKS_OK;
    }
    case CV_MS_TO_US:
        if (k != LKS_PQ_V_INT64)
            break;
        if (in->u.i64 > INT64_MAX / 1000 || in->u.i64 < INT64_MIN / 1000)
            return lks_err_set(err, LKS_ECORRUPT, "column %s: timestamp %" PRId64 " ms out of range",
                               dt->name ? dt->name : "", in->u.i64);
        out->kind = LKS_PQ_V_INT64, out->u.i64 = in->u.i64 * 1000;
        return LKS_OK;
    case CV_NS_TO_US:
        if (k != LKS_PQ_V_INT64)
            break;
        out->kind = LKS_PQ_V_INT64;
        floor_div64(in->u.i64, 1000, &out->u.i64);
        return LKS_OK;
    case CV_DATE_TO_US:
        if (k != LKS_PQ_V_INT32)
            break;
        out->kind = LKS_PQ_V_INT64, out->u.i64 = (int64_t)in->u.i32 * US_PER_DAY;
        return LKS_OK;
    case CV_DECIMAL: {
        i128 v;
        if (k == LKS_PQ_V_INT32)
            v = in->u.i32;
        else if (k == LKS_PQ_V_INT64)
            v = in->u.i64;
        else if (k == LKS_PQ_V_BYTES) {
            if (!be_to_i128(in->u.bytes.ptr, in->u.bytes.len, &v))
                return lks_err_set(err, LKS_ECORRUPT, "column %s: decimal of %zu bytes out of range",
                                   dt->name ? dt->name : "", in->u.bytes.len);
        } else
            break;
        int up = dt->scale - pn->fscale;
        if (up > 0) {
            if (!i128_fits_digits(v, 38 - up))
                return lks_err_set(err, LKS_ECORRUPT, "column %s: decimal out of range after rescaling",
                                   dt->name ? dt->name : "");
            v *= pow10_i128(up);
        }
        int rc = put_decimal(&x->rs->fields[g], v, &x->row_arena, out);
        if (rc == LKS_ENOMEM)
            return lks_err_set(err, rc, "out of memory");
        if (rc != LKS_OK)
            return lks_err_set(err, LKS_ECORRUPT, "column %s: decimal does not fit decimal(%d,%d)",
                               dt->name ? dt->name : "", dt->precision, dt->scale);
        return LKS_OK;
    }
    default: break;
    }
    return bad_value(x, dt, err);
}

static int conv(frd *x, const lks_delta_type *dt, int g, const lks_pq_value *in, lks_pq_value *out, lks_err *err) {
    const pnode *pn = &x->plan[g];
    memset(out, 0, sizeof *out);
    if (pn->ff < 0 || in->kind == LKS_PQ_V_NULL)
        return LKS_OK; /* NULL */
    switch (dt->kind) {
    case LKS_DT_STRUCT: return conv_struct_items(x, dt, g, in, out, err);
    case LKS_DT_ARRAY: {
        const lks_pq_value *rv;
        if (pn->lmode == 1) {
            rv = in;
        } else {
            if (in->kind != LKS_PQ_V_GROUP || in->u.list.n != 1)
                return bad_value(x, dt, err);
            rv = &in->u.list.items[0];
        }
        size_t n = 0;
        if (rv->kind == LKS_PQ_V_REPEATED)
            n = rv->u.list.n;
        else if (rv->kind != LKS_PQ_V_NULL)
            return bad_value(x, dt, err);
        lks_pq_value *outer = alloc_items(x, 1);
        lks_pq_value *items = alloc_items(x, n);
        if (!outer || !items)
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        out->kind = LKS_PQ_V_GROUP, out->u.list.items = outer, out->u.list.n = 1;
        outer->kind = LKS_PQ_V_REPEATED, outer->u.list.items = items, outer->u.list.n = n;
        const lks_delta_type *et = &dt->children[0];
        int ge = g + 2;
        for (size_t i = 0; i < n; i++) {
            const lks_pq_value *ev = &rv->u.list.items[i];
            if (pn->lmode == 3) {
                if (ev->kind == LKS_PQ_V_NULL)
                    ev = NULL;
                else if (ev->kind != LKS_PQ_V_GROUP || ev->u.list.n != 1)
                    return bad_value(x, dt, err);
                else
                    ev = &ev->u.list.items[0];
            }
            lks_pq_value *wrap = alloc_items(x, 1);
            if (!wrap)
                return lks_err_set(err, LKS_ENOMEM, "out of memory");
            items[i].kind = LKS_PQ_V_GROUP, items[i].u.list.items = wrap, items[i].u.list.n = 1;
            if (!ev)
                continue;
            int rc;
            if (pn->lmode == 1 && et->kind == LKS_DT_STRUCT)
                rc = conv_struct_items(x, et, ge, ev, wrap, err);
            else if (pn->lmode == 1)
                rc = conv_leaf(x, et, ge, ev, wrap, err);
            else
                rc = conv(x, et, ge, ev, wrap, err);
            if (rc != LKS_OK)
                return rc;
        }
        return LKS_OK;
    }
    case LKS_DT_MAP: {
        if (in->kind != LKS_PQ_V_GROUP || in->u.list.n != 1)
            return bad_value(x, dt, err);
        const lks_pq_value *rv = &in->u.list.items[0];
        size_t n = 0;
        if (rv->kind == LKS_PQ_V_REPEATED)
            n = rv->u.list.n;
        else if (rv->kind != LKS_PQ_V_NULL)
            return bad_value(x, dt, err);
        lks_pq_value *outer = alloc_items(x, 1);
        lks_pq_value *items = alloc_items(x, n);
        if (!outer || !items)
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        out->kind = LKS_PQ_V_GROUP, out->u.list.items = outer, out->u.list.n = 1;
        outer->kind = LKS_PQ_V_REPEATED, outer->u.list.items = items, outer->u.list.n = n;
        int gk = g + 2, gv = lks_pq_schema_subtree_end(x->rs, gk);
        for (size_t i = 0; i < n; i++) {
            const lks_pq_value *kv = &rv->u.list.items[i];
            if (kv->kind != LKS_PQ_V_GROUP || kv->u.list.n < 1)
                return bad_value(x, dt, err);
            lks_pq_value *pair = alloc_items(x, 2);
            if (!pair)
                return lks_err_set(err, LKS_ENOMEM, "out of memory");
            items[i].kind = LKS_PQ_V_GROUP, items[i].u.list.items = pair, items[i].u.list.n = 2;
            int rc = conv(x, &dt->children[0], gk, &kv->u.list.items[0], &pair[0], err);
            if (rc == LKS_OK && x->plan[gv].ff >= 0 && kv->u.list.n >= 2)
                rc = conv(x, &dt->children[1], gv, &kv->u.list.items[1], &pair[1], err);
            if (rc != LKS_OK)
                return rc;
        }
        return LKS_OK;
    }
    default: return conv_leaf(x, dt, g, in, out, err);
    }
}

/* Next file row converted into items (one per top-level column; those not
 * planned are left NULL).  *row_index gets the row's position in the file.
 * 1 with a row, 0 at the end. */
static int frd_next(frd *x, lks_pq_value *items, int64_t *row_index, lks_err *err) {
    const lks_pq_value *frow;
    int rc = lks_pq_rows_next(x->rows, &frow, err);
    if (rc <= 0)
        return rc;
    while (x->rg_left <= 0) {
        const lks_pq_file_meta *fm = lks_pq_reader_meta(x->rd);
        x->rg++;
        while (x->rg < fm->num_row_groups && x->rg_skip[x->rg])
            x->rg++;
        if (x->rg >= fm->num_row_groups)
            return lks_err_set(err, LKS_ECORRUPT, "more rows than the row groups declare");
        x->row_index = 0;
        for (int r = 0; r < x->rg; r++)
            x->row_index += fm->row_groups[r].num_rows;
        x->rg_left = fm->row_groups[x->rg].num_rows;
    }
    *row_index = x->row_index++;
    x->rg_left--;
    if (x->row_arena.used_total)
        lks_arena_reset(&x->row_arena);
    for (int k = 0; k < x->ntop; k++) {
        int g = x->topg[k];
        const pnode *pn = &x->plan[g];
        if (pn->ff < 0) {
            memset(&items[k], 0, sizeof items[k]);
            continue;
        }
        if (frow->kind != LKS_PQ_V_GROUP || (size_t)pn->pos >= frow->u.list.n)
            return lks_err_set(err, LKS_EINTERNAL, "file row does not match its schema");
        const lks_pq_value *in = &frow->u.list.items[pn->pos];
        if (x->direct[k]) {
            if (in->kind == LKS_PQ_V_NULL)
                memset(&items[k], 0, sizeof items[k]);
            else
                items[k] = *in;
            continue;
        }
        memset(&items[k], 0, sizeof items[k]);
        rc = conv(x, &x->root->children[k], g, in, &items[k], err);
        if (rc != LKS_OK)
            return rc;
    }
    return 1;
}

/* Up to cap next rows of a file whose iterator is flat, column by column:
 * for each top-level column k with want[k], cols[k][0..*n) gets the values
 * frd_next() would have put in items[k].  *first_index gets the first
 * row's position in the file.  1 with rows, 0 at the end. */
static int frd_next_columns(frd *x, lks_pq_value *const *cols, const uint8_t *want, size_t cap, size_t *n,
                            int64_t *first_index, lks_err *err) {
    int nitems = x->fs->num_fields > 0 ? x->fs->fields[0].num_children : 0;
    memset(x->pqcols, 0, (size_t)nitems * sizeof *x->pqcols);
    for (int k = 0; k < x->ntop; k++) {
        const pnode *pn = &x->plan[x->topg[k]];
        if (want[k] && pn->ff >= 0 && pn->pos >= 0 && pn->pos < nitems && !x->pqcols[pn->pos])
            x->pqcols[pn->pos] = cols[k];
    }
    size_t m;
    int rg;
    int64_t first;
    int rc = lks_pq_rows_next_columns(x->rows, cap, x->pqcols, &m, &rg, &first, err);
    if (rc <= 0)
        return rc;
    if (x->row_arena.used_total)
        lks_arena_reset(&x->row_arena);
    /* two table columns read from one file column (names differing only
     * in case): copies before any conversion */
    for (int k = 0; k < x->ntop; k++) {
        const pnode *pn = &x->plan[x->topg[k]];
        if (want[k] && pn->ff >= 0 && pn->pos >= 0 && pn->pos < nitems && x->pqcols[pn->pos] != cols[k])
            memcpy(cols[k], x->pqcols[pn->pos], m * sizeof(lks_pq_value));
    }
    for (int k = 0; k < x->ntop; k++) {
        if (!want[k] || x->direct[k])
            continue;
        int g = x->topg[k];
        lks_pq_value *v = cols[k];
        if (x->plan[g].ff < 0) {
            memset(v, 0, m * sizeof *v);
            continue;
        }
        for (size_t i = 0; i < m; i++) {
            if (v[i].kind == LKS_PQ_V_NULL)
                continue;
            lks_pq_value in = v[i];
            rc = conv(x, &x->root->children[k], g, &in, &v[i], err);
            if (rc != LKS_OK)
                return rc;
        }
    }
    *n = m;
    *first_index = x->rg_start[rg] + first;
    return 1;
}

/* ---- reading a Parquet object ----------------------------------------------------------- */

typedef struct objsrc {
    lks_delta_obj o;
    lks_buf tmp;
} objsrc;

static int obj_read(void *ud, uint64_t off, size_t n, uint8_t *dst, lks_err *err) {
    objsrc *os = ud;
    lks_buf_reset(&os->tmp);
    int rc = lks_store_get_range(os->o.st, os->o.key, off, n, &os->tmp, err);
    if (rc != LKS_OK)
        return rc;
    if (os->tmp.len != n)
        return lks_err_set(err, LKS_EIO, "short read at offset %" PRIu64, off);
    memcpy(dst, os->tmp.ptr, n);
    return LKS_OK;
}

/* ---- scans --------------------------------------------------------------------------------- */

typedef struct spred {
    int col;   /* top-level column */
    int op;
    lks_pq_value value;
} spred;

struct lks_delta_scan {
    lks_delta_table *t;
    const lks_delta_snapshot *s;
    const lks_delta_type *root;
    lks_pq_schema *rs;
    int cm;
    int ncols;
    int *gfield;        /* per top-level column: read-schema field */
    uint8_t *selected;  /* per top-level column */
    uint8_t *is_part;   /* per top-level column */
    uint8_t *want;      /* per top-level column: read from files */
    spred *preds;
    int npreds;
    int keep_deleted;
    int (*file_filter)(void *ud, const lks_delta_add *a);
    void *file_filter_ud;
    size_t next_file, skipped, nread;
    int64_t row_index;  /* of the row returned last */
    /* the current file */
    int open;
    const lks_delta_add *add;
    lks_arena farena;
    objsrc src;
    lks_pq_source pqsrc;
    lks_pq_reader *rd;
    frd fr;
    lks_delta_rowset *dv;
    lks_pq_value *pvals; /* per top-level column: partition values */
    lks_pq_value row;
    lks_pq_value *items;
    int data_cols; /* any column read from files */
    /* the last file's reader and iterator, kept until the next file has
     * taken their memory */
    lks_pq_reader *spare_rd;
    lks_pq_rows *spare_rows;
    /* lks_delta_scan_next_batch: per top-level column LKS_DELTA_BATCH_ROWS
     * values (selected columns only), row indexes, the batch handed out */
    lks_pq_value **bcols;
    int64_t *brow;
    const lks_pq_value **bview;
    lks_delta_batch batch;
};

static int cm_mode(const lks_delta_snapshot *s) {
    const char *m = lks_delta_snapshot_property(s, "delta.columnMapping.mode");
    if (!m)
        return CM_NONE;
    int honoured = s->protocol.min_reader == 2;
    if (s->protocol.min_reader >= 3)
        for (int i = 0; i < s->protocol.nreader_features; i++)
            if (strcmp(s->protocol.reader_features[i], "columnMapping") == 0)
                honoured = 1;
    if (!honoured)
        return CM_NONE;
    if (strcmp(m, "name") == 0)
        return CM_NAME;
    if (strcmp(m, "id") == 0)
        return CM_ID;
    return CM_NONE;
}

static int top_column(const lks_delta_type *root, const char *name) {
    for (int k = 0; k < root->nchildren; k++)
        if (root->children[k].name && strcmp(root->children[k].name, name) == 0)
            return k;
    for (int k = 0; k < root->nchildren; k++)
        if (root->children[k].name && strcasecmp(root->children[k].name, name) == 0)
            return k;
    return -1;
}

const lks_pq_schema *lks_delta_scan_schema(const lks_delta_scan *sc) { return sc->rs; }

void lks_delta_scan_counts(const lks_delta_scan *sc, size_t *files_skipped, size_t *files_read) {
    if (files_skipped)
        *files_skipped = sc->skipped;
    if (files_read)
        *files_read = sc->nread;
}

void lks_delta_scan_position(const lks_delta_scan *sc, const lks_delta_add **file, int64_t *row_index) {
    if (file)
        *file = sc->open ? sc->add : NULL;
    if (row_index)
        *row_index = sc->open ? sc->row_index : -1;
}

static void free_spares(lks_delta_scan *sc) {
    lks_pq_rows_free(sc->spare_rows); /* before its reader */
    sc->spare_rows = NULL;
    lks_pq_reader_free(sc->spare_rd);
    sc->spare_rd = NULL;
}

static void close_file(lks_delta_scan *sc) {
    free_spares(sc);
    if (sc->fr.rs) {
        sc->spare_rows = sc->fr.rows;
        sc->fr.rows = NULL;
        frd_close(&sc->fr);
    }
    sc->spare_rd = sc->rd;
    sc->rd = NULL;
    lks_delta_obj_close(&sc->src.o);
    lks_buf_reset(&sc->src.tmp); /* kept for the next file */
    lks_delta_rowset_free(sc->dv);
    sc->dv = NULL;
    lks_arena_reset(&sc->farena);
    sc->open = 0;
    sc->add = NULL;
}

void lks_delta_scan_take_buffers(lks_delta_scan *sc, lks_delta_scan *from) {
    if (!sc || !from || sc == from)
        return;
    if (from->open)
        close_file(from); /* its reader and iterator become its spares */
    if (!sc->open && !sc->spare_rd && !sc->spare_rows) {
        sc->spare_rd = from->spare_rd;
        sc->spare_rows = from->spare_rows;
        from->spare_rd = NULL;
        from->spare_rows = NULL;
    }
    if (!sc->src.tmp.ptr) {
        lks_buf t = sc->src.tmp;
        sc->src.tmp = from->src.tmp;
        from->src.tmp = t;
    }
}

void lks_delta_scan_free(lks_delta_scan *sc) {
    if (!sc)
        return;
    close_file(sc);
    free_spares(sc);
    lks_buf_free(&sc->src.tmp);
    lks_arena_free(&sc->farena);
    lks_pq_schema_free(sc->rs);
    free(sc->gfield);
    free(sc->selected);
    free(sc->is_part);
    free(sc->want);
    free(sc->preds);
    free(sc->pvals);
    free(sc->items);
    if (sc->bcols)
        for (int k = 0; k < sc->ncols; k++)
            free(sc->bcols[k]);
    free(sc->bcols);
    free(sc->brow);
    free(sc->bview);
    free(sc);
}

int lks_delta_scan_open(lks_delta_table *t, const lks_delta_snapshot *s, const lks_delta_scan_opts *o,
                        lks_delta_scan **out, lks_err *err) {
    *out = NULL;
    const lks_delta_type *root = s->metadata.schema;
    if (!root || root->kind != LKS_DT_STRUCT)
        return lks_err_set(err, LKS_EINVAL, "delta scan: the snapshot has no table schema");
    lks_delta_scan *sc = calloc(1, sizeof *sc);
    if (!sc)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    sc->t = t;
    sc->s = s;
    sc->root = root;
    sc->cm = cm_mode(s);
    sc->keep_deleted = o ? o->keep_deleted : 0;
    sc->file_filter = o ? o->file_filter : NULL;
    sc->file_filter_ud = o ? o->file_filter_ud : NULL;
    lks_arena_init(&sc->farena, 0);
    lks_buf_init(&sc->src.tmp, 0);
    int rc = lks_delta_schema_to_parquet(root, 0, &sc->rs, err);
    if (rc != LKS_OK) {
        lks_arena_free(&sc->farena);
        free(sc);
        return rc;
    }
    int n = sc->ncols = root->nchildren;
    if (sc->rs->fields[0].num_children != n) {
        lks_delta_scan_free(sc);
        return lks_err_set(err, LKS_EINTERNAL, "read schema has %d columns, the table %d",
                           sc->rs->fields[0].num_children, n);
    }
    size_t nn = (size_t)n + 1;
    sc->gfield = calloc(nn, sizeof(int));
    sc->selected = calloc(nn, 1);
    sc->is_part = calloc(nn, 1);
    sc->want = calloc(nn, 1);
    sc->pvals = calloc(nn, sizeof(lks_pq_value));
    sc->items = calloc(nn, sizeof(lks_pq_value));
    if (!sc->gfield || !sc->selected || !sc->is_part || !sc->want || !sc->pvals || !sc->items) {
        lks_delta_scan_free(sc);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    for (int k = 0, g = 1; k < n; k++) {
        sc->gfield[k] = g;
        g = lks_pq_schema_subtree_end(sc->rs, g);
    }
    if (o && o->columns) {
        for (int i = 0; i < o->ncolumns; i++) {
            int k = top_column(root, o->columns[i]);
            if (k < 0) {
                lks_delta_scan_free(sc);
                return lks_err_set(err, LKS_EINVAL, "delta scan: no column '%s' in the table", o->columns[i]);
            }
            sc->selected[k] = 1;
        }
    } else {
        memset(sc->selected, 1, (size_t)n);
    }
    for (int i = 0; i < s->metadata.npartition_columns; i++) {
        int k = top_column(root, s->metadata.partition_columns[i]);
        if (k < 0) {
            lks_delta_scan_free(sc);
            return lks_err_set(err, LKS_ECORRUPT, "partition column '%s' is not in the table schema",
                               s->metadata.partition_columns[i]);
        }
        sc->is_part[k] = 1;
    }
    for (int k = 0; k < n; k++) {
        sc->want[k] = sc->selected[k] && !sc->is_part[k] && root->children[k].kind != LKS_DT_VOID;
        sc->data_cols |= sc->want[k];
    }
    if (o && o->npreds > 0) {
        sc->preds = calloc((size_t)o->npreds, sizeof *sc->preds);
        if (!sc->preds) {
            lks_delta_scan_free(sc);
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        }
        for (int i = 0; i < o->npreds; i++) {
            const lks_delta_pred *p = &o->preds[i];
            int k = p->column ? top_column(root, p->column) : -1;
            if (k < 0 || p->op < LKS_DELTA_EQ || p->op > LKS_DELTA_NOT_NULL) {
                lks_delta_scan_free(sc);
                return lks_err_set(err, LKS_EINVAL, "delta scan: predicate on unknown column '%s' or bad operator",
                                   p->column ? p->column : "(null)");
            }
            sc->preds[i].col = k;
            sc->preds[i].op = p->op;
            sc->preds[i].value = p->value;
        }
        sc->npreds = o->npreds;
    }
    sc->row.kind = LKS_PQ_V_GROUP;
    sc->row.u.list.items = sc->items;
    sc->row.u.list.n = (size_t)n;
    *out = sc;
    return LKS_OK;
}

/* The partitionValues entry of column k (physical name under column
 * mapping, then logical); *found 0 when absent. */
static const char *partition_raw(const lks_delta_scan *sc, const lks_delta_add *a, int k, int *found) {
    const lks_delta_type *dt = &sc->root->children[k];
    const char *names[2] = {sc->cm != CM_NONE && dt->physical_name ? dt->physical_name : dt->name, dt->name};
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < a->npartition_values; i++)
            if (names[pass] && a->partition_values[i].key && strcmp(a->partition_values[i].key, names[pass]) == 0) {
                *found = 1;
                return a->partition_values[i].value;
            }
    *found = 0;
    return NULL;
}

static int is_decimal_col(const lks_delta_scan *sc, int k) { return sc->root->children[k].kind == LKS_DT_DECIMAL; }

/* 1 when the file can be skipped by its partition values or stats. */
static int skip_file(lks_delta_scan *sc, const lks_delta_add *a, lks_err *err) {
    if (sc->npreds == 0)
        return 0;
    json_t *st = NULL;
    int parsed = 0, skip = 0;
    for (int i = 0; i < sc->npreds && !skip; i++) {
        const spred *p = &sc->preds[i];
        int k = p->col;
        const lks_delta_type *dt = &sc->root->children[k];
        const lks_pq_field *rf = &sc->rs->fields[sc->gfield[k]];
        if (sc->is_part[k]) {
            int found;
            const char *raw = partition_raw(sc, a, k, &found);
            lks_pq_value v;
            lks_err e2;
            if (lks_delta_partition_value_parse(dt, rf, raw, &sc->farena, &v, &e2) != LKS_OK)
                continue; /* read it and let the scan report it */
            if (eval_exact(p->op, &v, &p->value, is_decimal_col(sc, k)) == 0)
                skip = 1;
            continue;
        }
        if (!a->stats)
            continue;
        if (!parsed) {
            parsed = 1;
            json_error_t je;
            st = json_loads(a->stats, JSON_DECODE_ANY, &je);
            if (st && !json_is_object(st)) {
                json_decref(st);
                st = NULL;
            }
        }
        if (!st)
            break;
        const char *key = sc->cm != CM_NONE && dt->physical_name ? dt->physical_name : dt->name;
        json_t *nr = json_object_get(st, "numRecords");
        json_t *nc = json_object_get(json_object_get(st, "nullCount"), key);
        json_t *mn = json_object_get(json_object_get(st, "minValues"), key);
        json_t *mx = json_object_get(json_object_get(st, "maxValues"), key);
        int64_t nulls = json_is_integer(nc) ? json_integer_value(nc) : -1;
        int64_t rows = json_is_integer(nr) ? json_integer_value(nr) : -1;
        if (p->op == LKS_DELTA_IS_NULL) {
            if (nulls == 0)
                skip = 1;
            continue;
        }
        if (p->op == LKS_DELTA_NOT_NULL) {
            if (nulls >= 0 && rows >= 0 && nulls == rows)
                skip = 1;
            continue;
        }
        if (p->value.kind == LKS_PQ_V_NULL) {
            skip = 1; /* a comparison with null is never true */
            continue;
        }
        if (nulls >= 0 && rows >= 0 && nulls == rows) {
            skip = 1; /* every row is null: no comparison is true */
            continue;
        }
        lks_pq_value lo, hi;
        int hlo = stat_value(dt, rf, mn, 0, &sc->farena, &lo);
        int hhi = stat_value(dt, rf, mx, 1, &sc->farena, &hi);
        if (bounds_exclude(p->op, &p->value, hlo ? &lo : NULL, hhi ? &hi : NULL, is_decimal_col(sc, k)))
            skip = 1;
    }
    json_decref(st);
    (void)err;
    return skip;
}

/* Row groups of the open file that the predicates exclude by Parquet stats. */
static void skip_row_groups(lks_delta_scan *sc) {
    frd *x = &sc->fr;
    const lks_pq_file_meta *fm = lks_pq_reader_meta(x->rd);
    for (int i = 0; i < sc->npreds; i++) {
        const spred *p = &sc->preds[i];
        int k = p->col;
        if (sc->is_part[k] || !sc->want[k])
            continue;
        int g = sc->gfield[k];
        const pnode *pn = &x->plan[g];
        int dk = sc->root->children[k].kind;
        if (pn->ff < 0 || x->fs->leaf[pn->ff] < 0 || pn->op != CV_COPY || x->fs->parent[pn->ff] != 0)
            continue;
        if (dk == LKS_DT_DECIMAL || dk == LKS_DT_BINARY || dk == LKS_DT_BOOLEAN)
            continue;
        if (dk == LKS_DT_STRING && x->fs->fields[pn->ff].type != LKS_PQ_BYTE_ARRAY)
            continue;
        int col = x->fs->leaf[pn->ff];
        for (int r = 0; r < fm->num_row_groups; r++) {
            if (x->rg_skip[r])
                continue;
            lks_pq_minmax mm;
            memset(&mm, 0, sizeof mm);
            if (lks_pq_chunk_stats(x->rd, r, col, &mm) < 0)
                continue;
            int64_t rows = fm->row_groups[r].num_rows;
            int skip = 0;
            if (p->op == LKS_DELTA_IS_NULL)
                skip = mm.null_count == 0;
            else if (p->op == LKS_DELTA_NOT_NULL)
                skip = mm.null_count >= 0 && mm.null_count == rows;
            else if (p->value.kind == LKS_PQ_V_NULL || (mm.null_count >= 0 && mm.null_count == rows))
                skip = 1;
            else if (mm.has_minmax)
                skip = bounds_exclude(p->op, &p->value, &mm.min, &mm.max, 0);
            if (skip)
                x->rg_skip[r] = 1;
        }
    }
}

static int open_file(lks_delta_scan *sc, const lks_delta_add *a, lks_err *err) {
    sc->add = a;
    sc->open = 1;
    /* partition values */
    for (int k = 0; k < sc->ncols; k++) {
        memset(&sc->pvals[k], 0, sizeof sc->pvals[k]);
        if (!sc->is_part[k] || !sc->selected[k])
            continue;
        int found;
        const char *raw = partition_raw(sc, a, k, &found);
        int rc = lks_delta_partition_value_parse(&sc->root->children[k], &sc->rs->fields[sc->gfield[k]], raw,
                                                 &sc->farena, &sc->pvals[k], err);
        if (rc != LKS_OK)
            return lks_err_prefix(err, "%s", a->path);
    }
    if (a->has_dv && !sc->keep_deleted) {
        int rc = lks_delta_dv_load(sc->t, &a->dv, &sc->dv, err);
        if (rc != LKS_OK)
            return lks_err_prefix(err, "data file %s", a->path);
    }
    int rc = lks_delta_obj_open(sc->t, a->path, 0, &sc->farena, &sc->src.o, err);
    if (rc != LKS_OK)
        return rc;
    lks_store_entry ent;
    rc = lks_store_head(sc->src.o.st, sc->src.o.key, &ent, err);
    if (rc != LKS_OK)
        return lks_err_prefix(err, "data file %s", a->path);
    sc->pqsrc.read = obj_read;
    sc->pqsrc.ud = &sc->src;
    sc->pqsrc.size = ent.size;
    sc->pqsrc.name = sc->src.o.name;
    lks_pq_reader_opts ro;
    lks_pq_reader_opts_default(&ro);
    rc = lks_pq_reader_open(&sc->pqsrc, &ro, &sc->rd, err);
    if (rc != LKS_OK)
        return lks_err_prefix(err, "data file %s", a->path);
    lks_pq_reader_take_buffers(sc->rd, sc->spare_rd);
    rc = frd_open(&sc->fr, sc->root, sc->rs, sc->cm, sc->rd, sc->want, a->path, err);
    if (rc != LKS_OK)
        return lks_err_prefix(err, "data file %s", a->path);
    skip_row_groups(sc);
    rc = frd_start(&sc->fr, err);
    if (rc != LKS_OK)
        return lks_err_prefix(err, "data file %s", a->path);
    lks_pq_rows_take_buffers(sc->fr.rows, sc->spare_rows);
    free_spares(sc);
    return LKS_OK;
}

/* Opens the next live file the filters and predicates keep: 1, or 0 when
 * there is none left. */
static int open_next_file(lks_delta_scan *sc, lks_err *err) {
    for (;;) {
        if (sc->next_file >= sc->s->nfiles)
            return 0;
        const lks_delta_add *a = &sc->s->files[sc->next_file++];
        if (sc->file_filter && !sc->file_filter(sc->file_filter_ud, a)) {
            sc->skipped++;
            continue;
        }
        int skip = skip_file(sc, a, err);
        lks_arena_reset(&sc->farena);
        if (skip) {
            sc->skipped++;
            continue;
        }
        sc->nread++;
        int rc = open_file(sc, a, err);
        if (rc != LKS_OK) {
            close_file(sc);
            return rc;
        }
        return 1;
    }
}

/* The next row of the open file into sc->items: 1, or 0 at its end (the
 * file is closed then). */
static int next_file_row(lks_delta_scan *sc, lks_err *err) {
    for (;;) {
        int64_t ri;
        int rc = frd_next(&sc->fr, sc->items, &ri, err);
        if (rc < 0) {
            lks_err_prefix(err, "data file %s", sc->add->path);
            close_file(sc);
            return rc;
        }
        if (rc == 0) {
            close_file(sc);
            return 0;
        }
        if (sc->dv && lks_delta_rowset_contains(sc->dv, (uint64_t)ri))
            continue;
        for (int k = 0; k < sc->ncols; k++)
            if (sc->is_part[k])
                sc->items[k] = sc->pvals[k];
        sc->row_index = ri;
        return 1;
    }
}

int lks_delta_scan_next(lks_delta_scan *sc, const lks_pq_value **row, lks_err *err) {
    for (;;) {
        if (!sc->open) {
            int rc = open_next_file(sc, err);
            if (rc <= 0)
                return rc;
        }
        int rc = next_file_row(sc, err);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            *row = &sc->row;
            return 1;
        }
    }
}

static int batch_alloc(lks_delta_scan *sc, lks_err *err) {
    size_t nn = (size_t)sc->ncols + 1;
    sc->bcols = calloc(nn, sizeof *sc->bcols);
    sc->bview = calloc(nn, sizeof *sc->bview);
    sc->brow = malloc(LKS_DELTA_BATCH_ROWS * sizeof *sc->brow);
    if (!sc->bcols || !sc->bview || !sc->brow)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    for (int k = 0; k < sc->ncols; k++) {
        if (!sc->selected[k])
            continue;
        sc->bcols[k] = malloc(LKS_DELTA_BATCH_ROWS * sizeof(lks_pq_value));
        if (!sc->bcols[k])
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    return LKS_OK;
}

int lks_delta_scan_next_batch(lks_delta_scan *sc, const lks_delta_batch **out, lks_err *err) {
    if (!sc->brow && batch_alloc(sc, err) != LKS_OK)
        return LKS_ENOMEM;
    lks_delta_batch *b = &sc->batch;
    for (;;) {
        if (!sc->open) {
            int rc = open_next_file(sc, err);
            if (rc <= 0)
                return rc;
        }
        if (!lks_pq_rows_is_flat(sc->fr.rows)) {
            /* nested columns: one row a batch, pointing at sc->items */
            int rc = next_file_row(sc, err);
            if (rc < 0)
                return rc;
            if (rc == 0)
                continue;
            for (int k = 0; k < sc->ncols; k++)
                sc->bview[k] = sc->selected[k] ? &sc->items[k] : NULL;
            sc->brow[0] = sc->row_index;
            b->n = 1;
        } else {
            size_t m = 0;
            int64_t ri0 = 0;
            int rc = frd_next_columns(&sc->fr, sc->bcols, sc->want, LKS_DELTA_BATCH_ROWS, &m, &ri0, err);
            if (rc < 0) {
                lks_err_prefix(err, "data file %s", sc->add->path);
                close_file(sc);
                return rc;
            }
            if (rc == 0) {
                close_file(sc);
                continue;
            }
            for (size_t i = 0; i < m; i++)
                sc->brow[i] = ri0 + (int64_t)i;
            if (sc->dv) {
                size_t j = 0;
                for (size_t i = 0; i < m; i++) {
                    if (lks_delta_rowset_contains(sc->dv, (uint64_t)sc->brow[i]))
                        continue;
                    if (j != i) {
                        for (int k = 0; k < sc->ncols; k++)
                            if (sc->want[k])
                                sc->bcols[k][j] = sc->bcols[k][i];
                        sc->brow[j] = sc->brow[i];
                    }
                    j++;
                }
                m = j;
                if (m == 0)
                    continue;
            }
            for (int k = 0; k < sc->ncols; k++) {
                if (!sc->selected[k] || sc->want[k])
                    continue;
                lks_pq_value *v = sc->bcols[k];
                if (sc->is_part[k])
                    for (size_t i = 0; i < m; i++)
                        v[i] = sc->pvals[k];
                else
                    memset(v, 0, m * sizeof *v); /* void */
            }
            for (int k = 0; k < sc->ncols; k++)
                sc->bview[k] = sc->bcols[k];
            sc->row_index = sc->brow[m - 1];
            b->n = m;
        }
        b->cols = sc->bview;
        b->row_index = sc->brow;
        b->file = sc->add;
        *out = b;
        return 1;
    }
}

/* ---- reading a Parquet file as table rows (tests, tools) ------------------------------------ */

int lks_delta_read_parquet_as(const lks_delta_type *root, const lks_pq_schema *rs, const lks_pq_source *src,
                              lks_delta_row_fn *fn, void *ud, lks_err *err) {
    lks_pq_reader *rd = NULL;
    lks_pq_reader_opts ro;
    lks_pq_reader_opts_default(&ro);
    int rc = lks_pq_reader_open(src, &ro, &rd, err);
    if (rc != LKS_OK)
        return rc;
    int n = root->nchildren;
    uint8_t *want = malloc((size_t)n + 1);
    lks_pq_value *items = calloc((size_t)n + 1, sizeof *items);
    frd x;
    memset(&x, 0, sizeof x);
    if (!want || !items) {
        rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
        goto done;
    }
    memset(want, 1, (size_t)n + 1);
    for (int k = 0; k < n; k++)
        want[k] = root->children[k].kind != LKS_DT_VOID;
    if ((rc = frd_open(&x, root, rs, CM_NONE, rd, want, src->name, err)) != LKS_OK)
        goto done;
    if ((rc = frd_start(&x, err)) != LKS_OK)
        goto done;
    lks_pq_value row;
    row.kind = LKS_PQ_V_GROUP;
    row.u.list.items = items;
    row.u.list.n = (size_t)n;
    for (;;) {
        int64_t ri;
        rc = frd_next(&x, items, &ri, err);
        if (rc <= 0)
            break;
        if ((rc = fn(ud, &row, err)) != LKS_OK)
            break;
    }
done:
    if (x.rs)
        frd_close(&x);
    free(want);
    free(items);
    lks_pq_reader_free(rd);
    return rc < 0 ? rc : LKS_OK;
}
