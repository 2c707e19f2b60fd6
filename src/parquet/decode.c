/*
 * decode.c — Parquet value and level decoders (reader side of encoding.h):
 * RLE / bit-packed hybrid, legacy BIT_PACKED, PLAIN, DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT, as the
 * format's Encodings.md defines them.
 *
 * Every input is hostile: each decoder checks that the bytes it is about to
 * read are present before reading them (bit unpacking reads 64-bit windows
 * only where at least 8 spare bytes follow, otherwise from a zero-padded
 * copy), never allocates, and fails with LKS_ECORRUPT naming the encoding
 * and the byte offset relative to the start of its input.
 */
#include "parquet/encoding.h"

#include <string.h>

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LOAD64(q) __builtin_bswap64(load64_raw(q))
#else
#define LOAD64(q) load64_raw(q)
#endif

static ALWAYS_INLINE uint64_t load64_raw(const uint8_t *q) {
    uint64_t v;
    memcpy(&v, q, 8);
    return v;
}

static int corrupt(lks_err *err, const char *what, const uint8_t *start, const uint8_t *at, const char *detail) {
    return lks_err_set(err, LKS_ECORRUPT, "%s: %s at offset %zu", what, detail, (size_t)(at - start));
}

/* ULEB128 of at most 10 bytes (64 bits).  Returns 0, or -1 when truncated
 * or overlong. */
