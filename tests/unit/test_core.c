/* test_core.c — core: errors, buffers, arenas, hashing, time, text helpers. */
#include "core/core.h"
#include "harness.h"

#include <float.h>
#include <math.h>

/* ---- errors, buffers, arenas ------------------------------------------------ */

static void t_err_prefix(void) {
    lks_err err;
    lks_err_clear(&err);
    CHECK_EQ_INT(err.code, LKS_OK);
    /* prefixing an empty error is a bug report, not a silent OK */
    CHECK_EQ_INT(lks_err_prefix(&err, "ctx"), LKS_EINTERNAL);
    CHECK_EQ_INT(lks_err_prefix(NULL, "ctx"), LKS_EINTERNAL);
    CHECK_EQ_INT(lks_err_set(&err, LKS_ECORRUPT, "bad byte at %d", 7), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_err_prefix(&err, "file %s", "a.parquet"), LKS_ECORRUPT);
    CHECK_EQ_STR(err.msg, "file a.parquet: bad byte at 7");
    /* an over-long prefix is truncated, never overflows */
    char longctx[600];
    memset(longctx, 'x', sizeof longctx - 1);
    longctx[sizeof longctx - 1] = 0;
    CHECK_EQ_INT(lks_err_prefix(&err, "%s", longctx), LKS_ECORRUPT);
    CHECK_EQ_INT(strlen(err.msg), sizeof err.msg - 1);
    CHECK_EQ_INT(lks_err_set(NULL, LKS_EIO, "x"), LKS_EIO);
    CHECK_EQ_STR(lks_strerror(LKS_EEXIST), "already exists");
    CHECK_EQ_STR(lks_strerror(12345), "unknown error");
}

static void t_buf_cap_frees(void) {
    lks_buf b;
    lks_buf_init(&b, 16);
    CHECK_OK(lks_buf_append(&b, "0123456789", 10), (lks_err *)NULL);
    CHECK_EQ_INT(b.len, 10);
    /* 10 + 7 > 16: fails and frees the buffer */
    CHECK_EQ_INT(lks_buf_append(&b, "abcdefg", 7), LKS_ELIMIT);
    CHECK(b.ptr == NULL);
    CHECK_EQ_INT(b.len, 0);
    /* usable again afterwards, up to the cap */
    CHECK_OK(lks_buf_append(&b, "0123456789abcdef", 15), (lks_err *)NULL);
    CHECK_OK(lks_buf_cstr(&b), (lks_err *)NULL);
    CHECK_EQ_STR((char *)b.ptr, "0123456789abcde");
    CHECK_EQ_INT(lks_buf_printf(&b, "%s", "xy"), LKS_ELIMIT);
    CHECK(b.ptr == NULL);
    lks_buf_free(&b);
    lks_buf_init(&b, 0);
    CHECK_OK(lks_buf_printf(&b, "%d-%s", 42, "z"), (lks_err *)NULL);
    size_t len;
    uint8_t *p = lks_buf_detach(&b, &len);
    CHECK_EQ_INT(len, 4);
    CHECK(memcmp(p, "42-z", 4) == 0);
    CHECK(b.ptr == NULL && b.len == 0);
    free(p);
}

static void t_arena_caps(void) {
    lks_arena a;
    lks_arena_init(&a, 1000);
    void *p = lks_arena_alloc(&a, 500);
    REQUIRE(p != NULL);
    CHECK(((uintptr_t)p & 15) == 0);
    CHECK(lks_arena_alloc(&a, 600) == NULL); /* past the cap */
    CHECK(lks_arena_alloc(&a, 400) != NULL);
    CHECK(lks_arena_alloc(&a, SIZE_MAX) == NULL);
    lks_arena_reset(&a);
    CHECK_EQ_INT(a.used_total, 0);
    char *s = lks_arena_printf(&a, "%s=%d", "k", 5);
    CHECK_EQ_STR(s, "k=5");
    CHECK_EQ_STR(lks_arena_strndup(&a, "hello", 3), "hel");
    lks_arena_free(&a);
    /* large one-off blocks and many small ones */
    lks_arena_init(&a, 0);
    for (int i = 0; i < 1000; i++) {
        uint8_t *q = lks_arena_alloc(&a, (size_t)(i % 97) + 1);
        REQUIRE(q != NULL);
        memset(q, i & 0xFF, (size_t)(i % 97) + 1);
    }
    CHECK(lks_arena_alloc(&a, 10u << 20) != NULL);
    lks_arena_free(&a);
}

