/* test_mysql_json.c — source/mysql_json: MySQL binary JSON as text (every
 * type and size class, built here byte by byte), the JSON values of the
 * corpus binlog json-opaque.binlog, hostile values (truncations, bad
 * offsets, nesting and sharing bombs, random bytes) and PARTIAL_UPDATE_ROWS
 * diffs applied to text. */
#include "core/core.h"
#include "harness.h"
#include "source/mysql_json.h"

#include <float.h>
#include <jansson.h>
#include <math.h>

/* ---- a binary JSON builder ------------------------------------------------------ */

/* A value: its type byte and the bytes after it (malloc'd). */
typedef struct val {
    uint8_t type;
    uint8_t *p;
    size_t n;
} val;

static val mk(uint8_t type, const void *p, size_t n) {
    val v = {type, malloc(n ? n : 1), n};
    if (n)
        memcpy(v.p, p, n);
    return v;
}

static val v_lit(int x) {
    uint8_t b = (uint8_t)x;
    return mk(0x04, &b, 1);
}
static val v_le(uint8_t type, uint64_t x, size_t w) {
    uint8_t b[8];
    for (size_t i = 0; i < w; i++)
        b[i] = (uint8_t)(x >> (8 * i));
    return mk(type, b, w);
}
static val v_i16(int16_t x) { return v_le(0x05, (uint16_t)x, 2); }
static val v_u16(uint16_t x) { return v_le(0x06, x, 2); }
static val v_i32(int32_t x) { return v_le(0x07, (uint32_t)x, 4); }
static val v_u32(uint32_t x) { return v_le(0x08, x, 4); }
static val v_i64(int64_t x) { return v_le(0x09, (uint64_t)x, 8); }
static val v_u64(uint64_t x) { return v_le(0x0a, x, 8); }
static val v_dbl(double d) {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    return v_le(0x0b, bits, 8);
}

static size_t put_varlen(uint8_t *o, size_t len) {
    size_t n = 0;
    do {
        uint8_t b = len & 0x7F;
        len >>= 7;
        o[n++] = (uint8_t)(b | (len ? 0x80 : 0));
    } while (len);
    return n;
}

static val v_strn(const char *s, size_t len) {
    uint8_t *b = malloc(len + 8);
    size_t n = put_varlen(b, len);
    memcpy(b + n, s, len);
    val v = mk(0x0c, b, n + len);
    free(b);
    return v;
}
static val v_str(const char *s) { return v_strn(s, strlen(s)); }

static val v_opaque(int ft, const void *data, size_t len) {
    uint8_t *b = malloc(len + 8);
    b[0] = (uint8_t)ft;
    size_t n = 1 + put_varlen(b + 1, len);
    memcpy(b + n, data, len);
    val v = mk(0x0f, b, n + len);
    free(b);
    return v;
}
static val v_opaque_i64(int ft, int64_t packed) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)packed >> (8 * i));
    return v_opaque(ft, b, 8);
}

/* MySQL's packed temporal longlong forms. */
static int64_t pack_datetime(int y, int mo, int d, int h, int mi, int s, int us) {
    int64_t ymd = ((int64_t)y * 13 + mo) << 5 | d;
    int64_t hms = (int64_t)h << 12 | mi << 6 | s;
    return ((ymd << 17 | hms) << 24) + us;
}
static int64_t pack_time(int neg, int h, int mi, int s, int us) {
    int64_t v = (((int64_t)h << 12 | mi << 6 | s) << 24) + us;
    return neg ? -v : v;
}

static int inlined(uint8_t type, int large) {
    return type == 0x04 || type == 0x05 || type == 0x06 || (large && (type == 0x07 || type == 0x08));
}

/* An object (keys != NULL) or array of kids (which it frees). */
static val v_cont(int large, int count, const char *const *keys, val *kids) {
    size_t w = large ? 4 : 2, ke = keys ? w + 2 : 0, ve = 1 + w;
    size_t hdr = 2 * w + (size_t)count * (ke + ve), size = hdr;
    for (int i = 0; keys && i < count; i++)
        size += strlen(keys[i]);
    for (int i = 0; i < count; i++)
        if (!inlined(kids[i].type, large))
            size += kids[i].n;
    uint8_t *b = calloc(1, size);
    size_t at = hdr;
#define PUTW(q, x)                                                                                                     \
    do {                                                                                                               \
        for (size_t k_ = 0; k_ < w; k_++)                                                                              \
            (q)[k_] = (uint8_t)((uint64_t)(x) >> (8 * k_));                                                            \
    } while (0)
    PUTW(b, count);
    PUTW(b + w, size);
    for (int i = 0; keys && i < count; i++) {
        size_t kl = strlen(keys[i]);
        uint8_t *e = b + 2 * w + (size_t)i * ke;
        PUTW(e, at);
        e[w] = (uint8_t)kl, e[w + 1] = (uint8_t)(kl >> 8);
        memcpy(b + at, keys[i], kl);
        at += kl;
    }
    for (int i = 0; i < count; i++) {
        uint8_t *e = b + 2 * w + (size_t)count * ke + (size_t)i * ve;
        e[0] = kids[i].type;
        if (inlined(kids[i].type, large)) {
            memcpy(e + 1, kids[i].p, kids[i].n);
        } else {
            PUTW(e + 1, at);
            memcpy(b + at, kids[i].p, kids[i].n);
            at += kids[i].n;
        }
        free(kids[i].p);
    }
#undef PUTW
    val v = {(uint8_t)(keys ? (large ? 0x01 : 0x00) : (large ? 0x03 : 0x02)), b, size};
    return v;
}

/* The whole document: type byte + data.  Frees v. */
static uint8_t *doc(val v, size_t *n) {
    uint8_t *d = malloc(v.n + 1);
    d[0] = v.type;
    memcpy(d + 1, v.p, v.n);
    free(v.p);
    *n = v.n + 1;
    return d;
}

/* ---- helpers ---------------------------------------------------------------------- */

/* Text of a binary value, or NULL with *rc set; caller frees. */
static char *text_rc(const uint8_t *p, size_t n, int *rc, lks_err *err) {
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_err_clear(err);
    *rc = lks_mysql_json_text(p, n, &b, err);
    if (*rc) {
        lks_buf_free(&b);
        return NULL;
    }
    lks_buf_cstr(&b);
    return (char *)lks_buf_detach(&b, NULL);
}

