/*
 * mysql_json.c — MySQL's binary JSON as compact JSON text, and JSON diffs of
 * PARTIAL_UPDATE_ROWS applied to a document's text (mysql_json.h).
 *
 * The binary format is the one MySQL's sql-common/json_binary.h describes:
 * a type byte, then for objects and arrays an element count and a byte size
 * (2 bytes each in the small form, 4 in the large), key entries (offset,
 * u16 length), value entries (type + inlined value or offset; offsets are
 * relative to the container's first count byte), then keys and values.
 *
 * Implementation notes:
 *  - Doubles print as MySQL's JSON printer does (my_gcvt, then ".0" when the
 *    text has neither '.' nor 'e'): the shortest digits that read back to
 *    the same double, positional when the decimal exponent of the first
 *    digit lies in -15..14 (or the value has a fraction part), otherwise
 *    "d.ddde<exp>" with no '+' sign: 1.0 → "1.0", 0.1 → "0.1", -0.0 →
 *    "-0.0", 1e15 → "1e15", 1e20 → "1e20", 1e-16 → "1e-16".  NaN and
 *    infinities cannot be JSON and are LKS_ECORRUPT.
 *  - Bounded work: in a valid document every value owns its bytes, so the
 *    text is at most a few times longer than the binary (the worst case is a
 *    control character: 1 byte becomes "\u0001").  A hostile document can
 *    point many entries at one shared value; text beyond 8 bytes per input
 *    byte is therefore refused as corrupt, which bounds time and memory.
 *  - Strings and keys must be valid UTF-8 (MySQL stores utf8mb4); anything
 *    else is corrupt rather than silently replaced.
 *  - Diffs: the before text is parsed with jansson.  jansson holds integers
 *    as int64, so a uint64 above INT64_MAX is rewritten to a string token
 *    before parsing and the resulting string value is remembered (by
 *    pointer) as a raw number for printing.  Paths follow MySQL's
 *    Json_path::to_string; operations follow MySQL's own apply_json_diff
 *    (no auto-wrapping; INSERT of an existing member is rejected; a new
 *    member goes where MySQL's key order — shorter keys first, then bytes —
 *    puts it, so the result prints like the full after image would).
 */
#include "source/mysql_json.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 100
#define TEXT_PER_BYTE 8 /* see "Bounded work" */

enum {
    T_SMALL_OBJ = 0x00,
    T_LARGE_OBJ = 0x01,
    T_SMALL_ARR = 0x02,
    T_LARGE_ARR = 0x03,
    T_LITERAL = 0x04,
    T_INT16 = 0x05,
    T_UINT16 = 0x06,
    T_INT32 = 0x07,
    T_UINT32 = 0x08,
    T_INT64 = 0x09,
    T_UINT64 = 0x0a,
    T_DOUBLE = 0x0b,
    T_STRING = 0x0c,
    T_OPAQUE = 0x0f
};

/* MySQL field types (enum_field_types) that opaque values carry. */
enum { FT_TIMESTAMP = 7, FT_DATE = 10, FT_TIME = 11, FT_DATETIME = 12, FT_NEWDATE = 14, FT_NEWDECIMAL = 246 };

/* ---- small helpers ------------------------------------------------------------- */

static uint32_t rd_le(const uint8_t *q, int w) { return w == 2 ? (uint32_t)(q[0] | q[1] << 8) : lks_load_le32(q); }

/* Valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF)? */
static int utf8_ok(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int need;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return 0;
        if (n - i <= (size_t)need)
            return 0;
        for (int k = 1; k <= need; k++) {
            uint8_t b = s[i + (size_t)k];
            if (b < lo || b > hi)
                return 0;
            lo = 0x80, hi = 0xBF;
        }
        i += (size_t)need + 1;
    }
    return 1;
}

/* MySQL's variable-length size: 7 bits per byte, low group first, high bit
 * set on every byte but the last; at most 5 bytes, value within 32 bits.
 * Returns the bytes used, 0 when malformed or truncated. */
static size_t read_varlen(const uint8_t *p, size_t n, uint32_t *out) {
    uint64_t v = 0;
    for (size_t i = 0; i < 5 && i < n; i++) {
        v |= (uint64_t)(p[i] & 0x7F) << (7 * i);
        if (!(p[i] & 0x80)) {
            if (v > UINT32_MAX)
                return 0;
            *out = (uint32_t)v;
            return i + 1;
        }
    }
    return 0;
}

/* Writes a finite double the way MySQL's JSON printer
 * does (see the implementation note).  out holds 40 bytes. */
