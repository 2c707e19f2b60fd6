/*
 * types.c — change-event types and values meeting Delta columns: the type
 * mapping of DESIGN.md §3, which existing columns an event column may fill,
 * conversion of event values to the read schema's canonical forms
 * (delta.h), and the order-preserving primary-key encoding (merge_int.h).
 */
#include "merge/merge_int.h"

#include "parquet/bloom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 i128;

/* ---- the mapping -------------------------------------------------------------------- */

void lks_merge__map_type(const lks_cdc_type *ct, int datetime_as_ntz, lks_delta_type *out) {
    out->precision = out->scale = 0;
    switch (ct->kind) {
    case LKS_CT_BOOL: out->kind = LKS_DT_BOOLEAN; break;
    case LKS_CT_INT8: out->kind = LKS_DT_BYTE; break;
    case LKS_CT_INT16: out->kind = LKS_DT_SHORT; break;
    case LKS_CT_INT32: out->kind = LKS_DT_INTEGER; break;
    case LKS_CT_INT64: out->kind = LKS_DT_LONG; break;
    case LKS_CT_UINT64:
        out->kind = LKS_DT_DECIMAL;
        out->precision = 20;
        break;
    case LKS_CT_FLOAT: out->kind = LKS_DT_FLOAT; break;
    case LKS_CT_DOUBLE: out->kind = LKS_DT_DOUBLE; break;
    case LKS_CT_DECIMAL:
        if (ct->precision >= 1 && ct->precision <= 38 && ct->scale >= 0 && ct->scale <= ct->precision) {
            out->kind = LKS_DT_DECIMAL;
            out->precision = ct->precision;
            out->scale = ct->scale;
        } else {
            out->kind = LKS_DT_STRING; /* exact digits */
        }
        break;
    case LKS_CT_BYTES: out->kind = LKS_DT_BINARY; break;
    case LKS_CT_DATE: out->kind = LKS_DT_DATE; break;
    case LKS_CT_TIME: out->kind = LKS_DT_LONG; break;
    case LKS_CT_DATETIME: out->kind = datetime_as_ntz ? LKS_DT_TIMESTAMP_NTZ : LKS_DT_TIMESTAMP; break;
    case LKS_CT_TIMESTAMP: out->kind = LKS_DT_TIMESTAMP; break;
    case LKS_CT_STRING:
    case LKS_CT_JSON:
    default: out->kind = LKS_DT_STRING; break;
    }
}

const char *lks_merge__type_name(const lks_delta_type *dt, char *buf, size_t cap) {
    static const char *names[] = {"?",       "string", "long",      "integer",       "short", "byte",
                                  "float",   "double", "decimal",   "boolean",       "binary", "date",
                                  "timestamp", "timestamp_ntz", "void", "struct", "array", "map"};
    if (dt->kind == LKS_DT_DECIMAL)
        snprintf(buf, cap, "decimal(%d,%d)", dt->precision, dt->scale);
    else
        snprintf(buf, cap, "%s", dt->kind >= 0 && dt->kind <= LKS_DT_MAP ? names[dt->kind] : "?");
    return buf;
}

const char *lks_merge__cdc_type_name(const lks_cdc_type *ct, char *buf, size_t cap) {
    static const char *names[] = {"?",      "BOOL",   "INT8",   "INT16", "INT32", "INT64",    "UINT64",   "FLOAT",
                                  "DOUBLE", "DECIMAL", "STRING", "BYTES", "DATE",  "TIME", "DATETIME", "TIMESTAMP",
                                  "JSON"};
    if (ct->kind == LKS_CT_DECIMAL)
        snprintf(buf, cap, "DECIMAL(%d,%d)", ct->precision, ct->scale);
    else
        snprintf(buf, cap, "%s", ct->kind >= 0 && ct->kind <= LKS_CT_JSON ? names[ct->kind] : "?");
    return buf;
}

/* Decimal digits an integer kind needs. */
static int int_digits(int kind) {
    switch (kind) {
    case LKS_CT_INT8: return 3;
    case LKS_CT_INT16: return 5;
    case LKS_CT_INT32: return 10;
    case LKS_CT_INT64: return 19;
    case LKS_CT_UINT64: return 20;
    default: return 99;
    }
}

