/* test_parquet_encoding.c — Parquet encodings, compression codecs and bloom
 * filters: round trips, the spec's examples built by hand, truncation and
 * corruption at every length, huge counts over tiny inputs. */
#include "core/core.h"
#include "harness.h"
#include "parquet/bloom.h"
#include "parquet/compress.h"
#include "parquet/encoding.h"
#include "parquet/meta.h"

#include <lz4.h>
#include <math.h>
#include <zlib.h>

/* ---- helpers --------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Exactly-sized heap copy, so the sanitizer sees any over-read. */
static uint8_t *dup_exact(const uint8_t *p, size_t len) {
    uint8_t *q = malloc(len ? len : 1);
    if (len)
        memcpy(q, p, len);
    return q;
}

static void put_uleb(lks_buf *b, uint64_t x) {
    while (x >= 0x80) {
        lks_buf_append_byte(b, (uint8_t)(x | 0x80));
        x >>= 7;
    }
    lks_buf_append_byte(b, (uint8_t)x);
}
static uint64_t zz(int64_t x) { return ((uint64_t)x << 1) ^ (0 - ((uint64_t)x >> 63)); }

/* Test-only DELTA_BINARY_PACKED encoder: 32- or 64-bit arithmetic, any
 * block geometry; widths of unused miniblocks and padding bits are random
 * (the spec says readers must accept anything there). */
static void dbp_encode(lks_buf *b, const uint64_t *v, size_t n, int bits, uint64_t block, uint64_t mbc) {
    uint64_t mbs = block / mbc;
    put_uleb(b, block);
    put_uleb(b, mbc);
    put_uleb(b, n);
    int64_t first = n ? (bits == 32 ? (int64_t)(int32_t)(uint32_t)v[0] : (int64_t)v[0]) : 0;
    put_uleb(b, zz(first));
    uint64_t *rel = malloc(block * sizeof *rel);
    for (size_t i = 1; i < n; i += block) {
        size_t cnt = n - i < block ? n - i : block;
        int64_t mn = INT64_MAX;
        for (size_t j = 0; j < cnt; j++) {
            int64_t d = bits == 32 ? (int64_t)(int32_t)((uint32_t)v[i + j] - (uint32_t)v[i + j - 1])
                                   : (int64_t)(v[i + j] - v[i + j - 1]);
            rel[j] = (uint64_t)d;
            if (d < mn)
                mn = d;
        }
        for (size_t j = 0; j < cnt; j++)
            rel[j] = bits == 32 ? (uint32_t)(rel[j] - (uint64_t)mn) : rel[j] - (uint64_t)mn;
        put_uleb(b, zz(mn));
        size_t nmb = (cnt + mbs - 1) / mbs;
        int widths[256];
        for (size_t m = 0; m < mbc; m++) {
            int w = 0;
            if (m < nmb) {
                for (size_t j = m * mbs; j < (m + 1) * mbs && j < cnt; j++)
                    w = lks_pq_bit_width(rel[j]) > w ? lks_pq_bit_width(rel[j]) : w;
                widths[m] = w;
            } else {
                w = (int)(rnd() & 0xff);
            }
            lks_buf_append_byte(b, (uint8_t)w);
        }
        for (size_t m = 0; m < nmb; m++) {
            int w = widths[m];
            size_t nbytes = (size_t)(mbs * (uint64_t)w / 8);
            lks_buf_reserve(b, nbytes);
            uint8_t *q = b->ptr + b->len;
            memset(q, 0, nbytes);
            for (size_t j = 0; j < mbs; j++) {
                uint64_t x = m * mbs + j < cnt ? rel[m * mbs + j] : rnd(); /* random padding */
                for (int k = 0; k < w; k++)
                    if (x >> k & 1) {
                        size_t bit = j * (size_t)w + (size_t)k;
                        q[bit >> 3] |= (uint8_t)(1u << (bit & 7));
                    }
            }
            b->len += nbytes;
        }
    }
    free(rel);
}

/* ---- RLE / bit-packed hybrid ------------------------------------------------------- */

static void fill_levels(uint32_t *v, size_t n, int w, int runs) {
    uint32_t mask = w == 32 ? UINT32_MAX : (uint32_t)((1ull << w) - 1);
    size_t i = 0;
    while (i < n) {
        uint32_t x = (uint32_t)rnd() & mask;
        size_t r = runs ? 1 + rnd() % (rnd() % 2 ? 40 : 4) : 1;
        for (size_t k = 0; k < r && i < n; k++)
            v[i++] = x;
    }
}

static void t_rle_roundtrip(void) {
    static const size_t lens[] = {0, 1, 3, 7, 8, 9, 15, 17, 100, 1003, 4099};
    lks_err err;
    for (int w = 0; w <= 32; w++) {
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            for (int runs = 0; runs < 2; runs++) {
                size_t n = lens[li];
                uint32_t *v = malloc((n + 1) * sizeof *v);
                uint32_t *out = malloc((n + 1) * sizeof *out);
                uint16_t *v16 = malloc((n + 1) * sizeof *v16);
                uint16_t *out16 = malloc((n + 1) * sizeof *out16);
                fill_levels(v, n, w, runs);
                lks_buf b;
                lks_buf_init(&b, 0);
                CHECK_OK(lks_pq_rle_encode_u32(&b, v, n, w), (lks_err *)NULL);
                uint8_t *enc = dup_exact(b.ptr, b.len);
                out[n] = 0xdeadbeef;
                CHECK_OK(lks_pq_rle_decode_u32(enc, b.len, w, out, n, UINT32_MAX, &err), &err);
                CHECK(n == 0 || memcmp(v, out, n * sizeof *v) == 0);
                CHECK(out[n] == 0xdeadbeef);
                uint32_t mx = 0;
                for (size_t i = 0; i < n; i++)
                    mx = v[i] > mx ? v[i] : mx;
                CHECK_OK(lks_pq_rle_decode_u32(enc, b.len, w, out, n, mx, &err), &err);
                if (mx > 0)
                    CHECK_EQ_INT(lks_pq_rle_decode_u32(enc, b.len, w, out, n, mx - 1, &err), LKS_ECORRUPT);
                free(enc);
                if (w <= 16) {
                    for (size_t i = 0; i < n; i++)
                        v16[i] = (uint16_t)v[i];
                    lks_buf_reset(&b);
                    CHECK_OK(lks_pq_rle_encode_u16(&b, v16, n, w), (lks_err *)NULL);
                    enc = dup_exact(b.ptr, b.len);
                    out16[n] = 0xbeef;
                    CHECK_OK(lks_pq_rle_decode_u16(enc, b.len, w, out16, n, UINT32_MAX, &err), &err);
                    CHECK(n == 0 || memcmp(v16, out16, n * sizeof *v16) == 0);
                    CHECK(out16[n] == 0xbeef);
                    if (mx > 0)
                        CHECK_EQ_INT(lks_pq_rle_decode_u16(enc, b.len, w, out16, n, mx - 1, &err), LKS_ECORRUPT);
                    free(enc);
                }
                lks_buf_free(&b);
                free(v), free(out), free(v16), free(out16);
            }
        }
    }
    /* values wider than the bit width are refused by the encoder */
    lks_buf b;
    lks_buf_init(&b, 0);
    uint32_t big = 8;
    CHECK_EQ_INT(lks_pq_rle_encode_u32(&b, &big, 1, 3), LKS_EINVAL);
    CHECK_EQ_INT(lks_pq_rle_encode_u32(&b, &big, 1, 33), LKS_EINVAL);
    lks_buf_free(&b);
}

