/*
 * encoding.h — Parquet value and level encodings.
 *
 * Encoders append to an lks_buf.  Decoders read untrusted bytes and fill
 * exactly the requested count, or fail with LKS_ECORRUPT naming `what` and
 * the offending offset (relative to the start of their input); none reads
 * past its input or allocates more than the count implies.
 */
#ifndef LKS_PARQUET_ENCODING_H
#define LKS_PARQUET_ENCODING_H

#include "core/core.h"

/* Bits needed for values up to max (0 for max == 0). */
static inline int lks_pq_bit_width(uint64_t max) {
    int w = 0;
    while (max) {
        w++;
        max >>= 1;
    }
    return w;
}

/* ---- encoders (writer side, encode.c) ---------------------------------- */

/* RLE / bit-packed hybrid of n values of bit_width bits (no length prefix). */
int lks_pq_rle_encode_u16(lks_buf *b, const uint16_t *v, size_t n, int bit_width);
int lks_pq_rle_encode_u32(lks_buf *b, const uint32_t *v, size_t n, int bit_width);
/* PLAIN encodings. */
int lks_pq_plain_encode_bool(lks_buf *b, const uint8_t *v, size_t n);
int lks_pq_plain_encode_fixed(lks_buf *b, const void *v, size_t n, size_t width); /* INT32/64/96/FLOAT/DOUBLE */
int lks_pq_plain_encode_byte_array(lks_buf *b, const lks_slice *v, size_t n);
int lks_pq_plain_encode_flba(lks_buf *b, const lks_slice *v, size_t n, size_t width);

/* ---- decoders (reader side, decode.c) ---------------------------------- */

/* RLE / bit-packed hybrid: decodes exactly n values (extra encoded values
 * in the last bit-packed group are ignored).  Values exceeding `max` are
 * LKS_ECORRUPT (pass UINT32_MAX to skip the check). */
int lks_pq_rle_decode_u16(const uint8_t *p, size_t len, int bit_width, uint16_t *out, size_t n, uint32_t max,
                          lks_err *err);
int lks_pq_rle_decode_u32(const uint8_t *p, size_t len, int bit_width, uint32_t *out, size_t n, uint32_t max,
                          lks_err *err);
/* Legacy BIT_PACKED levels (MSB-first packing), n values. */
int lks_pq_bitpacked_legacy_decode(const uint8_t *p, size_t len, int bit_width, uint16_t *out, size_t n,
                                   lks_err *err);
/* PLAIN: *used receives the bytes consumed. */
int lks_pq_plain_decode_bool(const uint8_t *p, size_t len, uint8_t *out, size_t n, size_t *used, lks_err *err);
int lks_pq_plain_decode_fixed(const uint8_t *p, size_t len, void *out, size_t n, size_t width, size_t *used,
                              lks_err *err);
/* Byte arrays: slices point into p. */
int lks_pq_plain_decode_byte_array(const uint8_t *p, size_t len, lks_slice *out, size_t n, size_t *used,
                                   lks_err *err);
int lks_pq_plain_decode_flba(const uint8_t *p, size_t len, lks_slice *out, size_t n, size_t width, size_t *used,
                             lks_err *err);
/* DELTA_BINARY_PACKED into int32 or int64 (width 4 or 8), n values. */
int lks_pq_delta_decode_int(const uint8_t *p, size_t len, void *out, size_t n, size_t width, size_t *used,
                            lks_err *err);
/* DELTA_LENGTH_BYTE_ARRAY: slices point into p. */
int lks_pq_delta_length_decode(const uint8_t *p, size_t len, lks_slice *out, size_t n, size_t *used, lks_err *err);
/* DELTA_BYTE_ARRAY: values are rebuilt into `data` (appended); slices point
 * into data->ptr and are valid while data is not modified further. */
int lks_pq_delta_byte_array_decode(const uint8_t *p, size_t len, lks_slice *out, size_t n, lks_buf *data,
                                   lks_err *err);
/* BYTE_STREAM_SPLIT of n values of `width` bytes into out (n*width bytes). */
int lks_pq_byte_stream_split_decode(const uint8_t *p, size_t len, uint8_t *out, size_t n, size_t width,
                                    lks_err *err);

#endif
