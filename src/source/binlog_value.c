/*
 * binlog_value.c — one column value of a binlog row image: integers,
 * MySQL's binary DECIMAL, the temporal formats (old and fractional-second
 * "2" forms), strings with their charsets, ENUM/SET, BIT.
 *
 * Layouts (all from the MySQL/MariaDB row format):
 *  - integers little-endian; YEAR one byte, 1900 + n (0 stands for 0000);
 *  - DATE 3 bytes LE: day 5 bits, month 4 bits, year the rest;
 *  - old TIME 3 bytes LE signed HHMMSS; old DATETIME 8 bytes LE
 *    YYYYMMDDhhmmss; old TIMESTAMP 4 bytes LE seconds;
 *  - TIME2 3 bytes BE offset by 0x800000: hour 10 bits, minute 6, second
 *    6; DATETIME2 5 bytes BE offset by 0x8000000000: year*13+month 17 bits,
 *    day 5, hour 5, minute 6, second 6; TIMESTAMP2 4 bytes BE seconds;
 *    each followed by (fsp+1)/2 fraction bytes BE (hundredths for fsp 1-2,
 *    1/10000 s for 3-4, µs for 5-6).  A negative TIME2 is the two's
 *    complement of the packed value (intpart << 24 | fraction);
 *  - DECIMAL(p,s): groups of 9 digits in 4 bytes BE, a leading/trailing
 *    partial group in 1-4 bytes (dig2bytes), the first bit flipped, all
 *    bytes inverted for negative values.
 * Zero dates (a zero month or day, the zero TIMESTAMP) are NULL.
 * BINARY(n) values are padded back to n bytes with zeros: MySQL and MariaDB
 * strip trailing zero bytes when they write a row image (the pad character
 * of the binary charset), so the image alone would not equal the column
 * (a UUID column of MariaDB is BINARY(16)).
 */
#include "source/binlog_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY INT64_C(86400000000)

/* ---- charsets ------------------------------------------------------------------------ */

/* Charsets by an index of our own; iconv names are glibc's. */
enum {
    CS_UNKNOWN = 0,
    CS_BIG5,
    CS_LATIN2,
    CS_DEC8,
    CS_CP850,
    CS_LATIN1,
    CS_HP8,
    CS_KOI8R,
    CS_SWE7,
    CS_ASCII,
    CS_UJIS,
    CS_SJIS,
    CS_CP1251,
    CS_HEBREW,
    CS_TIS620,
    CS_EUCKR,
    CS_LATIN7,
    CS_KOI8U,
    CS_GB2312,
    CS_GREEK,
    CS_CP1250,
    CS_GBK,
    CS_CP1257,
    CS_LATIN5,
    CS_ARMSCII8,
    CS_UTF8MB3,
    CS_UCS2,
    CS_CP866,
    CS_KEYBCS2,
    CS_MACCE,
    CS_MACROMAN,
    CS_CP852,
    CS_UTF8MB4,
    CS_UTF16,
    CS_UTF16LE,
    CS_CP1256,
    CS_UTF32,
    CS_BINARY,
    CS_GEOSTD8,
    CS_CP932,
    CS_EUCJPMS,
    CS_GB18030,
    CS_COUNT
};

static const struct {
    const char *name;  /* MySQL's */
    const char *iconv; /* NULL: not an iconv conversion */
} charsets[CS_COUNT] = {
    [CS_UNKNOWN] = {"?", NULL},
    [CS_BIG5] = {"big5", "BIG5"},
    [CS_LATIN2] = {"latin2", "ISO-8859-2"},
    [CS_DEC8] = {"dec8", "DEC-MCS"},
    [CS_CP850] = {"cp850", "CP850"},
    [CS_LATIN1] = {"latin1", NULL},
    [CS_HP8] = {"hp8", "HP-ROMAN8"},
    [CS_KOI8R] = {"koi8r", "KOI8-R"},
    [CS_SWE7] = {"swe7", "ISO646-SE"},
    [CS_ASCII] = {"ascii", NULL},
    [CS_UJIS] = {"ujis", "EUC-JP"},
    [CS_SJIS] = {"sjis", "SHIFT_JIS"},
    [CS_CP1251] = {"cp1251", "CP1251"},
    [CS_HEBREW] = {"hebrew", "ISO-8859-8"},
    [CS_TIS620] = {"tis620", "TIS-620"},
    [CS_EUCKR] = {"euckr", "EUC-KR"},
    [CS_LATIN7] = {"latin7", "ISO-8859-13"},
    [CS_KOI8U] = {"koi8u", "KOI8-U"},
    [CS_GB2312] = {"gb2312", "GB2312"},
    [CS_GREEK] = {"greek", "ISO-8859-7"},
    [CS_CP1250] = {"cp1250", "CP1250"},
    [CS_GBK] = {"gbk", "GBK"},
    [CS_CP1257] = {"cp1257", "CP1257"},
    [CS_LATIN5] = {"latin5", "ISO-8859-9"},
    [CS_ARMSCII8] = {"armscii8", "ARMSCII-8"},
    [CS_UTF8MB3] = {"utf8mb3", NULL},
    [CS_UCS2] = {"ucs2", "UCS-2BE"},
    [CS_CP866] = {"cp866", "CP866"},
    [CS_KEYBCS2] = {"keybcs2", "KEYBCS2"},
    [CS_MACCE] = {"macce", "MAC-CENTRALEUROPE"},
    [CS_MACROMAN] = {"macroman", "MACINTOSH"},
    [CS_CP852] = {"cp852", "CP852"},
    [CS_UTF8MB4] = {"utf8mb4", NULL},
    [CS_UTF16] = {"utf16", "UTF-16BE"},
    [CS_UTF16LE] = {"utf16le", "UTF-16LE"},
    [CS_CP1256] = {"cp1256", "CP1256"},
    [CS_UTF32] = {"utf32", "UTF-32BE"},
    [CS_BINARY] = {"binary", NULL},
    [CS_GEOSTD8] = {"geostd8", "GEORGIAN-PS"},
    [CS_CP932] = {"cp932", "CP932"},
    [CS_EUCJPMS] = {"eucjpms", "EUC-JP-MS"},
    [CS_GB18030] = {"gb18030", "GB18030"},
};

