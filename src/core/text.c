/* text.c — shortest round-trip float text, JSON string quoting, base64 and
 * exact decimal formatting. */
#include "core/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- shortest float text ------------------------------------------------ */

/* Lays out a decimal significand `dig` (ndig digits, no trailing zeros, first
 * digit non-zero) times 10^exp (exp of the first digit), ECMAScript style:
 * positional for 1e-6 <= |v| < 1e21, else d.ddde+x / d.ddde-x. */
static int layout(char *out, int neg, const char *dig, int ndig, int exp) {
    int n = 0;
    if (neg)
        out[n++] = '-';
    if (exp >= 21 || exp < -6) {
        out[n++] = dig[0];
        if (ndig > 1) {
            out[n++] = '.';
            memcpy(out + n, dig + 1, (size_t)ndig - 1);
            n += ndig - 1;
        }
        n += sprintf(out + n, "e%c%d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        return n;
    }
    if (exp < 0) {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -exp - 1; i++)
            out[n++] = '0';
        memcpy(out + n, dig, (size_t)ndig);
        n += ndig;
    } else if (ndig <= exp + 1) {
        memcpy(out + n, dig, (size_t)ndig);
        n += ndig;
        for (int i = ndig; i < exp + 1; i++)
            out[n++] = '0';
    } else {
        memcpy(out + n, dig, (size_t)exp + 1);
        n += exp + 1;
        out[n++] = '.';
        memcpy(out + n, dig + exp + 1, (size_t)(ndig - exp - 1));
        n += ndig - exp - 1;
    }
    out[n] = 0;
    return n;
}

static int special(char *out, double v) {
    if (isnan(v))
        return sprintf(out, "NaN");
    if (isinf(v))
        return sprintf(out, v < 0 ? "-Infinity" : "Infinity");
    if (v == 0)
        return sprintf(out, signbit(v) ? "-0" : "0");
    return -1;
}

/* Splits "%.*e" output "-d.ddde-xx" into digits without trailing zeros and
 * the decimal exponent. */
static int split_e(const char *txt, char *dig, int *ndig, int *exp) {
    const char *p = txt;
    int neg = 0;
    if (*p == '-')
        neg = 1, p++;
    int n = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') /* skips the radix character, whatever the locale */
            dig[n++] = *p;
    while (n > 1 && dig[n - 1] == '0')
        n--;
    *ndig = n;
    *exp = *p == 'e' ? atoi(p + 1) : 0;
    return neg;
}

/* The fewest significant digits (1..max) whose correctly rounded "%.*e"
 * text reads back as v: binary search, since a text that round-trips with p
 * digits also does with p + 1.  `is_float` reads back with strtof. */
static void shortest_e(char *txt, size_t cap, double v, int max, int is_float) {
    char probe[40];
    snprintf(txt, cap, "%.*e", max - 1, v);
    int lo = 1, hi = max;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(probe, sizeof probe, "%.*e", mid - 1, v);
        int ok = is_float ? strtof(probe, NULL) == (float)v : strtod(probe, NULL) == v;
        if (ok) {
            hi = mid;
            snprintf(txt, cap, "%s", probe);
        } else {
            lo = mid + 1;
        }
    }
}

int lks_fmt_double(char *out, double v) {
    int n = special(out, v);
    if (n >= 0)
        return n;
    char txt[40], dig[24];
    shortest_e(txt, sizeof txt, v, 17, 0);
    int ndig, exp;
    int neg = split_e(txt, dig, &ndig, &exp);
    return layout(out, neg, dig, ndig, exp);
}

int lks_fmt_float(char *out, float v) {
    int n = special(out, v);
    if (n >= 0)
        return n;
    char txt[40], dig[24];
    shortest_e(txt, sizeof txt, v, 9, 1);
    int ndig, exp;
    int neg = split_e(txt, dig, &ndig, &exp);
    return layout(out, neg, dig, ndig, exp);
}

/* ---- JSON strings ------------------------------------------------------- */