#define CHECK_TEXT(v, want)                                                                                            \
    do {                                                                                                               \
        size_t n_;                                                                                                     \
        uint8_t *d_ = doc((v), &n_);                                                                                   \
        int rc_;                                                                                                       \
        lks_err e_;                                                                                                    \
        char *t_ = text_rc(d_, n_, &rc_, &e_);                                                                         \
        if (rc_)                                                                                                       \
            FAILF("%s: rc %d: %s", want, rc_, e_.msg);                                                                 \
        else                                                                                                           \
            CHECK_EQ_STR(t_, want);                                                                                    \
        free(t_);                                                                                                      \
        free(d_);                                                                                                      \
    } while (0)

static int corrupt(const uint8_t *p, size_t n) {
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_err err;
    lks_err_clear(&err);
    int rc = lks_mysql_json_text(p, n, &b, &err);
    lks_buf_free(&b);
    return rc == LKS_ECORRUPT && strlen(err.msg) > 0;
}

/* Valid JSON per jansson (big integers read as reals; \u0000, which
 * jansson refuses in keys, read as \u0001)? */
static int valid_json(const char *t) {
    char *c = strdup(t);
    for (char *q = c; (q = strstr(q, "\\u0000")) != NULL; q += 6)
        q[5] = '1';
    json_error_t e;
    json_t *j = json_loads(c, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &e);
    json_decref(j);
    free(c);
    return j != NULL;
}

/* ---- scalars ----------------------------------------------------------------------- */

static void t_literals_and_ints(void) {
    CHECK_TEXT(v_lit(0), "null");
    CHECK_TEXT(v_lit(1), "true");
    CHECK_TEXT(v_lit(2), "false");
    CHECK_TEXT(v_i16(-32768), "-32768");
    CHECK_TEXT(v_i16(32767), "32767");
    CHECK_TEXT(v_u16(65535), "65535");
    CHECK_TEXT(v_i32(INT32_MIN), "-2147483648");
    CHECK_TEXT(v_u32(UINT32_MAX), "4294967295");
    CHECK_TEXT(v_i64(INT64_MIN), "-9223372036854775808");
    CHECK_TEXT(v_i64(INT64_MAX), "9223372036854775807");
    CHECK_TEXT(v_u64(UINT64_MAX), "18446744073709551615");
    CHECK_TEXT(v_u64(0), "0");
    /* MySQL's empty value. */
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_mysql_json_text(NULL, 0, &b, NULL), NULL);
    CHECK(b.len == 4 && memcmp(b.ptr, "null", 4) == 0);
    lks_buf_free(&b);
}