static int fmt_json_double(char *out, double v) {
    if (v == 0)
        return sprintf(out, signbit(v) ? "-0.0" : "0.0");
    /* Shortest round-trip text, then its digits and decimal point position. */
    char t[40];
    lks_fmt_double(t, v);
    const char *s = t;
    int neg = 0;
    if (*s == '-')
        neg = 1, s++;
    char dig[40];
    int nd = 0, point = -1, exp = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s == '.')
            point = nd;
        else
            dig[nd++] = *s;
    }
    if (*s == 'e')
        exp = atoi(s + 1);
    if (point < 0)
        point = nd;
    int lead = 0; /* leading zeros ("0.001") */
    while (lead < nd - 1 && dig[lead] == '0')
        lead++;
    int len = nd - lead;
    const char *d = dig + lead;
    while (len > 1 && d[len - 1] == '0')
        len--;
    int decpt = point - lead + exp; /* value = 0.d × 10^decpt */

    int n = 0;
    if (neg)
        out[n++] = '-';
    if (decpt >= -14 && (decpt <= 15 || len > decpt)) {
        if (decpt <= 0) {
            out[n++] = '0';
            out[n++] = '.';
            for (int i = 0; i < -decpt; i++)
                out[n++] = '0';
            memcpy(out + n, d, (size_t)len);
            n += len;
        } else if (decpt < len) {
            memcpy(out + n, d, (size_t)decpt);
            n += decpt;
            out[n++] = '.';
            memcpy(out + n, d + decpt, (size_t)(len - decpt));
            n += len - decpt;
        } else {
            memcpy(out + n, d, (size_t)len);
            n += len;
            for (int i = len; i < decpt; i++)
                out[n++] = '0';
            out[n++] = '.';
            out[n++] = '0';
        }
        out[n] = 0;
        return n;
    }
    out[n++] = d[0];
    if (len > 1) {
        out[n++] = '.';
        memcpy(out + n, d + 1, (size_t)len - 1);
        n += len - 1;
    }
    return n + sprintf(out + n, "e%d", decpt - 1);
}

/* ---- binary JSON → text ------------------------------------------------------- */

typedef struct jctx {
    const uint8_t *base; /* start of the whole value, for error offsets */
    lks_buf *out;
    size_t limit; /* out->len may not pass this (see "Bounded work") */
    lks_err *err;
} jctx;

static int bad(jctx *c, const uint8_t *at, const char *fmt, ...) LKS_PRINTF(3, 4);
static int bad(jctx *c, const uint8_t *at, const char *fmt, ...) {
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return lks_err_set(c->err, LKS_ECORRUPT, "MySQL JSON: byte %zu: %s", (size_t)(at - c->base), what);
}

static int put(jctx *c, const char *s, size_t n) {
    int rc = lks_buf_append(c->out, s, n);
    return rc ? lks_err_set(c->err, rc, "MySQL JSON: output buffer: %s", lks_strerror(rc)) : LKS_OK;
}

static int put_quoted(jctx *c, const uint8_t *s, size_t n) {
    int rc = lks_json_quote(c->out, (const char *)s, n);
    return rc ? lks_err_set(c->err, rc, "MySQL JSON: output buffer: %s", lks_strerror(rc)) : LKS_OK;
}

/* The packed temporal values of MySQL (my_time.h "packed" longlong forms):
 * datetime = ((((year*13+month)<<5 | day)<<17 | hour<<12 | min<<6 | sec)<<24)
 * + microseconds, negated for negative TIME; a TIME packs hour<<12 |
 * min<<6 | sec above the 24 microsecond bits; a DATE is a datetime at
 * midnight. */
static int put_temporal(jctx *c, int ft, const uint8_t *p, size_t n) {
    if (n != 8)
        return bad(c, p, "opaque temporal value of type %d is %zu bytes, not 8", ft, n);
    int64_t v = (int64_t)lks_load_le64(p);
    int neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t frac = u & 0xFFFFFF, hi = u >> 24;
    char txt[64];
    int len;
    if (frac >= 1000000)
        return bad(c, p, "opaque temporal value: fraction %" PRIu64 " out of range", frac);
    if (ft == FT_TIME) {
        uint64_t hour = hi >> 12, min = hi >> 6 & 63, sec = hi & 63;
        if (min > 59 || sec > 59)
            return bad(c, p, "opaque TIME value: minute %" PRIu64 " / second %" PRIu64 " out of range", min, sec);
        len = snprintf(txt, sizeof txt, "%s%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%06" PRIu64, neg ? "-" : "", hour,
                       min, sec, frac);
    } else {
        uint64_t ymd = hi >> 17, hms = hi & 0x1FFFF;
        uint64_t ym = ymd >> 5, day = ymd & 31, year = ym / 13, month = ym % 13;
        uint64_t hour = hms >> 12, min = hms >> 6 & 63, sec = hms & 63;
        if (neg || year > 9999 || hour > 23 || min > 59 || sec > 59)
            return bad(c, p, "opaque %s value out of range", ft == FT_TIMESTAMP ? "TIMESTAMP" : "DATE/DATETIME");
        if (ft == FT_DATE || ft == FT_NEWDATE) {
            if (hms || frac)
                return bad(c, p, "opaque DATE value has a time part");
            len = snprintf(txt, sizeof txt, "%04" PRIu64 "-%02" PRIu64 "-%02" PRIu64, year, month, day);
        } else {
            len = snprintf(txt, sizeof txt,
                           "%04" PRIu64 "-%02" PRIu64 "-%02" PRIu64 " %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64
                           ".%06" PRIu64,
                           year, month, day, hour, min, sec, frac);
        }
    }
    return put_quoted(c, (const uint8_t *)txt, (size_t)len);
}

/* MySQL's binary DECIMAL (decimal2bin): groups of 9 digits in 4 big-endian
 * bytes, a leading/trailing partial group in fewer bytes, the sign bit of
 * the first byte flipped, and every byte inverted for negative values.
 * The opaque data is (precision, scale, binary decimal). */