static void t_rle_choices(void) {
    lks_buf b;
    lks_buf_init(&b, 0);
    /* a long run is one RLE run: header + 1 value byte */
    uint32_t *v = calloc(100000, sizeof *v);
    CHECK_OK(lks_pq_rle_encode_u32(&b, v, 100000, 1), (lks_err *)NULL);
    CHECK(b.len <= 4);
    /* 5 distinct values then a run of 20: group of 8 = 5 + 3 borrowed, then a run of 17 */
    lks_buf_reset(&b);
    for (int i = 0; i < 5; i++)
        v[i] = (uint32_t)i + 1;
    for (int i = 5; i < 25; i++)
        v[i] = 7;
    CHECK_OK(lks_pq_rle_encode_u32(&b, v, 25, 3), (lks_err *)NULL);
    REQUIRE(b.len == 1 + 3 + 1 + 1);
    CHECK_EQ_INT(b.ptr[0], 3);       /* one bit-packed group */
    CHECK_EQ_INT(b.ptr[4], 17 << 1); /* RLE run of 17 */
    CHECK_EQ_INT(b.ptr[5], 7);
    /* alternating values stay bit-packed */
    lks_buf_reset(&b);
    for (int i = 0; i < 64; i++)
        v[i] = (uint32_t)i & 1;
    CHECK_OK(lks_pq_rle_encode_u32(&b, v, 64, 1), (lks_err *)NULL);
    CHECK_EQ_INT(b.len, 1 + 8);
    free(v);
    lks_buf_free(&b);
}

static void t_rle_spec_example(void) {
    /* Encodings.md: 0..7 at bit width 3 pack as 10001000 11000110 11111010 */
    static const uint8_t enc[] = {0x03, 0x88, 0xC6, 0xFA};
    uint32_t out[8];
    uint16_t out16[8];
    lks_err err;
    CHECK_OK(lks_pq_rle_decode_u32(enc, sizeof enc, 3, out, 8, 7, &err), &err);
    CHECK_OK(lks_pq_rle_decode_u16(enc, sizeof enc, 3, out16, 8, 7, &err), &err);
    for (int i = 0; i < 8; i++) {
        CHECK_EQ_INT(out[i], i);
        CHECK_EQ_INT(out16[i], i);
    }
    uint32_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_pq_rle_encode_u32(&b, v, 8, 3), (lks_err *)NULL);
    CHECK(b.len == sizeof enc && memcmp(b.ptr, enc, sizeof enc) == 0);
    lks_buf_free(&b);
    /* an RLE run: 300 times the value 0x0102 at width 9 (2 value bytes) */
    static const uint8_t run[] = {0xD8, 0x04, 0x02, 0x01};
    uint32_t many[300];
    CHECK_OK(lks_pq_rle_decode_u32(run, sizeof run, 9, many, 300, UINT32_MAX, &err), &err);
    CHECK_EQ_INT(many[0], 0x102);
    CHECK_EQ_INT(many[299], 0x102);
    /* a run value with bits beyond the width is corrupt */
    static const uint8_t wide[] = {0x02, 0x08};
    CHECK_EQ_INT(lks_pq_rle_decode_u32(wide, sizeof wide, 3, many, 1, UINT32_MAX, &err), LKS_ECORRUPT);
    /* bit widths out of range */
    CHECK_EQ_INT(lks_pq_rle_decode_u32(enc, sizeof enc, 33, out, 8, UINT32_MAX, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_rle_decode_u16(enc, sizeof enc, 17, out16, 8, UINT32_MAX, &err), LKS_ECORRUPT);
    /* extra values in the last bit-packed group are ignored */
    CHECK_OK(lks_pq_rle_decode_u32(enc, sizeof enc, 3, out, 5, 7, &err), &err);
    CHECK_EQ_INT(out[4], 4);
}

static void t_bitpacked_legacy(void) {
    /* Encodings.md: 0..7 at width 3, MSB first: 00000101 00111001 01110111 */
    static const uint8_t enc[] = {0x05, 0x39, 0x77};
    uint16_t out[8];
    lks_err err;
    CHECK_OK(lks_pq_bitpacked_legacy_decode(enc, sizeof enc, 3, out, 8, &err), &err);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(out[i], i);
    /* random round trips against a bit-by-bit packer */
    for (int w = 1; w <= 16; w++) {
        size_t n = 1 + rnd() % 500;
        uint16_t v[500], got[501];
        uint8_t buf[1000] = {0};
        for (size_t i = 0; i < n; i++) {
            v[i] = (uint16_t)(rnd() & ((1u << w) - 1));
            for (int k = 0; k < w; k++) {
                size_t bit = i * (size_t)w + (size_t)k;
                if (v[i] >> (w - 1 - k) & 1)
                    buf[bit >> 3] |= (uint8_t)(0x80 >> (bit & 7));
            }
        }
        size_t len = (n * (size_t)w + 7) / 8;
        uint8_t *e = dup_exact(buf, len);
        got[n] = 0x5555;
        CHECK_OK(lks_pq_bitpacked_legacy_decode(e, len, w, got, n, &err), &err);
        CHECK(memcmp(got, v, n * sizeof *v) == 0);
        CHECK_EQ_INT(got[n], 0x5555);
        CHECK_EQ_INT(lks_pq_bitpacked_legacy_decode(e, len - 1, w, got, n, &err), LKS_ECORRUPT);
        free(e);
    }
    CHECK_OK(lks_pq_bitpacked_legacy_decode(NULL, 0, 0, out, 8, &err), &err);
    CHECK_EQ_INT(out[7], 0);
}

/* ---- PLAIN ------------------------------------------------------------------------- */