static void t_doubles(void) {
    static const struct {
        double d;
        const char *want;
    } cases[] = {
        {0.1, "0.1"},
        {1e300, "1e300"},
        {-0.0, "-0.0"},
        {0.0, "0.0"},
        {1.0, "1.0"},
        {-2.5, "-2.5"},
        {100.0, "100.0"},
        {1e20, "1e20"},
        {1e15, "1e15"},
        {1e14, "100000000000000.0"},
        {123456789012345.0, "123456789012345.0"},
        {1234567890123456.0, "1.234567890123456e15"},
        {0.001, "0.001"},
        {-1e-7, "-0.0000001"},
        {1e-15, "0.000000000000001"},
        {1e-16, "1e-16"},
        {1.5e-16, "1.5e-16"},
        {5e-324, "5e-324"},
        {DBL_MAX, "1.7976931348623157e308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {0.30000000000000004, "0.30000000000000004"},
        {-123.456, "-123.456"},
        {9007199254740992.0, "9.007199254740992e15"},
        {999999999999999.0, "999999999999999.0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_TEXT(v_dbl(cases[i].d), cases[i].want);
        /* Every text reads back to the same double. */
        size_t n;
        uint8_t *d = doc(v_dbl(cases[i].d), &n);
        int rc;
        lks_err err;
        char *t = text_rc(d, n, &rc, &err);
        CHECK(t && strtod(t, NULL) == cases[i].d && signbit(strtod(t, NULL)) == signbit(cases[i].d));
        free(t);
        free(d);
    }
    /* NaN and infinities are not JSON. */
    size_t n;
    uint8_t *d = doc(v_dbl(NAN), &n);
    CHECK(corrupt(d, n));
    free(d);
    d = doc(v_dbl(-INFINITY), &n);
    CHECK(corrupt(d, n));
    free(d);
}

static void t_strings(void) {
    CHECK_TEXT(v_str(""), "\"\"");
    CHECK_TEXT(v_str("plain"), "\"plain\"");
    CHECK_TEXT(v_str("q\"b\\s/\b\f\n\r\t"), "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\"");
    CHECK_TEXT(v_strn("\x00\x01\x1f\x7f", 4), "\"\\u0000\\u0001\\u001f\x7f\"");
    CHECK_TEXT(v_str("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9D\x84\x9E"), "\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9D\x84\x9E\"");
    /* Lengths needing 2 and 3 varlen bytes. */
    static const size_t lens[] = {127, 128, 16383, 16384, 70000};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        char *s = malloc(lens[k] + 3);
        memset(s + 1, 'x', lens[k]);
        s[0] = '"', s[lens[k] + 1] = '"', s[lens[k] + 2] = 0;
        char *raw = malloc(lens[k]);
        memset(raw, 'x', lens[k]);
        CHECK_TEXT(v_strn(raw, lens[k]), s);
        free(raw);
        free(s);
    }
    /* Invalid UTF-8 (a lone continuation byte, an overlong, a surrogate) is corrupt. */
    static const char *bad[] = {"a\x80", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        size_t n;
        uint8_t *d = doc(v_str(bad[k]), &n);
        CHECK(corrupt(d, n));
        free(d);
    }
}

static void t_opaque(void) {
    CHECK_TEXT(v_opaque(15, "U", 1), "\"base64:type15:VQ==\"");
    CHECK_TEXT(v_opaque(252, "\x00\xff\x10", 3), "\"base64:type252:AP8Q\"");
    CHECK_TEXT(v_opaque(16, "", 0), "\"base64:type16:\"");
    CHECK_TEXT(v_opaque_i64(10, pack_datetime(2012, 3, 18, 0, 0, 0, 0)), "\"2012-03-18\"");
    CHECK_TEXT(v_opaque_i64(14, pack_datetime(1, 1, 1, 0, 0, 0, 0)), "\"0001-01-01\"");
    CHECK_TEXT(v_opaque_i64(10, 0), "\"0000-00-00\"");
    CHECK_TEXT(v_opaque_i64(12, pack_datetime(9999, 12, 31, 23, 59, 59, 999999)), "\"9999-12-31 23:59:59.999999\"");
    CHECK_TEXT(v_opaque_i64(7, pack_datetime(1970, 1, 1, 0, 0, 1, 5)), "\"1970-01-01 00:00:01.000005\"");
    CHECK_TEXT(v_opaque_i64(11, pack_time(0, 87, 31, 46, 654321)), "\"87:31:46.654321\"");
    CHECK_TEXT(v_opaque_i64(11, pack_time(1, 838, 59, 59, 0)), "\"-838:59:59.000000\"");
    CHECK_TEXT(v_opaque_i64(11, pack_time(1, 0, 0, 0, 1)), "\"-00:00:00.000001\"");
    /* Decimals: (precision, scale, decimal2bin). */
    CHECK_TEXT(v_opaque(246, "\x06\x03\x80\x7b\x01\xc8", 6), "\"123.456\"");
    CHECK_TEXT(v_opaque(246, "\x06\x03\x7f\x84\xfe\x37", 6), "\"-123.456\"");
    CHECK_TEXT(v_opaque(246, "\x0b\x02\x80\x00\x00\x09\x00", 7), "\"9.00\"");
    CHECK_TEXT(v_opaque(246, "\x01\x00\x85", 3), "\"5\"");
    CHECK_TEXT(v_opaque(246, "\x04\x04\x80\x05", 4), "\"0.0005\"");
    CHECK_TEXT(v_opaque(246, "\x04\x04\x80\x00", 4), "\"0.0000\"");
    {
        /* DECIMAL(65,30): 35 integer digits (3 full groups + 8), 30 fraction
         * digits (3 full groups + 3), all nines. */
        uint8_t b[2 + 30];
        b[0] = 65, b[1] = 30;
        uint8_t *q = b + 2;
        uint32_t g8 = 99999999, g9 = 999999999, g3 = 999;
        q[0] = (uint8_t)(g8 >> 24), q[1] = (uint8_t)(g8 >> 16), q[2] = (uint8_t)(g8 >> 8), q[3] = (uint8_t)g8;
        for (int k = 0; k < 6; k++) {
            uint8_t *r = q + 4 + 4 * k;
            r[0] = (uint8_t)(g9 >> 24), r[1] = (uint8_t)(g9 >> 16), r[2] = (uint8_t)(g9 >> 8), r[3] = (uint8_t)g9;
        }
        q[28] = (uint8_t)(g3 >> 8), q[29] = (uint8_t)g3;
        q[0] ^= 0x80;
        char want[80];
        memset(want, '9', sizeof want);
        want[0] = '"', want[36] = '.', want[67] = '"', want[68] = 0;
        CHECK_TEXT(v_opaque(246, b, sizeof b), want);
        for (size_t i = 2; i < sizeof b; i++)
            b[i] = (uint8_t)~b[i];
        want[0] = '-';
        char want2[80];
        snprintf(want2, sizeof want2, "\"%s", want);
        CHECK_TEXT(v_opaque(246, b, sizeof b), want2);
    }
    /* Corrupt opaque values. */
    val bad[] = {
        v_opaque(10, "\0\0\0\0\0\0\0", 7),                              /* not 8 bytes */
        v_opaque_i64(10, pack_datetime(2012, 3, 18, 1, 0, 0, 0)),       /* DATE with a time */
        v_opaque_i64(12, pack_datetime(2012, 3, 18, 24, 0, 0, 0)),      /* hour 24 */
        v_opaque_i64(12, pack_datetime(2012, 3, 18, 0, 60, 0, 0)),      /* minute 60 */
        v_opaque_i64(12, pack_datetime(2012, 3, 18, 0, 0, 0, 1000000)), /* fraction */
        v_opaque_i64(12, -pack_datetime(2012, 3, 18, 0, 0, 0, 0)),      /* negative */
        v_opaque_i64(11, pack_time(0, 1, 0, 60, 0)),                    /* second 60 */
        v_opaque(246, "\x06\x03\x80\x7b\x01", 5),                       /* short decimal */
        v_opaque(246, "\x06\x03\x80\x7b\x03\xe8", 6),                   /* 1000 in 3 digits */
        v_opaque(246, "\x42\x00", 2),                                   /* precision 66 */
        v_opaque(246, "\x02\x03", 2),                                   /* scale > precision */
        v_opaque(246, "", 0),                                           /* empty */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        size_t n;
        uint8_t *d = doc(bad[k], &n);
        if (!corrupt(d, n))
            FAILF("bad opaque %zu accepted", k);
        free(d);
    }
}

/* ---- containers -------------------------------------------------------------------- */

static val sample_object(int large) {
    static const char *keys[] = {"a", "b", "cc", "n", "s"};
    val inner[] = {v_lit(1), v_lit(0), v_i32(-70000), v_dbl(0.5)};
    val kids[] = {v_i16(-1), v_cont(large, 4, NULL, inner), v_u32(4000000000u), v_lit(0), v_str("x\ny")};
    return v_cont(large, 5, keys, kids);
}

static void t_containers(void) {
    CHECK_TEXT(v_cont(0, 0, NULL, NULL), "[]");
    CHECK_TEXT(v_cont(1, 0, NULL, NULL), "[]");
    CHECK_TEXT(v_cont(0, 0, (const char *const[]){NULL}, NULL), "{}");
    CHECK_TEXT(v_cont(1, 0, (const char *const[]){NULL}, NULL), "{}");
    const char *want = "{\"a\":-1,\"b\":[true,null,-70000,0.5],\"cc\":4000000000,\"n\":null,\"s\":\"x\\ny\"}";
    CHECK_TEXT(sample_object(0), want);
    CHECK_TEXT(sample_object(1), want);
    /* A small array inside a large object and the other way round. */
    {
        val a[] = {v_u16(7), v_i64(-5)};
        val o[] = {v_cont(0, 2, NULL, a)};
        val top[] = {v_cont(1, 1, (const char *const[]){"k"}, o), v_str("end")};
        CHECK_TEXT(v_cont(0, 2, NULL, top), "[{\"k\":[7,-5]},\"end\"]");
    }
    /* Keys with escapes and UTF-8. */
    {
        val kids[] = {v_lit(1), v_lit(2)};
        CHECK_TEXT(v_cont(0, 2, (const char *const[]){"\xC3\xA9", "q\"\x01"}, kids),
                   "{\"\xC3\xA9\":true,\"q\\\"\\u0001\":false}");
    }
    /* A large array of 3000 strings (over 64 KiB, as MySQL would store it). */
    {
        enum { N = 3000 };
        val *kids = malloc(N * sizeof *kids);
        char s[40];
        for (int i = 0; i < N; i++) {
            snprintf(s, sizeof s, "element-%05d-padding-padding", i);
            kids[i] = v_str(s);
        }
        size_t n;
        uint8_t *d = doc(v_cont(1, N, NULL, kids), &n);
        CHECK(n > 65536);
        int rc;
        lks_err err;
        char *t = text_rc(d, n, &rc, &err);
        REQUIRE(t);
        CHECK(strncmp(t, "[\"element-00000-padding-padding\",\"element-00001", 46) == 0);
        CHECK(strstr(t, "\"element-02999-padding-padding\"]") != NULL);
        CHECK(valid_json(t));
        free(t);
        free(kids);
        free(d);
    }
    /* Exactly 100 levels is MySQL's limit and reads; 101 does not. */
    for (int depth = 100; depth <= 101; depth++) {
        val v = v_lit(0);
        for (int i = 0; i < depth; i++) {
            val kid[] = {v};
            v = v_cont(i % 2, 1, NULL, kid);
        }
        size_t n;
        uint8_t *d = doc(v, &n);
        if (depth == 100) {
            int rc;
            lks_err err;
            char *t = text_rc(d, n, &rc, &err);
            CHECK(t && strlen(t) == 204 && t[99] == '[' && t[100] == 'n');
            free(t);
        } else {
            CHECK(corrupt(d, n));
        }
        free(d);
    }
}

/* ---- the corpus binlog ---------------------------------------------------------- */

/* JSON values of the WRITE_ROWS_V2 events in json-opaque.binlog.  The
 * events are scanned here just enough for this file: a one-column table
 * (JSON, length prefix of 4 bytes), one row per event, CRC32 checksums. */
static void t_corpus_json_opaque(void) {
    char path[4200];
    if (!lks_test_corpus_path(path, sizeof path, "binlog/rust_mysql_common/json-opaque.binlog"))
        SKIP("corpus absent");
    FILE *f = fopen(path, "rb");
    REQUIRE(f);
    static uint8_t buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    REQUIRE(len > 4 && memcmp(buf,
                              "\xfe"
                              "bin",
                              4) == 0);
    static const char *want[] = {
        "{\"a\":\"base64:type15:VQ==\"}", "{\"b\":\"2012-03-18\"}", "{\"c\":\"2012-03-18 11:30:45.000000\"}",
        "{\"c\":\"87:31:46.654321\"}",    "{\"d\":\"123.456\"}",    "{\"e\":\"9.00\"}",
        "{\"e\":[0,1,true,false]}",       "{\"e\":null}",
    };
    size_t found = 0, pos = 4;
    while (pos + 19 <= len) {
        uint8_t type = buf[pos + 4];
        uint32_t size = lks_load_le32(buf + pos + 9);
        REQUIRE(size >= 19 + 4 && pos + size <= len);
        if (type == 30) { /* WRITE_ROWS_V2 */
            const uint8_t *b = buf + pos + 19, *end = buf + pos + size - 4;
            size_t i = 6 + 2;
            REQUIRE(b + i + 2 <= end);
            i += (size_t)(b[i] | b[i + 1] << 8);        /* extra data, its length included */
            REQUIRE(b + i + 3 + 4 <= end && b[i] == 1); /* one column */
            i += 1 + 1 + 1;                             /* count, present bitmap, null bitmap */
            uint32_t jl = lks_load_le32(b + i);
            i += 4;
            REQUIRE(b + i + jl <= end);
            int rc;
            lks_err err;
            char *t = text_rc(b + i, jl, &rc, &err);
            if (!t)
                FAILF("event at %zu: %s", pos, err.msg);
            else if (found < 8 && strcmp(t, want[found]) != 0)
                FAILF("row %zu: %s, expected %s", found, t, want[found]);
            free(t);
            found++;
        }
        pos += size;
    }
    CHECK_EQ_INT(found, 8);
}

/* ---- hostile values ---------------------------------------------------------------- */

static void t_truncations(void) {
    val samples[] = {
        sample_object(0),
        sample_object(1),
        v_i64(-5),
        v_dbl(0.1),
        v_str("a string of some length"),
        v_opaque_i64(12, pack_datetime(2012, 3, 18, 11, 30, 45, 0)),
        v_opaque(246, "\x06\x03\x80\x7b\x01\xc8", 6),
        v_opaque(15, "U", 1),
    };
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        size_t n;
        uint8_t *d = doc(samples[k], &n);
        for (size_t cut = 1; cut < n; cut++) {
            uint8_t *c = malloc(cut); /* exact size: ASan sees any overread */
            memcpy(c, d, cut);
            if (!corrupt(c, cut))
                FAILF("sample %zu cut to %zu of %zu bytes accepted", k, cut, n);
            free(c);
        }
        free(d);
    }
}