/* ---- hashing ------------------------------------------------------------------- */

/* lks_bytes_cmp orders as memcmp then length, at every length and split point. */
static void t_bytes_cmp(void) {
    uint64_t x = 88172645463325252ull;
    int bad = 0;
    for (int it = 0; it < 200000; it++) {
        uint8_t a[40], b[40];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t na = x % 33, nb = (x >> 8) % 33, common = (x >> 16) % 34;
        for (size_t i = 0; i < sizeof a; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            a[i] = (uint8_t)x;
            b[i] = i < common ? a[i] : (uint8_t)(x >> 8 & (x & 0x100 ? 0xff : 0x81)); /* high bits too */
        }
        if (x & 0x200) nb = na;
        size_t n = na < nb ? na : nb;
        int r = memcmp(a, b, n);
        int want = r ? (r > 0) - (r < 0) : (na > nb) - (na < nb);
        int got = lks_bytes_cmp(a, na, b, nb);
        if ((got > 0) - (got < 0) != want) bad++;
        if (lks_bytes_eq(a, b, n) != (memcmp(a, b, n) == 0)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(lks_bytes_cmp(NULL, 0, NULL, 0), 0);
    CHECK(lks_bytes_cmp((const uint8_t *)"", 0, (const uint8_t *)"a", 1) < 0);
    CHECK(lks_bytes_cmp((const uint8_t *)"\x80zzzzzzzz", 9, (const uint8_t *)"\x7fzzzzzzzz", 9) > 0);
}

static void t_hashes(void) {
    /* XXH64 reference values (seed 0) */
    CHECK(lks_xxh64("", 0, 0) == UINT64_C(0xEF46DB3751D8E999));
    CHECK(lks_xxh64("a", 1, 0) == UINT64_C(0xD24EC4F1A98C6E5B));
    CHECK(lks_xxh64("abc", 3, 0) == UINT64_C(0x44BC2CF5AD770999));
    CHECK(lks_xxh64("abc", 3, 1) != lks_xxh64("abc", 3, 0));
    /* CRC-32 check value, and continuation */
    CHECK(lks_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(lks_crc32(lks_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
    CHECK(lks_crc32(0, "", 0) == 0);
    CHECK(lks_hash("abc", 3) == lks_hash("abc", 3));
    CHECK(lks_hash("abc", 3) != lks_hash("abd", 3));
}

/* CRC-32 one bit at a time, as the polynomial defines it. */
static uint32_t crc32_bitwise(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? crc >> 1 ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

/* Every length and alignment around the folding path's 16- and 64-byte
 * blocks, a start value carried over, and a long input. */
static void t_crc32_lengths(void) {
    enum { BIG = 1 << 20 };
    uint8_t *d = malloc(BIG);
    REQUIRE(d);
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < BIG; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        d[i] = (uint8_t)x;
    }
    int bad = 0;
    for (size_t len = 0; len <= 300; len++)
        for (size_t off = 0; off < 8; off++) {
            uint32_t start = len % 3 ? (uint32_t)(len * 2654435761u) : 0;
            uint32_t want = crc32_bitwise(start, d + off, len), got = lks_crc32(start, d + off, len);
            if (want != got && bad++ < 3)
                FAILF("crc32 of %zu bytes at offset %zu: %08x, want %08x", len, off, got, want);
        }
    CHECK(lks_crc32(0, d + 3, BIG - 3) == crc32_bitwise(0, d + 3, BIG - 3));
    CHECK(lks_crc32(lks_crc32(0, d, 1000), d + 1000, BIG - 1000) == crc32_bitwise(0, d, BIG));
    free(d);
}

/* ---- digits ---------------------------------------------------------------------- */

static void t_put_digits(void) {
    char got[24], want[32];
    int bad = 0;
    uint64_t x = 88172645463325252u, p10 = 1;
    for (int i = 0; i < 200000; i++) {
        uint64_t u;
        if (i < 64 * 5) /* around every power of two */
            u = (UINT64_C(1) << (i / 5)) + (uint64_t)(i % 5) - 2;
        else if (i < 64 * 5 + 20 * 3) { /* around every power of ten */
            int k = (i - 64 * 5) / 3;
            p10 = 1;
            for (int j = 0; j < k; j++)
                p10 *= 10;
            u = p10 + (uint64_t)((i - 64 * 5) % 3) - 1;
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            u = x >> (x % 64);
        }
        *lks_put_u64(got, u) = 0;
        snprintf(want, sizeof want, "%" PRIu64, u);
        if (strcmp(got, want) != 0 && bad++ < 3)
            FAILF("lks_put_u64: %s, want %s", got, want);
        int64_t v = (int64_t)u;
        *lks_put_i64(got, v) = 0;
        snprintf(want, sizeof want, "%" PRId64, v);
        if (strcmp(got, want) != 0 && bad++ < 3)
            FAILF("lks_put_i64: %s, want %s", got, want);
    }
    *lks_put_i64(got, INT64_MIN) = 0;
    CHECK_EQ_STR(got, "-9223372036854775808");
    *lks_put_u64(got, UINT64_MAX) = 0;
    CHECK_EQ_STR(got, "18446744073709551615");
    *lks_put_u64(got, 0) = 0;
    CHECK_EQ_STR(got, "0");
}

/* ---- time ----------------------------------------------------------------------- */

static void t_civil_table(void) {
    static const struct {
        int64_t y;
        unsigned m, d;
        int64_t days;
        const char *text;
    } cases[] = {
        {1970, 1, 1, 0, "1970-01-01"},
        {1969, 12, 31, -1, "1969-12-31"},
        {2000, 2, 29, 11016, "2000-02-29"},
        {2000, 3, 1, 11017, "2000-03-01"},
        {1900, 3, 1, -25508, "1900-03-01"},
        {9999, 12, 31, 2932896, "9999-12-31"},
        {10000, 1, 1, 2932897, "+10000-01-01"},
        {1, 1, 1, -719162, "0001-01-01"},
        {0, 12, 31, -719163, "0000-12-31"},
        {0, 3, 1, -719468, "0000-03-01"},
        {0, 2, 29, -719469, "0000-02-29"}, /* year 0 is a leap year */
        {0, 1, 1, -719528, "0000-01-01"},
        {-1, 12, 31, -719529, "-0001-12-31"},
        {-1, 1, 1, -719893, "-0001-01-01"},
        {-4713, 11, 24, -2440588, "-4713-11-24"}, /* Julian day 0 */
        {-10000, 1, 1, -4371953, "-10000-01-01"},
        {-9999, 1, 1, -4371587, "-9999-01-01"},
        {2024, 2, 29, 19782, "2024-02-29"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t days = lks_days_from_civil(cases[i].y, cases[i].m, cases[i].d);
        if (days != cases[i].days)
            FAILF("days_from_civil(%s) = %lld, want %lld", cases[i].text, (long long)days, (long long)cases[i].days);
        int64_t y;
        unsigned m, d;
        lks_civil_from_days(cases[i].days, &y, &m, &d);
        if (y != cases[i].y || m != cases[i].m || d != cases[i].d)
            FAILF("civil_from_days(%lld) = %lld-%u-%u, want %s", (long long)cases[i].days, (long long)y, m, d,
                  cases[i].text);
        char out[32];
        int n = lks_fmt_date(out, cases[i].days);
        CHECK_EQ_STR(out, cases[i].text);
        CHECK_EQ_INT(n, strlen(cases[i].text));
    }
}

static void t_civil_roundtrip_and_extremes(void) {
    /* every day over a wide window round-trips and advances by one */
    int64_t py = 0;
    unsigned pm = 0, pd = 0;
    for (int64_t days = -800000; days <= 3000000; days += 1) {
        int64_t y;
        unsigned m, d;
        lks_civil_from_days(days, &y, &m, &d);
        if (lks_days_from_civil(y, m, d) != days) {
            FAILF("round trip of day %lld", (long long)days);
            return;
        }
        if (days > -800000 && !(d == pd + 1 || (d == 1 && (m == pm + 1 || (m == 1 && pm == 12 && y == py + 1))))) {
            FAILF("day %lld does not follow its predecessor", (long long)days);
            return;
        }
        py = y, pm = m, pd = d;
    }
    /* the whole int64 range: no overflow (UBSan watches), sane fields */
    int64_t extremes[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, INT64_MAX / 2, INT64_MIN / 2};
    for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++) {
        int64_t y;
        unsigned m, d;
        lks_civil_from_days(extremes[i], &y, &m, &d);
        CHECK(m >= 1 && m <= 12 && d >= 1 && d <= 31);
        CHECK(lks_days_from_civil(y, m, d) == extremes[i]);
        char out[32];
        int n = lks_fmt_date(out, extremes[i]);
        CHECK(n > 10 && n < 32);
    }
    char out[32];
    lks_fmt_date(out, INT64_MIN);
    CHECK_EQ_STR(out, "-25252734927764585-06-07");
    lks_fmt_date(out, INT64_MAX);
    CHECK_EQ_STR(out, "+25252734927768524-07-27");
    /* years on both sides of where the 64-bit shortcut ends (|y| = 2^40):
     * whole years apart, and the days map back to them */
    for (int sign = -1; sign <= 1; sign += 2)
        for (int64_t k = -3; k <= 3; k++) {
            int64_t y0 = sign * (INT64_C(1) << 40) + k;
            int64_t a = lks_days_from_civil(y0, 1, 1), b = lks_days_from_civil(y0 + 1, 1, 1);
            int leap = ((y0 % 4 == 0 && y0 % 100 != 0) || y0 % 400 == 0);
            CHECK_EQ_INT(b - a, 365 + leap);
            int64_t y;
            unsigned m, d;
            lks_civil_from_days(a + 59, &y, &m, &d);
            CHECK(y == y0 && m == (leap ? 2u : 3u) && d == (leap ? 29u : 1u));
        }
    /* far years saturate instead of overflowing */
    CHECK(lks_days_from_civil(INT64_MAX, 12, 31) == INT64_MAX);
    CHECK(lks_days_from_civil(INT64_MIN, 1, 1) == INT64_MIN);
    CHECK(lks_days_from_civil(INT64_C(25252734927768524), 7, 28) == INT64_MAX);
    CHECK(lks_days_from_civil(INT64_C(-25252734927764585), 6, 6) == INT64_MIN);
}

static void t_timestamps(void) {
    static const struct {
        int64_t us;
        const char *utc;
    } ts[] = {
        {0, "1970-01-01T00:00:00.000000Z"},
        {1, "1970-01-01T00:00:00.000001Z"},
        {-1, "1969-12-31T23:59:59.999999Z"},
        {1700000000123456, "2023-11-14T22:13:20.123456Z"},
        {253402300799999999, "9999-12-31T23:59:59.999999Z"},
        {-62135596800000000, "0001-01-01T00:00:00.000000Z"},
        {-62167219200000000, "0000-01-01T00:00:00.000000Z"},
        {INT64_MIN, "-290308-12-21T19:59:05.224192Z"},
        {INT64_MAX, "+294247-01-10T04:00:54.775807Z"},
    };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        char out[40];
        int n = lks_fmt_timestamp_us(out, ts[i].us, 1);
        CHECK_EQ_STR(out, ts[i].utc);
        CHECK_EQ_INT(n, strlen(ts[i].utc));
        lks_fmt_timestamp_us(out, ts[i].us, 0);
        CHECK(strncmp(out, ts[i].utc, strlen(ts[i].utc) - 1) == 0 && strlen(out) == strlen(ts[i].utc) - 1);
        int64_t back = 0;
        CHECK_OK(lks_parse_timestamp_us(ts[i].utc, strlen(ts[i].utc), &back), (lks_err *)NULL);
        CHECK(back == ts[i].us);
    }
    static const struct {
        int64_t us;
        const char *text;
    } tod[] = {
        {0, "00:00:00.000000"},           {86399999999, "23:59:59.999999"},
        {-1, "-00:00:00.000001"},         {-3723000004, "-01:02:03.000004"},
        {90000000000, "25:00:00.000000"}, {INT64_MIN, "-2562047788:00:54.775808"},
    };
    for (size_t i = 0; i < sizeof tod / sizeof tod[0]; i++) {
        char out[40];
        int n = lks_fmt_time_us(out, tod[i].us);
        CHECK_EQ_STR(out, tod[i].text);
        CHECK_EQ_INT(n, strlen(tod[i].text));
    }
}

static void t_parse_timestamp(void) {
    static const struct {
        const char *in;
        int rc;
        int64_t us;
    } cases[] = {
        {"2023-11-14", LKS_OK, 1699920000000000},
        {"2023-11-14T22:13", LKS_OK, 1699999980000000},
        {"2023-11-14 22:13:20", LKS_OK, 1700000000000000},
        {"2023-11-14T22:13:20.1", LKS_OK, 1700000000100000},
        {"2023-11-14T22:13:20.123456789Z", LKS_OK, 1700000000123456},
        {"2023-11-14T23:13:20+01:00", LKS_OK, 1700000000000000},
        {"2023-11-14T21:13:20-0100", LKS_OK, 1700000000000000},
        {"2023-11-14T22:13:20+00", LKS_OK, 1700000000000000},
        {"1969-12-31T23:59:59.5Z", LKS_OK, -500000},
        {"2024-02-29", LKS_OK, 1709164800000000},
        {"-0001-01-01", LKS_OK, -719893 * INT64_C(86400000000)},
        {"+10000-01-01", LKS_OK, 2932897 * INT64_C(86400000000)},
        {"2023-02-29", LKS_ECORRUPT, 0},
        {"2023-13-01", LKS_ECORRUPT, 0},
        {"2023-1-01", LKS_ECORRUPT, 0},
        {"23-01-01", LKS_ECORRUPT, 0},
        {"2023-01-01T24:00", LKS_ECORRUPT, 0},
        {"2023-01-01T12:60", LKS_ECORRUPT, 0},
        {"2023-01-01T12", LKS_ECORRUPT, 0},
        {"2023-01-01T12:00:00.", LKS_ECORRUPT, 0},
        {"2023-01-01T12:00:00.1234567890", LKS_ECORRUPT, 0},
        {"2023-01-01T12:00:00X", LKS_ECORRUPT, 0},
        {"2023-01-01T12:00:00+25", LKS_ECORRUPT, 0},
        {"2023-01-01 ", LKS_ECORRUPT, 0},
        {"", LKS_ECORRUPT, 0},
        {"+999999999-01-01", LKS_ECORRUPT, 0}, /* past int64 microseconds */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t us = -42;
        int rc = lks_parse_timestamp_us(cases[i].in, strlen(cases[i].in), &us);
        if (rc != cases[i].rc)
            FAILF("parse '%s' returned %d, want %d", cases[i].in, rc, cases[i].rc);
        else if (rc == LKS_OK && us != cases[i].us)
            FAILF("parse '%s' = %lld, want %lld", cases[i].in, (long long)us, (long long)cases[i].us);
    }
    /* length-bounded: trailing bytes past len are not read */
    int64_t us;
    CHECK_OK(lks_parse_timestamp_us("2023-11-14junk", 10, &us), (lks_err *)NULL);
    CHECK(us == 1699920000000000);
}

static void t_clocks(void) {
    int64_t now = lks_now_us();
    CHECK(now > INT64_C(1600000000000000)); /* after 2020 */
    uint64_t a = lks_mono_ns(), b = lks_mono_ns();
    CHECK(b >= a);
}

/* ---- float text ------------------------------------------------------------------ */

static void t_fmt_double(void) {
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0.1, "0.1"},
        {1.0, "1"},
        {-2.5, "-2.5"},
        {100.0, "100"},
        {1e21, "1e+21"},
        {1e20, "100000000000000000000"},
        {123456789012345680000.0, "123456789012345680000"},
        {1e-7, "1e-7"},
        {1e-6, "0.000001"},
        {0.000123, "0.000123"},
        {1e300, "1e+300"},
        {-1.5e-300, "-1.5e-300"},
        {0.3, "0.3"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1.0 / 3.0, "0.3333333333333333"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {DBL_MIN, "2.2250738585072014e-308"},
        {5e-324, "5e-324"}, /* smallest denormal */
        {4.9406564584124654e-322, "4.94e-322"},
        {9007199254740993.0, "9007199254740992"},
        {0.0, "0"},
        {-0.0, "-0"},
        {NAN, "NaN"},
        {INFINITY, "Infinity"},
        {-INFINITY, "-Infinity"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        int n = lks_fmt_double(out, cases[i].v);
        CHECK_EQ_STR(out, cases[i].text);
        CHECK_EQ_INT(n, strlen(cases[i].text));
    }
    /* pseudo-random doubles read back exactly and stay within 32 bytes */
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (isnan(v))
            continue;
        char out[32];
        int n = lks_fmt_double(out, v);
        if (n <= 0 || n >= 32 || strtod(out, NULL) != v) {
            FAILF("double %a printed as '%s'", v, out);
            break;
        }
    }
}

static void t_fmt_float(void) {
    static const struct {
        float v;
        const char *text;
    } cases[] = {
        {0.1f, "0.1"},
        {1.0f, "1"},
        {3.4028235e38f, "3.4028235e+38"},
        {1.17549435e-38f, "1.1754944e-38"},
        {1e-45f, "1e-45"}, /* smallest denormal */
        {16777217.0f, "16777216"},
        {0.3f, "0.3"},
        {-7.25f, "-7.25"},
        {1e-7f, "1e-7"},
        {-0.0f, "-0"},
        {NAN, "NaN"},
        {-INFINITY, "-Infinity"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        lks_fmt_float(out, cases[i].v);
        CHECK_EQ_STR(out, cases[i].text);
    }
    uint32_t x = 2463534242u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        float v;
        memcpy(&v, &x, sizeof v);
        if (isnan(v))
            continue;
        char out[32];
        lks_fmt_float(out, v);
        if (strtof(out, NULL) != v || strlen(out) > 24) {
            FAILF("float %a printed as '%s'", (double)v, out);
            break;
        }
    }
}

/* ---- JSON strings ------------------------------------------------------------------ */

static void t_json_quote(void) {
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"", 0, "\"\""},
        {"plain", 5, "\"plain\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\""},
        {"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\""},
        {"nul\0x", 5, "\"nul\\u0000x\""},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
        {"\xff", 1, "\"\xef\xbf\xbd\""},
        {"a\xc3", 2, "\"a\xef\xbf\xbd\""},   /* truncated 2-byte */
        {"\xe2\x82", 2, "\"\xef\xbf\xbd\""}, /* truncated 3-byte: one U+FFFD */
        {"\xe2\x82x", 3, "\"\xef\xbf\xbdx\""},
        {"\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},                                 /* overlong */
        {"\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},                 /* surrogate */
        {"\xf4\x90\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* > U+10FFFF */
        {"\x80z", 2, "\"\xef\xbf\xbdz\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_buf b;
        lks_buf_init(&b, 0);
        CHECK_OK(lks_json_quote(&b, cases[i].in, cases[i].len), (lks_err *)NULL);
        CHECK_OK(lks_buf_cstr(&b), (lks_err *)NULL);
        if (strcmp((char *)b.ptr, cases[i].out) != 0)
            FAILF("case %zu: got %s want %s", i, (char *)b.ptr, cases[i].out);
        lks_buf_free(&b);
    }
    /* the same cases inside plain text, at every offset of the eight-byte
     * blocks the fast path scans */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t pre = 0; pre < 18; pre++)
            for (size_t post = 0; post < 12; post += 5) {
                char in[64], want[96];
                memset(in, 'x', pre);
                memcpy(in + pre, cases[i].in, cases[i].len);
                memset(in + pre + cases[i].len, 'y', post);
                size_t olen = strlen(cases[i].out);
                want[0] = '"';
                memset(want + 1, 'x', pre);
                memcpy(want + 1 + pre, cases[i].out + 1, olen - 2);
                memset(want + 1 + pre + olen - 2, 'y', post);
                memcpy(want + 1 + pre + olen - 2 + post, "\"", 2);
                lks_buf b;
                lks_buf_init(&b, 0);
                CHECK_OK(lks_json_quote(&b, in, pre + cases[i].len + post), (lks_err *)NULL);
                CHECK_OK(lks_buf_cstr(&b), (lks_err *)NULL);
                if (strcmp((char *)b.ptr, want) != 0)
                    FAILF("case %zu at %zu+%zu: got %s want %s", i, pre, post, (char *)b.ptr, want);
                lks_buf_free(&b);
            }
    lks_buf b;
    lks_buf_init(&b, 8);
    CHECK_EQ_INT(lks_json_quote(&b, "0123456789", 10), LKS_ELIMIT);
    CHECK(b.ptr == NULL);
}

/* ---- base64 -------------------------------------------------------------------------- */

static void t_base64(void) {
    static const struct {
        const char *raw, *enc;
    } cases[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
        {"\xff\xfe\xfd", "//79"},
        {"\xfb\xff", "+/8="},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_buf b;
        lks_buf_init(&b, 0);
        CHECK_OK(lks_base64_encode(&b, cases[i].raw, strlen(cases[i].raw)), (lks_err *)NULL);
        CHECK(b.len == strlen(cases[i].enc) && (b.len == 0 || memcmp(b.ptr, cases[i].enc, b.len) == 0));
        lks_buf_reset(&b);
        CHECK_OK(lks_base64_decode(&b, cases[i].enc, strlen(cases[i].enc)), (lks_err *)NULL);
        CHECK(b.len == strlen(cases[i].raw) && (b.len == 0 || memcmp(b.ptr, cases[i].raw, b.len) == 0));
        lks_buf_free(&b);
    }
    static const char *bad[] = {"Zg=",  "Zg",   "Z===",     "Zh==", "Zm9=", "Zm9v\n",
                                "Zm 9", "=Zm9", "Zg==Zg==", "Zm-v", "Zm_v", "Zm9vY=Fy"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lks_buf b;
        lks_buf_init(&b, 0);
        if (lks_base64_decode(&b, bad[i], strlen(bad[i])) != LKS_ECORRUPT)
            FAILF("'%s' decoded", bad[i]);
        lks_buf_free(&b);
    }
    /* every byte value round-trips */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    lks_buf e, d;
    lks_buf_init(&e, 0);
    lks_buf_init(&d, 0);
    CHECK_OK(lks_base64_encode(&e, all, sizeof all), (lks_err *)NULL);
    CHECK_OK(lks_base64_decode(&d, (char *)e.ptr, e.len), (lks_err *)NULL);
    CHECK(d.len == 256 && memcmp(d.ptr, all, 256) == 0);
    lks_buf_free(&e);
    lks_buf_free(&d);
}

/* ---- decimals ----------------------------------------------------------------------- */

static void t_decimal_i64(void) {
    static const struct {
        int64_t v;
        int scale;
        const char *text;
    } cases[] = {
        {0, 0, "0"},
        {0, 2, "0.00"},
        {12340, 2, "123.40"},
        {-12340, 2, "-123.40"},
        {123, 5, "0.00123"},
        {-123, 5, "-0.00123"},
        {-5, 1, "-0.5"},
        {7, 0, "7"},
        {12, -2, "1200"},
        {0, -3, "0"},
        {INT64_MAX, 0, "9223372036854775807"},
        {INT64_MIN, 0, "-9223372036854775808"},
        {INT64_MIN, 19, "-0.9223372036854775808"},
        {INT64_MIN, 20, "-0.09223372036854775808"},
        {INT64_MIN, 4, "-922337203685477.5808"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_buf b;
        lks_buf_init(&b, 0);
        CHECK_OK(lks_fmt_decimal_i64(&b, cases[i].v, cases[i].scale), (lks_err *)NULL);
        CHECK_OK(lks_buf_cstr(&b), (lks_err *)NULL);
        CHECK_EQ_STR((char *)b.ptr, cases[i].text);
        lks_buf_free(&b);
    }
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_EQ_INT(lks_fmt_decimal_i64(&b, 1, 100000), LKS_EUNSUPPORTED);
    lks_buf_free(&b);
}

static void t_decimal_be(void) {
    static const struct {
        const char *hex;
        int scale;
        const char *text;
    } cases[] = {
        {"00", 0, "0"},
        {"7f", 0, "127"},
        {"80", 0, "-128"},
        {"ff", 2, "-0.01"},
        {"0000", 3, "0.000"},
        {"3039", 2, "123.45"},
        {"cfc7", 2, "-123.45"},
        {"ffffffffffffff85", 5, "-0.00123"},
        {"7fffffffffffffff", 0, "9223372036854775807"},
        {"8000000000000000", 0, "-9223372036854775808"},
        {"ff8000000000000000", 0, "-9223372036854775808"},
        {"ff7fffffffffffffff", 0, "-9223372036854775809"},
        {"008000000000000000", 0, "9223372036854775808"},
        {"00ffffffffffffffff", 0, "18446744073709551615"},
        {"0000000000000000ffffffffffffffff", 2, "184467440737095516.15"},
        {"7fffffffffffffffffffffffffffffff", 0, "170141183460469231731687303715884105727"},
        {"80000000000000000000000000000000", 0, "-170141183460469231731687303715884105728"},
        {"80000000000000000000000000000000", 38, "-1.70141183460469231731687303715884105728"},
        {"80000000000000000000000000000000", 40, "-0.0170141183460469231731687303715884105728"},
        {"4b3b4ca85a86c47a098a223fffffffff", 10, "9999999999999999999999999999.9999999999"}, /* 10^38 - 1 */
        {"ffffffffffffffffffffffffffffffff", 0, "-1"},
        {"000000000000000000000000000000000000000000000000000000000000002a", 1, "4.2"},
        {"7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0,
         "57896044618658097711785492504343953926634992332820282019728792003956564819967"},
        {"8000000000000000000000000000000000000000000000000000000000000000", 0,
         "-57896044618658097711785492504343953926634992332820282019728792003956564819968"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t be[32];
        size_t n = strlen(cases[i].hex) / 2;
        for (size_t k = 0; k < n; k++) {
            unsigned v;
            sscanf(cases[i].hex + 2 * k, "%2x", &v);
            be[k] = (uint8_t)v;
        }
        lks_buf b;
        lks_buf_init(&b, 0);
        CHECK_OK(lks_fmt_decimal_be(&b, be, n, cases[i].scale), (lks_err *)NULL);
        CHECK_OK(lks_buf_cstr(&b), (lks_err *)NULL);
        if (strcmp((char *)b.ptr, cases[i].text) != 0)
            FAILF("%s scale %d: got %s want %s", cases[i].hex, cases[i].scale, (char *)b.ptr, cases[i].text);
        lks_buf_free(&b);
    }
    lks_buf b;
    lks_buf_init(&b, 0);
    uint8_t big[33] = {0};
    CHECK_EQ_INT(lks_fmt_decimal_be(&b, big, 0, 0), LKS_EINVAL);
    CHECK_EQ_INT(lks_fmt_decimal_be(&b, big, 33, 0), LKS_EINVAL);
    /* the slow path agrees with the int64 path on sign-extended values */
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t v = (int64_t)x >> (i % 60);
        uint8_t be[16];
        for (int k = 0; k < 16; k++)
            be[k] = (uint8_t)(k < 8 ? (v < 0 ? 0xFF : 0) : (uint64_t)v >> (8 * (15 - k)));
        lks_buf s1, s2;
        lks_buf_init(&s1, 0);
        lks_buf_init(&s2, 0);
        lks_fmt_decimal_be(&s1, be, 16, i % 25);
        lks_fmt_decimal_i64(&s2, v, i % 25);
        if (s1.len != s2.len || memcmp(s1.ptr, s2.ptr, s1.len) != 0) {
            FAILF("mismatch for %lld", (long long)v);
            i = 2000;
        }
        lks_buf_free(&s1);
        lks_buf_free(&s2);
    }
    lks_buf_free(&b);
}

int main(void) {
    RUN(t_err_prefix);
    RUN(t_buf_cap_frees);
    RUN(t_arena_caps);
    RUN(t_hashes);
    RUN(t_bytes_cmp);
    RUN(t_crc32_lengths);
    RUN(t_put_digits);
    RUN(t_civil_table);
    RUN(t_civil_roundtrip_and_extremes);
    RUN(t_timestamps);
    RUN(t_parse_timestamp);
    RUN(t_clocks);
    RUN(t_fmt_double);
    RUN(t_fmt_float);
    RUN(t_json_quote);
    RUN(t_base64);
    RUN(t_decimal_i64);
    RUN(t_decimal_be);
    return lks_test_done();
}
