/*
 * compress.h — page compression codecs over Debian's libraries
 * (snappy, zstd, zlib for GZIP, lz4 for LZ4_RAW and legacy LZ4, brotli).
 */
#ifndef LKS_PARQUET_COMPRESS_H
#define LKS_PARQUET_COMPRESS_H

#include "core/core.h"

/* Compresses n bytes, appending to dst.  level 0: codec default.
 * LKS_EUNSUPPORTED for codecs we do not write (LZO, LZ4 legacy). */
int lks_pq_compress(int codec, int level, const uint8_t *src, size_t n, lks_buf *dst, lks_err *err);

/* Decompresses exactly dst_len bytes from src into dst.  A stream that is
 * malformed or yields any other length is LKS_ECORRUPT.  Legacy LZ4 (codec
 * 5) accepts Hadoop block framing and falls back to a raw block. */
int lks_pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, lks_err *err);

/* Codec name as in parquet.thrift ("SNAPPY"), or "UNKNOWN". */
const char *lks_pq_codec_name(int codec);
/* Parses a codec name case-insensitively; -1 if unknown. */
int lks_pq_codec_parse(const char *name);

#endif