static int int_rank_dt(int kind) {
    switch (kind) {
    case LKS_DT_BYTE: return 1;
    case LKS_DT_SHORT: return 2;
    case LKS_DT_INTEGER: return 3;
    case LKS_DT_LONG: return 4;
    default: return 0;
    }
}

static int int_rank_ct(int kind) {
    switch (kind) {
    case LKS_CT_INT8: return 1;
    case LKS_CT_INT16: return 2;
    case LKS_CT_INT32: return 3;
    case LKS_CT_INT64: return 4;
    default: return 0;
    }
}

int lks_merge__type_fits(const lks_cdc_type *ct, const lks_delta_type *dt) {
    switch (ct->kind) {
    case LKS_CT_BOOL: return dt->kind == LKS_DT_BOOLEAN;
    case LKS_CT_INT8:
    case LKS_CT_INT16:
    case LKS_CT_INT32:
    case LKS_CT_INT64:
    case LKS_CT_UINT64:
        if (int_rank_ct(ct->kind) && int_rank_dt(dt->kind)) return int_rank_dt(dt->kind) >= int_rank_ct(ct->kind);
        return dt->kind == LKS_DT_DECIMAL && dt->precision - dt->scale >= int_digits(ct->kind);
    case LKS_CT_FLOAT: return dt->kind == LKS_DT_FLOAT || dt->kind == LKS_DT_DOUBLE;
    case LKS_CT_DOUBLE: return dt->kind == LKS_DT_DOUBLE;
    case LKS_CT_DECIMAL:
        if (dt->kind == LKS_DT_STRING) return 1;
        if (ct->precision < 1 || ct->precision > 38 || dt->kind != LKS_DT_DECIMAL) return 0;
        return dt->scale >= ct->scale && dt->precision - dt->scale >= ct->precision - ct->scale;
    case LKS_CT_STRING:
    case LKS_CT_JSON: return dt->kind == LKS_DT_STRING;
    case LKS_CT_BYTES: return dt->kind == LKS_DT_BINARY;
    case LKS_CT_DATE: return dt->kind == LKS_DT_DATE;
    case LKS_CT_TIME: return dt->kind == LKS_DT_LONG;
    case LKS_CT_DATETIME: return dt->kind == LKS_DT_TIMESTAMP || dt->kind == LKS_DT_TIMESTAMP_NTZ;
    case LKS_CT_TIMESTAMP: return dt->kind == LKS_DT_TIMESTAMP;
    default: return 0;
    }
}

/* ---- canonical forms ----------------------------------------------------------------- */

/* Fewest bytes n with 2^(8n-1) > 10^p - 1 (delta.h's FIXED_LEN_BYTE_ARRAY width). */
static int decimal_bytes(int p) {
    i128 lim = 1;
    for (int i = 0; i < p && i < 38; i++) lim *= 10;
    int n = 1;
    while (n < 16 && ((i128)1 << (8 * n - 1)) < lim) n++;
    return n;
}

int lks_merge__pq_kind(const lks_delta_type *dt, int *width) {
    *width = 0;
    switch (dt->kind) {
    case LKS_DT_BOOLEAN: return LKS_PQ_V_BOOL;
    case LKS_DT_BYTE:
    case LKS_DT_SHORT:
    case LKS_DT_INTEGER:
    case LKS_DT_DATE: return LKS_PQ_V_INT32;
    case LKS_DT_LONG:
    case LKS_DT_TIMESTAMP:
    case LKS_DT_TIMESTAMP_NTZ: return LKS_PQ_V_INT64;
    case LKS_DT_FLOAT: return LKS_PQ_V_FLOAT;
    case LKS_DT_DOUBLE: return LKS_PQ_V_DOUBLE;
    case LKS_DT_STRING:
    case LKS_DT_BINARY: return LKS_PQ_V_BYTES;
    case LKS_DT_DECIMAL:
        if (dt->precision <= 9) return LKS_PQ_V_INT32;
        if (dt->precision <= 18) return LKS_PQ_V_INT64;
        *width = decimal_bytes(dt->precision);
        return LKS_PQ_V_BYTES;
    default: return -1;
    }
}