static int put_decimal(jctx *c, const uint8_t *p, size_t n) {
    static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    static const uint32_t pow10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
    if (n < 2)
        return bad(c, p, "opaque DECIMAL: %zu bytes, no precision and scale", n);
    int prec = p[0], scale = p[1];
    if (prec < 1 || prec > 65 || scale > 30 || scale > prec)
        return bad(c, p, "opaque DECIMAL: precision %d / scale %d out of range", prec, scale);
    int intg = prec - scale;
    int intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
    size_t size = (size_t)(intg0 * 4 + dig2bytes[intg0x] + frac0 * 4 + dig2bytes[frac0x]);
    if (n - 2 != size)
        return bad(c, p, "opaque DECIMAL(%d,%d): %zu data bytes, expected %zu", prec, scale, n - 2, size);
    uint8_t b[40];
    memcpy(b, p + 2, size);
    int neg = !(b[0] & 0x80);
    b[0] ^= 0x80;
    if (neg)
        for (size_t i = 0; i < size; i++)
            b[i] = (uint8_t)~b[i];
    /* Digits in order: the leading partial group, full groups, the trailing
     * partial group; each group checked against its digit count. */
    char dig[80];
    int nd = 0;
    size_t at = 0;
    int groups[4][2] = {{intg0x, 1}, {9, intg0}, {9, frac0}, {frac0x, 1}};
    for (int g = 0; g < 4; g++) {
        int digits = groups[g][0];
        for (int k = 0; k < groups[g][1] && digits > 0; k++) {
            int nb = dig2bytes[digits];
            uint32_t v = 0;
            for (int i = 0; i < nb; i++)
                v = v << 8 | b[at++];
            if (v >= pow10[digits])
                return bad(c, p, "opaque DECIMAL(%d,%d): digit group %" PRIu32 " has more than %d digits", prec, scale,
                           v, digits);
            for (int i = digits - 1; i >= 0; i--, v /= 10)
                dig[nd + i] = (char)('0' + v % 10);
            nd += digits;
        }
    }
    /* dig = intg integer digits then scale fraction digits. */
    char txt[96];
    int len = 0, first = 0;
    while (first < intg && dig[first] == '0')
        first++;
    int zero = 1;
    for (int i = first; i < nd; i++)
        if (dig[i] != '0')
            zero = 0;
    if (neg && !zero)
        txt[len++] = '-';
    if (first == intg)
        txt[len++] = '0';
    for (int i = first; i < intg; i++)
        txt[len++] = dig[i];
    if (scale) {
        txt[len++] = '.';
        for (int i = intg; i < nd; i++)
            txt[len++] = dig[i];
    }
    return put_quoted(c, (const uint8_t *)txt, (size_t)len);
}

static int put_opaque(jctx *c, const uint8_t *p, size_t n) {
    if (n < 1)
        return bad(c, p, "truncated opaque value");
    int ft = p[0];
    uint32_t len;
    size_t used = read_varlen(p + 1, n - 1, &len);
    if (!used)
        return bad(c, p + 1, "bad or truncated opaque length");
    if (len > n - 1 - used)
        return bad(c, p + 1, "opaque value of %" PRIu32 " bytes exceeds the %zu available", len, n - 1 - used);
    const uint8_t *d = p + 1 + used;
    switch (ft) {
    case FT_DATE:
    case FT_NEWDATE:
    case FT_TIME:
    case FT_DATETIME:
    case FT_TIMESTAMP: return put_temporal(c, ft, d, len);
    case FT_NEWDECIMAL: return put_decimal(c, d, len);
    default: break;
    }
    char pre[32];
    int pn = snprintf(pre, sizeof pre, "\"base64:type%d:", ft);
    int rc = put(c, pre, (size_t)pn);
    if (!rc && (rc = lks_base64_encode(c->out, d, len)))
        rc = lks_err_set(c->err, rc, "MySQL JSON: output buffer: %s", lks_strerror(rc));
    return rc ? rc : put(c, "\"", 1);
}

static int put_value(jctx *c, int type, const uint8_t *p, size_t n, int depth);

/* A scalar whose bytes start at p (n available): inlined values pass the
 * entry's offset field here. */
static int put_scalar(jctx *c, int type, const uint8_t *p, size_t n) {
    static const size_t width[] = {[T_LITERAL] = 1, [T_INT16] = 2, [T_UINT16] = 2, [T_INT32] = 4,
                                   [T_UINT32] = 4,  [T_INT64] = 8, [T_UINT64] = 8, [T_DOUBLE] = 8};
    char txt[48];
    int len = 0;
    if (type >= T_LITERAL && type <= T_DOUBLE && n < width[type])
        return bad(c, p, "truncated value of type 0x%02x (%zu of %zu bytes)", type, n, width[type]);
    switch (type) {
    case T_LITERAL:
        if (p[0] > 2)
            return bad(c, p, "bad literal 0x%02x", p[0]);
        len = sprintf(txt, "%s", p[0] == 0 ? "null" : p[0] == 1 ? "true" : "false");
        break;
    case T_INT16: len = sprintf(txt, "%d", (int16_t)(p[0] | p[1] << 8)); break;
    case T_UINT16: len = sprintf(txt, "%u", (unsigned)(p[0] | p[1] << 8)); break;
    case T_INT32: len = sprintf(txt, "%" PRId32, (int32_t)lks_load_le32(p)); break;
    case T_UINT32: len = sprintf(txt, "%" PRIu32, lks_load_le32(p)); break;
    case T_INT64: len = sprintf(txt, "%" PRId64, (int64_t)lks_load_le64(p)); break;
    case T_UINT64: len = sprintf(txt, "%" PRIu64, lks_load_le64(p)); break;
    case T_DOUBLE: {
        double d;
        uint64_t bits = lks_load_le64(p);
        memcpy(&d, &bits, 8);
        if (!isfinite(d))
            return bad(c, p, "double is NaN or infinite");
        len = fmt_json_double(txt, d);
        break;
    }
    case T_STRING: {
        uint32_t slen;
        size_t used = read_varlen(p, n, &slen);
        if (!used)
            return bad(c, p, "bad or truncated string length");
        if (slen > n - used)
            return bad(c, p, "string of %" PRIu32 " bytes exceeds the %zu available", slen, n - used);
        if (!utf8_ok(p + used, slen))
            return bad(c, p + used, "string is not valid UTF-8");
        return put_quoted(c, p + used, slen);
    }
    case T_OPAQUE: return put_opaque(c, p, n);
    default: return bad(c, p, "unknown value type 0x%02x", type);
    }
    return put(c, txt, (size_t)len);
}