static ALWAYS_INLINE int uleb(const uint8_t **pp, const uint8_t *end, uint64_t *v) {
    const uint8_t *q = *pp;
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (q == end)
            return -1;
        uint8_t c = *q++;
        if (shift == 63 && c > 1)
            return -1;
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *pp = q;
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* ---- RLE / bit-packed hybrid ------------------------------------------------ */

/* Unpacks `groups` groups of 8 values of constant width w (1..32), LSB
 * first; the caller guarantees w*groups + 8 readable bytes at src. */
static ALWAYS_INLINE void unpack_groups(const uint8_t *src, void *outv, size_t groups, int w, int is16) {
    const uint64_t mask = w == 32 ? 0xffffffffu : ((uint64_t)1 << w) - 1;
    for (size_t g = 0; g < groups; g++) {
        for (int k = 0; k < 8; k++) {
            unsigned bit = (unsigned)(k * w);
            uint32_t v = (uint32_t)((LOAD64(src + (bit >> 3)) >> (bit & 7)) & mask);
            if (is16)
                ((uint16_t *)outv)[g * 8 + (size_t)k] = (uint16_t)v;
            else
                ((uint32_t *)outv)[g * 8 + (size_t)k] = v;
        }
        src += w;
    }
}

#define C1(W, S)                                                                                                       \
    case W:                                                                                                            \
        unpack_groups(src, out, groups, W, S);                                                                         \
        return;
#define C8(A, S) C1(A, S) C1(A + 1, S) C1(A + 2, S) C1(A + 3, S) C1(A + 4, S) C1(A + 5, S) C1(A + 6, S) C1(A + 7, S)

static void unpack_u16(const uint8_t *src, uint16_t *out, size_t groups, int w) {
    switch (w) {
        C8(1, 1)
        C8(9, 1)
    default: break;
    }
}

static void unpack_u32(const uint8_t *src, uint32_t *out, size_t groups, int w) {
    switch (w) {
        C8(1, 0)
        C8(9, 0)
        C8(17, 0)
        C8(25, 0)
    default: break;
    }
}
#undef C8
#undef C1

/* Unpacks `groups` full groups from src (which holds at least w*groups
 * bytes followed by `avail - w*groups` more) into out. */
static ALWAYS_INLINE void unpack_bounded(const uint8_t *src, size_t avail, void *outv, size_t groups, int w, int is16) {
    size_t fast = 0;
    if (avail >= (size_t)w + 8)
        fast = (avail - 8) / (size_t)w; /* groups whose windows stay in bounds */
    if (fast > groups)
        fast = groups;
    if (fast) {
        if (is16)
            unpack_u16(src, outv, fast, w);
        else
            unpack_u32(src, outv, fast, w);
    }
    for (size_t g = fast; g < groups; g++) {
        uint8_t pad[40] = {0};
        memcpy(pad, src + g * (size_t)w, (size_t)w);
        if (is16)
            unpack_u16(pad, (uint16_t *)outv + g * 8, 1, w);
        else
            unpack_u32(pad, (uint32_t *)outv + g * 8, 1, w);
    }
}

static ALWAYS_INLINE int rle_decode(const uint8_t *p, size_t len, int w, void *outv, size_t n, uint32_t max,
                                    lks_err *err, int is16) {
    static const char what[] = "RLE/bit-packed hybrid";
    if (w < 0 || w > (is16 ? 16 : 32))
        return lks_err_set(err, LKS_ECORRUPT, "%s: bit width %d out of range", what, w);
    const uint8_t *q = p, *end = p + len;
    const uint32_t wmax = w == 32 ? UINT32_MAX : (uint32_t)((1ull << w) - 1);
    const int check = max < wmax;
    const size_t vbytes = ((size_t)w + 7) / 8;
    size_t i = 0;
    while (i < n) {
        const uint8_t *hp = q;
        uint64_t h;
        if (uleb(&q, end, &h) || h > UINT32_MAX)
            return corrupt(err, what, p, hp, "bad or truncated run header");
        size_t left = n - i;
        if (h & 1) {
            uint64_t groups = h >> 1;
            size_t take = groups * 8 < left ? (size_t)(groups * 8) : left;
            size_t need_groups = (take + 7) / 8;
            size_t avail = (size_t)(end - q);
            if (w && need_groups > avail / (size_t)w)
                return corrupt(err, what, p, hp, "bit-packed run truncated");
            size_t full = take / 8, rest = take % 8;
            if (w == 0) {
                if (is16)
                    memset((uint16_t *)outv + i, 0, take * sizeof(uint16_t));
                else
                    memset((uint32_t *)outv + i, 0, take * sizeof(uint32_t));
            } else {
                if (is16)
                    unpack_bounded(q, avail, (uint16_t *)outv + i, full, w, 1);
                else
                    unpack_bounded(q, avail, (uint32_t *)outv + i, full, w, 0);
                if (rest) {
                    /* last, partial group: unpack to scratch, keep `rest` */
                    uint32_t tmp[8];
                    uint8_t pad[40] = {0};
                    memcpy(pad, q + full * (size_t)w, (size_t)w);
                    unpack_u32(pad, tmp, 1, w);
                    for (size_t k = 0; k < rest; k++) {
                        if (is16)
                            ((uint16_t *)outv)[i + full * 8 + k] = (uint16_t)tmp[k];
                        else
                            ((uint32_t *)outv)[i + full * 8 + k] = tmp[k];
                    }
                }
                if (check) {
                    uint32_t bad = 0;
                    if (is16) {
                        const uint16_t *o = (const uint16_t *)outv + i;
                        for (size_t k = 0; k < take; k++)
                            bad |= o[k] > max;
                    } else {
                        const uint32_t *o = (const uint32_t *)outv + i;
                        for (size_t k = 0; k < take; k++)
                            bad |= o[k] > max;
                    }
                    if (bad)
                        return lks_err_set(err, LKS_ECORRUPT, "%s: value exceeds %u in bit-packed run at offset %zu",
                                           what, max, (size_t)(hp - p));
                }
                q += need_groups * (size_t)w;
            }
            i += take;
        } else {
            uint64_t cnt = h >> 1;
            if ((size_t)(end - q) < vbytes)
                return corrupt(err, what, p, hp, "RLE run value truncated");
            uint32_t v = 0;
            for (size_t k = 0; k < vbytes; k++)
                v |= (uint32_t)q[k] << (8 * k);
            if (v > wmax)
                return corrupt(err, what, p, q, "RLE run value exceeds bit width");
            if (v > max)
                return lks_err_set(err, LKS_ECORRUPT, "%s: RLE run value %u exceeds %u at offset %zu", what, v, max,
                                   (size_t)(q - p));
            q += vbytes;
            size_t take = cnt < left ? (size_t)cnt : left;
            if (is16) {
                uint16_t *o = (uint16_t *)outv + i;
                if (v == 0)
                    memset(o, 0, take * sizeof *o);
                else
                    for (size_t k = 0; k < take; k++)
                        o[k] = (uint16_t)v;
            } else {
                uint32_t *o = (uint32_t *)outv + i;
                if (v == 0)
                    memset(o, 0, take * sizeof *o);
                else
                    for (size_t k = 0; k < take; k++)
                        o[k] = v;
            }
            i += take;
        }
    }
    return LKS_OK;
}

int lks_pq_rle_decode_u16(const uint8_t *p, size_t len, int bit_width, uint16_t *out, size_t n, uint32_t max,
                          lks_err *err) {
    return rle_decode(p, len, bit_width, out, n, max, err, 1);
}

int lks_pq_rle_decode_u32(const uint8_t *p, size_t len, int bit_width, uint32_t *out, size_t n, uint32_t max,
                          lks_err *err) {
    return rle_decode(p, len, bit_width, out, n, max, err, 0);
}

/* ---- legacy BIT_PACKED (MSB first) ------------------------------------------ */

int lks_pq_bitpacked_legacy_decode(const uint8_t *p, size_t len, int bit_width, uint16_t *out, size_t n, lks_err *err) {
    static const char what[] = "BIT_PACKED";
    if (bit_width < 0 || bit_width > 16)
        return lks_err_set(err, LKS_ECORRUPT, "%s: bit width %d out of range", what, bit_width);
    if (n == 0)
        return LKS_OK;
    if (bit_width == 0) {
        memset(out, 0, n * sizeof *out);
        return LKS_OK;
    }
    const size_t w = (size_t)bit_width;
    if (n > SIZE_MAX / 16 || (n * w + 7) / 8 > len)
        return lks_err_set(err, LKS_ECORRUPT, "%s: %zu values of %zu bits need more than the %zu bytes present", what,
                           n, w, len);
    size_t bit = 0, i = 0;
    /* fast part: a 4-byte big-endian window stays inside the input */
    for (; i < n && (bit >> 3) + 4 <= len; i++, bit += w) {
        const uint8_t *q = p + (bit >> 3);
        uint32_t win = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
        out[i] = (uint16_t)((win << (bit & 7)) >> (32 - w));
    }
    for (; i < n; i++, bit += w) {
        uint32_t win = 0;
        for (size_t k = 0; k < 4; k++) {
            size_t at = (bit >> 3) + k;
            win = win << 8 | (at < len ? p[at] : 0);
        }
        out[i] = (uint16_t)((win << (bit & 7)) >> (32 - w));
    }
    return LKS_OK;
}

/* ---- PLAIN ------------------------------------------------------------------ */

int lks_pq_plain_decode_bool(const uint8_t *p, size_t len, uint8_t *out, size_t n, size_t *used, lks_err *err) {
    *used = 0;
    size_t need = n / 8 + (n % 8 != 0);
    if (need > len)
        return lks_err_set(err, LKS_ECORRUPT, "PLAIN BOOLEAN: %zu values need %zu bytes, %zu present", n, need, len);
    size_t full = n / 8;
    for (size_t b = 0; b < full; b++) {
        uint8_t c = p[b];
        uint8_t *o = out + b * 8;
        for (int k = 0; k < 8; k++)
            o[k] = (uint8_t)((c >> k) & 1);
    }
    for (size_t i = full * 8; i < n; i++)
        out[i] = (uint8_t)((p[i >> 3] >> (i & 7)) & 1);
    *used = need;
    return LKS_OK;
}

int lks_pq_plain_decode_fixed(const uint8_t *p, size_t len, void *out, size_t n, size_t width, size_t *used,
                              lks_err *err) {
    *used = 0;
    if (width == 0)
        return lks_err_set(err, LKS_ECORRUPT, "PLAIN: value width 0");
    if (n > len / width)
        return lks_err_set(err, LKS_ECORRUPT, "PLAIN: %zu values of %zu bytes exceed the %zu bytes present", n, width,
                           len);
    if (n)
        memcpy(out, p, n * width);
    *used = n * width;
    return LKS_OK;
}

int lks_pq_plain_decode_byte_array(const uint8_t *p, size_t len, lks_slice *out, size_t n, size_t *used, lks_err *err) {
    static const char what[] = "PLAIN BYTE_ARRAY";
    *used = 0;
    if (n > len / 4)
        return lks_err_set(err, LKS_ECORRUPT, "%s: %zu values cannot fit in %zu bytes", what, n, len);
    const uint8_t *q = p, *end = p + len;
    for (size_t i = 0; i < n; i++) {
        if (LKS_UNLIKELY(end - q < 4))
            return corrupt(err, what, p, q, "length truncated");
        uint32_t l = lks_load_le32(q);
        q += 4;
        if (LKS_UNLIKELY(l > (size_t)(end - q)))
            return lks_err_set(err, LKS_ECORRUPT, "%s: value %zu of %u bytes overruns the input at offset %zu", what, i,
                               l, (size_t)(q - 4 - p));
        out[i].ptr = q;
        out[i].len = l;
        q += l;
    }
    *used = (size_t)(q - p);
    return LKS_OK;
}

int lks_pq_plain_decode_flba(const uint8_t *p, size_t len, lks_slice *out, size_t n, size_t width, size_t *used,
                             lks_err *err) {
    *used = 0;
    if (width == 0)
        return lks_err_set(err, LKS_ECORRUPT, "PLAIN FIXED_LEN_BYTE_ARRAY: width 0");
    if (n > len / width)
        return lks_err_set(err, LKS_ECORRUPT,
                           "PLAIN FIXED_LEN_BYTE_ARRAY: %zu values of %zu bytes exceed the %zu bytes present", n, width,
                           len);
    for (size_t i = 0; i < n; i++) {
        out[i].ptr = p + i * width;
        out[i].len = width;
    }
    *used = n * width;
    return LKS_OK;
}

/* ---- DELTA_BINARY_PACKED ------------------------------------------------------ */

/* Streaming decoder: values come out in order, 32 at a time (a miniblock
 * holds a multiple of 32 values; 32 values of width w take 4*w bytes). */
typedef struct dbp {
    const char *what;
    const uint8_t *start, *p, *end;
    uint64_t block_size, mb_count, mb_size; /* mb_size: values per miniblock */
    uint64_t total;                         /* values in the stream */
    uint64_t left;                          /* values not yet decoded (into out or grp) */
    uint64_t last, min_delta;
    const uint8_t *widths; /* current block's miniblock widths */
    uint64_t mb_next;      /* next miniblock of the block (== mb_count: block done) */
    uint64_t mb_left;      /* values of the current miniblock not yet unpacked */
    int w, bits;           /* current miniblock width; 32 or 64 */
    int first_pending;
    unsigned grp_pos, grp_len;
    uint64_t grp[32];
} dbp;

static int dbp_init(dbp *d, const uint8_t *p, size_t len, int bits, const char *what, lks_err *err) {
    memset(d, 0, offsetof(dbp, grp));
    d->what = what;
    d->start = d->p = p;
    d->end = p + len;
    d->bits = bits;
    uint64_t first;
    if (uleb(&d->p, d->end, &d->block_size))
        return corrupt(err, what, p, d->p, "block size truncated");
    if (uleb(&d->p, d->end, &d->mb_count))
        return corrupt(err, what, p, d->p, "miniblock count truncated");
    if (uleb(&d->p, d->end, &d->total))
        return corrupt(err, what, p, d->p, "value count truncated");
    if (uleb(&d->p, d->end, &first))
        return corrupt(err, what, p, d->p, "first value truncated");
    if (d->block_size == 0 || d->block_size % 128 != 0)
        return lks_err_set(err, LKS_ECORRUPT, "%s: block size %llu is not a multiple of 128", what,
                           (unsigned long long)d->block_size);
    if (d->mb_count == 0 || d->block_size % d->mb_count != 0 || (d->block_size / d->mb_count) % 32 != 0)
        return lks_err_set(err, LKS_ECORRUPT, "%s: %llu miniblocks do not divide a block of %llu into multiples of 32",
                           what, (unsigned long long)d->mb_count, (unsigned long long)d->block_size);
    d->mb_size = d->block_size / d->mb_count;
    d->last = (first >> 1) ^ (0 - (first & 1)); /* zigzag, wrapping */
    if (bits == 32)
        d->last = (uint32_t)d->last;
    d->left = d->total;
    d->first_pending = d->total > 0;
    d->mb_next = d->mb_count;
    return LKS_OK;
}

/* Starts the next miniblock (reading a block header when the block is done). */
static int dbp_next_mb(dbp *d, lks_err *err) {
    if (d->mb_next == d->mb_count) {
        const uint8_t *hp = d->p;
        uint64_t zz;
        if (uleb(&d->p, d->end, &zz))
            return corrupt(err, d->what, d->start, hp, "block min delta truncated");
        d->min_delta = (zz >> 1) ^ (0 - (zz & 1));
        if ((uint64_t)(d->end - d->p) < d->mb_count)
            return corrupt(err, d->what, d->start, d->p, "miniblock bit widths truncated");
        d->widths = d->p;
        d->p += d->mb_count;
        d->mb_next = 0;
    }
    int w = d->widths[d->mb_next];
    if (w > d->bits)
        return lks_err_set(err, LKS_ECORRUPT, "%s: miniblock bit width %d exceeds %d at offset %zu", d->what, w,
                           d->bits, (size_t)(d->widths + d->mb_next - d->start));
    d->mb_next++;
    d->w = w;
    d->mb_left = d->mb_size;
    return LKS_OK;
}

/* Unpacks 32 values of width w (0..64) from src, which has `avail` bytes
 * (at least 4*w). */
static void unpack32_64(const uint8_t *src, size_t avail, uint64_t *out, int w) {
    if (w == 0) {
        memset(out, 0, 32 * sizeof *out);
        return;
    }
    uint8_t pad[4 * 64 + 16];
    if (avail < (size_t)(4 * w) + 16) {
        memset(pad, 0, sizeof pad);
        memcpy(pad, src, (size_t)(4 * w));
        src = pad;
    }
    const uint64_t mask = w == 64 ? ~(uint64_t)0 : ((uint64_t)1 << w) - 1;
    if (w <= 56) {
        for (unsigned k = 0; k < 32; k++) {
            unsigned bit = k * (unsigned)w;
            out[k] = (LOAD64(src + (bit >> 3)) >> (bit & 7)) & mask;
        }
    } else {
        for (unsigned k = 0; k < 32; k++) {
            unsigned bit = k * (unsigned)w, s = bit & 7;
            uint64_t v = LOAD64(src + (bit >> 3)) >> s;
            if (s)
                v |= LOAD64(src + (bit >> 3) + 8) << (64 - s);
            out[k] = v & mask;
        }
    }
}

/* Decodes the next group of 32 deltas into out[0..31] (values; only the
 * first min(32, left) are meaningful; *cnt receives that number). */
static int dbp_group(dbp *d, uint64_t *out, unsigned *cnt, lks_err *err) {
    if (d->mb_left == 0) {
        int rc = dbp_next_mb(d, err);
        if (rc)
            return rc;
    }
    size_t need = (size_t)d->w * 4, avail = (size_t)(d->end - d->p);
    if (avail < need)
        return corrupt(err, d->what, d->start, d->p, "miniblock truncated");
    unpack32_64(d->p, avail, out, d->w);
    d->p += need;
    d->mb_left -= 32;
    unsigned c = d->left < 32 ? (unsigned)d->left : 32;
    uint64_t v = d->last, md = d->min_delta;
    if (d->bits == 32) {
        uint32_t v32 = (uint32_t)v, md32 = (uint32_t)md;
        for (unsigned k = 0; k < c; k++) {
            v32 += md32 + (uint32_t)out[k];
            out[k] = v32;
        }
        v = v32;
    } else {
        for (unsigned k = 0; k < c; k++) {
            v += md + out[k];
            out[k] = v;
        }
    }
    d->last = v;
    d->left -= c;
    *cnt = c;
    return LKS_OK;
}

/* Reads the next k values (k <= values remaining) as uint64 (32-bit streams:
 * zero-extended uint32). */
static int dbp_read(dbp *d, uint64_t *out, size_t k, lks_err *err) {
    size_t i = 0;
    if (k && d->first_pending) {
        out[i++] = d->last;
        d->first_pending = 0;
        d->left--;
    }
    while (i < k) {
        if (d->grp_pos < d->grp_len) {
            size_t c = d->grp_len - d->grp_pos;
            if (c > k - i)
                c = k - i;
            memcpy(out + i, d->grp + d->grp_pos, c * sizeof *out);
            d->grp_pos += (unsigned)c;
            i += c;
            continue;
        }
        if (d->left == 0)
            return lks_err_set(err, LKS_EINTERNAL, "%s: read past the value count", d->what);
        unsigned c;
        int rc;
        if (k - i >= 32 && d->left >= 32) {
            rc = dbp_group(d, out + i, &c, err);
            i += c;
        } else {
            rc = dbp_group(d, d->grp, &c, err);
            d->grp_pos = 0;
            d->grp_len = c;
        }
        if (rc)
            return rc;
    }
    return LKS_OK;
}

/* Skips all values not yet read, without unpacking them. */
static int dbp_skip_rest(dbp *d, lks_err *err) {
    d->grp_pos = d->grp_len = 0;
    if (d->first_pending) {
        d->first_pending = 0;
        d->left--;
    }
    while (d->left) {
        if (d->mb_left == 0) {
            int rc = dbp_next_mb(d, err);
            if (rc)
                return rc;
        }
        uint64_t take = d->left >= d->mb_left ? d->mb_left : (d->left + 31) / 32 * 32;
        size_t avail = (size_t)(d->end - d->p);
        if (d->w && take / 8 > avail / (size_t)d->w)
            return corrupt(err, d->what, d->start, d->p, "miniblock truncated");
        d->p += (size_t)(take / 8) * (size_t)d->w;
        d->mb_left -= take;
        d->left -= take < d->left ? take : d->left;
    }
    return LKS_OK;
}

/* Offset just past the stream, once every value was read or skipped: the
 * rest of the last miniblock is padding that must be present. */
static int dbp_end(dbp *d, size_t *off, lks_err *err) {
    size_t avail = (size_t)(d->end - d->p);
    if (d->w && d->mb_left / 8 > avail / (size_t)d->w)
        return corrupt(err, d->what, d->start, d->p, "last miniblock padding truncated");
    *off = (size_t)(d->p - d->start) + (size_t)(d->mb_left / 8) * (size_t)d->w;
    return LKS_OK;
}

int lks_pq_delta_decode_int(const uint8_t *p, size_t len, void *out, size_t n, size_t width, size_t *used,
                            lks_err *err) {
    static const char what[] = "DELTA_BINARY_PACKED";
    *used = 0;
    if (width != 4 && width != 8)
        return lks_err_set(err, LKS_EINVAL, "%s: value width %zu", what, width);
    if (n == 0)
        return LKS_OK;
    dbp d;
    int rc = dbp_init(&d, p, len, (int)width * 8, what, err);
    if (rc)
        return rc;
    if (d.total < n)
        return lks_err_set(err, LKS_ECORRUPT, "%s: stream holds %llu values, %zu expected", what,
                           (unsigned long long)d.total, n);
    if (width == 8) {
        rc = dbp_read(&d, out, n, err);
    } else {
        uint64_t tmp[256];
        uint32_t *o = out;
        for (size_t i = 0; i < n && !rc; i += 256) {
            size_t k = n - i < 256 ? n - i : 256;
            rc = dbp_read(&d, tmp, k, err);
            for (size_t j = 0; j < k; j++)
                o[i + j] = (uint32_t)tmp[j];
        }
    }
    if (!rc)
        rc = dbp_skip_rest(&d, err);
    if (!rc)
        rc = dbp_end(&d, used, err);
    return rc;
}

/* Reads n lengths (int32, non-negative) of a DELTA_BINARY_PACKED stream
 * holding exactly n values into out[i].len; *sum receives their total. */
static int read_lengths(dbp *d, lks_slice *out, size_t n, uint64_t *sum, lks_err *err) {
    uint64_t tmp[256], s = 0;
    for (size_t i = 0; i < n; i += 256) {
        size_t k = n - i < 256 ? n - i : 256;
        int rc = dbp_read(d, tmp, k, err);
        if (rc)
            return rc;
        for (size_t j = 0; j < k; j++) {
            if (tmp[j] > INT32_MAX)
                return lks_err_set(err, LKS_ECORRUPT, "%s: negative length for value %zu", d->what, i + j);
            out[i + j].len = (size_t)tmp[j];
            s += tmp[j];
        }
    }
    *sum = s;
    return LKS_OK;
}

static int init_count(dbp *d, const uint8_t *p, size_t len, size_t n, const char *what, lks_err *err) {
    int rc = dbp_init(d, p, len, 32, what, err);
    if (rc)
        return rc;
    if (d->total != n)
        return lks_err_set(err, LKS_ECORRUPT, "%s: stream holds %llu values, %zu expected", what,
                           (unsigned long long)d->total, n);
    return LKS_OK;
}

int lks_pq_delta_length_decode(const uint8_t *p, size_t len, lks_slice *out, size_t n, size_t *used, lks_err *err) {
    static const char what[] = "DELTA_LENGTH_BYTE_ARRAY lengths";
    *used = 0;
    if (n == 0)
        return LKS_OK;
    dbp d;
    uint64_t sum;
    size_t off;
    int rc = init_count(&d, p, len, n, what, err);
    if (!rc)
        rc = read_lengths(&d, out, n, &sum, err);
    if (!rc)
        rc = dbp_end(&d, &off, err);
    if (rc)
        return rc;
    if (sum > len - off)
        return lks_err_set(err, LKS_ECORRUPT,
                           "DELTA_LENGTH_BYTE_ARRAY: %llu data bytes at offset %zu exceed the %zu present",
                           (unsigned long long)sum, off, len - off);
    const uint8_t *q = p + off;
    for (size_t i = 0; i < n; i++) {
        out[i].ptr = q;
        q += out[i].len;
    }
    *used = off + (size_t)sum;
    return LKS_OK;
}

int lks_pq_delta_byte_array_decode(const uint8_t *p, size_t len, lks_slice *out, size_t n, lks_buf *data,
                                   lks_err *err) {
    static const char what[] = "DELTA_BYTE_ARRAY";
    if (n == 0)
        return LKS_OK;
    dbp d;
    uint64_t sum;
    size_t soff, doff;
    /* prefix lengths, kept in out[i].len until the values are built */
    int rc = init_count(&d, p, len, n, "DELTA_BYTE_ARRAY prefix lengths", err);
    if (!rc)
        rc = read_lengths(&d, out, n, &sum, err);
    if (!rc)
        rc = dbp_end(&d, &soff, err);
    if (rc)
        return rc;
    /* pass 1 over the suffix lengths: validate prefixes, size the output */
    uint64_t tmp[256];
    uint64_t prev = 0, total = 0, suffix_sum = 0;
    const uint64_t room = data->max - data->len;
    rc = init_count(&d, p + soff, len - soff, n, "DELTA_BYTE_ARRAY suffix lengths", err);
    for (size_t i = 0; i < n && !rc; i += 256) {
        size_t k = n - i < 256 ? n - i : 256;
        rc = dbp_read(&d, tmp, k, err);
        for (size_t j = 0; j < k && !rc; j++) {
            if (tmp[j] > INT32_MAX)
                return lks_err_set(err, LKS_ECORRUPT, "%s: negative suffix length for value %zu", what, i + j);
            if (out[i + j].len > prev)
                return lks_err_set(err, LKS_ECORRUPT,
                                   "%s: prefix length %zu of value %zu exceeds the previous value's %llu", what,
                                   out[i + j].len, i + j, (unsigned long long)prev);
            prev = out[i + j].len + tmp[j];
            suffix_sum += tmp[j];
            total += prev;
            if (total > room)
                return lks_err_set(err, LKS_ELIMIT, "%s: values exceed the output cap of %zu bytes", what, data->max);
        }
    }
    if (!rc)
        rc = dbp_end(&d, &doff, err);
    if (rc)
        return rc;
    doff += soff;
    if (suffix_sum > len - doff)
        return lks_err_set(err, LKS_ECORRUPT, "%s: %llu suffix bytes at offset %zu exceed the %zu present", what,
                           (unsigned long long)suffix_sum, doff, len - doff);
    rc = lks_buf_reserve(data, (size_t)total);
    if (rc)
        return lks_err_set(err, rc, "%s: cannot hold %llu bytes of values", what, (unsigned long long)total);
    /* pass 2: build the values (no reallocation: room was reserved) */
    rc = init_count(&d, p + soff, len - soff, n, "DELTA_BYTE_ARRAY suffix lengths", err);
    const uint8_t *src = p + doff;
    const uint8_t *prevp = data->ptr + data->len;
    for (size_t i = 0; i < n && !rc; i += 256) {
        size_t k = n - i < 256 ? n - i : 256;
        rc = dbp_read(&d, tmp, k, err);
        for (size_t j = 0; j < k && !rc; j++) {
            uint8_t *dst = data->ptr + data->len;
            size_t pre = out[i + j].len, suf = (size_t)tmp[j];
            if (pre)
                memmove(dst, prevp, pre);
            if (suf)
                memcpy(dst + pre, src, suf);
            src += suf;
            out[i + j].ptr = dst;
            out[i + j].len = pre + suf;
            data->len += pre + suf;
            prevp = dst;
        }
    }
    return rc;
}

/* ---- BYTE_STREAM_SPLIT --------------------------------------------------------- */

static ALWAYS_INLINE void bss_unsplit(const uint8_t *p, size_t stride, uint8_t *out, size_t n, size_t width) {
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < width; k++)
            out[i * width + k] = p[k * stride + i];
}

int lks_pq_byte_stream_split_decode(const uint8_t *p, size_t len, uint8_t *out, size_t n, size_t width, lks_err *err) {
    static const char what[] = "BYTE_STREAM_SPLIT";
    if (width == 0)
        return lks_err_set(err, LKS_ECORRUPT, "%s: value width 0", what);
    if (len % width != 0)
        return lks_err_set(err, LKS_ECORRUPT, "%s: %zu bytes are not a multiple of the width %zu", what, len, width);
    /* the streams span the whole input: each is len / width bytes long */
    size_t stride = len / width;
    if (stride < n)
        return lks_err_set(err, LKS_ECORRUPT, "%s: %zu values of %zu bytes exceed the %zu bytes present", what, n,
                           width, len);
    switch (width) {
    case 2: bss_unsplit(p, stride, out, n, 2); break;
    case 4: bss_unsplit(p, stride, out, n, 4); break;
    case 8: bss_unsplit(p, stride, out, n, 8); break;
    default: bss_unsplit(p, stride, out, n, width); break;
    }
    return LKS_OK;
}