/* ---- values ------------------------------------------------------------------------- */

static i128 pow10i(int n) {
    i128 r = 1;
    for (int i = 0; i < n; i++) r *= 10;
    return r;
}

/* Big-endian two's complement (1..32 bytes) → i128; 0 when it does not fit. */
static int be_to_i128(const uint8_t *p, size_t n, i128 *out) {
    if (n == 0 || n > 32) return 0;
    while (n > 16 && ((p[0] == 0x00 && !(p[1] & 0x80)) || (p[0] == 0xFF && (p[1] & 0x80)))) p++, n--;
    if (n > 16) return 0;
    unsigned __int128 u = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
    for (size_t i = 0; i < n; i++) u = u << 8 | p[i];
    *out = (i128)u;
    return 1;
}

/* An unscaled decimal at `scale` into dt's canonical form. */
static int put_decimal(i128 v, int scale, const lks_delta_type *dt, lks_arena *a, lks_pq_value *out) {
    if (scale < dt->scale) {
        int d = dt->scale - scale;
        if (d > 38) return LKS_EINVAL;
        i128 m = pow10i(d), lim = pow10i(38);
        if (v > lim / m || v < -lim / m) return LKS_EINVAL;
        v *= m;
    } else if (scale > dt->scale) {
        int d = scale - dt->scale;
        if (d > 38) return v == 0 ? LKS_OK : LKS_EINVAL;
        i128 m = pow10i(d);
        if (v % m != 0) return LKS_EINVAL; /* would lose digits */
        v /= m;
    }
    i128 lim = pow10i(dt->precision > 38 ? 38 : dt->precision);
    if (v >= lim || v <= -lim) return LKS_EINVAL;
    int width;
    int k = lks_merge__pq_kind(dt, &width);
    if (k == LKS_PQ_V_INT32) {
        out->kind = k, out->u.i32 = (int32_t)v;
        return LKS_OK;
    }
    if (k == LKS_PQ_V_INT64) {
        out->kind = k, out->u.i64 = (int64_t)v;
        return LKS_OK;
    }
    uint8_t *p = lks_arena_alloc(a, (size_t)width);
    if (!p) return LKS_ENOMEM;
    unsigned __int128 u = (unsigned __int128)v;
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (uint8_t)u;
        u >>= 8;
    }
    out->kind = LKS_PQ_V_BYTES, out->u.bytes.ptr = p, out->u.bytes.len = (size_t)width;
    return LKS_OK;
}