/* An object or array whose count field is at p, n bytes available. */
static int put_container(jctx *c, int is_obj, int large, const uint8_t *p, size_t n, int depth) {
    if (depth >= MAX_DEPTH)
        return bad(c, p, "nested deeper than %d levels", MAX_DEPTH);
    int w = large ? 4 : 2;
    if (n < (size_t)(2 * w))
        return bad(c, p, "truncated %s header", is_obj ? "object" : "array");
    uint32_t count = rd_le(p, w), size = rd_le(p + w, w);
    if (size > n)
        return bad(c, p, "%s size %" PRIu32 " exceeds the %zu bytes available", is_obj ? "object" : "array", size, n);
    size_t kes = is_obj ? (size_t)w + 2 : 0, ves = 1 + (size_t)w;
    uint64_t hdr = 2 * (uint64_t)w + (uint64_t)count * (kes + ves);
    if (hdr > size)
        return bad(c, p, "%" PRIu32 " entries do not fit in a %s of %" PRIu32 " bytes", count,
                   is_obj ? "object" : "array", size);
    int rc = put(c, is_obj ? "{" : "[", 1);
    for (uint32_t i = 0; !rc && i < count; i++) {
        if (i && (rc = put(c, ",", 1)))
            break;
        if (is_obj) {
            const uint8_t *ke = p + 2 * w + (size_t)i * kes;
            uint32_t koff = rd_le(ke, w), klen = (uint32_t)(ke[w] | ke[w + 1] << 8);
            if (koff < hdr || koff > size || klen > size - koff)
                return bad(c, ke, "key %" PRIu32 " (offset %" PRIu32 ", %" PRIu32 " bytes) outside its object", i, koff,
                           klen);
            if (!utf8_ok(p + koff, klen))
                return bad(c, p + koff, "key is not valid UTF-8");
            if ((rc = put_quoted(c, p + koff, klen)) || (rc = put(c, ":", 1)))
                break;
        }
        const uint8_t *ve = p + 2 * w + (size_t)count * kes + (size_t)i * ves;
        int type = ve[0];
        if (type == T_LITERAL || type == T_INT16 || type == T_UINT16 ||
            (large && (type == T_INT32 || type == T_UINT32))) {
            rc = put_scalar(c, type, ve + 1, (size_t)w);
        } else {
            uint32_t off = rd_le(ve + 1, w);
            if (off < hdr || off >= size)
                return bad(c, ve, "value %" PRIu32 " offset %" PRIu32 " outside its %s", i, off,
                           is_obj ? "object" : "array");
            rc = put_value(c, type, p + off, size - off, depth + 1);
        }
        if (!rc && c->out->len > c->limit)
            return bad(c, p, "text grows past %d bytes per input byte (values overlap)", TEXT_PER_BYTE);
    }
    return rc ? rc : put(c, is_obj ? "}" : "]", 1);
}

/* A value of `type` whose data starts at p (n bytes available); depth is
 * the number of containers around it. */
static int put_value(jctx *c, int type, const uint8_t *p, size_t n, int depth) {
    switch (type) {
    case T_SMALL_OBJ: return put_container(c, 1, 0, p, n, depth);
    case T_LARGE_OBJ: return put_container(c, 1, 1, p, n, depth);
    case T_SMALL_ARR: return put_container(c, 0, 0, p, n, depth);
    case T_LARGE_ARR: return put_container(c, 0, 1, p, n, depth);
    default: return put_scalar(c, type, p, n);
    }
}

int lks_mysql_json_text(const uint8_t *p, size_t n, lks_buf *out, lks_err *err) {
    size_t start = out->len;
    if (n == 0) {
        int rc = lks_buf_append(out, "null", 4);
        return rc ? lks_err_set(err, rc, "MySQL JSON: output buffer: %s", lks_strerror(rc)) : LKS_OK;
    }
    jctx c = {.base = p, .out = out, .err = err};
    c.limit = n > (SIZE_MAX - start - 64) / TEXT_PER_BYTE ? SIZE_MAX : start + 64 + n * TEXT_PER_BYTE;
    int rc = put_value(&c, p[0], p + 1, n - 1, 0);
    if (rc && out->len > start) /* no half value on failure */
        out->len = start;
    return rc;
}

