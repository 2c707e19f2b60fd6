/*
 * compress.c — page compression codecs over the system libraries: snappy,
 * zlib (GZIP), brotli, zstd, lz4 (LZ4_RAW blocks and the legacy LZ4 codec,
 * which is Hadoop's block framing around LZ4 blocks).
 *
 * Decompression writes into a caller buffer of the size the page header
 * declares and must fill it exactly; any other outcome is LKS_ECORRUPT.
 * Nothing here allocates according to sizes read from the stream (the
 * libraries' own state aside: zlib's 32 KiB window, a zstd context, brotli's
 * ring buffer of at most 16 MiB).
 */
#include "parquet/compress.h"
#include "parquet/meta.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <limits.h>
#include <lz4.h>
#include <lz4hc.h>
#include <snappy-c.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

static const char *const codec_names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};

const char *lks_pq_codec_name(int codec) {
    if (codec < 0 || codec >= (int)(sizeof codec_names / sizeof codec_names[0]))
        return "UNKNOWN";
    return codec_names[codec];
}

int lks_pq_codec_parse(const char *name) {
    if (!name)
        return -1;
    for (int i = 0; i < (int)(sizeof codec_names / sizeof codec_names[0]); i++)
        if (strcasecmp(name, codec_names[i]) == 0)
            return i;
    if (strcasecmp(name, "NONE") == 0)
        return LKS_PQ_UNCOMPRESSED;
    return -1;
}

/* ---- compression ------------------------------------------------------------- */

static int gzip_compress(int level, const uint8_t *src, size_t n, lks_buf *dst, lks_err *err) {
    if (n > UINT_MAX / 2)
        return lks_err_set(err, LKS_ELIMIT, "GZIP: %zu bytes is too large to compress", n);
    if (level == 0)
        level = Z_DEFAULT_COMPRESSION;
    if (level < -1 || level > 9)
        return lks_err_set(err, LKS_EINVAL, "GZIP: level %d out of range 1..9", level);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return lks_err_set(err, LKS_ENOMEM, "GZIP: deflateInit2 failed");
    size_t bound = deflateBound(&z, (uLong)n);
    int rc = lks_buf_reserve(dst, bound);
    if (rc) {
        deflateEnd(&z);
        return lks_err_set(err, rc, "GZIP: no room for %zu bytes of output", bound);
    }
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = dst->ptr + dst->len;
    z.avail_out = (uInt)bound;
    int zr = deflate(&z, Z_FINISH);
    size_t out = bound - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END)
        return lks_err_set(err, LKS_EINTERNAL, "GZIP: deflate returned %d", zr);
    dst->len += out;
    return LKS_OK;
}