static void t_plain(void) {
    lks_err err;
    lks_buf b;
    lks_buf_init(&b, 0);
    size_t used;
    /* booleans */
    uint8_t bv[13] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1}, bo[13];
    CHECK_OK(lks_pq_plain_encode_bool(&b, bv, 13), (lks_err *)NULL);
    REQUIRE(b.len == 2);
    CHECK_EQ_INT(b.ptr[0], 0x8D);
    CHECK_EQ_INT(b.ptr[1], 0x13);
    CHECK_OK(lks_pq_plain_decode_bool(b.ptr, b.len, bo, 13, &used, &err), &err);
    CHECK(memcmp(bv, bo, 13) == 0);
    CHECK_EQ_INT(used, 2);
    CHECK_EQ_INT(lks_pq_plain_decode_bool(b.ptr, 1, bo, 13, &used, &err), LKS_ECORRUPT);
    /* fixed */
    lks_buf_reset(&b);
    int64_t iv[5] = {INT64_MIN, -1, 0, 1, INT64_MAX}, io[5];
    CHECK_OK(lks_pq_plain_encode_fixed(&b, iv, 5, 8), (lks_err *)NULL);
    CHECK_EQ_INT(b.len, 40);
    CHECK_OK(lks_pq_plain_decode_fixed(b.ptr, b.len + 0, io, 5, 8, &used, &err), &err);
    CHECK(memcmp(iv, io, sizeof iv) == 0);
    CHECK_EQ_INT(used, 40);
    CHECK_EQ_INT(lks_pq_plain_decode_fixed(b.ptr, 39, io, 5, 8, &used, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_plain_decode_fixed(b.ptr, 40, io, 5, 0, &used, &err), LKS_ECORRUPT);
    /* byte arrays */
    lks_buf_reset(&b);
    lks_slice sv[4] = {{(const uint8_t *)"abc", 3},
                       {(const uint8_t *)"", 0},
                       {(const uint8_t *)"hello", 5},
                       {(const uint8_t *)"z", 1}};
    lks_slice so[4];
    CHECK_OK(lks_pq_plain_encode_byte_array(&b, sv, 4), (lks_err *)NULL);
    CHECK_EQ_INT(b.len, 16 + 9);
    CHECK_OK(lks_pq_plain_decode_byte_array(b.ptr, b.len, so, 4, &used, &err), &err);
    CHECK_EQ_INT(used, 25);
    for (int i = 0; i < 4; i++)
        CHECK(so[i].len == sv[i].len && memcmp(so[i].ptr, sv[i].ptr, so[i].len) == 0);
    for (size_t l = 0; l < b.len; l++) {
        uint8_t *e = dup_exact(b.ptr, l);
        CHECK_EQ_INT(lks_pq_plain_decode_byte_array(e, l, so, 4, &used, &err), LKS_ECORRUPT);
        free(e);
    }
    /* a length past the end */
    uint8_t bad[8] = {0xff, 0xff, 0xff, 0x7f, 'a', 'b', 'c', 'd'};
    CHECK_EQ_INT(lks_pq_plain_decode_byte_array(bad, 8, so, 1, &used, &err), LKS_ECORRUPT);
    /* fixed-length byte arrays */
    lks_buf_reset(&b);
    lks_slice fv[3] = {{(const uint8_t *)"abcd", 4}, {(const uint8_t *)"efgh", 4}, {(const uint8_t *)"ijkl", 4}};
    CHECK_OK(lks_pq_plain_encode_flba(&b, fv, 3, 4), (lks_err *)NULL);
    CHECK_OK(lks_pq_plain_decode_flba(b.ptr, b.len, so, 3, 4, &used, &err), &err);
    CHECK(so[2].len == 4 && memcmp(so[2].ptr, "ijkl", 4) == 0);
    CHECK_EQ_INT(lks_pq_plain_decode_flba(b.ptr, 11, so, 3, 4, &used, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_plain_encode_flba(&b, fv, 3, 5), LKS_EINVAL);
    lks_buf_free(&b);
}

/* ---- DELTA_BINARY_PACKED ----------------------------------------------------------- */

static void t_delta_spec_examples(void) {
    lks_err err;
    size_t used;
    int64_t o64[8];
    int32_t o32[8];
    /* Example 1 as printed (block size 8) is invalid in real files */
    static const uint8_t ex1_lit[] = {8, 1, 5, 2, 2, 0};
    CHECK_EQ_INT(lks_pq_delta_decode_int(ex1_lit, sizeof ex1_lit, o64, 5, 8, &used, &err), LKS_ECORRUPT);
    /* Example 1 (1,2,3,4,5) with block 128 / 4 miniblocks: header 128 4 5 zz(1);
     * block: zz(1) min delta, widths 0 0 0 0, no data */
    static const uint8_t ex1[] = {0x80, 0x01, 4, 5, 2, 2, 0, 0, 0, 0};
    CHECK_OK(lks_pq_delta_decode_int(ex1, sizeof ex1, o64, 5, 8, &used, &err), &err);
    CHECK_EQ_INT(used, sizeof ex1);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(o64[i], i + 1);
    CHECK_OK(lks_pq_delta_decode_int(ex1, sizeof ex1, o32, 5, 4, &used, &err), &err);
    CHECK_EQ_INT(o32[4], 5);
    /* Example 2 (7,5,3,1,2,3,4,5): header 128 4 8 zz(7)=14; block: zz(-2)=3,
     * widths 2 and three arbitrary bytes; 32 relative deltas 0,0,0,3,3,3,3 on
     * 2 bits (byte 0: 11000000, byte 1: 00111111 | padding) then padding */
    static const uint8_t ex2[] = {0x80, 0x01, 4,    8,    14,   3,    2,    0xAA, 0xFF,
                                  0x07, 0xC0, 0xFF, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5};
    static const int ex2v[] = {7, 5, 3, 1, 2, 3, 4, 5};
    CHECK_OK(lks_pq_delta_decode_int(ex2, sizeof ex2, o64, 8, 8, &used, &err), &err);
    CHECK_EQ_INT(used, sizeof ex2);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(o64[i], ex2v[i]);
    CHECK_OK(lks_pq_delta_decode_int(ex2, sizeof ex2, o32, 8, 4, &used, &err), &err);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(o32[i], ex2v[i]);
    /* fewer values than the stream holds: used still spans the stream */
    CHECK_OK(lks_pq_delta_decode_int(ex2, sizeof ex2, o32, 3, 4, &used, &err), &err);
    CHECK_EQ_INT(used, sizeof ex2);
    /* more values than it holds */
    CHECK_EQ_INT(lks_pq_delta_decode_int(ex2, sizeof ex2, o64, 9, 8, &used, &err), LKS_ECORRUPT);
    /* every truncation */
    for (size_t l = 0; l < sizeof ex2; l++) {
        uint8_t *e = dup_exact(ex2, l);
        CHECK_EQ_INT(lks_pq_delta_decode_int(e, l, o64, 8, 8, &used, &err), LKS_ECORRUPT);
        free(e);
    }
    /* width 65 (33 for int32) is corrupt */
    uint8_t wide[sizeof ex2];
    memcpy(wide, ex2, sizeof ex2);
    wide[6] = 65;
    CHECK_EQ_INT(lks_pq_delta_decode_int(wide, sizeof wide, o64, 8, 8, &used, &err), LKS_ECORRUPT);
    wide[6] = 33;
    CHECK_EQ_INT(lks_pq_delta_decode_int(wide, sizeof wide, o32, 8, 4, &used, &err), LKS_ECORRUPT);
    /* bad geometry: 128 values in 3 miniblocks; 128 in 8 miniblocks of 16 */
    static const uint8_t g1[] = {0x80, 0x01, 3, 1, 0}, g2[] = {0x80, 0x01, 8, 1, 0};
    CHECK_EQ_INT(lks_pq_delta_decode_int(g1, sizeof g1, o64, 1, 8, &used, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_delta_decode_int(g2, sizeof g2, o64, 1, 8, &used, &err), LKS_ECORRUPT);
}

static void check_dbp_roundtrip(const uint64_t *v, size_t n, int bits, uint64_t block, uint64_t mbc) {
    lks_err err;
    lks_buf b;
    lks_buf_init(&b, 0);
    dbp_encode(&b, v, n, bits, block, mbc);
    uint8_t *e = dup_exact(b.ptr, b.len);
    size_t used = 0;
    void *out = malloc((n + 1) * 8);
    int rc = lks_pq_delta_decode_int(e, b.len, out, n, (size_t)bits / 8, &used, &err);
    CHECK_OK(rc, &err);
    if (rc == LKS_OK && n)
        CHECK_EQ_INT(used, b.len);
    for (size_t i = 0; i < n && rc == LKS_OK; i++) {
        uint64_t got = bits == 64 ? ((uint64_t *)out)[i] : ((uint32_t *)out)[i];
        uint64_t want = bits == 64 ? v[i] : (uint32_t)v[i];
        if (got != want) {
            FAILF("bits %d block %llu/%llu n %zu: value %zu: %llx != %llx", bits, (unsigned long long)block,
                  (unsigned long long)mbc, n, i, (unsigned long long)got, (unsigned long long)want);
            break;
        }
    }
    /* a prefix of the values */
    if (n > 2) {
        CHECK_OK(lks_pq_delta_decode_int(e, b.len, out, n / 2, (size_t)bits / 8, &used, &err), &err);
        CHECK_EQ_INT(used, b.len);
    }
    free(out);
    free(e);
    lks_buf_free(&b);
}

static void t_delta_roundtrip(void) {
    static const size_t lens[] = {1, 2, 5, 32, 33, 127, 128, 129, 130, 257, 1000, 4097};
    static const uint64_t geo[][2] = {{128, 4}, {128, 1}, {256, 8}, {128, 2}, {1024, 4}};
    uint64_t *v = malloc(4097 * sizeof *v);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        for (int kind = 0; kind < 6; kind++) {
            for (size_t i = 0; i < n; i++) {
                switch (kind) {
                case 0: v[i] = rnd(); break;                                    /* anything */
                case 1: v[i] = (uint64_t)(int64_t)(i * 3) - (rnd() % 4); break; /* small deltas */
                case 2: v[i] = i % 2 ? (uint64_t)INT64_MAX : (uint64_t)INT64_MIN; break;
                case 3: v[i] = 42; break;                                /* constant */
                case 4: v[i] = (uint64_t)(int64_t)(int32_t)rnd(); break; /* int32 range */
                default: v[i] = i % 2 ? (uint64_t)(int64_t)INT32_MAX : (uint64_t)(int64_t)INT32_MIN; break;
                }
            }
            for (size_t g = 0; g < sizeof geo / sizeof geo[0]; g++) {
                check_dbp_roundtrip(v, n, 64, geo[g][0], geo[g][1]);
                check_dbp_roundtrip(v, n, 32, geo[g][0], geo[g][1]);
            }
        }
    }
    free(v);
}

static void t_delta_truncation(void) {
    lks_err err;
    uint64_t v[300];
    for (int i = 0; i < 300; i++)
        v[i] = rnd() % 1000;
    for (int bits = 32; bits <= 64; bits += 32) {
        lks_buf b;
        lks_buf_init(&b, 0);
        dbp_encode(&b, v, 300, bits, 128, 4);
        uint64_t out[300];
        size_t used;
        for (size_t l = 0; l < b.len; l++) {
            uint8_t *e = dup_exact(b.ptr, l);
            CHECK_EQ_INT(lks_pq_delta_decode_int(e, l, out, 300, (size_t)bits / 8, &used, &err), LKS_ECORRUPT);
            free(e);
        }
        /* random corruption never crashes */
        for (int t = 0; t < 2000; t++) {
            uint8_t *e = dup_exact(b.ptr, b.len);
            for (int k = 0; k < 3; k++)
                e[rnd() % b.len] ^= (uint8_t)(1u << (rnd() % 8));
            int rc = lks_pq_delta_decode_int(e, b.len, out, 300, (size_t)bits / 8, &used, &err);
            CHECK(rc == LKS_OK || rc == LKS_ECORRUPT);
            free(e);
        }
        lks_buf_free(&b);
    }
}

/* ---- DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY --------------------------------------- */

static void t_delta_length(void) {
    lks_err err;
    size_t used;
    lks_slice out[4];
    /* Encodings.md: "Hello", "World", "Foobar", "ABCDEF"; lengths 5,5,6,6 by
     * hand: header 128 4 4 zz(5)=10; block zz(0), widths 1 0 0 0; relative
     * deltas 0,1,0 on 1 bit = 00000010 then 3 padding bytes */
    static const uint8_t enc[] = {0x80, 0x01, 4,   4,   10,  0,   1,   0,   0,   0,   0x02, 0,
                                  0,    0,    'H', 'e', 'l', 'l', 'o', 'W', 'o', 'r', 'l',  'd',
                                  'F',  'o',  'o', 'b', 'a', 'r', 'A', 'B', 'C', 'D', 'E',  'F'};
    static const char *const want[] = {"Hello", "World", "Foobar", "ABCDEF"};
    CHECK_OK(lks_pq_delta_length_decode(enc, sizeof enc, out, 4, &used, &err), &err);
    CHECK_EQ_INT(used, sizeof enc);
    for (int i = 0; i < 4; i++)
        CHECK(out[i].len == strlen(want[i]) && memcmp(out[i].ptr, want[i], out[i].len) == 0);
    for (size_t l = 0; l < sizeof enc; l++) {
        uint8_t *e = dup_exact(enc, l);
        CHECK_EQ_INT(lks_pq_delta_length_decode(e, l, out, 4, &used, &err), LKS_ECORRUPT);
        free(e);
    }
    /* the count must match */
    CHECK_EQ_INT(lks_pq_delta_length_decode(enc, sizeof enc, out, 3, &used, &err), LKS_ECORRUPT);
    /* a negative length is corrupt: lengths 5, -1 */
    lks_buf b;
    lks_buf_init(&b, 0);
    uint64_t neg[2] = {5, (uint64_t)-1};
    dbp_encode(&b, neg, 2, 32, 128, 4);
    lks_buf_append(&b, "Hello", 5);
    CHECK_EQ_INT(lks_pq_delta_length_decode(b.ptr, b.len, out, 2, &used, &err), LKS_ECORRUPT);
    lks_buf_free(&b);
}

/* Test-only DELTA_BYTE_ARRAY encoder. */
static void dba_encode(lks_buf *b, const lks_slice *v, size_t n) {
    uint64_t *pre = calloc(n + 1, sizeof *pre), *suf = calloc(n + 1, sizeof *suf);
    for (size_t i = 0; i < n; i++) {
        size_t p = 0;
        if (i)
            while (p < v[i].len && p < v[i - 1].len && v[i].ptr[p] == v[i - 1].ptr[p])
                p++;
        pre[i] = p;
        suf[i] = v[i].len - p;
    }
    dbp_encode(b, pre, n, 32, 128, 4);
    dbp_encode(b, suf, n, 32, 128, 4);
    for (size_t i = 0; i < n; i++)
        lks_buf_append(b, v[i].ptr + pre[i], (size_t)suf[i]);
    free(pre);
    free(suf);
}

static void t_delta_byte_array(void) {
    lks_err err;
    static const char *const words[] = {"axis", "axle", "babble", "babyhood"};
    lks_slice v[4], out[4];
    for (int i = 0; i < 4; i++)
        v[i] = (lks_slice){(const uint8_t *)words[i], strlen(words[i])};
    lks_buf b, data;
    lks_buf_init(&b, 0);
    lks_buf_init(&data, 0);
    dba_encode(&b, v, 4);
    /* the spec's example: suffix data "axislebabbleyhood" ends the stream */
    CHECK(b.len > 17 && memcmp(b.ptr + b.len - 17, "axislebabbleyhood", 17) == 0);
    CHECK_OK(lks_pq_delta_byte_array_decode(b.ptr, b.len, out, 4, &data, &err), &err);
    for (int i = 0; i < 4; i++)
        CHECK(out[i].len == v[i].len && memcmp(out[i].ptr, v[i].ptr, v[i].len) == 0);
    CHECK_EQ_INT(data.len, 4 + 4 + 6 + 8);
    for (size_t l = 0; l < b.len; l++) {
        uint8_t *e = dup_exact(b.ptr, l);
        CHECK_EQ_INT(lks_pq_delta_byte_array_decode(e, l, out, 4, &data, &err), LKS_ECORRUPT);
        free(e);
    }
    /* a prefix longer than the previous value: prefixes 0,5 after "ab" */
    lks_buf_reset(&b);
    uint64_t pre[2] = {0, 3}, suf[2] = {2, 1};
    dbp_encode(&b, pre, 2, 32, 128, 4);
    dbp_encode(&b, suf, 2, 32, 128, 4);
    lks_buf_append(&b, "abc", 3);
    CHECK_EQ_INT(lks_pq_delta_byte_array_decode(b.ptr, b.len, out, 2, &data, &err), LKS_ECORRUPT);
    /* a first value with a prefix */
    lks_buf_reset(&b);
    pre[0] = 1;
    dbp_encode(&b, pre, 1, 32, 128, 4);
    dbp_encode(&b, suf, 1, 32, 128, 4);
    lks_buf_append(&b, "ab", 2);
    CHECK_EQ_INT(lks_pq_delta_byte_array_decode(b.ptr, b.len, out, 1, &data, &err), LKS_ECORRUPT);
    /* the output cap holds against prefix reuse blowing up: 1000 copies of a
     * 1000-byte value from a few bytes of input */
    lks_buf_reset(&b);
    uint64_t *p2 = malloc(1000 * sizeof *p2), *s2 = malloc(1000 * sizeof *s2);
    for (int i = 0; i < 1000; i++)
        p2[i] = i ? 1000 : 0, s2[i] = i ? 0 : 1000;
    dbp_encode(&b, p2, 1000, 32, 128, 4);
    dbp_encode(&b, s2, 1000, 32, 128, 4);
    uint8_t *blob = calloc(1000, 1);
    lks_buf_append(&b, blob, 1000);
    lks_slice *o2 = malloc(1000 * sizeof *o2);
    lks_buf capped;
    lks_buf_init(&capped, 100000);
    CHECK_EQ_INT(lks_pq_delta_byte_array_decode(b.ptr, b.len, o2, 1000, &capped, &err), LKS_ELIMIT);
    lks_buf_reset(&data);
    CHECK_OK(lks_pq_delta_byte_array_decode(b.ptr, b.len, o2, 1000, &data, &err), &err);
    CHECK_EQ_INT(data.len, 1000000);
    CHECK(o2[999].len == 1000);
    lks_buf_free(&capped);
    free(p2), free(s2), free(blob), free(o2);
    /* random round trips with shared prefixes, appended after existing data */
    for (int round = 0; round < 50; round++) {
        size_t n = 1 + rnd() % 600;
        uint8_t *pool = malloc(n * 20);
        lks_slice *rv = malloc(n * sizeof *rv), *ro = malloc(n * sizeof *ro);
        for (size_t i = 0; i < n; i++) {
            uint8_t *s = pool + i * 20;
            size_t len = rnd() % 20;
            for (size_t k = 0; k < len; k++)
                s[k] = (uint8_t)('a' + rnd() % 3);
            if (i && rnd() % 2) { /* share a prefix with the previous value */
                size_t k = rnd() % (rv[i - 1].len + 1);
                if (k > len)
                    len = k;
                memcpy(s, rv[i - 1].ptr, k);
            }
            rv[i] = (lks_slice){s, len};
        }
        lks_buf_reset(&b);
        lks_buf_reset(&data);
        lks_buf_append(&data, "xyz", 3);
        dba_encode(&b, rv, n);
        uint8_t *e = dup_exact(b.ptr, b.len);
        CHECK_OK(lks_pq_delta_byte_array_decode(e, b.len, ro, n, &data, &err), &err);
        for (size_t i = 0; i < n; i++)
            if (ro[i].len != rv[i].len || (rv[i].len && memcmp(ro[i].ptr, rv[i].ptr, rv[i].len) != 0)) {
                FAILF("round %d value %zu differs", round, i);
                break;
            }
        CHECK(memcmp(data.ptr, "xyz", 3) == 0);
        /* DELTA_LENGTH_BYTE_ARRAY of the same values */
        lks_buf_reset(&b);
        uint64_t *lens = malloc(n * sizeof *lens);
        for (size_t i = 0; i < n; i++)
            lens[i] = rv[i].len;
        dbp_encode(&b, lens, n, 32, 128, 4);
        for (size_t i = 0; i < n; i++)
            lks_buf_append(&b, rv[i].ptr, rv[i].len);
        size_t used;
        CHECK_OK(lks_pq_delta_length_decode(b.ptr, b.len, ro, n, &used, &err), &err);
        CHECK_EQ_INT(used, b.len);
        for (size_t i = 0; i < n; i++)
            if (ro[i].len != rv[i].len || (rv[i].len && memcmp(ro[i].ptr, rv[i].ptr, rv[i].len) != 0)) {
                FAILF("DLBA round %d value %zu differs", round, i);
                break;
            }
        free(lens), free(e), free(pool), free(rv), free(ro);
    }
    lks_buf_free(&b);
    lks_buf_free(&data);
}

/* ---- BYTE_STREAM_SPLIT --------------------------------------------------------------- */

static void t_byte_stream_split(void) {
    lks_err err;
    /* Encodings.md example: three floats AA BB CC DD, 00 11 22 33, A3 B4 C5 D6 */
    static const uint8_t enc[] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6};
    static const uint8_t want[] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6};
    uint8_t out[12];
    CHECK_OK(lks_pq_byte_stream_split_decode(enc, sizeof enc, out, 3, 4, &err), &err);
    CHECK(memcmp(out, want, 12) == 0);
    static const size_t widths[] = {1, 2, 4, 8, 12, 16};
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
        size_t w = widths[wi], n = 1 + rnd() % 300;
        uint8_t *v = malloc(n * w), *e = malloc(n * w), *o = malloc(n * w);
        for (size_t i = 0; i < n * w; i++)
            v[i] = (uint8_t)rnd();
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < w; k++)
                e[k * n + i] = v[i * w + k];
        CHECK_OK(lks_pq_byte_stream_split_decode(e, n * w, o, n, w, &err), &err);
        CHECK(memcmp(o, v, n * w) == 0);
        for (size_t l = 0; l < n * w; l++)
            CHECK_EQ_INT(lks_pq_byte_stream_split_decode(e, l, o, n, w, &err), LKS_ECORRUPT);
        free(v), free(e), free(o);
    }
    CHECK_EQ_INT(lks_pq_byte_stream_split_decode(enc, sizeof enc, out, 3, 0, &err), LKS_ECORRUPT);
}