/* ---- diffs ------------------------------------------------------------------------ */

enum { OP_REPLACE = 0, OP_INSERT = 1, OP_REMOVE = 2 };

typedef struct dctx {
    /* String values that stand for a uint64 beyond int64, each holding a
     * reference: a value a diff removes keeps its address, so no later
     * value can be allocated there and be mistaken for it. */
    json_t **raw;
    size_t nraw, capraw;
    lks_err *err;
} dctx;

static int add_raw(dctx *d, json_t *s) {
    if (d->nraw == d->capraw) {
        size_t cap = d->capraw ? d->capraw * 2 : 8;
        json_t **r = realloc(d->raw, cap * sizeof *r);
        if (!r)
            return lks_err_set(d->err, LKS_ENOMEM, "JSON diff: out of memory");
        d->raw = r, d->capraw = cap;
    }
    d->raw[d->nraw++] = json_incref(s);
    return LKS_OK;
}

/* Marks the string values whose document-order string ordinals (keys
 * included) are listed in ord[0..nord), ascending. */
static int mark_raw(dctx *d, json_t *j, size_t *ordinal, const size_t *ord, size_t nord, size_t *next) {
    switch (json_typeof(j)) {
    case JSON_STRING:
        if (*next < nord && ord[*next] == *ordinal) {
            (*next)++;
            int rc = add_raw(d, j);
            if (rc)
                return rc;
        }
        (*ordinal)++;
        return LKS_OK;
    case JSON_ARRAY:
        for (size_t i = 0; i < json_array_size(j); i++) {
            int rc = mark_raw(d, json_array_get(j, i), ordinal, ord, nord, next);
            if (rc)
                return rc;
        }
        return LKS_OK;
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *v;
        json_object_keylen_foreach(j, key, klen, v) {
            (void)klen;
            (*ordinal)++; /* the key */
            int rc = mark_raw(d, v, ordinal, ord, nord, next);
            if (rc)
                return rc;
        }
        return LKS_OK;
    }
    default: return LKS_OK;
    }
}

/* Is s[0..n) a JSON integer token (no leading zeros) above INT64_MAX that
 * fits in a uint64? */
static int is_big_uint(const char *s, size_t n) {
    if (n < 19 || n > 20 || s[0] == '0')
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        unsigned dgt = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return 0;
        v = v * 10 + dgt;
    }
    return v > (uint64_t)INT64_MAX;
}

/* Parses JSON text into a new jansson value (*out, caller decrefs).  The
 * nesting limit is MySQL's; see the implementation note for big uint64s. */