int lks_pq_compress(int codec, int level, const uint8_t *src, size_t n, lks_buf *dst, lks_err *err) {
    int rc;
    switch (codec) {
    case LKS_PQ_UNCOMPRESSED:
        rc = lks_buf_append(dst, src, n);
        return rc ? lks_err_set(err, rc, "no room for %zu bytes", n) : LKS_OK;
    case LKS_PQ_SNAPPY: {
        size_t bound = snappy_max_compressed_length(n);
        if ((rc = lks_buf_reserve(dst, bound)))
            return lks_err_set(err, rc, "SNAPPY: no room for %zu bytes of output", bound);
        size_t out = bound;
        if (snappy_compress((const char *)src, n, (char *)dst->ptr + dst->len, &out) != SNAPPY_OK)
            return lks_err_set(err, LKS_EINTERNAL, "SNAPPY: compression failed");
        dst->len += out;
        return LKS_OK;
    }
    case LKS_PQ_GZIP: return gzip_compress(level, src, n, dst, err);
    case LKS_PQ_BROTLI: {
        int quality = level ? level : 8;
        if (quality < BROTLI_MIN_QUALITY || quality > BROTLI_MAX_QUALITY)
            return lks_err_set(err, LKS_EINVAL, "BROTLI: level %d out of range 0..11", level);
        size_t bound = BrotliEncoderMaxCompressedSize(n);
        if (bound == 0)
            return lks_err_set(err, LKS_ELIMIT, "BROTLI: %zu bytes is too large to compress", n);
        if ((rc = lks_buf_reserve(dst, bound)))
            return lks_err_set(err, rc, "BROTLI: no room for %zu bytes of output", bound);
        size_t out = bound;
        if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, n, src, &out,
                                   dst->ptr + dst->len))
            return lks_err_set(err, LKS_EINTERNAL, "BROTLI: compression failed");
        dst->len += out;
        return LKS_OK;
    }
    case LKS_PQ_ZSTD: {
        if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
            return lks_err_set(err, LKS_EINVAL, "ZSTD: level %d out of range", level);
        size_t bound = ZSTD_compressBound(n);
        if (ZSTD_isError(bound))
            return lks_err_set(err, LKS_ELIMIT, "ZSTD: %zu bytes is too large to compress", n);
        if ((rc = lks_buf_reserve(dst, bound)))
            return lks_err_set(err, rc, "ZSTD: no room for %zu bytes of output", bound);
        size_t out = ZSTD_compress(dst->ptr + dst->len, bound, src, n, level); /* level 0: default */
        if (ZSTD_isError(out))
            return lks_err_set(err, LKS_EINTERNAL, "ZSTD: %s", ZSTD_getErrorName(out));
        dst->len += out;
        return LKS_OK;
    }
    case LKS_PQ_LZ4_RAW: {
        if (n > LZ4_MAX_INPUT_SIZE)
            return lks_err_set(err, LKS_ELIMIT, "LZ4_RAW: %zu bytes is too large to compress", n);
        int bound = LZ4_compressBound((int)n);
        if ((rc = lks_buf_reserve(dst, (size_t)bound)))
            return lks_err_set(err, rc, "LZ4_RAW: no room for %d bytes of output", bound);
        int out;
        if (level > 1)
            out = LZ4_compress_HC((const char *)src, (char *)dst->ptr + dst->len, (int)n, bound,
                                  level > LZ4HC_CLEVEL_MAX ? LZ4HC_CLEVEL_MAX : level);
        else
            out = LZ4_compress_default((const char *)src, (char *)dst->ptr + dst->len, (int)n, bound);
        if (out <= 0 && n > 0)
            return lks_err_set(err, LKS_EINTERNAL, "LZ4_RAW: compression failed");
        dst->len += (size_t)(out > 0 ? out : 0);
        return LKS_OK;
    }
    default:
        return lks_err_set(err, LKS_EUNSUPPORTED, "compression codec %s (%d) is not supported for writing",
                           lks_pq_codec_name(codec), codec);
    }
}

/* ---- decompression -------------------------------------------------------------- */

static int gzip_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, lks_err *err) {
    if (n > UINT_MAX || dst_len > UINT_MAX)
        return lks_err_set(err, LKS_ELIMIT, "GZIP: page too large");
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 32: zlib or gzip header, detected */
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return lks_err_set(err, LKS_ENOMEM, "GZIP: inflateInit2 failed");
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)dst_len;
    int rc = LKS_OK;
    for (;;) {
        int zr = inflate(&z, Z_FINISH);
        if (zr == Z_STREAM_END) {
            /* concatenated gzip members continue the output */
            if (z.avail_out > 0 && z.avail_in > 0) {
                if (inflateReset(&z) != Z_OK) {
                    rc = lks_err_set(err, LKS_ECORRUPT, "GZIP: cannot restart after member");
                    break;
                }
                continue;
            }
            if (z.avail_out > 0)
                rc = lks_err_set(err, LKS_ECORRUPT, "GZIP: stream yields %zu bytes, %zu expected",
                                 dst_len - z.avail_out, dst_len);
            break;
        }
        if (zr == Z_BUF_ERROR && z.avail_out == 0) {
            /* output full but the stream is not finished: any more output
             * means the page is longer than declared */
            uint8_t extra;
            z.next_out = &extra;
            z.avail_out = 1;
            zr = inflate(&z, Z_FINISH);
            if (zr == Z_STREAM_END && z.avail_out == 1)
                break;
            rc = lks_err_set(err, LKS_ECORRUPT, "GZIP: stream is longer than the declared %zu bytes or unfinished",
                             dst_len);
            break;
        }
        rc = lks_err_set(err, LKS_ECORRUPT, "GZIP: %s after %zu input bytes",
                         zr == Z_BUF_ERROR ? "truncated stream" : (z.msg ? z.msg : "bad stream"), n - z.avail_in);
        break;
    }
    inflateEnd(&z);
    return rc;
}