static void t_bad_offsets_and_counts(void) {
    size_t n;
    uint8_t *d = doc(sample_object(0), &n);
    /* d: type, count u16, size u16, 5 key entries (4), 5 value entries (3). */
    struct {
        size_t at;
        uint8_t v;
    } muts[] = {
        {3, 0xff},           /* size beyond the input */
        {1, 0xff},           /* count: entries no longer fit */
        {5, 0x01},           /* key 0 offset inside the header */
        {6, 0xff},           /* key 0 offset past the end */
        {7, 0xff},           /* key 0 length past the end */
        {5 + 20 + 3 + 1, 1}, /* value 1 offset inside the header */
        {5 + 20 + 3 + 2, 9}, /* value 1 offset past the end */
        {5 + 20 + 0, 0x0d},  /* unknown type */
        {5 + 20 + 9 + 1, 7}, /* literal 7 */
    };
    for (size_t k = 0; k < sizeof muts / sizeof muts[0]; k++) {
        uint8_t *c = malloc(n);
        memcpy(c, d, n);
        c[muts[k].at] = muts[k].v;
        if (!corrupt(c, n))
            FAILF("mutation %zu accepted", k);
        free(c);
    }
    free(d);
    /* Huge counts with a small size, small and large forms. */
    static const uint8_t huge_small[] = {0x02, 0xff, 0xff, 0x08, 0x00, 0x04, 0x00, 0x00, 0x04};
    static const uint8_t huge_large[] = {0x03, 0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0, 0x04, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t huge_size[] = {0x01, 0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    CHECK(corrupt(huge_small, sizeof huge_small));
    CHECK(corrupt(huge_large, sizeof huge_large));
    CHECK(corrupt(huge_size, sizeof huge_size));
    /* Lengths: a 6-byte varlen, one over 32 bits, a string longer than its bytes. */
    static const uint8_t long_varlen[] = {0x0c, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    static const uint8_t big_varlen[] = {0x0c, 0xff, 0xff, 0xff, 0xff, 0x7f};
    static const uint8_t short_str[] = {0x0c, 0x05, 'a', 'b'};
    static const uint8_t bad_type[] = {0x0d, 0x00};
    static const uint8_t bad_lit[] = {0x04, 0x03};
    CHECK(corrupt(long_varlen, sizeof long_varlen));
    CHECK(corrupt(big_varlen, sizeof big_varlen));
    CHECK(corrupt(short_str, sizeof short_str));
    CHECK(corrupt(bad_type, sizeof bad_type));
    CHECK(corrupt(bad_lit, sizeof bad_lit));
}

/* 200 nested arrays; and arrays whose two entries share one child, 40 deep:
 * 2^40 values of text from a few hundred bytes. */
static void t_bombs(void) {
    enum { DEEP = 200 };
    val v = v_cont(0, 0, NULL, NULL);
    for (int i = 0; i < DEEP; i++) {
        val kid[] = {v};
        v = v_cont(0, 1, NULL, kid);
    }
    size_t dn;
    uint8_t *d = doc(v, &dn);
    CHECK(corrupt(d, dn));
    free(d);

    enum { SHARE = 40 };
    uint8_t share[1 + SHARE * 10 + 4];
    size_t at = 0;
    share[at++] = 0x02;
    for (int i = 0; i < SHARE; i++) {
        /* count 2, size, two entries both pointing at offset 10 (the child) */
        size_t size = (size_t)(SHARE - i) * 10 + 4;
        uint8_t h[10] = {2, 0, (uint8_t)size, (uint8_t)(size >> 8), 0x02, 10, 0, 0x02, 10, 0};
        memcpy(share + at, h, 10);
        at += 10;
    }
    static const uint8_t empty[4] = {0, 0, 4, 0};
    memcpy(share + at, empty, 4);
    at += 4;
    int rc;
    lks_err err;
    char *t = text_rc(share, at, &rc, &err);
    CHECK(!t && rc == LKS_ECORRUPT);
    CHECK(strstr(err.msg, "overlap") != NULL);
    free(t);
}

/* Every single-byte change of the samples, and random bytes: OK with valid
 * JSON text or LKS_ECORRUPT, nothing else (run under ASan too). */
static void t_mutations_and_noise(void) {
    val samples[] = {sample_object(0), sample_object(1), v_opaque(246, "\x06\x03\x80\x7b\x01\xc8", 6)};
    static const uint8_t bytes[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x07, 0x0b, 0x0c, 0x0f, 0x7f, 0x80, 0xfe, 0xff};
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        size_t n;
        uint8_t *d = doc(samples[k], &n);
        for (size_t i = 0; i < n; i++)
            for (size_t b = 0; b < sizeof bytes; b++) {
                uint8_t *c = malloc(n);
                memcpy(c, d, n);
                c[i] = bytes[b];
                int rc;
                lks_err err;
                char *t = text_rc(c, n, &rc, &err);
                if (t ? !valid_json(t) : rc != LKS_ECORRUPT)
                    FAILF("sample %zu byte %zu = 0x%02x: rc %d text %s", k, i, bytes[b], rc, t ? t : "-");
                free(t);
                free(c);
            }
        free(d);
    }
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t c[64];
        size_t n = 1 + (size_t)(iter % 63);
        for (size_t i = 0; i < n; i++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            c[i] = (uint8_t)seed;
        }
        c[0] %= 0x10; /* a plausible type byte */
        uint8_t *e = malloc(n);
        memcpy(e, c, n);
        int rc;
        lks_err err;
        char *t = text_rc(e, n, &rc, &err);
        if (t ? !valid_json(t) : rc != LKS_ECORRUPT)
            FAILF("noise %d: rc %d", iter, rc);
        free(t);
        free(e);
    }
}

static void t_output_kept_on_error(void) {
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_buf_append(&b, "prefix", 6);
    static const uint8_t bad[] = {0x02, 0x02, 0x00, 0x0a, 0x00, 0x04, 0x01, 0x00, 0x04, 0x09, 0x00};
    lks_err err;
    CHECK_EQ_INT(lks_mysql_json_text(bad, sizeof bad, &b, &err), LKS_ECORRUPT);
    CHECK(b.len == 6 && memcmp(b.ptr, "prefix", 6) == 0);
    CHECK(strstr(err.msg, "byte") != NULL);
    lks_buf_free(&b);
}

/* ---- diffs ------------------------------------------------------------------------- */

/* A diff list under construction. */
typedef struct diffs {
    lks_buf b;
} diffs;

static void put_lenenc(lks_buf *b, size_t v) {
    if (v < 251) {
        lks_buf_append_byte(b, (uint8_t)v);
    } else if (v < 65536) {
        uint8_t h[3] = {252, (uint8_t)v, (uint8_t)(v >> 8)};
        lks_buf_append(b, h, 3);
    } else {
        uint8_t h[4] = {253, (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16)};
        lks_buf_append(b, h, 4);
    }
}

/* Appends one diff; v (freed) is ignored for REMOVE (op 2). */
static void add_diff(lks_buf *b, int op, const char *path, val v) {
    lks_buf_append_byte(b, (uint8_t)op);
    put_lenenc(b, strlen(path));
    lks_buf_append(b, path, strlen(path));
    if (op != 2) {
        size_t n;
        uint8_t *d = doc(v, &n);
        put_lenenc(b, n);
        lks_buf_append(b, d, n);
        free(d);
    } else {
        free(v.p);
    }
}

static val none(void) { return mk(0, NULL, 0); }

/* Applies b to before; returns the text or NULL with *rc. */
static char *apply_rc(const char *before, const lks_buf *b, int *rc, lks_err *err) {
    lks_buf out;
    lks_buf_init(&out, 0);
    lks_err_clear(err);
    *rc = lks_mysql_json_apply_diff(before, strlen(before), b->ptr, b->len, &out, err);
    if (*rc) {
        lks_buf_free(&out);
        return NULL;
    }
    lks_buf_cstr(&out);
    return (char *)lks_buf_detach(&out, NULL);
}

#define CHECK_APPLY(before, b, want)                                                                                   \
    do {                                                                                                               \
        int rc_;                                                                                                       \
        lks_err e_;                                                                                                    \
        char *t_ = apply_rc((before), (b), &rc_, &e_);                                                                 \
        if (!t_)                                                                                                       \
            FAILF("%s: rc %d: %s", (want), rc_, e_.msg);                                                               \
        else                                                                                                           \
            CHECK_EQ_STR(t_, (want));                                                                                  \
        free(t_);                                                                                                      \
    } while (0)

#define CHECK_APPLY_FAILS(before, b, code)                                                                             \
    do {                                                                                                               \
        int rc_;                                                                                                       \
        lks_err e_;                                                                                                    \
        char *t_ = apply_rc((before), (b), &rc_, &e_);                                                                 \
        if (t_ || rc_ != (code))                                                                                       \
            FAILF("expected %d, got rc %d (%s) %s", (code), rc_, e_.msg, t_ ? t_ : "");                                \
        free(t_);                                                                                                      \
    } while (0)

static void t_diff_operations(void) {
    lks_buf b;
    lks_buf_init(&b, 0);

    add_diff(&b, 0, "$.a", v_i16(3));
    CHECK_APPLY("{\"a\":1,\"b\":2}", &b, "{\"a\":3,\"b\":2}");
    CHECK_APPLY_FAILS("{\"b\":2}", &b, LKS_ECORRUPT);
    CHECK_APPLY_FAILS("[1,2,3]", &b, LKS_ECORRUPT);
    CHECK_APPLY_FAILS("123", &b, LKS_ECORRUPT);

    lks_buf_reset(&b);
    add_diff(&b, 0, "$.a[1]", v_i16(3));
    CHECK_APPLY("{\"a\":[1,2],\"b\":2}", &b, "{\"a\":[1,3],\"b\":2}");
    CHECK_APPLY_FAILS("{\"a\":2}", &b, LKS_ECORRUPT);
    CHECK_APPLY_FAILS("{\"a\":[1]}", &b, LKS_ECORRUPT);

    lks_buf_reset(&b);
    add_diff(&b, 1, "$.a[2]", v_i16(3));
    CHECK_APPLY("{\"a\":[]}", &b, "{\"a\":[3]}");
    CHECK_APPLY("{\"a\":[1]}", &b, "{\"a\":[1,3]}");
    CHECK_APPLY("{\"a\":[1,2]}", &b, "{\"a\":[1,2,3]}");
    CHECK_APPLY("{\"a\":[1,2,4]}", &b, "{\"a\":[1,2,3,4]}");
    CHECK_APPLY_FAILS("{\"a\":1,\"b\":2}", &b, LKS_ECORRUPT);
    CHECK_APPLY_FAILS("[]", &b, LKS_ECORRUPT);

    lks_buf_reset(&b);
    add_diff(&b, 1, "$[0]", v_str("first"));
    CHECK_APPLY("[1,2]", &b, "[\"first\",1,2]");

    /* A new member goes where MySQL's key order puts it. */
    lks_buf_reset(&b);
    add_diff(&b, 1, "$.a.b", v_i16(3));
    CHECK_APPLY("{\"a\":{\"c\":1}}", &b, "{\"a\":{\"b\":3,\"c\":1}}");
    CHECK_APPLY("{\"a\":{\"a\":1}}", &b, "{\"a\":{\"a\":1,\"b\":3}}");
    CHECK_APPLY("{\"a\":{\"c\":1,\"aa\":2}}", &b, "{\"a\":{\"b\":3,\"c\":1,\"aa\":2}}");
    CHECK_APPLY("{\"a\":{}}", &b, "{\"a\":{\"b\":3}}");
    CHECK_APPLY_FAILS("{}", &b, LKS_ECORRUPT);
    CHECK_APPLY_FAILS("[]", &b, LKS_ECORRUPT);
    CHECK_APPLY_FAILS("{\"a\":{\"b\":1}}", &b, LKS_ECORRUPT); /* INSERT of an existing member */

    lks_buf_reset(&b);
    add_diff(&b, 2, "$.a.b", none());
    CHECK_APPLY("{\"a\":{\"b\":3,\"c\":1}}", &b, "{\"a\":{\"c\":1}}");
    CHECK_APPLY_FAILS("{}", &b, LKS_ECORRUPT);
    CHECK_APPLY_FAILS("{\"a\":{\"c\":1}}", &b, LKS_ECORRUPT);

    lks_buf_reset(&b);
    add_diff(&b, 2, "$[last]", none());
    CHECK_APPLY("[1,2,3]", &b, "[1,2]");
    CHECK_APPLY_FAILS("[]", &b, LKS_ECORRUPT);
    lks_buf_reset(&b);
    add_diff(&b, 0, "$[last-1]", v_lit(0));
    CHECK_APPLY("[1,2,3]", &b, "[1,null,3]");
    CHECK_APPLY_FAILS("[1]", &b, LKS_ECORRUPT);

    /* Quoted keys. */
    lks_buf_reset(&b);
    add_diff(&b, 0, "$.\"a b\".\"q\\\"x\"", v_lit(1));
    CHECK_APPLY("{\"a b\":{\"q\\\"x\":0}}", &b, "{\"a b\":{\"q\\\"x\":true}}");

    /* Several diffs apply in order. */
    lks_buf_reset(&b);
    add_diff(&b, 1, "$.list[5]", v_i16(4));
    add_diff(&b, 2, "$.list[0]", none());
    add_diff(&b, 0, "$.name", v_str("new"));
    {
        val kids[] = {v_lit(1), v_str("x")};
        add_diff(&b, 1, "$.obj", v_cont(0, 2, (const char *const[]){"k", "kk"}, kids));
    }
    CHECK_APPLY("{\"name\":\"old\",\"list\":[1,2,3]}", &b,
                "{\"obj\":{\"k\":true,\"kk\":\"x\"},\"name\":\"new\",\"list\":[2,3,4]}");

    /* An empty diff list leaves the document as it is (reprinted). */
    lks_buf_reset(&b);
    CHECK_APPLY(" { \"a\" : [ 1 , 2.50 ] } ", &b, "{\"a\":[1,2.5]}");
    lks_buf_free(&b);
}

/* Values other than the diff's target print exactly as before: doubles,
 * int64 extremes, uint64 beyond int64, strings that look like numbers. */
static void t_diff_keeps_values(void) {
    lks_buf b;
    lks_buf_init(&b, 0);
    add_diff(&b, 0, "$.i", v_i16(5));
    const char *before = "{\"d\":0.1,\"i\":1,\"u\":18446744073709551615,\"e\":1e300,\"z\":-0.0,\"one\":1.0,"
                         "\"s\":\"18446744073709551615\",\"m\":-9223372036854775808,\"x\":9223372036854775807,"
                         "\"arr\":[9223372036854775808,{\"k\":\"v\",\"w\":12345678901234567890}],\"t\":1e-7}";
    CHECK_APPLY(before, &b,
                "{\"d\":0.1,\"i\":5,\"u\":18446744073709551615,\"e\":1e300,\"z\":-0.0,\"one\":1.0,"
                "\"s\":\"18446744073709551615\",\"m\":-9223372036854775808,\"x\":9223372036854775807,"
                "\"arr\":[9223372036854775808,{\"k\":\"v\",\"w\":12345678901234567890}],\"t\":0.0000001}");
    /* Values put by diffs keep their own forms too. */
    lks_buf_reset(&b);
    add_diff(&b, 0, "$.a", v_u64(UINT64_MAX));
    add_diff(&b, 1, "$.b", v_dbl(1e20));
    add_diff(&b, 1, "$.c", v_opaque_i64(10, pack_datetime(2012, 3, 18, 0, 0, 0, 0)));
    add_diff(&b, 1, "$.dd", v_dbl(2.0));
    CHECK_APPLY("{\"a\":0}", &b, "{\"a\":18446744073709551615,\"b\":1e20,\"c\":\"2012-03-18\",\"dd\":2.0}");
    /* A removed big number's memory must not make a later string print raw. */
    for (int k = 0; k < 4; k++) {
        lks_buf_reset(&b);
        add_diff(&b, 2, "$.a", none());
        add_diff(&b, 1, "$.b", v_str("18446744073709551614"));
        add_diff(&b, 0, "$.c", v_str("x"));
        CHECK_APPLY("{\"a\":18446744073709551615,\"c\":18446744073709551613}", &b,
                    "{\"b\":\"18446744073709551614\",\"c\":\"x\"}");
    }
    lks_buf_free(&b);
}

/* Text of a binary document after a diff equals the text of the binary
 * after image: the two printers agree. */
static void t_diff_matches_binary_printer(void) {
    static const double ds[] = {0.1, 1e300, -0.0, 1e20, 1e15, 1e-16, 123.0, 5e-324};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        val kids_before[] = {v_dbl(ds[k]), v_u64(UINT64_MAX - k), v_str("s\x01"), v_i64(INT64_MIN)};
        val kids_after[] = {v_dbl(ds[k]), v_u64(UINT64_MAX - k), v_str("s\x01"), v_i64(INT64_MIN), v_dbl(-ds[k])};
        static const char *kb[] = {"d", "u", "st", "neg"};
        static const char *ka[] = {"d", "u", "st", "neg", "new1"};
        size_t nb, na;
        uint8_t *db = doc(v_cont(0, 4, kb, kids_before), &nb);
        uint8_t *da = doc(v_cont(0, 5, ka, kids_after), &na);
        int rc;
        lks_err err;
        char *tb = text_rc(db, nb, &rc, &err);
        char *ta = text_rc(da, na, &rc, &err);
        REQUIRE(tb && ta);
        lks_buf b;
        lks_buf_init(&b, 0);
        add_diff(&b, 1, "$.new1", v_dbl(-ds[k]));
        CHECK_APPLY(tb, &b, ta);
        lks_buf_free(&b);
        free(tb);
        free(ta);
        free(db);
        free(da);
    }
}