static int parse_text(dctx *d, const char *txt, size_t len, const char *what, json_t **out) {
    /* Pre-pass: strings skipped, depth counted, big integers found. */
    size_t *ord = NULL, nord = 0, cap = 0, ordinal = 0;
    lks_buf re;
    lks_buf_init(&re, LKS_BUF_MAX_DEFAULT);
    size_t copied = 0;
    int depth = 0, rc = LKS_OK;
    for (size_t i = 0; i < len && !rc;) {
        char ch = txt[i];
        if (ch == '"') {
            for (i++; i < len && txt[i] != '"'; i++)
                if (txt[i] == '\\')
                    i++;
            i++;
            ordinal++;
        } else if (ch == '[' || ch == '{') {
            if (++depth > MAX_DEPTH)
                rc = lks_err_set(d->err, LKS_ECORRUPT, "JSON diff: %s: nested deeper than %d levels at byte %zu", what,
                                 MAX_DEPTH, i);
            i++;
        } else if (ch == ']' || ch == '}') {
            depth--;
            i++;
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            size_t s = i;
            while (i < len && (txt[i] == '-' || txt[i] == '+' || txt[i] == '.' || txt[i] == 'e' || txt[i] == 'E' ||
                               (txt[i] >= '0' && txt[i] <= '9')))
                i++;
            if (!is_big_uint(txt + s, i - s))
                continue;
            if (nord == cap) {
                cap = cap ? cap * 2 : 8;
                size_t *o = realloc(ord, cap * sizeof *o);
                if (!o) {
                    rc = lks_err_set(d->err, LKS_ENOMEM, "JSON diff: out of memory");
                    break;
                }
                ord = o;
            }
            ord[nord++] = ordinal++;
            if ((rc = lks_buf_append(&re, txt + copied, s - copied)) || (rc = lks_buf_append_byte(&re, '"')) ||
                (rc = lks_buf_append(&re, txt + s, i - s)) || (rc = lks_buf_append_byte(&re, '"')))
                rc = lks_err_set(d->err, rc, "JSON diff: %s: %s", what, lks_strerror(rc));
            copied = i;
        } else {
            i++;
        }
    }
    if (!rc && nord && lks_buf_append(&re, txt + copied, len - copied))
        rc = lks_err_set(d->err, LKS_ENOMEM, "JSON diff: out of memory");
    json_t *j = NULL;
    if (!rc) {
        const char *src = nord ? (const char *)re.ptr : txt;
        size_t srclen = nord ? re.len : len;
        json_error_t jerr;
        j = json_loadb(src, srclen, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
            rc = lks_err_set(d->err,
                             json_error_code(&jerr) == json_error_null_byte_in_key ? LKS_EUNSUPPORTED : LKS_ECORRUPT,
                             "JSON diff: %s is not valid JSON: %s at byte %d", what, jerr.text, jerr.position);
    }
    if (!rc && nord) {
        size_t o = 0, next = 0;
        rc = mark_raw(d, j, &o, ord, nord, &next);
        if (!rc && next != nord) /* e.g. {18446744073709551615:1} parsed as a key */
            rc = lks_err_set(d->err, LKS_ECORRUPT, "JSON diff: %s is not valid JSON: a number where a key belongs",
                             what);
    }
    free(ord);
    lks_buf_free(&re);
    if (rc) {
        json_decref(j);
        return rc;
    }
    *out = j;
    return LKS_OK;
}

static int ptr_cmp(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (json_t *const *)a, y = (uintptr_t) * (json_t *const *)b;
    return x < y ? -1 : x > y;
}

static int is_raw(const dctx *d, const json_t *j) {
    return d->nraw && bsearch(&j, d->raw, d->nraw, sizeof *d->raw, ptr_cmp) != NULL;
}

/* Prints a jansson value with the binary printer's conventions. */
static int print_j(const dctx *d, const json_t *j, lks_buf *b) {
    char txt[48];
    int len, rc;
    switch (json_typeof(j)) {
    case JSON_NULL: return lks_buf_append(b, "null", 4);
    case JSON_TRUE: return lks_buf_append(b, "true", 4);
    case JSON_FALSE: return lks_buf_append(b, "false", 5);
    case JSON_INTEGER: len = sprintf(txt, "%" PRId64, (int64_t)json_integer_value(j)); break;
    case JSON_REAL: len = fmt_json_double(txt, json_real_value(j)); break;
    case JSON_STRING:
        if (is_raw(d, j))
            return lks_buf_append(b, json_string_value(j), json_string_length(j));
        return lks_json_quote(b, json_string_value(j), json_string_length(j));
    case JSON_ARRAY:
        rc = lks_buf_append_byte(b, '[');
        for (size_t i = 0; !rc && i < json_array_size(j); i++) {
            if (i)
                rc = lks_buf_append_byte(b, ',');
            if (!rc)
                rc = print_j(d, json_array_get(j, i), b);
        }
        return rc ? rc : lks_buf_append_byte(b, ']');
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *v;
        int first = 1;
        rc = lks_buf_append_byte(b, '{');
        json_object_keylen_foreach((json_t *)j, key, klen, v) {
            if (rc)
                break;
            if (!first)
                rc = lks_buf_append_byte(b, ',');
            first = 0;
            if (!rc)
                rc = lks_json_quote(b, key, klen);
            if (!rc)
                rc = lks_buf_append_byte(b, ':');
            if (!rc)
                rc = print_j(d, v, b);
        }
        return rc ? rc : lks_buf_append_byte(b, '}');
    }
    default: return LKS_EINTERNAL;
    }
    return lks_buf_append(b, txt, (size_t)len);
}

/* One leg of a path. */
typedef struct leg {
    int member;      /* 1: .key, 0: [index] */
    const char *key; /* member name (into the path text or a decoded copy) */
    size_t klen;
    int from_end;   /* [last-back] */
    uint64_t index; /* [index], or back for [last-back] */
} leg;

static int fail(const char **why, const char *what, int code) {
    *why = what;
    return code;
}

/* Parses "$" followed by .key, ."quoted key", [n], [last], [last-n] into
 * legs (room for n).  Decoded quoted keys are jansson strings kept alive in
 * the array `keep`.  On failure returns LKS_ECORRUPT or LKS_EUNSUPPORTED
 * and sets *why. */
static int parse_path(const char *s, size_t n, leg *legs, size_t *nlegs, json_t *keep, const char **why) {
    size_t i = 1, k = 0;
    if (n == 0 || s[0] != '$')
        return fail(why, "path does not start with '$'", LKS_ECORRUPT);
    while (i < n) {
        leg *l = &legs[k++];
        memset(l, 0, sizeof *l);
        if (s[i] == '.') {
            l->member = 1;
            i++;
            if (i < n && s[i] == '"') {
                size_t q = i++;
                for (; i < n && s[i] != '"'; i++)
                    if (s[i] == '\\')
                        i++;
                if (i >= n)
                    return fail(why, "unterminated quoted key", LKS_ECORRUPT);
                i++;
                json_error_t jerr;
                json_t *ks = json_loadb(s + q, i - q, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
                if (!ks || !json_is_string(ks)) {
                    json_decref(ks);
                    return fail(why, "bad quoted key", LKS_ECORRUPT);
                }
                if (json_array_append_new(keep, ks))
                    return fail(why, "out of memory", LKS_ENOMEM);
                l->key = json_string_value(ks);
                l->klen = json_string_length(ks);
            } else {
                size_t st = i;
                while (i < n && s[i] != '.' && s[i] != '[')
                    i++;
                if (i == st)
                    return fail(why, "empty member name", LKS_ECORRUPT);
                if (s[st] == '*')
                    return fail(why, "wildcard", LKS_EUNSUPPORTED);
                if (!utf8_ok((const uint8_t *)s + st, i - st))
                    return fail(why, "member name is not valid UTF-8", LKS_ECORRUPT);
                l->key = s + st;
                l->klen = i - st;
            }
        } else if (s[i] == '[') {
            i++;
            if (n - i >= 4 && memcmp(s + i, "last", 4) == 0) {
                l->from_end = 1;
                i += 4;
                if (i < n && s[i] == '-')
                    i++;
                else if (i < n && s[i] == ']') {
                    i++;
                    continue;
                } else
                    return fail(why, "bad array index", LKS_ECORRUPT);
            }
            size_t st = i;
            uint64_t v = 0;
            for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
                if (v > (UINT64_MAX - 9) / 10)
                    return fail(why, "array index overflows", LKS_ECORRUPT);
                v = v * 10 + (uint64_t)(s[i] - '0');
            }
            if (i == st || i >= n || s[i] != ']') {
                if (i < n && (s[i] == '*' || s[i] == ' '))
                    return fail(why, "wildcard or range", LKS_EUNSUPPORTED);
                return fail(why, "bad array index", LKS_ECORRUPT);
            }
            i++;
            l->index = v;
        } else {
            return fail(why, "unexpected character", LKS_ECORRUPT);
        }
    }
    *nlegs = k;
    return LKS_OK;
}

