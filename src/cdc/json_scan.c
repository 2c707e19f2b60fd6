/*
 * json_scan.c — one pass over a JSON document into flat tokens, the
 * grammar (RFC 8259) checked as it goes.  See json_tok.h.
 *
 * Written by hand because the tokenizer Debian ships (jsmn) plus the
 * grammar walk it needed took half of a snapshot load's CPU time
 * (bench/merge.sh): jsmn looks at every byte through a switch and accepts
 * documents that are not JSON, so a second walk had to re-read them.
 * Strings are scanned sixteen or eight bytes at a time for the bytes that
 * end the fast path (quote, backslash, control character, a byte above
 * ASCII: UTF-8 sequences are checked one by one, as RFC 8259 wants the
 * text UTF-8).
 */
#include "cdc/json_tok.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/* Byte classes: white space, a byte that can continue a number or literal,
 * a byte that ends a string's plain run. */
enum { C_WS = 1, C_PRIM = 2, C_STOP = 4 };
static const uint8_t cls[256] = {
    [0] = C_STOP, [1] = C_STOP, [2] = C_STOP, [3] = C_STOP, [4] = C_STOP, [5] = C_STOP, [6] = C_STOP, [7] = C_STOP,
    [8] = C_STOP, [9] = C_STOP | C_WS, [10] = C_STOP | C_WS, [11] = C_STOP, [12] = C_STOP, [13] = C_STOP | C_WS,
    [14] = C_STOP, [15] = C_STOP, [16] = C_STOP, [17] = C_STOP, [18] = C_STOP, [19] = C_STOP, [20] = C_STOP,
    [21] = C_STOP, [22] = C_STOP, [23] = C_STOP, [24] = C_STOP, [25] = C_STOP, [26] = C_STOP, [27] = C_STOP,
    [28] = C_STOP, [29] = C_STOP, [30] = C_STOP, [31] = C_STOP, [' '] = C_WS, ['"'] = C_STOP, ['\\'] = C_STOP,
    ['+'] = C_PRIM, ['-'] = C_PRIM, ['.'] = C_PRIM, ['0'] = C_PRIM, ['1'] = C_PRIM, ['2'] = C_PRIM, ['3'] = C_PRIM,
    ['4'] = C_PRIM, ['5'] = C_PRIM, ['6'] = C_PRIM, ['7'] = C_PRIM, ['8'] = C_PRIM, ['9'] = C_PRIM, ['E'] = C_PRIM,
    ['a'] = C_PRIM, ['b'] = C_PRIM, ['c'] = C_PRIM, ['d'] = C_PRIM, ['e'] = C_PRIM, ['f'] = C_PRIM, ['g'] = C_PRIM,
    ['h'] = C_PRIM, ['i'] = C_PRIM, ['j'] = C_PRIM, ['k'] = C_PRIM, ['l'] = C_PRIM, ['m'] = C_PRIM, ['n'] = C_PRIM,
    ['o'] = C_PRIM, ['p'] = C_PRIM, ['q'] = C_PRIM, ['r'] = C_PRIM, ['s'] = C_PRIM, ['t'] = C_PRIM, ['u'] = C_PRIM,
    ['v'] = C_PRIM, ['w'] = C_PRIM, ['x'] = C_PRIM, ['y'] = C_PRIM, ['z'] = C_PRIM};

/* Index of the first byte at or after i that is not a decimal digit. */
static inline size_t skip_digits(const unsigned char *u, size_t n, size_t i) {
    while (i + 8 <= n) {
        uint64_t x;
        memcpy(&x, u + i, 8);
        /* nonzero in each byte outside '0'..'9' (a carry from 0xfa..0xff only
         * reaches bytes after a non-digit) */
        uint64_t nd = ((x & (ONES * 0xf0)) ^ (ONES * 0x30)) | (((x + ONES * 0x06) & (ONES * 0xf0)) ^ (ONES * 0x30));
        if (nd)
            return i + ((size_t)__builtin_ctzll(nd) >> 3);
        i += 8;
    }
    while (i < n && (unsigned)(u[i] - '0') < 10)
        i++;
    return i;
}

/* End of the JSON number starting at u[i], or 0 when none starts there. */
static inline __attribute__((always_inline)) size_t scan_number(const unsigned char *u, size_t n, size_t i) {
    size_t j = i;
    if (j < n && u[j] == '-')
        j++;
    if (j >= n)
        return 0;
    if (u[j] == '0')
        j++;
    else if ((unsigned)(u[j] - '1') < 9)
        j = skip_digits(u, n, j + 1);
    else
        return 0;
    if (j < n && u[j] == '.') {
        size_t d = j + 1;
        j = skip_digits(u, n, d);
        if (j == d)
            return 0;
    }
    if (j < n && (u[j] == 'e' || u[j] == 'E')) {
        j++;
        if (j < n && (u[j] == '+' || u[j] == '-'))
            j++;
        size_t d = j;
        j = skip_digits(u, n, d);
        if (j == d)
            return 0;
    }
    return j;
}