int lks_merge__conv_value(const lks_cdc_value *v, const lks_delta_type *dt, lks_arena *a, lks_pq_value *out) {
    memset(out, 0, sizeof *out);
    if (v->kind == LKS_CV_NULL) return LKS_OK;
    if (v->kind == LKS_CV_ABSENT) return LKS_EINVAL;
    switch (dt->kind) {
    case LKS_DT_BOOLEAN:
        if (v->kind == LKS_CV_BOOL) out->u.b = v->u.b != 0;
        else if (v->kind == LKS_CV_INT && (v->u.i64 == 0 || v->u.i64 == 1)) out->u.b = (int)v->u.i64;
        else return LKS_EINVAL;
        out->kind = LKS_PQ_V_BOOL;
        return LKS_OK;
    case LKS_DT_BYTE:
    case LKS_DT_SHORT:
    case LKS_DT_INTEGER:
    case LKS_DT_DATE: {
        int64_t lo = dt->kind == LKS_DT_BYTE ? INT8_MIN : dt->kind == LKS_DT_SHORT ? INT16_MIN : INT32_MIN;
        int64_t hi = dt->kind == LKS_DT_BYTE ? INT8_MAX : dt->kind == LKS_DT_SHORT ? INT16_MAX : INT32_MAX;
        int64_t x;
        if (v->kind == LKS_CV_INT) x = v->u.i64;
        else if (v->kind == LKS_CV_UINT && v->u.u64 <= (uint64_t)hi) x = (int64_t)v->u.u64;
        else return LKS_EINVAL;
        if (x < lo || x > hi) return LKS_EINVAL;
        out->kind = LKS_PQ_V_INT32, out->u.i32 = (int32_t)x;
        return LKS_OK;
    }
    case LKS_DT_LONG:
    case LKS_DT_TIMESTAMP:
    case LKS_DT_TIMESTAMP_NTZ:
        if (v->kind == LKS_CV_INT) out->u.i64 = v->u.i64;
        else if (v->kind == LKS_CV_UINT && v->u.u64 <= (uint64_t)INT64_MAX) out->u.i64 = (int64_t)v->u.u64;
        else return LKS_EINVAL;
        out->kind = LKS_PQ_V_INT64;
        return LKS_OK;
    case LKS_DT_FLOAT:
        if (v->kind == LKS_CV_DOUBLE) out->u.f32 = (float)v->u.f64;
        else if (v->kind == LKS_CV_INT) out->u.f32 = (float)v->u.i64;
        else return LKS_EINVAL;
        out->kind = LKS_PQ_V_FLOAT;
        return LKS_OK;
    case LKS_DT_DOUBLE:
        if (v->kind == LKS_CV_DOUBLE) out->u.f64 = v->u.f64;
        else if (v->kind == LKS_CV_INT) out->u.f64 = (double)v->u.i64;
        else return LKS_EINVAL;
        out->kind = LKS_PQ_V_DOUBLE;
        return LKS_OK;
    case LKS_DT_DECIMAL: {
        i128 x;
        int scale = 0;
        if (v->kind == LKS_CV_INT) x = v->u.i64;
        else if (v->kind == LKS_CV_UINT) x = (i128)v->u.u64;
        else if (v->kind == LKS_CV_DECIMAL) {
            if (!be_to_i128(v->u.dec.be, v->u.dec.len, &x)) return LKS_EINVAL;
            scale = v->u.dec.scale;
        } else
            return LKS_EINVAL;
        return put_decimal(x, scale, dt, a, out);
    }
    case LKS_DT_STRING:
        if (v->kind == LKS_CV_BYTES) {
            out->kind = LKS_PQ_V_BYTES, out->u.bytes = v->u.bytes;
            return LKS_OK;
        }
        if (v->kind == LKS_CV_DECIMAL || v->kind == LKS_CV_INT || v->kind == LKS_CV_UINT) {
            lks_buf b;
            lks_buf_init(&b, 4096);
            int rc;
            if (v->kind == LKS_CV_DECIMAL) {
                if (v->u.dec.len < 1 || v->u.dec.len > 32) return LKS_EINVAL;
                rc = lks_fmt_decimal_be(&b, v->u.dec.be, v->u.dec.len, v->u.dec.scale);
            } else if (v->kind == LKS_CV_INT) {
                rc = lks_buf_printf(&b, "%lld", (long long)v->u.i64);
            } else {
                rc = lks_buf_printf(&b, "%llu", (unsigned long long)v->u.u64);
            }
            char *s = rc == LKS_OK ? lks_arena_memdup(a, b.ptr ? (const void *)b.ptr : "", b.len + 1) : NULL;
            size_t n = b.len;
            lks_buf_free(&b);
            if (!s) return rc != LKS_OK ? rc : LKS_ENOMEM;
            out->kind = LKS_PQ_V_BYTES, out->u.bytes.ptr = (const uint8_t *)s, out->u.bytes.len = n;
            return LKS_OK;
        }
        return LKS_EINVAL;
    case LKS_DT_BINARY:
        if (v->kind != LKS_CV_BYTES) return LKS_EINVAL;
        out->kind = LKS_PQ_V_BYTES, out->u.bytes = v->u.bytes;
        return LKS_OK;
    default: return LKS_EINVAL;
    }
}

/* ---- key encoding -------------------------------------------------------------------- */