int lks_utf8_seq(const uint8_t *s, size_t left) {
    uint8_t c = s[0];
    int need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return -1;
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= left)
            return -i;
        uint8_t b = s[i];
        if (b < lo || b > hi)
            return -i;
        lo = 0x80, hi = 0xBF;
    }
    return need + 1;
}

int lks_utf8_valid(const char *s, size_t n) {
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        int k = lks_utf8_seq(p, (size_t)(end - p));
        if (k < 0)
            return 0;
        p += k;
    }
    return 1;
}

static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                  "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                  "8081828384858687888990919293949596979899";

char *lks_put_u64(char *out, uint64_t u) {
    /* the digit count from the bit length (log10 2 ~ 1233/4096), one
     * comparison to settle it; then two digits at a time from the end (a
     * chain of stores the CPU overlaps better than eight digits through a
     * scratch word) */
    static const uint64_t pow10[20] = {0, /* u < 8 here: one digit */
                                       10u,
                                       100u,
                                       1000u,
                                       10000u,
                                       100000u,
                                       1000000u,
                                       10000000u,
                                       100000000u,
                                       1000000000u,
                                       10000000000u,
                                       100000000000u,
                                       1000000000000u,
                                       10000000000000u,
                                       100000000000000u,
                                       1000000000000000u,
                                       10000000000000000u,
                                       100000000000000000u,
                                       1000000000000000000u,
                                       10000000000000000000u};
    int t = ((64 - __builtin_clzll(u | 1)) * 1233) >> 12;
    char *end = out + t + (u >= pow10[t]), *p = end;
    while (u >= 100000000) { /* eight digits at a time in 32-bit arithmetic */
        uint32_t lo = (uint32_t)(u % 100000000), hi = lo / 10000, lo4 = lo % 10000;
        u /= 100000000;
        p -= 8;
        memcpy(p, digit_pairs + 2 * (hi / 100), 2);
        memcpy(p + 2, digit_pairs + 2 * (hi % 100), 2);
        memcpy(p + 4, digit_pairs + 2 * (lo4 / 100), 2);
        memcpy(p + 6, digit_pairs + 2 * (lo4 % 100), 2);
    }
    uint32_t v = (uint32_t)u;
    while (v >= 100) {
        uint32_t d = v % 100;
        v /= 100;
        p -= 2;
        memcpy(p, digit_pairs + 2 * d, 2);
    }
    if (v >= 10)
        memcpy(p - 2, digit_pairs + 2 * v, 2);
    else
        p[-1] = (char)('0' + v);
    return end;
}

char *lks_put_i64(char *out, int64_t v) {
    if (v < 0) {
        *out++ = '-';
        return lks_put_u64(out, (uint64_t)0 - (uint64_t)v);
    }
    return lks_put_u64(out, (uint64_t)v);
}

/* Bytes a JSON string holds as they are: printable ASCII but '"' and '\\'. */
static const uint8_t plain[256] = {
    [0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20..0x2f, '"' = 0x22 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,           /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,           /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,           /* 0x50, '\\' = 0x5c */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,           /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,           /* 0x70..0x7f */
};

int lks_json_quote(lks_buf *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    int rc = lks_buf_reserve(b, len + 2);
    if (rc)
        return rc;
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    /* The common case, a string of plain ASCII, is copied eight bytes at a
     * time as it is checked, straight into the room reserved above; the
     * first byte that needs more hands over to the loop below. */
    uint8_t *o = b->ptr + b->len;
    *o++ = '"';
#ifdef __SSE2__
    if (len >= 16) { /* sixteen at a time; the last sixteen overlap what was seen */
        const __m128i ctl = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
        for (;;) {
            const uint8_t *at = end - p >= 16 ? p : end - 16;
            __m128i x = _mm_loadu_si128((const __m128i *)at);
            /* a signed compare: below 0x20, or 0x80 and up */
            __m128i bad =
                _mm_or_si128(_mm_cmplt_epi8(x, ctl), _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)));
            if (_mm_movemask_epi8(bad))
                break;
            _mm_storeu_si128((__m128i *)(o - (p - at)), x);
            o += at + 16 - p, p = at + 16;
            if (p == end)
                break;
        }
    }