/* End of the number or literal starting at u[i], or 0 when it is not one
 * exactly (the byte after it must not continue it). */
static inline size_t scan_primitive(const unsigned char *u, size_t n, size_t i) {
    size_t j;
    unsigned char c = u[i];
    if (c == 't' || c == 'n' || c == 'f') {
        const char *w = c == 't' ? "true" : c == 'n' ? "null" : "false";
        size_t wl = c == 'f' ? 5 : 4;
        if (n - i < wl || memcmp(u + i, w, wl) != 0)
            return 0;
        j = i + wl;
    } else if (!(j = scan_number(u, n, i))) {
        return 0;
    }
    if (j < n && (cls[u[j]] & C_PRIM))
        return 0;
    return j;
}

/* A JSON number's spelling, exactly. */
int lks_json_valid_number(const char *q, size_t n) { return n && scan_number((const unsigned char *)q, n, 0) == n; }

/* From u[i] (just after the opening quote) to the closing quote's index;
 * on a bad byte, -1 with *bad at it and *what set. */
static inline __attribute__((always_inline)) long scan_string(const unsigned char *u, size_t n, size_t i,
                                                              size_t *bad, const char **what) {
    for (;;) {
#ifdef __SSE2__
        while (i + 16 <= n) {
            __m128i x = _mm_loadu_si128((const __m128i *)(u + i));
            __m128i stop = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f)),
                                        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                                     _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));
            unsigned m = (unsigned)(_mm_movemask_epi8(stop) | _mm_movemask_epi8(x));
            if (m) {
                i += (size_t)__builtin_ctz(m);
                goto stopped;
            }
            i += 16;
        }
#endif
        while (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, u + i, 8);
            uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
            /* lowest set byte of each term is exact (borrows only run upwards) */
            uint64_t m = (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((x - ONES * 0x20) & ~x) | x) & HIGH;
            if (m) {
                i += (size_t)__builtin_ctzll(m) >> 3;
                break;
            }
            i += 8;
        }
        while (i < n && u[i] < 0x80 && !(cls[u[i]] & C_STOP))
            i++;
#ifdef __SSE2__
    stopped:
#endif
        if (i >= n) {
            *bad = n;
            *what = "truncated JSON";
            return -1;
        }
        unsigned char c = u[i];
        if (c == '"')
            return (long)i;
        if (c == '\\') {
            if (i + 1 >= n) {
                *bad = n;
                *what = "truncated JSON";
                return -1;
            }
            switch (u[i + 1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't': i += 2; continue;
            case 'u':
                if (i + 6 > n) {
                    *bad = n;
                    *what = "truncated JSON";
                    return -1;
                }
                if ((lks_hex_value(u[i + 2]) | lks_hex_value(u[i + 3]) | lks_hex_value(u[i + 4]) |
                     lks_hex_value(u[i + 5])) < 0) {
                    *bad = i;
                    *what = "bad \\u escape";
                    return -1;
                }
                i += 6;
                continue;
            default: *bad = i; *what = "bad escape"; return -1;
            }
        }
        if (c < 0x20) {
            *bad = i;
            *what = c ? "control character in a string" : "NUL byte in JSON";
            return -1;
        }
        do { /* c >= 0x80: a run of UTF-8 sequences */
            int k = lks_utf8_seq(u + i, n - i);
            if (k <= 0) {
                *bad = i;
                *what = (size_t)-k >= n - i ? "truncated JSON" : "invalid UTF-8 in a string";
                return -1;
            }
            i += (size_t)k;
        } while (i < n && u[i] >= 0x80);
    }
}

#define SKIP_WS()                                                                                                     \
    while (i < n && (cls[u[i]] & C_WS))                                                                                \
    i++

int lks_json_scan(const char *s, size_t n, lks_jtok *t, size_t cap, int depth_max, lks_json_scan_err *e) {
    return lks_json_scan_known(s, n, t, cap, depth_max, NULL, e);
}

int lks_json_scan_known(const char *s, size_t n, lks_jtok *t, size_t cap, int depth_max, const lks_json_known *kn,
                        lks_json_scan_err *e) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, nt = 0, bad = 0;
    int top = -1;     /* innermost open container */
    int in_obj = 0;   /* top is an object */
    int key = -1;     /* the key whose value comes next (objects) */
    int depth = 0;
    const char *what = NULL;
    long end;
    unsigned char c;