static void be32(uint8_t *p, uint32_t x) {
    p[0] = (uint8_t)(x >> 24), p[1] = (uint8_t)(x >> 16), p[2] = (uint8_t)(x >> 8), p[3] = (uint8_t)x;
}
static void be64(uint8_t *p, uint64_t x) {
    be32(p, (uint32_t)(x >> 32));
    be32(p + 4, (uint32_t)x);
}
static uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get_be64(const uint8_t *p) { return (uint64_t)get_be32(p) << 32 | get_be32(p + 4); }

int lks_merge__key_put(lks_buf *b, const lks_delta_type *dt, const lks_pq_value *v) {
    int width;
    int k = lks_merge__pq_kind(dt, &width);
    if (k < 0 || v->kind != k) return LKS_EINVAL;
    uint8_t t[16];
    switch (k) {
    case LKS_PQ_V_BOOL:
        t[0] = v->u.b ? 1 : 0;
        return lks_buf_append(b, t, 1);
    case LKS_PQ_V_INT32:
        be32(t, (uint32_t)v->u.i32 ^ 0x80000000u);
        return lks_buf_append(b, t, 4);
    case LKS_PQ_V_INT64:
        be64(t, (uint64_t)v->u.i64 ^ 0x8000000000000000ull);
        return lks_buf_append(b, t, 8);
    case LKS_PQ_V_FLOAT: {
        float f = v->u.f32 == 0 ? 0.0f : v->u.f32; /* -0 == 0 */
        uint32_t x;
        memcpy(&x, &f, 4);
        x = (x & 0x80000000u) ? ~x : x | 0x80000000u;
        be32(t, x);
        return lks_buf_append(b, t, 4);
    }
    case LKS_PQ_V_DOUBLE: {
        double d = v->u.f64 == 0 ? 0.0 : v->u.f64;
        uint64_t x;
        memcpy(&x, &d, 8);
        x = (x & 0x8000000000000000ull) ? ~x : x | 0x8000000000000000ull;
        be64(t, x);
        return lks_buf_append(b, t, 8);
    }
    case LKS_PQ_V_BYTES: {
        const uint8_t *p = v->u.bytes.ptr;
        size_t n = v->u.bytes.len;
        if (width) { /* wide decimal: fixed width, sign bit flipped */
            if (n < 1 || (int)n > width) return LKS_EINVAL;
            uint8_t w[32];
            memset(w, (p[0] & 0x80) ? 0xFF : 0x00, (size_t)width - n);
            memcpy(w + width - n, p, n);
            w[0] ^= 0x80;
            return lks_buf_append(b, w, (size_t)width);
        }
        int rc = lks_buf_reserve(b, n + 2);
        for (size_t i = 0; i < n && !rc; i++) {
            if (p[i] == 0) rc = lks_buf_append(b, "\x00\xff", 2);
            else rc = lks_buf_append_byte(b, p[i]);
        }
        if (!rc) rc = lks_buf_append(b, "\x00\x01", 2);
        return rc;
    }
    default: return LKS_EINVAL;
    }
}

size_t lks_merge__key_seg_len(const lks_delta_type *dt, const uint8_t *p, size_t n) {
    int width;
    int k = lks_merge__pq_kind(dt, &width);
    size_t need;
    switch (k) {
    case LKS_PQ_V_BOOL: need = 1; break;
    case LKS_PQ_V_INT32:
    case LKS_PQ_V_FLOAT: need = 4; break;
    case LKS_PQ_V_INT64:
    case LKS_PQ_V_DOUBLE: need = 8; break;
    case LKS_PQ_V_BYTES:
        if (width) {
            need = (size_t)width;
            break;
        }
        for (size_t i = 0; i + 1 < n; i++)
            if (p[i] == 0) {
                if (p[i + 1] == 1) return i + 2;
                i++; /* 00 FF */
            }
        return 0;
    default: return 0;
    }
    return need <= n ? need : 0;
}