static uint32_t be32(const uint8_t *q) {
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

/* Hadoop block framing: blocks of [be32 uncompressed length] followed by
 * chunks of [be32 compressed length][LZ4 block] until the block's length
 * is produced.  Returns 0 when src parses as such and fills dst exactly. */
static int lz4_hadoop(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len) {
    size_t in = 0, out = 0;
    while (in < n) {
        if (n - in < 8)
            return -1;
        size_t ulen = be32(src + in);
        in += 4;
        if (ulen > dst_len - out)
            return -1;
        size_t bend = out + ulen;
        do {
            if (n - in < 4)
                return -1;
            size_t clen = be32(src + in);
            in += 4;
            if (clen > n - in || clen > INT_MAX)
                return -1;
            int got = LZ4_decompress_safe((const char *)src + in, (char *)dst + out, (int)clen, (int)(bend - out));
            if (got < 0)
                return -1;
            in += clen;
            out += (size_t)got;
        } while (out < bend);
    }
    return out == dst_len ? 0 : -1;
}

int lks_pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, lks_err *err) {
    /* an empty section (e.g. a V2 page without values) may be stored as no
     * bytes at all, whatever the codec */
    if (n == 0 && dst_len == 0 && codec >= LKS_PQ_UNCOMPRESSED && codec <= LKS_PQ_LZ4_RAW && codec != LKS_PQ_LZO)
        return LKS_OK;
    switch (codec) {
    case LKS_PQ_UNCOMPRESSED:
        if (n != dst_len)
            return lks_err_set(err, LKS_ECORRUPT, "UNCOMPRESSED: page holds %zu bytes, %zu declared", n, dst_len);
        if (n)
            memcpy(dst, src, n);
        return LKS_OK;
    case LKS_PQ_SNAPPY: {
        size_t ulen;
        if (snappy_uncompressed_length((const char *)src, n, &ulen) != SNAPPY_OK)
            return lks_err_set(err, LKS_ECORRUPT, "SNAPPY: bad length header");
        if (ulen != dst_len)
            return lks_err_set(err, LKS_ECORRUPT, "SNAPPY: stream yields %zu bytes, %zu declared", ulen, dst_len);
        size_t out = dst_len;
        if (snappy_uncompress((const char *)src, n, (char *)dst, &out) != SNAPPY_OK || out != dst_len)
            return lks_err_set(err, LKS_ECORRUPT, "SNAPPY: corrupt stream");
        return LKS_OK;
    }
    case LKS_PQ_GZIP: return gzip_decompress(src, n, dst, dst_len, err);
    case LKS_PQ_BROTLI: {
        size_t out = dst_len;
        if (BrotliDecoderDecompress(n, src, &out, dst) != BROTLI_DECODER_RESULT_SUCCESS)
            return lks_err_set(err, LKS_ECORRUPT, "BROTLI: corrupt stream or longer than %zu bytes", dst_len);
        if (out != dst_len)
            return lks_err_set(err, LKS_ECORRUPT, "BROTLI: stream yields %zu bytes, %zu declared", out, dst_len);
        return LKS_OK;
    }
    case LKS_PQ_ZSTD: {
        size_t out = ZSTD_decompress(dst, dst_len, src, n);
        if (ZSTD_isError(out))
            return lks_err_set(err, LKS_ECORRUPT, "ZSTD: %s", ZSTD_getErrorName(out));
        if (out != dst_len)
            return lks_err_set(err, LKS_ECORRUPT, "ZSTD: stream yields %zu bytes, %zu declared", out, dst_len);
        return LKS_OK;
    }
    case LKS_PQ_LZ4_RAW:
    case LKS_PQ_LZ4: {
        const char *name = lks_pq_codec_name(codec);
        if (n > INT_MAX || dst_len > INT_MAX)
            return lks_err_set(err, LKS_ELIMIT, "%s: page too large", name);
        if (codec == LKS_PQ_LZ4 && lz4_hadoop(src, n, dst, dst_len) == 0)
            return LKS_OK;
        int got = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)dst_len);
        if (got < 0)
            return lks_err_set(err, LKS_ECORRUPT, "%s: corrupt block", name);
        if ((size_t)got != dst_len)
            return lks_err_set(err, LKS_ECORRUPT, "%s: block yields %d bytes, %zu declared", name, got, dst_len);
        return LKS_OK;
    }
    default:
        return lks_err_set(err, LKS_EUNSUPPORTED, "compression codec %s (%d) is not supported",
                           lks_pq_codec_name(codec), codec);
    }
}