#define FAIL_AT(at, w)                                                                                                 \
    do {                                                                                                               \
        e->off = (at);                                                                                                 \
        what = (w);                                                                                                    \
        goto fail;                                                                                                     \
    } while (0)
#define FAIL_BYTE(w) FAIL_AT(i, i >= n ? "truncated JSON" : u[i] ? (w) : "NUL byte in JSON")
#define NEWTOK(ty, st0, par)                                                                                           \
    do {                                                                                                               \
        if (nt == cap) {                                                                                               \
            e->ntok = nt;                                                                                              \
            return -2;                                                                                                 \
        }                                                                                                              \
        t[nt] = (lks_jtok){(ty), (int)(st0), -1, 0, (par)};                                                            \
    } while (0)
    SKIP_WS();
    if (i >= n)
        FAIL_AT(n, "no JSON value");
value: /* at a value (white space skipped) */
    if (i >= n)
        FAIL_AT(n, "truncated JSON");
    c = u[i];
    {
        int parent = in_obj ? key : top;
        if (top >= 0 && !in_obj)
            t[top].size++;
        if (c == '"') {
            NEWTOK(LKS_JT_STRING, i + 1, parent);
            if ((end = scan_string(u, n, i + 1, &bad, &what)) < 0) {
                e->off = bad;
                goto fail;
            }
            t[nt++].end = (int)end;
            i = (size_t)end + 1;
        } else if (cls[c] & C_PRIM) {
            size_t j = scan_primitive(u, n, i);
            if (!j)
                FAIL_AT(i, "bad literal or number");
            NEWTOK(LKS_JT_PRIMITIVE, i, parent);
            t[nt++].end = (int)j;
            i = j;
        } else if (c == '{' && kn && depth == 1 && in_obj && (size_t)(t[key].end - t[key].start) == kn->klen &&
                   n - i >= kn->vlen && lks_bytes_eq(s + t[key].start, kn->key, kn->klen) &&
                   memcmp(u + i, kn->val, kn->vlen) == 0) {
            /* the known value: one token, its contents not listed */
            NEWTOK(LKS_JT_OBJECT, i, parent);
            t[nt].size = -1;
            t[nt++].end = (int)(i + kn->vlen);
            i += kn->vlen;
        } else if (c == '{' || c == '[') {
            if (depth >= depth_max)
                FAIL_AT(i, "nested too deeply");
            NEWTOK(c == '{' ? LKS_JT_OBJECT : LKS_JT_ARRAY, i, parent);
            top = (int)nt++;
            in_obj = c == '{';
            depth++;
            i++;
            SKIP_WS();
            if (i < n && u[i] == (in_obj ? '}' : ']'))
                goto close;
            if (in_obj)
                goto key;
            goto value;
        } else {
            FAIL_BYTE(top >= 0 && !in_obj && t[top].size == 1 ? "expected a value or ']'" : "expected a value");
        }
    }
next: /* after a value: ',' or the end of its container (or of the document) */
    SKIP_WS();
    if (top < 0) {
        if (i == n)
            return (int)nt;
        FAIL_AT(i, u[i] ? "trailing bytes after the value" : "NUL byte in JSON");
    }
    if (i < n && u[i] == ',') {
        i++;
        SKIP_WS();
        if (in_obj)
            goto key;
        goto value;
    }
    if (i < n && u[i] == (in_obj ? '}' : ']'))
        goto close;
    FAIL_BYTE(in_obj ? "expected ',' or '}'" : "expected ',' or ']'");
key: /* in an object, at a key (white space skipped) */
    if (i >= n || u[i] != '"')
        FAIL_BYTE("expected a key");
    NEWTOK(LKS_JT_STRING, i + 1, top);
    if ((end = scan_string(u, n, i + 1, &bad, &what)) < 0) {
        e->off = bad;
        goto fail;
    }
    t[nt].end = (int)end;
    t[nt].size = 1;
    t[top].size++;
    key = (int)nt++;
    i = (size_t)end + 1;
    SKIP_WS();
    if (i >= n || u[i] != ':')
        FAIL_BYTE("expected ':'");
    i++;
    SKIP_WS();
    goto value;
close: /* u[i] ends the container top */
    t[top].end = (int)i + 1;
    i++;
    depth--;
    {
        int p = t[top].parent;
        if (p >= 0 && t[p].type == LKS_JT_STRING) { /* a key: its object is the container */
            key = p;
            p = t[p].parent;
        }
        top = p;
        in_obj = top >= 0 && t[top].type == LKS_JT_OBJECT;
    }
    goto next;
fail:
    e->what = what;
    e->ntok = nt;
    e->tok = in_obj && key > top ? key : top >= 0 ? top : (int)nt - 1;
    return -1;
#undef FAIL_AT
#undef FAIL_BYTE
#undef NEWTOK
}