uint64_t lks_merge__key_seg_bloom_hash(const lks_delta_type *dt, const uint8_t *p, size_t n, lks_buf *tmp) {
    int width;
    int k = lks_merge__pq_kind(dt, &width);
    uint8_t t[32];
    switch (k) {
    case LKS_PQ_V_BOOL: return lks_pq_bloom_hash(p, 1);
    case LKS_PQ_V_INT32:
    case LKS_PQ_V_FLOAT: {
        uint32_t x = get_be32(p);
        if (k == LKS_PQ_V_INT32) x ^= 0x80000000u;
        else x = (x & 0x80000000u) ? x & 0x7fffffffu : ~x;
        lks_store_le32(t, x);
        return lks_pq_bloom_hash(t, 4);
    }
    case LKS_PQ_V_INT64:
    case LKS_PQ_V_DOUBLE: {
        uint64_t x = get_be64(p);
        if (k == LKS_PQ_V_INT64) x ^= 0x8000000000000000ull;
        else x = (x & 0x8000000000000000ull) ? x & 0x7fffffffffffffffull : ~x;
        lks_store_le64(t, x);
        return lks_pq_bloom_hash(t, 8);
    }
    case LKS_PQ_V_BYTES:
        if (width) {
            memcpy(t, p, (size_t)width);
            t[0] ^= 0x80;
            return lks_pq_bloom_hash(t, (size_t)width);
        }
        lks_buf_reset(tmp);
        for (size_t i = 0; i + 1 < n; i++) {
            if (p[i] == 0) {
                if (p[i + 1] == 1) break;
                i++;
                lks_buf_append_byte(tmp, 0);
            } else {
                lks_buf_append_byte(tmp, p[i]);
            }
        }
        return lks_pq_bloom_hash(tmp->ptr ? tmp->ptr : (const uint8_t *)"", tmp->len);
    default: return 0;
    }
}

static int keyref_cmp(const void *x, const void *y) {
    const lks_merge_keyref *a = x, *b = y;
    return lks_bytes_cmp(a->k, a->n, b->k, b->n);
}

/* Sorting keys: an LSD radix sort of their first 8 bytes, big-endian and
 * zero-padded so that prefixes order as the keys do, skipping digits every
 * key shares; then each run of equal prefixes by whole keys.  Without
 * memory for it (or for few keys), qsort. */
typedef struct pfxref {
    uint64_t p;
    uint64_t i;
} pfxref;

void lks_merge__sort_keys(lks_merge_keyref *keys, size_t n) {
    pfxref *a = n >= 256 ? malloc(n * sizeof *a) : NULL, *b = a ? malloc(n * sizeof *b) : NULL;
    if (!b) {
        free(a);
        qsort(keys, n, sizeof *keys, keyref_cmp);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t t[8] = {0};
        if (keys[i].n) memcpy(t, keys[i].k, keys[i].n < 8 ? keys[i].n : 8);
        a[i].p = lks_load_be64(t);
        a[i].i = i;
    }
    for (int sh = 0; sh < 64; sh += 8) {
        size_t cnt[256] = {0};
        for (size_t i = 0; i < n; i++) cnt[a[i].p >> sh & 255]++;
        if (cnt[a[0].p >> sh & 255] == n) continue; /* one digit for all */
        size_t sum = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) b[cnt[a[i].p >> sh & 255]++] = a[i];
        pfxref *t = a;
        a = b, b = t;
    }
    _Static_assert(sizeof(lks_merge_keyref) <= sizeof(pfxref), "keyrefs fit the spare buffer");
    lks_merge_keyref *out = (lks_merge_keyref *)(void *)b;
    for (size_t i = 0; i < n; i++) out[i] = keys[a[i].i];
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && a[j].p == a[i].p) j++;
        if (j - i > 16) {
            qsort(out + i, j - i, sizeof *out, keyref_cmp);
        } else {
            for (size_t k = i + 1; k < j; k++) { /* insertion sort of a short run */
                lks_merge_keyref v = out[k];
                size_t m = k;
                for (; m > i && keyref_cmp(&out[m - 1], &v) > 0; m--) out[m] = out[m - 1];
                out[m] = v;
            }
        }
        i = j;
    }
    memcpy(keys, out, n * sizeof *keys);
    free(a);
    free(b);
}