/* Collation id ranges → charset: MariaDB's and MySQL's ids below 256 agree;
 * 248-250 and 255-323 are MySQL 8's (gb18030, utf8mb4 0900 collations);
 * 576-738 MariaDB's extra ones. */
static const struct {
    uint16_t lo, hi;
    uint8_t cs;
} coll_ranges[] = {
    {1, 1, CS_BIG5},        {2, 2, CS_LATIN2},      {3, 3, CS_DEC8},        {4, 4, CS_CP850},
    {5, 5, CS_LATIN1},      {6, 6, CS_HP8},         {7, 7, CS_KOI8R},       {8, 8, CS_LATIN1},
    {9, 9, CS_LATIN2},      {10, 10, CS_SWE7},      {11, 11, CS_ASCII},     {12, 12, CS_UJIS},
    {13, 13, CS_SJIS},      {14, 14, CS_CP1251},    {15, 15, CS_LATIN1},    {16, 16, CS_HEBREW},
    {18, 18, CS_TIS620},    {19, 19, CS_EUCKR},     {20, 20, CS_LATIN7},    {21, 21, CS_LATIN2},
    {22, 22, CS_KOI8U},     {23, 23, CS_CP1251},    {24, 24, CS_GB2312},    {25, 25, CS_GREEK},
    {26, 26, CS_CP1250},    {27, 27, CS_LATIN2},    {28, 28, CS_GBK},       {29, 29, CS_CP1257},
    {30, 30, CS_LATIN5},    {31, 31, CS_LATIN1},    {32, 32, CS_ARMSCII8},  {33, 33, CS_UTF8MB3},
    {34, 34, CS_CP1250},    {35, 35, CS_UCS2},      {36, 36, CS_CP866},     {37, 37, CS_KEYBCS2},
    {38, 38, CS_MACCE},     {39, 39, CS_MACROMAN},  {40, 40, CS_CP852},     {41, 42, CS_LATIN7},
    {43, 43, CS_MACCE},     {44, 44, CS_CP1250},    {45, 46, CS_UTF8MB4},   {47, 49, CS_LATIN1},
    {50, 52, CS_CP1251},    {53, 53, CS_MACROMAN},  {54, 55, CS_UTF16},     {56, 56, CS_UTF16LE},
    {57, 57, CS_CP1256},    {58, 59, CS_CP1257},    {60, 61, CS_UTF32},     {62, 62, CS_UTF16LE},
    {63, 63, CS_BINARY},    {64, 64, CS_ARMSCII8},  {65, 65, CS_ASCII},     {66, 66, CS_CP1250},
    {67, 67, CS_CP1256},    {68, 68, CS_CP866},     {69, 69, CS_DEC8},      {70, 70, CS_GREEK},
    {71, 71, CS_HEBREW},    {72, 72, CS_HP8},       {73, 73, CS_KEYBCS2},   {74, 74, CS_KOI8R},
    {75, 75, CS_KOI8U},     {76, 76, CS_UTF8MB3},   {77, 77, CS_LATIN2},    {78, 78, CS_LATIN5},
    {79, 79, CS_LATIN7},    {80, 80, CS_CP850},     {81, 81, CS_CP852},     {82, 82, CS_SWE7},
    {83, 83, CS_UTF8MB3},   {84, 84, CS_BIG5},      {85, 85, CS_EUCKR},     {86, 86, CS_GB2312},
    {87, 87, CS_GBK},       {88, 88, CS_SJIS},      {89, 89, CS_TIS620},    {90, 90, CS_UCS2},
    {91, 91, CS_UJIS},      {92, 93, CS_GEOSTD8},   {94, 94, CS_LATIN1},    {95, 96, CS_CP932},
    {97, 98, CS_EUCJPMS},   {99, 99, CS_CP1250},    {101, 124, CS_UTF16},   {128, 151, CS_UCS2},
    {159, 159, CS_UCS2},    {160, 183, CS_UTF32},   {192, 215, CS_UTF8MB3}, {223, 223, CS_UTF8MB3},
    {224, 247, CS_UTF8MB4}, {248, 250, CS_GB18030}, {255, 323, CS_UTF8MB4}, {576, 578, CS_UTF8MB3},
    {608, 610, CS_UTF8MB4}, {640, 642, CS_UCS2},    {672, 674, CS_UTF16},   {736, 738, CS_UTF32},
};

