/*
 * encode.c — Parquet value and level encoders (writer side of encoding.h):
 * the RLE / bit-packed hybrid and PLAIN.
 *
 * The hybrid encoder sees the whole array at once.  It emits an RLE run for
 * every stretch of at least 8 equal values and bit-packs everything else in
 * groups of 8; when a long run starts while a bit-packed group is only
 * partly filled, the group is completed from the run first, so runs never
 * force padding in the middle of the data.  Only the final group is padded
 * (with zeros; readers stop at their value count).
 */
#include "parquet/encoding.h"

#include <string.h>

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

enum {
    MIN_RUN = 8,           /* shortest repeat written as an RLE run */
    MAX_RUN = 0x7fffffff,  /* run lengths are at most 2^31 - 1 */
    MAX_GROUPS = (1 << 24) /* bit-packed groups per run header */
};

static ALWAYS_INLINE uint32_t val_at(const void *v, size_t i, int is16) {
    return is16 ? ((const uint16_t *)v)[i] : ((const uint32_t *)v)[i];
}

static ALWAYS_INLINE size_t put_uleb(uint8_t *q, uint64_t x) {
    size_t k = 0;
    while (x >= 0x80) {
        q[k++] = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    q[k++] = (uint8_t)x;
    return k;
}

/* Bit-packs values v[from .. from+count) (count > 0) as ceil(count/8)
 * groups, the last one zero-padded. */
static ALWAYS_INLINE int put_packed(lks_buf *b, const void *v, size_t from, size_t count, int w, int is16) {
    while (count) {
        size_t groups = (count + 7) / 8;
        if (groups > MAX_GROUPS)
            groups = MAX_GROUPS;
        size_t nv = groups * 8 < count ? groups * 8 : count;
        int rc = lks_buf_reserve(b, 10 + groups * (size_t)w);
        if (rc)
            return rc;
        uint8_t *q = b->ptr + b->len;
        q += put_uleb(q, (uint64_t)groups << 1 | 1);
        if (w == 0) {
            b->len = (size_t)(q - b->ptr);
        } else {
            /* 64-bit accumulator flushed 32 bits at a time; a group of 8
             * values is exactly w bytes, so groups end byte-aligned */
            uint64_t acc = 0;
            int nbits = 0;
            for (size_t i = 0; i < groups * 8; i++) {
                uint64_t x = i < nv ? val_at(v, from + i, is16) : 0;
                acc |= x << nbits;
                nbits += w;
                if (nbits >= 32) {
                    lks_store_le32(q, (uint32_t)acc);
                    q += 4;
                    acc >>= 32;
                    nbits -= 32;
                }
            }
            while (nbits > 0) {
                *q++ = (uint8_t)acc;
                acc >>= 8;
                nbits -= 8;
            }
            b->len = (size_t)(q - b->ptr);
        }
        from += nv;
        count -= nv;
    }
    return LKS_OK;
}

static int put_run(lks_buf *b, uint32_t x, size_t count, int w) {
    size_t vbytes = ((size_t)w + 7) / 8;
    while (count) {
        size_t c = count > MAX_RUN ? MAX_RUN : count;
        int rc = lks_buf_reserve(b, 10 + vbytes);
        if (rc)
            return rc;
        uint8_t *q = b->ptr + b->len;
        q += put_uleb(q, (uint64_t)c << 1);
        for (size_t k = 0; k < vbytes; k++)
            *q++ = (uint8_t)(x >> (8 * k));
        b->len = (size_t)(q - b->ptr);
        count -= c;
    }
    return LKS_OK;
}

static ALWAYS_INLINE int rle_encode(lks_buf *b, const void *v, size_t n, int w, int is16) {
    if (w < 0 || w > (is16 ? 16 : 32))
        return LKS_EINVAL;
    const uint32_t wmax = w == 32 ? UINT32_MAX : (uint32_t)((1ull << w) - 1);
    uint32_t big = 0;
    for (size_t i = 0; i < n; i++)
        big |= val_at(v, i, is16);
    if (big > wmax)
        return LKS_EINVAL;
    size_t lit = 0, lit_n = 0; /* pending bit-packed values v[lit .. lit+lit_n) */
    size_t i = 0;
    while (i < n) {
        uint32_t x = val_at(v, i, is16);
        size_t j = i + 1;
        while (j < n && val_at(v, j, is16) == x)
            j++;
        size_t r = j - i;
        if (r >= MIN_RUN) {
            /* complete a partial group from the run first */
            size_t borrow = lit_n % 8 ? 8 - lit_n % 8 : 0;
            if (r - borrow >= MIN_RUN) {
                lit_n += borrow;
                if (lit_n) {
                    int rc = put_packed(b, v, lit, lit_n, w, is16);
                    if (rc)
                        return rc;
                }
                int rc = put_run(b, x, r - borrow, w);
                if (rc)
                    return rc;
                lit = j;
                lit_n = 0;
                i = j;
                continue;
            }
        }
        if (lit_n == 0)
            lit = i;
        lit_n += r;
        i = j;
    }
    if (lit_n)
        return put_packed(b, v, lit, lit_n, w, is16);
    return LKS_OK;
}

int lks_pq_rle_encode_u16(lks_buf *b, const uint16_t *v, size_t n, int bit_width) {
    return rle_encode(b, v, n, bit_width, 1);
}

int lks_pq_rle_encode_u32(lks_buf *b, const uint32_t *v, size_t n, int bit_width) {
    return rle_encode(b, v, n, bit_width, 0);
}

/* ---- PLAIN ------------------------------------------------------------------ */

int lks_pq_plain_encode_bool(lks_buf *b, const uint8_t *v, size_t n) {
    size_t nb = n / 8 + (n % 8 != 0);
    int rc = lks_buf_reserve(b, nb);
    if (rc)
        return rc;
    uint8_t *q = b->ptr + b->len;
    memset(q, 0, nb);
    for (size_t i = 0; i < n; i++)
        q[i >> 3] |= (uint8_t)((v[i] != 0) << (i & 7));
    b->len += nb;
    return LKS_OK;
}

int lks_pq_plain_encode_fixed(lks_buf *b, const void *v, size_t n, size_t width) {
    if (width && n > SIZE_MAX / width)
        return LKS_ELIMIT;
    return lks_buf_append(b, v, n * width);
}

int lks_pq_plain_encode_byte_array(lks_buf *b, const lks_slice *v, size_t n) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].len > INT32_MAX)
            return LKS_EINVAL;
        if (total > SIZE_MAX - 4 - v[i].len)
            return LKS_ELIMIT;
        total += 4 + v[i].len;
    }
    int rc = lks_buf_reserve(b, total);
    if (rc)
        return rc;
    uint8_t *q = b->ptr + b->len;
    for (size_t i = 0; i < n; i++) {
        lks_store_le32(q, (uint32_t)v[i].len);
        if (v[i].len)
            memcpy(q + 4, v[i].ptr, v[i].len);
        q += 4 + v[i].len;
    }
    b->len += total;
    return LKS_OK;
}

int lks_pq_plain_encode_flba(lks_buf *b, const lks_slice *v, size_t n, size_t width) {
    for (size_t i = 0; i < n; i++)
        if (v[i].len != width)
            return LKS_EINVAL;
    if (width && n > SIZE_MAX / width)
        return LKS_ELIMIT;
    int rc = lks_buf_reserve(b, n * width);
    if (rc)
        return rc;
    uint8_t *q = b->ptr + b->len;
    for (size_t i = 0; i < n; i++)
        if (width)
            memcpy(q + i * width, v[i].ptr, width);
    b->len += n * width;
    return LKS_OK;
}
