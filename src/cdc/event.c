/*
 * event.c — the change-event model's helpers (schema lookup) and the pieces
 * the Debezium reader and writer share: connector-setting names, exact
 * decimal text <-> two's complement conversion, base64/hex decoding into
 * caller memory (no allocation).
 */
#include "cdc/json_tok.h"

#include <string.h>

int lks_cdc_schema_find(const lks_cdc_schema *s, const char *name) {
    if (!s || !name)
        return -1;
    for (int i = 0; i < s->nfields; i++)
        if (s->fields[i].name && strcmp(s->fields[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- connector settings ------------------------------------------------------ */

static int mode_of(const char *s, const char *const *names, int n, int *out, const char *what, lks_err *err) {
    if (!s || !*s) {
        *out = 0;
        return LKS_OK;
    }
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return LKS_OK;
        }
    return lks_err_set(err, LKS_ECONFIG, "%s: unknown value \"%s\"", what, s);
}

int lks_dbz_mode_decimal(const char *s, int *out, lks_err *err) {
    static const char *const n[] = {"precise", "double", "string"};
    return mode_of(s, n, 3, out, "decimal.handling.mode", err);
}

int lks_dbz_mode_time(const char *s, int *out, lks_err *err) {
    static const char *const n[] = {"adaptive_time_microseconds", "adaptive", "connect"};
    return mode_of(s, n, 3, out, "time.precision.mode", err);
}

int lks_dbz_mode_binary(const char *s, int *out, lks_err *err) {
    static const char *const n[] = {"bytes", "base64", "base64-url-safe", "hex"};
    return mode_of(s, n, 4, out, "binary.handling.mode", err);
}

/* ---- exact decimals ------------------------------------------------------------ */

size_t lks_dbz_dec_trim(const uint8_t *be, size_t len) {
    size_t i = 0;
    while (i + 1 < len && ((be[i] == 0x00 && !(be[i + 1] & 0x80)) || (be[i] == 0xff && (be[i + 1] & 0x80))))
        i++;
    return i;
}

#define DEC_MAX_DIGITS 80 /* 10^80 > 2^256: anything longer cannot fit */

int lks_dbz_dec_from_text(const char *q, size_t n, int scale, uint8_t *out, size_t *outlen, int *scale_out) {
    size_t i = 0;
    int neg = 0, seen = 0, dot = 0;
    char dig[DEC_MAX_DIGITS + 1];
    int nd = 0;
    long nfrac = 0;
    if (i < n && (q[i] == '-' || q[i] == '+'))
        neg = q[i++] == '-';
    for (; i < n; i++) {
        char ch = q[i];
        if (ch >= '0' && ch <= '9') {
            seen = 1;
            if (dot)
                nfrac++;
            if (nd == 0 && ch == '0')
                continue; /* leading zero */
            if (nd >= DEC_MAX_DIGITS) {
                /* digits past the cap may only be trailing zeros of a fraction */
                if (ch != '0' || !dot)
                    return -3;
                nfrac--; /* a dropped trailing zero does not count */
                continue;
            }
            dig[nd++] = ch;
        } else if (ch == '.' && !dot) {
            dot = 1;
        } else {
            break;
        }
    }
    if (!seen || nfrac > 100000)
        return -1;
    long ex = 0;
    if (i < n && (q[i] == 'e' || q[i] == 'E')) {
        int eneg = 0, es = 0;
        i++;
        if (i < n && (q[i] == '+' || q[i] == '-'))
            eneg = q[i++] == '-';
        for (; i < n && q[i] >= '0' && q[i] <= '9'; i++) {
            es = 1;
            if (ex < 1000000)
                ex = ex * 10 + (q[i] - '0');
        }
        if (!es)
            return -1;
        if (eneg)
            ex = -ex;
    }
    if (i != n)
        return -1;
    if (scale < 0) {
        long own = nfrac - ex;
        if (own < 0)
            own = 0;
        if (own > 1000)
            return -3;
        scale = (int)own;
    }
    if (scale_out)
        *scale_out = scale;
    long shift = (long)scale + ex - nfrac; /* unscaled = D * 10^shift */
    if (shift < 0) {
        long drop = -shift;
        while (drop > 0 && nd > 0) {
            if (dig[nd - 1] != '0')
                return -2;
            nd--;
            drop--;
        }
    } else if (nd > 0) {
        if (shift > DEC_MAX_DIGITS - nd)
            return -3;
        for (long k = 0; k < shift; k++)
            dig[nd++] = '0';
    }
    uint32_t limb[9] = {0};
    for (int k = 0; k < nd; k++) {
        uint64_t carry = (uint64_t)(dig[k] - '0');
        for (int j = 0; j < 9; j++) {
            uint64_t t = (uint64_t)limb[j] * 10 + carry;
            limb[j] = (uint32_t)t;
            carry = t >> 32;
        }
        if (carry || limb[8])
            return -3;
    }
    /* magnitude must fit 256-bit two's complement */
    if (limb[7] & 0x80000000u) {
        int is_min = neg && limb[7] == 0x80000000u;
        for (int j = 0; j < 7 && is_min; j++)
            is_min = limb[j] == 0;
        if (!is_min)
            return -3;
    }
    if (neg) {
        uint64_t c = 1;
        for (int j = 0; j < 8; j++) {
            uint64_t t = (uint64_t)(uint32_t)~limb[j] + c;
            limb[j] = (uint32_t)t;
            c = t >> 32;
        }
    }
    uint8_t be[32];
    for (int j = 0; j < 8; j++) {
        uint32_t w = limb[7 - j];
        be[j * 4] = (uint8_t)(w >> 24);
        be[j * 4 + 1] = (uint8_t)(w >> 16);
        be[j * 4 + 2] = (uint8_t)(w >> 8);
        be[j * 4 + 3] = (uint8_t)w;
    }
    size_t off = lks_dbz_dec_trim(be, 32);
    memcpy(out, be + off, 32 - off);
    *outlen = 32 - off;
    return 0;
}

/* ---- base64 / hex ------------------------------------------------------------------ */

static int b64v(unsigned char ch) {
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

long lks_dbz_b64_decode(const char *s, size_t n, uint8_t *out) {
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (pad && (n + pad) % 4 != 0)
        return -1;
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64v((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* leftover bits must be zero (canonical encoding) */
    if (bits && (acc & ((1u << bits) - 1)))
        return -1;
    return (long)o;
}

long lks_dbz_hex_decode(const char *s, size_t n, uint8_t *out) {
    if (n % 2)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int h = lks_hex_value((unsigned char)s[i]), l = lks_hex_value((unsigned char)s[i + 1]);
        if (h < 0 || l < 0)
            return -1;
        out[i / 2] = (uint8_t)(h << 4 | l);
    }
    return (long)(n / 2);
}