/* The position a leg names in an array of `size` elements; may be >= size
 * (INSERT appends there), SIZE_MAX when it lies before the start. */
static size_t leg_pos(const leg *l, size_t size) {
    if (!l->from_end)
        return l->index > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)l->index;
    return l->index >= size ? SIZE_MAX : size - 1 - (size_t)l->index;
}

/* The element a leg names in a container, or NULL. */
static json_t *leg_get(json_t *cur, const leg *l) {
    if (l->member)
        return json_is_object(cur) ? json_object_getn(cur, l->key, l->klen) : NULL;
    if (!json_is_array(cur))
        return NULL;
    size_t pos = leg_pos(l, json_array_size(cur));
    return pos < json_array_size(cur) ? json_array_get(cur, pos) : NULL;
}

/* MySQL's key order: shorter keys first, then bytewise. */
static int key_cmp(const char *a, size_t an, const char *b, size_t bn) {
    if (an != bn)
        return an < bn ? -1 : 1;
    return memcmp(a, b, an);
}

/* Adds key → val (reference stolen) to obj at MySQL's key-order position:
 * before the first member whose key sorts after it. */
static int object_insert_ordered(json_t *obj, const char *key, size_t klen, json_t *val) {
    json_t *tmp = json_object();
    if (!tmp) {
        json_decref(val);
        return LKS_ENOMEM;
    }
    const char *k;
    size_t kl;
    json_t *v;
    int placed = 0, rc = 0;
    json_object_keylen_foreach(obj, k, kl, v) {
        if (!placed && key_cmp(key, klen, k, kl) < 0) {
            rc |= json_object_setn_new_nocheck(tmp, key, klen, val);
            placed = 1;
        }
        rc |= json_object_setn_nocheck(tmp, k, kl, v);
    }
    if (!placed)
        rc |= json_object_setn_new_nocheck(tmp, key, klen, val);
    /* Refill obj in the new order (values are held by tmp meanwhile). */
    if (!rc) {
        json_object_clear(obj);
        json_object_keylen_foreach(tmp, k, kl, v) rc |= json_object_setn_nocheck(obj, k, kl, v);
    }
    json_decref(tmp);
    return rc ? LKS_ENOMEM : LKS_OK;
}

/* Levels of containers in j (0 for a scalar). */
static size_t depth_of(const json_t *j) {
    size_t m = 0;
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++) {
            size_t x = depth_of(json_array_get(j, i));
            m = x > m ? x : m;
        }
        return m + 1;
    }
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            size_t x = depth_of(v);
            m = x > m ? x : m;
        }
        return m + 1;
    }
    return 0;
}

/* Applies one operation; val's reference is stolen (NULL for REMOVE).  The
 * document never nests deeper than MySQL allows: each leg enters one
 * container, so a value put under nlegs legs adds its own depth to them. */
static int apply_one(dctx *d, json_t *root, int op, const leg *legs, size_t nlegs, json_t *val, int di, size_t at,
                     const char *path, size_t plen) {
    static const char *names[] = {"REPLACE", "INSERT", "REMOVE"};
    json_t *parent = root;
    if (nlegs == 0) {
        json_decref(val);
        return lks_err_set(d->err, LKS_ECORRUPT, "JSON diff %d at byte %zu: %s of the whole document '$'", di, at,
                           names[op]);
    }
    if (val && nlegs + depth_of(val) > MAX_DEPTH) {
        json_decref(val);
        return lks_err_set(d->err, LKS_ECORRUPT,
                           "JSON diff %d at byte %zu: the result would nest deeper than %d levels", di, at, MAX_DEPTH);
    }
    for (size_t i = 0; i + 1 < nlegs && parent; i++)
        parent = leg_get(parent, &legs[i]);
    const leg *last = &legs[nlegs - 1];
    int rc = -1;
    if (parent && last->member && json_is_object(parent)) {
        int exists = json_object_getn(parent, last->key, last->klen) != NULL;
        if (op == OP_REPLACE && exists)
            rc = json_object_setn_new_nocheck(parent, last->key, last->klen, val) ? LKS_ENOMEM : LKS_OK;
        else if (op == OP_INSERT && !exists)
            rc = object_insert_ordered(parent, last->key, last->klen, val);
        else if (op == OP_REMOVE && exists)
            rc = json_object_deln(parent, last->key, last->klen) ? LKS_EINTERNAL : LKS_OK;
    } else if (parent && !last->member && json_is_array(parent)) {
        size_t size = json_array_size(parent), pos = leg_pos(last, size);
        if (op == OP_REPLACE && pos < size)
            rc = json_array_set_new(parent, pos, val) ? LKS_ENOMEM : LKS_OK;
        else if (op == OP_INSERT && pos != SIZE_MAX)
            rc = (pos >= size ? json_array_append_new(parent, val) : json_array_insert_new(parent, pos, val))
                     ? LKS_ENOMEM
                     : LKS_OK;
        else if (op == OP_REMOVE && pos < size)
            rc = json_array_remove(parent, pos) ? LKS_EINTERNAL : LKS_OK;
    }
    if (rc < 0) {
        json_decref(val);
        return lks_err_set(d->err, LKS_ECORRUPT,
                           "JSON diff %d at byte %zu: %s at path '%.*s' does not apply to the document", di, at,
                           names[op], (int)(plen > 200 ? 200 : plen), path);
    }
    if (rc)
        return lks_err_set(d->err, rc, "JSON diff %d: %s", di, lks_strerror(rc));
    return LKS_OK;
}