static int charset_code(int coll) {
    if (coll >= 1024 && coll < 1280) /* MariaDB's NO PAD variants: base id + 1024 */
        coll -= 1024;
    else if (coll >= 2048 && coll < 3328) { /* MariaDB's UCA 14.0 collations: charset in bits 8.. */
        static const uint8_t uca[5] = {CS_UTF8MB3, CS_UTF8MB4, CS_UCS2, CS_UTF16, CS_UTF32};
        return uca[(coll >> 8) - 8];
    }
    for (size_t i = 0; i < sizeof coll_ranges / sizeof coll_ranges[0]; i++)
        if (coll >= coll_ranges[i].lo && coll <= coll_ranges[i].hi)
            return coll_ranges[i].cs;
    return CS_UNKNOWN;
}

int lks_bl_charset_of(int coll, int *cs_index, int *binary) {
    *cs_index = 0;
    *binary = 0;
    int cs = charset_code(coll);
    switch (cs) {
    case CS_UNKNOWN: return -1;
    case CS_BINARY: *binary = 1; return BL_CS_RAW;
    case CS_UTF8MB3:
    case CS_UTF8MB4:
    case CS_ASCII: return BL_CS_UTF8;
    case CS_LATIN1: return BL_CS_LATIN1;
    default: *cs_index = cs; return BL_CS_ICONV;
    }
}

const char *lks_bl_charset_name(int cs_index) {
    return cs_index > 0 && cs_index < CS_COUNT ? charsets[cs_index].name : "?";
}

void lks_bl_iconv_init(bl_iconv_cache *c) {
    for (int i = 0; i < BL_NCHARSETS; i++) {
        c->cd[i] = (iconv_t)-1;
        c->tried[i] = 0;
    }
}

void lks_bl_iconv_free(bl_iconv_cache *c) {
    for (int i = 0; i < BL_NCHARSETS; i++)
        if (c->cd[i] != (iconv_t)-1) {
            iconv_close(c->cd[i]);
            c->cd[i] = (iconv_t)-1;
        }
}

/* Length of the ASCII prefix of p[0..n) (n when all is ASCII), sixteen or
 * eight bytes at a time. */
static size_t ascii_prefix(const uint8_t *p, size_t n) {
    size_t i = 0;
#ifdef __SSE2__
    if (n >= 16) {
        for (; i + 16 <= n; i += 16)
            if (_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(p + i))))
                break;
        if (i < n && n - i < 16 && !_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(p + n - 16))))
            return n; /* the last sixteen, overlapping what was seen */
    }
#endif
    for (uint64_t w; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            break;
    }
    while (i < n && p[i] < 0x80)
        i++;
    return i;
}

/* Offset of the first byte that is not valid UTF-8 (n when all are). */
static size_t utf8_check(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        i += ascii_prefix(p + i, n - i);
        if (i >= n)
            break;
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf)
            k = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            k = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3, cp = c & 0x07;
        else
            return i;
        if (n - i <= k)
            return i;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return i;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return i;
        i += k + 1;
    }
    return n;
}

/* MySQL's latin1 is Windows-1252 with its five unassigned bytes mapped to
 * the C1 controls of the same value. */