#endif
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
        /* per byte: below 0x20, zero after the xor (a quote or a
         * backslash), or the high bit set */
        if ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs) | x) & highs)
            break;
        memcpy(o, &x, 8);
        o += 8, p += 8;
    }
    if (p < end && end - p < 8 && len >= 8) { /* the last few: the last eight bytes, some seen already */
        size_t r = (size_t)(end - p);
        uint64_t x;
        memcpy(&x, end - 8, 8);
        uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
        if (!((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs) | x) & highs)) {
            memcpy(o + r - 8, &x, 8);
            o += r, p = end;
        }
    }
    while (p < end && plain[*p])
        *o++ = *p++;
    if (p == end) {
        *o++ = '"';
        b->len = (size_t)(o - b->ptr);
        return LKS_OK;
    }
    b->len = (size_t)(o - b->ptr);
    const uint8_t *run = p;
    while (p < end) {
        /* eight plain ASCII bytes at a time: none below 0x20, none '"',
         * '\\' or non-ASCII */
        while (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
            /* per byte: below 0x20, zero after the xor (a quote or a
             * backslash), or the high bit set */
            uint64_t special = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs) | x;
            if (special & highs)
                break;
            p += 8;
        }
        if (p >= end)
            break;
        uint8_t c = *p;
        if (plain[c]) {
            p++;
            continue;
        }
        int seq = c >= 0x80 ? lks_utf8_seq(p, (size_t)(end - p)) : 0;
        if (seq > 0) {
            p += seq;
            continue;
        }
        if (p > run && (rc = lks_buf_append(b, run, (size_t)(p - run))))
            return rc;
        char esc[8];
        size_t n = 2;
        esc[0] = '\\';
        if (seq < 0) {
            memcpy(esc, "\xEF\xBF\xBD", 3);
            n = 3;
            p += -seq;
        } else {
            switch (c) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            default:
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                n = 6;
            }
            p++;
        }
        if ((rc = lks_buf_append(b, esc, n)))
            return rc;
        run = p;
    }
    if (p > run && (rc = lks_buf_append(b, run, (size_t)(p - run))))
        return rc;
    return lks_buf_append_byte(b, '"');
}

/* ---- base64 --------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int lks_base64_encode(lks_buf *b, const void *data, size_t len) {
    if (len > (SIZE_MAX / 4) * 3 - 3)
        return LKS_ELIMIT;
    size_t out = (len + 2) / 3 * 4;
    int rc = lks_buf_reserve(b, out);
    if (rc)
        return rc;
    const uint8_t *p = data;
    char *o = (char *)b->ptr + b->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = b64[v >> 18];
        *o++ = b64[v >> 12 & 63];
        *o++ = b64[v >> 6 & 63];
        *o++ = b64[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        *o++ = b64[v >> 18];
        *o++ = b64[v >> 12 & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *o++ = b64[v >> 18];
        *o++ = b64[v >> 12 & 63];
        *o++ = b64[v >> 6 & 63];
        *o++ = '=';
    }
    b->len += out;
    return LKS_OK;
}

static int b64val(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict: length a multiple of 4, '=' only as the final one or two
 * characters, no whitespace, unused trailing bits zero. */
int lks_base64_decode(lks_buf *b, const char *s, size_t len) {
    if (len % 4)
        return LKS_ECORRUPT;
    int rc = lks_buf_reserve(b, len / 4 * 3);
    if (rc)
        return rc;
    uint8_t *o = b->ptr + b->len;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = s[i + (size_t)k];
            if (c == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad) /* data after '=' */
                return LKS_ECORRUPT;
            v[k] = b64val(c);
            if (v[k] < 0)
                return LKS_ECORRUPT;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        if ((pad == 1 && (w & 0xFF)) || (pad == 2 && (w & 0xFFFF)))
            return LKS_ECORRUPT; /* non-canonical trailing bits */
        o[n++] = (uint8_t)(w >> 16);
        if (pad < 2)
            o[n++] = (uint8_t)(w >> 8);
        if (pad < 1)
            o[n++] = (uint8_t)w;
    }
    b->len += n;
    return LKS_OK;
}