/* ---- truncation of RLE at every length, huge counts ------------------------------------ */

static void t_rle_truncation(void) {
    lks_err err;
    for (int w = 0; w <= 32; w += (w < 4 ? 1 : 7)) {
        uint32_t v[203], out[203];
        fill_levels(v, 203, w, 1);
        lks_buf b;
        lks_buf_init(&b, 0);
        CHECK_OK(lks_pq_rle_encode_u32(&b, v, 203, w), (lks_err *)NULL);
        for (size_t l = 0; l < b.len; l++) {
            uint8_t *e = dup_exact(b.ptr, l);
            CHECK_EQ_INT(lks_pq_rle_decode_u32(e, l, w, out, 203, UINT32_MAX, &err), LKS_ECORRUPT);
            free(e);
        }
        for (int t = 0; t < 500 && b.len; t++) {
            uint8_t *e = dup_exact(b.ptr, b.len);
            e[rnd() % b.len] ^= (uint8_t)(1u << (rnd() % 8));
            int rc = lks_pq_rle_decode_u32(e, b.len, w, out, 203, UINT32_MAX, &err);
            CHECK(rc == LKS_OK || rc == LKS_ECORRUPT);
            free(e);
        }
        lks_buf_free(&b);
    }
}

static void t_huge_counts(void) {
    lks_err err;
    const size_t huge = (size_t)1 << 40;
    size_t used;
    uint32_t o32[64];
    uint16_t o16[64];
    uint8_t o8[64];
    lks_slice os[64];
    /* RLE: a run of 5 and one bit-packed group, then nothing */
    static const uint8_t rle[] = {0x0A, 0x01, 0x03, 0x88, 0xC6, 0xFA};
    CHECK_EQ_INT(lks_pq_rle_decode_u32(rle, sizeof rle, 3, o32, huge, UINT32_MAX, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_rle_decode_u16(rle, sizeof rle, 3, o16, huge, UINT32_MAX, &err), LKS_ECORRUPT);
    /* a bit-packed header announcing 2^31 groups over 3 bytes */
    static const uint8_t bp[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x88, 0xC6, 0xFA};
    CHECK_EQ_INT(lks_pq_rle_decode_u32(bp, sizeof bp, 3, o32, huge, UINT32_MAX, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_bitpacked_legacy_decode(rle, sizeof rle, 3, o16, huge, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_bitpacked_legacy_decode(rle, sizeof rle, 3, o16, SIZE_MAX, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_plain_decode_bool(rle, sizeof rle, o8, SIZE_MAX, &used, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_plain_decode_fixed(rle, sizeof rle, o8, SIZE_MAX / 2, 8, &used, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_plain_decode_byte_array(rle, sizeof rle, os, huge, &used, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_plain_decode_flba(rle, sizeof rle, os, SIZE_MAX / 2, 4, &used, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_byte_stream_split_decode(rle, sizeof rle, o8, SIZE_MAX / 2, 3, &err), LKS_ECORRUPT);
    static const uint8_t ex1[] = {0x80, 0x01, 4, 5, 2, 2, 0, 0, 0, 0};
    CHECK_EQ_INT(lks_pq_delta_decode_int(ex1, sizeof ex1, o8, huge, 8, &used, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_pq_delta_length_decode(ex1, sizeof ex1, os, huge, &used, &err), LKS_ECORRUPT);
    lks_buf data;
    lks_buf_init(&data, 0);
    CHECK_EQ_INT(lks_pq_delta_byte_array_decode(ex1, sizeof ex1, os, huge, &data, &err), LKS_ECORRUPT);
    lks_buf_free(&data);
    /* a DELTA stream claiming 2^62 values with width-0 blocks: reading 10
     * works, finding the end of the stream fails at the missing block */
    static const uint8_t many[] = {0x80, 0x01, 4,    0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                   0x80, 0x80, 0x40, 0,    0,    0,    0,    0,    0};
    int64_t o64[10];
    CHECK_EQ_INT(lks_pq_delta_decode_int(many, sizeof many, o64, 10, 8, &used, &err), LKS_ECORRUPT);
    /* a block size of 2^60 with width-0 miniblocks skips in O(1) */
    static const uint8_t bigblock[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 4, 0x80, 0x80, 0x80,
                                       0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0,    0,    0,    0, 0,    0};
    CHECK_EQ_INT(lks_pq_delta_decode_int(bigblock, sizeof bigblock, o64, 10, 8, &used, &err), LKS_ECORRUPT);
}

/* ---- compression ----------------------------------------------------------------------- */

static const int codecs[] = {LKS_PQ_UNCOMPRESSED, LKS_PQ_SNAPPY, LKS_PQ_GZIP,
                             LKS_PQ_BROTLI,       LKS_PQ_ZSTD,   LKS_PQ_LZ4_RAW};

static void t_compress_roundtrip(void) {
    lks_err err;
    static const size_t sizes[] = {0, 1, 100, 65536, 1 << 20};
    uint8_t *src = malloc(1 << 20), *dst = malloc((1 << 20) + 1);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (int kind = 0; kind < 2; kind++) {
            size_t n = sizes[si];
            for (size_t i = 0; i < n; i++)
                src[i] = kind ? (uint8_t)rnd() : (uint8_t)("abcabcabd"[i % 9] + (i / 5000) % 3);
            for (size_t ci = 0; ci < sizeof codecs / sizeof codecs[0]; ci++) {
                int codec = codecs[ci];
                lks_buf c;
                lks_buf_init(&c, 0);
                int rc = lks_pq_compress(codec, 0, src, n, &c, &err);
                CHECK_OK(rc, &err);
                if (rc)
                    continue;
                uint8_t *e = dup_exact(c.ptr, c.len);
                rc = lks_pq_decompress(codec, e, c.len, dst, n, &err);
                if (rc)
                    FAILF("%s size %zu kind %d: %s", lks_pq_codec_name(codec), n, kind, err.msg);
                else
                    CHECK(n == 0 || memcmp(src, dst, n) == 0);
                /* wrong declared sizes */
                CHECK_EQ_INT(lks_pq_decompress(codec, e, c.len, dst, n + 1, &err), LKS_ECORRUPT);
                if (n)
                    CHECK_EQ_INT(lks_pq_decompress(codec, e, c.len, dst, n - 1, &err), LKS_ECORRUPT);
                /* truncations (every one for small streams) */
                if (codec != LKS_PQ_UNCOMPRESSED && c.len > 0) {
                    size_t step = c.len > 300 ? c.len / 97 + 1 : 1;
                    for (size_t l = n == 0; l < c.len; l += step) { /* empty input is an empty page */
                        uint8_t *t = dup_exact(c.ptr, l);
                        rc = lks_pq_decompress(codec, t, l, dst, n, &err);
                        if (rc != LKS_ECORRUPT)
                            FAILF("%s size %zu truncated to %zu: %d", lks_pq_codec_name(codec), n, l, rc);
                        free(t);
                    }
                }
                /* flipped bytes: corrupt or (by luck) well-formed, never a crash */
                for (int t = 0; t < 30 && c.len; t++) {
                    e[rnd() % c.len] ^= (uint8_t)(1u + rnd() % 255);
                    rc = lks_pq_decompress(codec, e, c.len, dst, n, &err);
                    CHECK(rc == LKS_OK || rc == LKS_ECORRUPT);
                }
                free(e);
                lks_buf_free(&c);
            }
        }
    }
    /* levels */
    for (size_t i = 0; i < 100000; i++)
        src[i] = (uint8_t)(i % 251);
    static const int lv[][2] = {{LKS_PQ_GZIP, 9}, {LKS_PQ_ZSTD, 19}, {LKS_PQ_BROTLI, 3}, {LKS_PQ_LZ4_RAW, 9}};
    for (size_t k = 0; k < sizeof lv / sizeof lv[0]; k++) {
        lks_buf c;
        lks_buf_init(&c, 0);
        CHECK_OK(lks_pq_compress(lv[k][0], lv[k][1], src, 100000, &c, &err), &err);
        CHECK_OK(lks_pq_decompress(lv[k][0], c.ptr, c.len, dst, 100000, &err), &err);
        CHECK(memcmp(src, dst, 100000) == 0);
        lks_buf_free(&c);
    }
    lks_buf c;
    lks_buf_init(&c, 0);
    CHECK_EQ_INT(lks_pq_compress(LKS_PQ_GZIP, 42, src, 10, &c, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_pq_compress(LKS_PQ_LZO, 0, src, 10, &c, &err), LKS_EUNSUPPORTED);
    CHECK_EQ_INT(lks_pq_compress(LKS_PQ_LZ4, 0, src, 10, &c, &err), LKS_EUNSUPPORTED);
    CHECK_EQ_INT(lks_pq_decompress(LKS_PQ_LZO, src, 10, dst, 10, &err), LKS_EUNSUPPORTED);
    CHECK_EQ_INT(lks_pq_decompress(99, src, 10, dst, 10, &err), LKS_EUNSUPPORTED);
    for (size_t ci = 0; ci < sizeof codecs / sizeof codecs[0]; ci++) {
        CHECK_OK(lks_pq_decompress(codecs[ci], src, 0, dst, 0, &err), &err);
        CHECK_EQ_INT(lks_pq_decompress(codecs[ci], src, 0, dst, 1, &err), LKS_ECORRUPT);
    }
    lks_buf_free(&c);
    free(src);
    free(dst);
}

static void put_be32(uint8_t *q, uint32_t v) {
    q[0] = (uint8_t)(v >> 24), q[1] = (uint8_t)(v >> 16), q[2] = (uint8_t)(v >> 8), q[3] = (uint8_t)v;
}

static void t_compress_legacy(void) {
    lks_err err;
    /* gzip: zlib-wrapped streams and concatenated gzip members also read */
    uint8_t src[3000], dst[3001], z[4000];
    for (int i = 0; i < 3000; i++)
        src[i] = (uint8_t)(i * 7 % 13);
    uLongf zl = sizeof z;
    REQUIRE(compress2(z, &zl, src, 3000, 6) == Z_OK);
    CHECK_OK(lks_pq_decompress(LKS_PQ_GZIP, z, zl, dst, 3000, &err), &err);
    CHECK(memcmp(src, dst, 3000) == 0);
    lks_buf c;
    lks_buf_init(&c, 0);
    CHECK_OK(lks_pq_compress(LKS_PQ_GZIP, 0, src, 1000, &c, &err), &err);
    CHECK(c.len > 2 && c.ptr[0] == 0x1f && c.ptr[1] == 0x8b); /* gzip header */
    CHECK_OK(lks_pq_compress(LKS_PQ_GZIP, 0, src + 1000, 2000, &c, &err), &err);
    CHECK_OK(lks_pq_decompress(LKS_PQ_GZIP, c.ptr, c.len, dst, 3000, &err), &err);
    CHECK(memcmp(src, dst, 3000) == 0);
    CHECK_EQ_INT(lks_pq_decompress(LKS_PQ_GZIP, c.ptr, c.len, dst, 2999, &err), LKS_ECORRUPT);
    lks_buf_free(&c);
    /* legacy LZ4: Hadoop framing, two blocks, the second in two chunks */
    uint8_t h[8000];
    size_t hl = 0;
    char *blk = malloc(4000);
    put_be32(h + hl, 1000);
    int cl = LZ4_compress_default((const char *)src, blk, 1000, 4000);
    put_be32(h + hl + 4, (uint32_t)cl);
    memcpy(h + hl + 8, blk, (size_t)cl);
    hl += 8 + (size_t)cl;
    put_be32(h + hl, 2000);
    hl += 4;
    for (int part = 0; part < 2; part++) {
        cl = LZ4_compress_default((const char *)src + 1000 + part * 1000, blk, 1000, 4000);
        put_be32(h + hl, (uint32_t)cl);
        memcpy(h + hl + 4, blk, (size_t)cl);
        hl += 4 + (size_t)cl;
    }
    CHECK_OK(lks_pq_decompress(LKS_PQ_LZ4, h, hl, dst, 3000, &err), &err);
    CHECK(memcmp(src, dst, 3000) == 0);
    CHECK_EQ_INT(lks_pq_decompress(LKS_PQ_LZ4, h, hl, dst, 2999, &err), LKS_ECORRUPT);
    for (size_t l = 0; l < hl; l++) {
        uint8_t *t = dup_exact(h, l);
        CHECK_EQ_INT(lks_pq_decompress(LKS_PQ_LZ4, t, l, dst, 3000, &err), LKS_ECORRUPT);
        free(t);
    }
    /* legacy LZ4 falling back to a raw block */
    cl = LZ4_compress_default((const char *)src, blk, 3000, 4000);
    CHECK_OK(lks_pq_decompress(LKS_PQ_LZ4, (uint8_t *)blk, (size_t)cl, dst, 3000, &err), &err);
    CHECK(memcmp(src, dst, 3000) == 0);
    free(blk);
}

static void t_codec_names(void) {
    CHECK_EQ_STR(lks_pq_codec_name(LKS_PQ_SNAPPY), "SNAPPY");
    CHECK_EQ_STR(lks_pq_codec_name(LKS_PQ_LZ4_RAW), "LZ4_RAW");
    CHECK_EQ_STR(lks_pq_codec_name(8), "UNKNOWN");
    CHECK_EQ_STR(lks_pq_codec_name(-1), "UNKNOWN");
    CHECK_EQ_INT(lks_pq_codec_parse("zstd"), LKS_PQ_ZSTD);
    CHECK_EQ_INT(lks_pq_codec_parse("Uncompressed"), LKS_PQ_UNCOMPRESSED);
    CHECK_EQ_INT(lks_pq_codec_parse("gzip"), LKS_PQ_GZIP);
    CHECK_EQ_INT(lks_pq_codec_parse("lz5"), -1);
    CHECK_EQ_INT(lks_pq_codec_parse(NULL), -1);
}

/* ---- bloom filters ---------------------------------------------------------------------- */

static void t_bloom_size(void) {
    CHECK_EQ_INT(lks_pq_bloom_size(0, 0.01), 32);
    CHECK_EQ_INT(lks_pq_bloom_size(1, 0.5), 32);
    CHECK_EQ_INT(lks_pq_bloom_size(1000, 1.0), 32);
    CHECK_EQ_INT(lks_pq_bloom_size(UINT64_MAX, 0.01), 128u << 20);
    CHECK_EQ_INT(lks_pq_bloom_size(1000, 0.0), 128u << 20);
    /* one million values at 1%: ~9.6 bits each, ~1.2 MB, so 2 MiB */
    CHECK_EQ_INT(lks_pq_bloom_size(1000000, 0.01), 2u << 20);
    /* c = -8 / ln(1 - p^(1/8)) bits per value: about 11 at 0.5% */
    const double c = -8.0 / log(1.0 - pow(0.005, 1.0 / 8.0));
    CHECK(c > 10.9 && c < 11.1);
    for (uint64_t ndv = 1; ndv < 10000000; ndv = ndv * 3 + 1) {
        size_t s = lks_pq_bloom_size(ndv, 0.005);
        CHECK((s & (s - 1)) == 0 && s >= 32);
        CHECK((double)s * 8 >= (double)ndv * c);
        CHECK(s == 32 || (double)s * 8 / 2 < (double)ndv * c);
        CHECK(lks_pq_bloom_size(ndv, 0.05) <= s);
    }
}

static void t_bloom_filter(void) {
    CHECK(lks_pq_bloom_hash("", 0) == UINT64_C(0xEF46DB3751D8E999));
    /* a one-block filter sets exactly bit (key * SALT[i]) >> 27 of word i */
    static const uint32_t salt[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
                                     0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u};
    uint8_t one[32] = {0};
    uint64_t h = lks_pq_bloom_hash("abc", 3);
    lks_pq_bloom_insert(one, 32, h);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(lks_load_le32(one + 4 * i), 1u << (((uint32_t)h * salt[i]) >> 27));
    CHECK(lks_pq_bloom_check(one, 32, h));
    /* the block comes from the high 32 bits: ((h >> 32) * blocks) >> 32 */
    uint8_t four[128] = {0};
    lks_pq_bloom_insert(four, 128, UINT64_C(0xC000000000000000) | 5);
    for (int b = 0; b < 4; b++) {
        int any = 0;
        for (int k = 0; k < 32; k++)
            any |= four[b * 32 + k];
        CHECK_EQ_INT(!!any, b == 3);
    }
    /* 100k inserted values always found; 100k absent ones at about the target rate */
    const uint64_t ndv = 100000;
    const double fpp = 0.01;
    size_t nb = lks_pq_bloom_size(ndv, fpp);
    uint8_t *bits = calloc(nb, 1);
    for (uint64_t i = 0; i < ndv; i++) {
        int64_t x = (int64_t)(i * 2654435761u);
        lks_pq_bloom_insert(bits, nb, lks_pq_bloom_hash(&x, 8));
    }
    int missing = 0;
    for (uint64_t i = 0; i < ndv; i++) {
        int64_t x = (int64_t)(i * 2654435761u);
        missing += !lks_pq_bloom_check(bits, nb, lks_pq_bloom_hash(&x, 8));
    }
    CHECK_EQ_INT(missing, 0);
    /* an exactly-sized filter for the rate (no rounding up) */
    double c = -8.0 / log(1.0 - pow(fpp, 1.0 / 8.0));
    uint64_t fit = (uint64_t)((double)nb * 8 / c); /* values the chosen size is meant for */
    memset(bits, 0, nb);
    for (uint64_t i = 0; i < fit; i++) {
        char s[32];
        int l = snprintf(s, sizeof s, "in-%llu", (unsigned long long)i);
        lks_pq_bloom_insert(bits, nb, lks_pq_bloom_hash(s, (size_t)l));
    }
    int fp = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        char s[32];
        int l = snprintf(s, sizeof s, "out-%llu", (unsigned long long)i);
        fp += lks_pq_bloom_check(bits, nb, lks_pq_bloom_hash(s, (size_t)l));
    }
    double rate = fp / 100000.0;
    if (!(rate <= 2 * fpp && rate >= fpp / 2))
        FAILF("false-positive rate %.4f for target %.4f", rate, fpp);
    free(bits);
    /* degenerate sizes answer "maybe" and never write */
    CHECK(lks_pq_bloom_check(NULL, 0, 123));
    lks_pq_bloom_insert(NULL, 16, 123);
}

/* parquet-testing's bloom_filter.xxhash.bin (written by parquet-mr): a
 * 16-byte Thrift header then 1024 bytes of filter holding "hello",
 * "parquet", "bloom" and "filter". */
static void t_bloom_corpus(void) {
    char path[4200];
    if (!lks_test_corpus_path(path, sizeof path, "parquet/data/bloom_filter.xxhash.bin"))
        SKIP("no corpus");
    FILE *f = fopen(path, "rb");
    if (!f)
        SKIP("no bloom_filter.xxhash.bin");
    uint8_t buf[2048];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    REQUIRE(len == 1040);
    /* field 1 (numBytes, i32): 0x15 then zigzag varint 0x80 0x10 = 1024 */
    REQUIRE(buf[0] == 0x15 && buf[1] == 0x80 && buf[2] == 0x10);
    const uint8_t *bits = buf + len - 1024;
    static const char *const in[] = {"hello", "parquet", "bloom", "filter"};
    for (int i = 0; i < 4; i++)
        CHECK(lks_pq_bloom_check(bits, 1024, lks_pq_bloom_hash(in[i], strlen(in[i]))));
    int fp = 0;
    for (int i = 0; i < 1000; i++) {
        char s[32];
        int l = snprintf(s, sizeof s, "absent-%d", i);
        fp += lks_pq_bloom_check(bits, 1024, lks_pq_bloom_hash(s, (size_t)l));
    }
    CHECK(fp < 10);
}

int main(void) {
    RUN(t_rle_roundtrip);
    RUN(t_rle_choices);
    RUN(t_rle_spec_example);
    RUN(t_bitpacked_legacy);
    RUN(t_rle_truncation);
    RUN(t_plain);
    RUN(t_delta_spec_examples);
    RUN(t_delta_roundtrip);
    RUN(t_delta_truncation);
    RUN(t_delta_length);
    RUN(t_delta_byte_array);
    RUN(t_byte_stream_split);
    RUN(t_huge_counts);
    RUN(t_compress_roundtrip);
    RUN(t_compress_legacy);
    RUN(t_codec_names);
    RUN(t_bloom_size);
    RUN(t_bloom_filter);
    RUN(t_bloom_corpus);
    return lks_test_done();
}