static const uint16_t cp1252_hi[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

static int latin1_to_utf8(const uint8_t *p, size_t n, lks_arena *a, lks_slice *out) {
    size_t i = ascii_prefix(p, n);
    if (i == n) {
        out->ptr = p, out->len = n;
        return LKS_OK;
    }
    if (n > SIZE_MAX / 3)
        return LKS_ENOMEM;
    uint8_t *q = lks_arena_alloc(a, n * 3 + 1);
    if (!q)
        return LKS_ENOMEM;
    memcpy(q, p, i);
    size_t o = i;
    for (; i < n; i++) {
        uint32_t cp = p[i];
        if (cp >= 0x80 && cp < 0xa0)
            cp = cp1252_hi[cp - 0x80];
        if (cp < 0x80) {
            q[o++] = (uint8_t)cp;
        } else if (cp < 0x800) {
            q[o++] = (uint8_t)(0xc0 | cp >> 6);
            q[o++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else {
            q[o++] = (uint8_t)(0xe0 | cp >> 12);
            q[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            q[o++] = (uint8_t)(0x80 | (cp & 0x3f));
        }
    }
    out->ptr = q, out->len = o;
    return LKS_OK;
}

int lks_bl_text(bl_iconv_cache *ic, const bl_col *c, const uint8_t *p, size_t n, lks_arena *a, lks_slice *out,
                char *msg, size_t msgcap) {
    switch (c->cs) {
    case BL_CS_UTF8: {
        size_t bad = utf8_check(p, n);
        if (bad < n) {
            snprintf(msg, msgcap, "invalid UTF-8 at byte %zu of the value (collation %d)", bad, c->coll);
            return LKS_ECORRUPT;
        }
        out->ptr = p, out->len = n;
        return LKS_OK;
    }
    case BL_CS_LATIN1: return latin1_to_utf8(p, n, a, out);
    case BL_CS_ICONV: {
        int k = c->cs_index;
        if (k <= 0 || k >= CS_COUNT || k >= BL_NCHARSETS || !charsets[k].iconv) {
            snprintf(msg, msgcap, "collation %d has no converter", c->coll);
            return LKS_EUNSUPPORTED;
        }
        if (!ic->tried[k]) {
            ic->tried[k] = 1;
            ic->cd[k] = iconv_open("UTF-8", charsets[k].iconv);
        }
        if (ic->cd[k] == (iconv_t)-1) {
            snprintf(msg, msgcap, "charset %s (collation %d) cannot be converted: iconv does not know %s",
                     charsets[k].name, c->coll, charsets[k].iconv);
            return LKS_EUNSUPPORTED;
        }
        if (n > (SIZE_MAX - 16) / 4)
            return LKS_ENOMEM;
        size_t cap = n * 4 + 16; /* any of these charsets grows at most 4x into UTF-8 */
        char *q = lks_arena_alloc(a, cap);
        if (!q)
            return LKS_ENOMEM;
        char *in = (char *)(uintptr_t)p, *o = q;
        size_t inleft = n, outleft = cap;
        iconv(ic->cd[k], NULL, NULL, NULL, NULL);
        if (iconv(ic->cd[k], &in, &inleft, &o, &outleft) == (size_t)-1 ||
            iconv(ic->cd[k], NULL, NULL, &o, &outleft) == (size_t)-1) {
            snprintf(msg, msgcap, "bytes invalid in %s at byte %zu of the value (collation %d)", charsets[k].name,
                     n - inleft, c->coll);
            return errno == E2BIG ? LKS_EINTERNAL : LKS_ECORRUPT;
        }
        out->ptr = (const uint8_t *)q, out->len = (size_t)(o - q);
        return LKS_OK;
    }
    default: out->ptr = p, out->len = n; return LKS_OK;
    }
}

/* ---- decimals ------------------------------------------------------------------------ */

static const uint8_t dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
static const uint32_t pow10_32[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

size_t lks_bl_decimal_size(int precision, int scale) {
    if (precision < 1 || precision > 65 || scale < 0 || scale > 30 || scale > precision)
        return 0;
    int intg = precision - scale;
    return (size_t)(intg / 9 * 4 + dig2bytes[intg % 9] + scale / 9 * 4 + dig2bytes[scale % 9]);
}

/* An unsigned integer of up to 288 bits, little-endian 32-bit limbs. */
#define BIG_LIMBS 9
typedef struct big {
    uint32_t w[BIG_LIMBS];
} big;

/* b = b * mul + add; -1 on overflow. */
static int big_muladd(big *b, uint32_t mul, uint32_t add) {
    uint64_t carry = add;
    for (int i = 0; i < BIG_LIMBS; i++) {
        uint64_t t = (uint64_t)b->w[i] * mul + carry;
        b->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    return carry ? -1 : 0;
}

/* The minimal big-endian two's complement of ±b into the arena (at most 32
 * bytes: larger magnitudes are refused). */
static int big_to_value(const big *b, int neg, int scale, lks_arena *a, lks_cdc_value *out) {
    uint8_t be[BIG_LIMBS * 4];
    for (int i = 0; i < BIG_LIMBS; i++) {
        uint32_t w = b->w[BIG_LIMBS - 1 - i];
        be[4 * i] = (uint8_t)(w >> 24), be[4 * i + 1] = (uint8_t)(w >> 16);
        be[4 * i + 2] = (uint8_t)(w >> 8), be[4 * i + 3] = (uint8_t)w;
    }
    size_t n = sizeof be;
    int zero = 1;
    for (size_t i = 0; i < n; i++)
        zero &= be[i] == 0;
    if (zero)
        neg = 0;
    if (be[0] & 0x80)
        return LKS_ELIMIT;
    if (neg) { /* two's complement: invert and add one */
        int carry = 1;
        for (size_t i = n; i-- > 0;) {
            unsigned v = (uint8_t)~be[i] + (unsigned)carry;
            be[i] = (uint8_t)v;
            carry = v > 0xff;
        }
    }
    size_t off = 0;
    while (off + 1 < n && ((be[off] == 0x00 && !(be[off + 1] & 0x80)) || (be[off] == 0xff && (be[off + 1] & 0x80))))
        off++;
    if (n - off > 32)
        return LKS_ELIMIT;
    uint8_t *q = lks_arena_memdup(a, be + off, n - off);
    if (!q)
        return LKS_ENOMEM;
    out->kind = LKS_CV_DECIMAL;
    out->u.dec.be = q;
    out->u.dec.len = n - off;
    out->u.dec.scale = scale;
    return LKS_OK;
}

/* The same for a value that fits 63 bits (the common case: precision <= 18). */
static int small_to_value(uint64_t mag, int neg, int scale, lks_arena *a, lks_cdc_value *out) {
    int64_t v = neg ? -(int64_t)mag : (int64_t)mag;
    /* minimal two's complement: the bytes a sign bit needs, from the
     * magnitude of v or of its complement */
    uint64_t m = (uint64_t)(v < 0 ? ~v : v);
    size_t len = (size_t)(64 - __builtin_clzll(m | 1) + 1 + 7) / 8; /* value bits + sign bit */
    uint8_t *q = lks_arena_alloc(a, 8);
    if (!q)
        return LKS_ENOMEM;
    for (size_t i = 0; i < len; i++)
        q[i] = (uint8_t)((uint64_t)v >> (8 * (len - 1 - i)));
    out->kind = LKS_CV_DECIMAL;
    out->u.dec.be = q;
    out->u.dec.len = len;
    out->u.dec.scale = scale;
    return LKS_OK;
}

static uint32_t be_uint(const uint8_t *p, int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

size_t lks_binlog_decimal(const uint8_t *p, size_t n, int precision, int scale, lks_arena *a, lks_cdc_value *out) {
    size_t size = lks_bl_decimal_size(precision, scale);
    if (!size || n < size)
        return 0;
    int intg = precision - scale, intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
    uint8_t buf[40];
    int neg = !(p[0] & 0x80);
    /* groups in order: leading partial, full integer groups, full fraction
     * groups, trailing partial; each checked against its digit count */
    const uint8_t *q = buf;
    if (precision <= 18 && size <= 16) { /* (9 bytes at most) inverted as two words */
        uint64_t w[2] = {0, 0}, inv = neg ? ~UINT64_C(0) : 0;
        memcpy(w, p, size);
        w[0] ^= inv, w[1] ^= inv;
        memcpy(buf, w, 16);
        buf[0] ^= 0x80;
        uint64_t acc = 0;
        uint32_t v = be_uint(q, dig2bytes[intg0x]);
        if (v >= pow10_32[intg0x])
            return 0;
        acc = v, q += dig2bytes[intg0x];
        for (int g = 0; g < intg0 + frac0; g++, q += 4) {
            v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
            if (v >= 1000000000u)
                return 0;
            acc = acc * 1000000000u + v;
        }
        v = be_uint(q, dig2bytes[frac0x]);
        if (v >= pow10_32[frac0x])
            return 0;
        acc = acc * pow10_32[frac0x] + v;
        return small_to_value(acc, neg && acc != 0, scale, a, out) == LKS_OK ? size : 0;
    }
    memcpy(buf, p, size);
    buf[0] ^= 0x80;
    if (neg)
        for (size_t i = 0; i < size; i++)
            buf[i] = (uint8_t)~buf[i];
    big b;
    memset(&b, 0, sizeof b);
    uint32_t v = be_uint(q, dig2bytes[intg0x]);
    if (v >= pow10_32[intg0x])
        return 0;
    big_muladd(&b, 1, v);
    q += dig2bytes[intg0x];
    for (int g = 0; g < intg0 + frac0; g++, q += 4) {
        v = be_uint(q, 4);
        if (v >= 1000000000u || big_muladd(&b, 1000000000u, v))
            return 0;
    }
    v = be_uint(q, dig2bytes[frac0x]);
    if (v >= pow10_32[frac0x] || big_muladd(&b, pow10_32[frac0x], v))
        return 0;
    return big_to_value(&b, neg, scale, a, out) == LKS_OK ? size : 0;
}

int lks_decimal_from_text(const char *s, size_t n, int scale, lks_arena *a, lks_cdc_value *out) {
    if (scale < 0 || scale > 76)
        return LKS_EINVAL;
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    big b;
    memset(&b, 0, sizeof b);
    int digits = 0, sig = 0, frac = -1;
    for (; i < n; i++) {
        char ch = s[i];
        if (ch == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (ch < '0' || ch > '9')
            return LKS_EINVAL;
        digits++;
        if (frac >= 0 && ++frac > scale)
            return LKS_EINVAL;
        if (sig || ch != '0')
            sig++;
        if (sig > 76 || big_muladd(&b, 10, (uint32_t)(ch - '0')))
            return LKS_EINVAL;
    }
    if (!digits)
        return LKS_EINVAL;
    for (int k = frac < 0 ? 0 : frac; k < scale; k++) {
        if (sig && ++sig > 76)
            return LKS_EINVAL;
        if (big_muladd(&b, 10, 0))
            return LKS_EINVAL;
    }
    int rc = big_to_value(&b, neg, scale, a, out);
    return rc == LKS_ELIMIT ? LKS_EINVAL : rc;
}

/* ---- temporals ------------------------------------------------------------------------- */

/* Fraction bytes after a TIME2/DATETIME2/TIMESTAMP2 integer part, in µs. */
static int fraction_us(const uint8_t *p, int fsp, int64_t *us) {
    switch (fsp) {
    case 0: *us = 0; return 1;
    case 1:
    case 2: *us = (int64_t)p[0] * 10000; return p[0] < 100;
    case 3:
    case 4: {
        uint32_t v = be_uint(p, 2);
        *us = (int64_t)v * 100;
        return v < 10000;
    }
    default: {
        uint32_t v = be_uint(p, 3);
        *us = v;
        return v < 1000000;
    }
    }
}

static int fraction_bytes(int fsp) { return (fsp + 1) / 2; }

/* ---- one value ---------------------------------------------------------------------------- */

#define NEED(k)                                                                                                        \
    do {                                                                                                               \
        if (LKS_UNLIKELY(n < (size_t)(k))) {                                                                           \
            snprintf(msg, msgcap, "value needs %zu bytes, %zu left", (size_t)(k), n);                                  \
            return LKS_ECORRUPT;                                                                                       \
        }                                                                                                              \
    } while (0)

static int bad_value(char *msg, size_t msgcap, const char *what) {
    snprintf(msg, msgcap, "%s", what);
    return LKS_ECORRUPT;
}

int lks_bl_set_text(const char *const *m, const size_t *len, int n, uint64_t bits, lks_arena *a, lks_slice *out) {
    size_t total = 0;
    for (int i = 0; i < n && i < 64; i++)
        if (bits >> i & 1)
            total += len[i] + 1;
    char *t = lks_arena_alloc(a, total + 1);
    if (!t)
        return LKS_ENOMEM;
    size_t o = 0;
    for (int i = 0; i < n && i < 64; i++)
        if (bits >> i & 1) {
            if (o)
                t[o++] = ',';
            memcpy(t + o, m[i], len[i]);
            o += len[i];
        }
    out->ptr = (const uint8_t *)t, out->len = o;
    return LKS_OK;
}

int lks_bl_value(bl_iconv_cache *ic, const bl_col *c, const uint8_t *p, size_t n, lks_arena *a, lks_cdc_value *out,
                 size_t *used, char *msg, size_t msgcap) {
    switch (c->op) {
    case BL_OP_INT: {
        int w = c->width;
        NEED(w);
        uint64_t u = 0;
        if (LKS_LIKELY(n >= 8)) { /* one load, the bytes past the value masked off */
            u = lks_load_le64(p);
            if (w < 8)
                u &= (UINT64_C(1) << (8 * w)) - 1;
        } else {
            for (int i = w; i-- > 0;)
                u = u << 8 | p[i];
        }
        *used = (size_t)w;
        if (c->uns) {
            if (c->kind == LKS_CT_UINT64) {
                out->kind = LKS_CV_UINT;
                out->u.u64 = u;
            } else {
                out->kind = LKS_CV_INT;
                out->u.i64 = (int64_t)u;
            }
        } else {
            if (w < 8 && (u >> (8 * w - 1)) & 1)
                u |= ~UINT64_C(0) << (8 * w); /* sign-extend */
            out->kind = LKS_CV_INT;
            out->u.i64 = (int64_t)u;
        }
        return LKS_OK;
    }
    case BL_OP_FLOAT: {
        NEED(4);
        uint32_t u = lks_load_le32(p);
        float f;
        memcpy(&f, &u, 4);
        out->kind = LKS_CV_DOUBLE;
        out->u.f64 = f;
        *used = 4;
        return LKS_OK;
    }
    case BL_OP_DOUBLE: {
        NEED(8);
        uint64_t u = lks_load_le64(p);
        double d;
        memcpy(&d, &u, 8);
        out->kind = LKS_CV_DOUBLE;
        out->u.f64 = d;
        *used = 8;
        return LKS_OK;
    }
    case BL_OP_DECIMAL: {
        NEED(c->width);
        size_t k = lks_binlog_decimal(p, n, c->prec, c->scale, a, out);
        if (!k)
            return bad_value(msg, msgcap, "malformed DECIMAL value");
        *used = k;
        return LKS_OK;
    }
    case BL_OP_YEAR:
        NEED(1);
        out->kind = LKS_CV_INT;
        out->u.i64 = p[0] ? 1900 + p[0] : 0;
        *used = 1;
        return LKS_OK;
    case BL_OP_DATE: {
        NEED(3);
        uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
        unsigned day = v & 31, month = (v >> 5) & 15, year = v >> 9;
        *used = 3;
        if (!month || !day) {
            out->kind = LKS_CV_NULL;
            return LKS_OK;
        }
        if (month > 12)
            return bad_value(msg, msgcap, "DATE with month > 12");
        out->kind = LKS_CV_INT;
        out->u.i64 = lks_days_from_civil(year, month, day);
        return LKS_OK;
    }
    case BL_OP_TIME: {
        NEED(3);
        int32_t v = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16);
        if (v & 0x800000)
            v -= 0x1000000;
        int64_t m = v < 0 ? -(int64_t)v : v;
        int64_t hh = m / 10000, mi = m / 100 % 100, ss = m % 100;
        if (mi > 59 || ss > 59)
            return bad_value(msg, msgcap, "TIME with minutes or seconds > 59");
        int64_t us = (hh * 3600 + mi * 60 + ss) * US_PER_SEC;
        out->kind = LKS_CV_INT;
        out->u.i64 = v < 0 ? -us : us;
        *used = 3;
        return LKS_OK;
    }
    case BL_OP_TIME2: {
        int fb = fraction_bytes(c->fsp);
        NEED(3 + fb);
        /* packed = intpart << 24 | fraction (in fsp's unit), two's complement when negative */
        int64_t packed;
        if (fb == 3) {
            uint64_t raw = 0;
            for (int i = 0; i < 6; i++)
                raw = raw << 8 | p[i];
            packed = (int64_t)raw - INT64_C(0x800000000000);
        } else {
            int64_t intpart = (int64_t)be_uint(p, 3) - 0x800000;
            int64_t frac = fb ? (int64_t)be_uint(p + 3, fb) : 0;
            if (intpart < 0 && frac) { /* the fraction borrows from the integer part */
                intpart++;
                frac -= fb == 1 ? 0x100 : 0x10000;
            }
            frac *= fb == 1 ? 10000 : fb == 2 ? 100 : 1;
            packed = intpart * (INT64_C(1) << 24) + frac;
        }
        int neg = packed < 0;
        uint64_t mag = neg ? (uint64_t)0 - (uint64_t)packed : (uint64_t)packed;
        uint64_t hms = mag >> 24, frac = mag & 0xffffff;
        uint64_t hh = (hms >> 12) & 0x3ff, mi = (hms >> 6) & 0x3f, ss = hms & 0x3f;
        if (mi > 59 || ss > 59 || frac >= 1000000 || (hms >> 22))
            return bad_value(msg, msgcap, "malformed TIME2 value");
        int64_t us = (int64_t)((hh * 3600 + mi * 60 + ss) * 1000000 + frac);
        out->kind = LKS_CV_INT;
        out->u.i64 = neg ? -us : us;
        *used = (size_t)(3 + fb);
        return LKS_OK;
    }
    case BL_OP_DATETIME: {
        NEED(8);
        uint64_t v = lks_load_le64(p);
        *used = 8;
        uint64_t d = v / 1000000, t = v % 1000000;
        unsigned year = (unsigned)(d / 10000), month = (unsigned)(d / 100 % 100), day = (unsigned)(d % 100);
        if (!month || !day) {
            out->kind = LKS_CV_NULL;
            return LKS_OK;
        }
        unsigned hh = (unsigned)(t / 10000), mi = (unsigned)(t / 100 % 100), ss = (unsigned)(t % 100);
        if (year > 9999 || month > 12 || day > 31 || hh > 23 || mi > 59 || ss > 59)
            return bad_value(msg, msgcap, "malformed DATETIME value");
        out->kind = LKS_CV_INT;
        out->u.i64 =
            lks_days_from_civil(year, month, day) * US_PER_DAY + ((int64_t)hh * 3600 + mi * 60 + ss) * US_PER_SEC;
        return LKS_OK;
    }
    case BL_OP_DATETIME2: {
        int fb = fraction_bytes(c->fsp);
        NEED(5 + fb);
        uint64_t raw = 0;
        for (int i = 0; i < 5; i++)
            raw = raw << 8 | p[i];
        *used = (size_t)(5 + fb);
        if (!(raw & UINT64_C(0x8000000000)))
            return bad_value(msg, msgcap, "negative DATETIME2 value");
        uint64_t ip = raw - UINT64_C(0x8000000000);
        uint64_t ymd = ip >> 17, hms = ip & 0x1ffff;
        uint64_t ym = ymd >> 5, day = ymd & 31;
        uint64_t year = ym / 13, month = ym % 13;
        uint64_t hh = hms >> 12, mi = (hms >> 6) & 63, ss = hms & 63;
        int64_t frac;
        if (!fraction_us(p + 5, c->fsp, &frac))
            return bad_value(msg, msgcap, "malformed DATETIME2 fraction");
        if (!month || !day) {
            out->kind = LKS_CV_NULL;
            return LKS_OK;
        }
        if (year > 9999 || hh > 23 || mi > 59 || ss > 59)
            return bad_value(msg, msgcap, "malformed DATETIME2 value");
        out->kind = LKS_CV_INT;
        out->u.i64 = lks_days_from_civil((int64_t)year, (unsigned)month, (unsigned)day) * US_PER_DAY +
                     (int64_t)(hh * 3600 + mi * 60 + ss) * US_PER_SEC + frac;
        return LKS_OK;
    }
    case BL_OP_TIMESTAMP: {
        NEED(4);
        uint32_t s = lks_load_le32(p);
        *used = 4;
        out->kind = s ? LKS_CV_INT : LKS_CV_NULL;
        out->u.i64 = (int64_t)s * US_PER_SEC;
        return LKS_OK;
    }
    case BL_OP_TIMESTAMP2: {
        int fb = fraction_bytes(c->fsp);
        NEED(4 + fb);
        uint32_t s = be_uint(p, 4);
        int64_t frac;
        if (!fraction_us(p + 4, c->fsp, &frac))
            return bad_value(msg, msgcap, "malformed TIMESTAMP2 fraction");
        *used = (size_t)(4 + fb);
        out->kind = s || frac ? LKS_CV_INT : LKS_CV_NULL;
        out->u.i64 = (int64_t)s * US_PER_SEC + frac;
        return LKS_OK;
    }
    case BL_OP_STR: {
        int lb = c->lenbytes;
        NEED(lb);
        size_t len = 0;
        for (int i = lb; i-- > 0;)
            len = len << 8 | p[i];
        if (len > n - (size_t)lb) {
            snprintf(msg, msgcap, "value length %zu runs past the row (%zu bytes left)", len, n - (size_t)lb);
            return LKS_ECORRUPT;
        }
        const uint8_t *s = p + lb;
        *used = (size_t)lb + len;
        out->kind = LKS_CV_BYTES;
        if (c->json || c->compressed) { /* the caller decodes these */
            out->u.bytes.ptr = s, out->u.bytes.len = len;
            return LKS_OK;
        }
        if (c->geometry) {
            if (len < 4)
                return bad_value(msg, msgcap, "GEOMETRY value shorter than its SRID");
            out->u.bytes.ptr = s + 4, out->u.bytes.len = len - 4;
            return LKS_OK;
        }
        if (c->binary && len < c->fixlen) {
            /* BINARY(n): servers strip the trailing zero bytes; the column
             * holds n bytes, as a SELECT (and the snapshot) returns them */
            uint8_t *q = lks_arena_alloc(a, c->fixlen);
            if (!q)
                return LKS_ENOMEM;
            memcpy(q, s, len);
            memset(q + len, 0, c->fixlen - len);
            out->u.bytes.ptr = q, out->u.bytes.len = c->fixlen;
            return LKS_OK;
        }
        return lks_bl_text(ic, c, s, len, a, &out->u.bytes, msg, msgcap);
    }
    case BL_OP_ENUM: {
        NEED(c->width);
        unsigned idx = c->width == 1 ? p[0] : (unsigned)(p[0] | p[1] << 8);
        *used = c->width;
        out->kind = LKS_CV_BYTES;
        if (!c->nmembers) {
            char *t = lks_arena_printf(a, "%u", idx);
            if (!t)
                return LKS_ENOMEM;
            out->u.bytes.ptr = (const uint8_t *)t, out->u.bytes.len = strlen(t);
            return LKS_OK;
        }
        if (idx > (unsigned)c->nmembers) {
            snprintf(msg, msgcap, "ENUM index %u past its %d members", idx, c->nmembers);
            return LKS_ECORRUPT;
        }
        if (idx == 0) /* MySQL's error member '' */
            out->u.bytes.ptr = (const uint8_t *)"", out->u.bytes.len = 0;
        else
            out->u.bytes.ptr = (const uint8_t *)c->members[idx - 1], out->u.bytes.len = c->member_len[idx - 1];
        return LKS_OK;
    }
    case BL_OP_SET: {
        NEED(c->width);
        uint64_t bits = 0;
        for (int i = c->width; i-- > 0;)
            bits = bits << 8 | p[i];
        *used = c->width;
        out->kind = LKS_CV_BYTES;
        if (!c->nmembers) {
            char *t = lks_arena_printf(a, "%llu", (unsigned long long)bits);
            if (!t)
                return LKS_ENOMEM;
            out->u.bytes.ptr = (const uint8_t *)t, out->u.bytes.len = strlen(t);
            return LKS_OK;
        }
        if (c->nmembers < 64 && (bits >> c->nmembers)) {
            snprintf(msg, msgcap, "SET bitmap 0x%llx has bits past its %d members", (unsigned long long)bits,
                     c->nmembers);
            return LKS_ECORRUPT;
        }
        return lks_bl_set_text(c->members, c->member_len, c->nmembers, bits, a, &out->u.bytes);
    }
    case BL_OP_BIT:
        NEED(c->width);
        *used = c->width;
        if (c->nbits == 1) {
            out->kind = LKS_CV_BOOL;
            out->u.b = p[0] & 1;
        } else {
            out->kind = LKS_CV_BYTES;
            out->u.bytes.ptr = p, out->u.bytes.len = c->width;
        }
        return LKS_OK;
    case BL_OP_NULLTYPE:
        *used = 0;
        out->kind = LKS_CV_NULL;
        return LKS_OK;
    default: snprintf(msg, msgcap, "column type %d cannot be decoded", c->type); return LKS_EUNSUPPORTED;
    }
}