static void t_diff_hostile(void) {
    lks_buf b;
    lks_buf_init(&b, 0);
    /* Every strict prefix of one diff is corrupt. */
    add_diff(&b, 1, "$.key[3]", v_str("value"));
    for (size_t cut = 1; cut < b.len; cut++) {
        lks_buf c;
        lks_buf_init(&c, 0);
        lks_buf_append(&c, b.ptr, cut);
        CHECK_APPLY_FAILS("{\"key\":[]}", &c, LKS_ECORRUPT);
        lks_buf_free(&c);
    }
    CHECK_APPLY("{\"key\":[]}", &b, "{\"key\":[\"value\"]}");
    /* Bad operation, NULL length, path syntax. */
    static const uint8_t bad_op[] = {3, 1, '$'};
    static const uint8_t null_len[] = {2, 251};
    lks_buf c;
    lks_buf_init(&c, 0);
    lks_buf_append(&c, bad_op, sizeof bad_op);
    CHECK_APPLY_FAILS("{}", &c, LKS_ECORRUPT);
    lks_buf_reset(&c);
    lks_buf_append(&c, null_len, sizeof null_len);
    CHECK_APPLY_FAILS("{}", &c, LKS_ECORRUPT);
    static const char *bad_paths[] = {"",          "a",        "$.", "$[",       "$[x]",
                                      "$[1",       "$.\"open", "$a", "$[last-]", "$[99999999999999999999]",
                                      "$.\"\\x\"", "$.a\xff"};
    for (size_t k = 0; k < sizeof bad_paths / sizeof bad_paths[0]; k++) {
        lks_buf_reset(&c);
        add_diff(&c, 2, bad_paths[k], none());
        CHECK_APPLY_FAILS("{\"a\":[1]}", &c, LKS_ECORRUPT);
    }
    lks_buf_reset(&c);
    add_diff(&c, 2, "$.*", none());
    CHECK_APPLY_FAILS("{\"a\":1}", &c, LKS_EUNSUPPORTED);
    lks_buf_reset(&c);
    add_diff(&c, 2, "$[*]", none());
    CHECK_APPLY_FAILS("[1]", &c, LKS_EUNSUPPORTED);
    /* The whole document is never a diff target. */
    lks_buf_reset(&c);
    add_diff(&c, 0, "$", v_lit(0));
    CHECK_APPLY_FAILS("{}", &c, LKS_ECORRUPT);
    /* A corrupt value inside a diff. */
    lks_buf_reset(&c);
    {
        static const uint8_t diff[] = {0, 3, '$', '.', 'a', 2, 0x04, 0x09};
        lks_buf_append(&c, diff, sizeof diff);
    }
    CHECK_APPLY_FAILS("{\"a\":1}", &c, LKS_ECORRUPT);
    /* Bad before texts. */
    lks_buf_reset(&c);
    add_diff(&c, 0, "$.a", v_lit(0));
    static const char *bad_before[] = {"",
                                       "{",
                                       "{\"a\":1,\"a\":2}",
                                       "{\"a\":1} x",
                                       "{18446744073709551615:1}",
                                       "{\"a\":018446744073709551615}",
                                       "[1e400]",
                                       "{\"a\":\"\xff\"}"};
    for (size_t k = 0; k < sizeof bad_before / sizeof bad_before[0]; k++)
        CHECK_APPLY_FAILS(bad_before[k], &c, LKS_ECORRUPT);
    CHECK_APPLY_FAILS("{\"a\":1,\"b\\u0000\":2}", &c, LKS_EUNSUPPORTED);
    {
        /* 200 and 101 levels: past MySQL's limit; 100 levels read. */
        char deep[512];
        for (int levels = 99; levels <= 200; levels += 101) {
            int n = 0;
            deep[n++] = '{', deep[n++] = '"', deep[n++] = 'a', deep[n++] = '"', deep[n++] = ':';
            for (int i = 0; i < levels; i++)
                deep[n++] = '[';
            for (int i = 0; i < levels; i++)
                deep[n++] = ']';
            deep[n++] = '}', deep[n] = 0;
            if (levels == 99) {
                int rc;
                lks_err err;
                char *t = apply_rc(deep, &c, &rc, &err);
                CHECK(t && strcmp(t, "{\"a\":null}") == 0);
                free(t);
            } else {
                CHECK_APPLY_FAILS(deep, &c, LKS_ECORRUPT);
            }
        }
    }
    /* A diff that would nest past 100 levels. */
    {
        val v = v_cont(0, 0, NULL, NULL);
        for (int i = 0; i < 99; i++) {
            val kid[] = {v};
            v = v_cont(0, 1, NULL, kid);
        }
        lks_buf_reset(&c);
        add_diff(&c, 0, "$.a", v);
        CHECK_APPLY_FAILS("{\"a\":{\"b\":1}}", &c, LKS_ECORRUPT);
        lks_buf_reset(&c);
        v = v_cont(0, 0, NULL, NULL);
        for (int i = 0; i < 98; i++) {
            val kid[] = {v};
            v = v_cont(0, 1, NULL, kid);
        }
        add_diff(&c, 0, "$.a", v);
        int rc;
        lks_err err;
        char *t = apply_rc("{\"a\":1}", &c, &rc, &err);
        CHECK(t != NULL);
        free(t);
    }
    lks_buf_free(&c);
    /* Every single-byte change of a diff list: OK or ECORRUPT/EUNSUPPORTED. */
    lks_buf_reset(&b);
    add_diff(&b, 1, "$.k[1]", v_str("v"));
    add_diff(&b, 0, "$.\"q\"", v_i32(7));
    add_diff(&b, 2, "$.k[0]", none());
    static const uint8_t bytes[] = {0x00, 0x01, 0x02, 0x03, 0x22, 0x24, 0x2e, 0x5b, 0x5d, 0x7f, 0xfb, 0xfc, 0xff};
    for (size_t i = 0; i < b.len; i++)
        for (size_t k = 0; k < sizeof bytes; k++) {
            lks_buf m;
            lks_buf_init(&m, 0);
            lks_buf_append(&m, b.ptr, b.len);
            m.ptr[i] = bytes[k];
            int rc;
            lks_err err;
            char *t = apply_rc("{\"k\":[1,2],\"q\":0}", &m, &rc, &err);
            if (t ? !valid_json(t) : (rc != LKS_ECORRUPT && rc != LKS_EUNSUPPORTED))
                FAILF("diff byte %zu = 0x%02x: rc %d", i, bytes[k], rc);
            free(t);
            lks_buf_free(&m);
        }
    lks_buf_free(&b);
}

int main(void) {
    RUN(t_literals_and_ints);
    RUN(t_doubles);
    RUN(t_strings);
    RUN(t_opaque);
    RUN(t_containers);
    RUN(t_corpus_json_opaque);
    RUN(t_truncations);
    RUN(t_bad_offsets_and_counts);
    RUN(t_bombs);
    RUN(t_mutations_and_noise);
    RUN(t_output_kept_on_error);
    RUN(t_diff_operations);
    RUN(t_diff_keeps_values);
    RUN(t_diff_matches_binary_printer);
    RUN(t_diff_hostile);
    return lks_test_done();
}