/* ---- exact decimals ------------------------------------------------------ */

#define SCALE_LIMIT 1000

/* Appends the magnitude digits `dig` (ndig, most significant first, "0" for
 * zero) with `scale` fraction digits.  A scale past SCALE_LIMIT is legal in
 * Parquet (a wide FIXED_LEN_BYTE_ARRAY or BYTE_ARRAY decimal) but would
 * print a value of up to 2^31 zeros: not printed. */
static int put_scaled(lks_buf *b, int neg, const char *dig, int ndig, int scale) {
    if (scale < -SCALE_LIMIT || scale > SCALE_LIMIT)
        return LKS_EUNSUPPORTED;
    size_t total = (size_t)ndig + (size_t)(scale > 0 ? scale : -scale) + 3;
    int rc = lks_buf_reserve(b, total);
    if (rc)
        return rc;
    char *o = (char *)b->ptr + b->len, *start = o;
    if (neg)
        *o++ = '-';
    if (scale <= 0) {
        memcpy(o, dig, (size_t)ndig);
        o += ndig;
        if (!(ndig == 1 && dig[0] == '0'))
            for (int i = 0; i < -scale; i++)
                *o++ = '0';
    } else if (ndig <= scale) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < scale - ndig; i++)
            *o++ = '0';
        memcpy(o, dig, (size_t)ndig);
        o += ndig;
    } else {
        memcpy(o, dig, (size_t)(ndig - scale));
        o += ndig - scale;
        *o++ = '.';
        memcpy(o, dig + ndig - scale, (size_t)scale);
        o += scale;
    }
    b->len += (size_t)(o - start);
    return LKS_OK;
}

static int u64_digits(char *dig, uint64_t mag) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    for (int i = 0; i < n; i++)
        dig[i] = tmp[n - 1 - i];
    return n;
}

int lks_fmt_decimal_i64(lks_buf *b, int64_t unscaled, int scale) {
    char dig[24];
    uint64_t mag = unscaled < 0 ? (uint64_t)0 - (uint64_t)unscaled : (uint64_t)unscaled;
    int n = u64_digits(dig, mag);
    return put_scaled(b, unscaled < 0, dig, n, scale);
}

int lks_fmt_decimal_be(lks_buf *b, const uint8_t *be, size_t len, int scale) {
    if (len < 1 || len > 32)
        return LKS_EINVAL;
    int neg = be[0] >> 7;
    /* Fast path: the value fits in an int64 (sign extension beyond 8 bytes). */
    size_t lead = 0;
    while (lead < len && be[lead] == (neg ? 0xFF : 0x00))
        lead++;
    if (len - lead < 8 || (len - lead == 8 && ((be[lead] >> 7) == neg))) {
        uint64_t u = neg ? UINT64_MAX : 0;
        for (size_t i = len > 8 ? len - 8 : 0; i < len; i++)
            u = u << 8 | be[i];
        return lks_fmt_decimal_i64(b, (int64_t)u, scale);
    }
    /* Magnitude as a big-endian byte array, then repeated division by 10. */
    uint8_t mag[32];
    memcpy(mag, be, len);
    if (neg) {
        unsigned carry = 1;
        for (size_t i = len; i-- > 0;) {
            unsigned v = (uint8_t)~mag[i] + carry;
            mag[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    char rev[80];
    int n = 0;
    size_t first = 0;
    while (first < len && mag[first] == 0)
        first++;
    while (first < len) {
        unsigned rem = 0;
        for (size_t i = first; i < len; i++) {
            unsigned cur = rem << 8 | mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
        }
        rev[n++] = (char)('0' + rem);
        while (first < len && mag[first] == 0)
            first++;
    }
    char dig[80];
    for (int i = 0; i < n; i++)
        dig[i] = rev[n - 1 - i];
    return put_scaled(b, neg, dig, n, scale);
}