/* MySQL's length-encoded integer (net_field_length). */
static int read_lenenc(lks_cur *c, uint64_t *v) {
    uint8_t b = lks_cur_u8(c);
    if (c->failed || b == 251 || b == 255)
        return -1;
    if (b < 251)
        *v = b;
    else if (b == 252)
        *v = lks_cur_le16(c);
    else if (b == 253) {
        const uint8_t *q = lks_cur_take(c, 3);
        *v = q ? (uint64_t)q[0] | (uint64_t)q[1] << 8 | (uint64_t)q[2] << 16 : 0;
    } else
        *v = lks_cur_le64(c);
    return c->failed ? -1 : 0;
}

int lks_mysql_json_apply_diff(const char *before, size_t before_len, const uint8_t *p, size_t n, lks_buf *out,
                              lks_err *err) {
    dctx d = {.err = err};
    json_t *root = NULL, *keep = json_array();
    leg *legs = NULL;
    lks_buf vtext;
    lks_buf_init(&vtext, LKS_BUF_MAX_DEFAULT);
    size_t start = out->len;
    int rc = keep ? parse_text(&d, before, before_len, "before image", &root)
                  : lks_err_set(err, LKS_ENOMEM, "JSON diff: out of memory");
    lks_cur c;
    lks_cur_init(&c, p, n, 0);
    for (int di = 0; !rc && lks_cur_left(&c); di++) {
        size_t at = (size_t)lks_cur_offset(&c);
        int op = lks_cur_u8(&c);
        uint64_t plen = 0, vlen = 0;
        if (op > OP_REMOVE) {
            rc = lks_err_set(err, LKS_ECORRUPT, "JSON diff %d at byte %zu: unknown operation %d", di, at, op);
            break;
        }
        const char *path = NULL;
        if (read_lenenc(&c, &plen) || plen > lks_cur_left(&c) ||
            !(path = (const char *)lks_cur_take(&c, (size_t)plen))) {
            rc = lks_err_set(err, LKS_ECORRUPT, "JSON diff %d at byte %zu: truncated path", di, at);
            break;
        }
        json_t *val = NULL;
        if (op != OP_REMOVE) {
            const uint8_t *v = NULL;
            if (read_lenenc(&c, &vlen) || vlen > lks_cur_left(&c) || !(v = lks_cur_take(&c, (size_t)vlen)) ||
                vlen == 0) {
                rc = lks_err_set(err, LKS_ECORRUPT, "JSON diff %d at byte %zu: truncated or empty value", di, at);
                break;
            }
            lks_buf_reset(&vtext);
            if ((rc = lks_mysql_json_text(v, (size_t)vlen, &vtext, err))) {
                lks_err_prefix(err, "JSON diff %d at byte %zu: value", di, at);
                break;
            }
            if ((rc = parse_text(&d, (const char *)vtext.ptr, vtext.len, "value", &val)))
                break;
        }
        free(legs);
        legs = plen ? malloc((size_t)plen * sizeof *legs) : NULL;
        size_t nlegs = 0;
        if (plen && !legs) {
            json_decref(val);
            rc = lks_err_set(err, LKS_ENOMEM, "JSON diff: out of memory");
            break;
        }
        const char *why = NULL;
        if ((rc = parse_path(path, (size_t)plen, legs, &nlegs, keep, &why))) {
            json_decref(val);
            rc = lks_err_set(err, rc, "JSON diff %d at byte %zu: path '%.*s': %s", di, at,
                             (int)(plen > 200 ? 200 : plen), path, why);
            break;
        }
        rc = apply_one(&d, root, op, legs, nlegs, val, di, at, path, (size_t)plen);
    }
    if (!rc) {
        if (d.nraw)
            qsort(d.raw, d.nraw, sizeof *d.raw, ptr_cmp);
        if ((rc = print_j(&d, root, out))) {
            lks_err_set(err, rc, "JSON diff: output buffer: %s", lks_strerror(rc));
            if (out->len > start)
                out->len = start;
        }
    }
    free(legs);
    for (size_t i = 0; i < d.nraw; i++)
        json_decref(d.raw[i]);
    free(d.raw);
    lks_buf_free(&vtext);
    json_decref(root);
    json_decref(keep);
    return rc;
}
