/*
 * meta.h — Parquet file metadata as C structs, and their Thrift compact
 * encoding/decoding (parquet.thrift).  Enum values are the format's own.
 *
 * Decoders treat input as hostile: bounded cursor, nesting cap, list-length
 * caps checked against remaining bytes, unknown fields skipped, sticky error
 * naming the struct/field and byte offset.  Decoded strings, lists and
 * statistics are copied into the caller's arena (valid until it is reset),
 * except lks_pq_decode_page_header(), whose statistics slices point into the
 * input bytes.
 */
#ifndef LKS_PARQUET_META_H
#define LKS_PARQUET_META_H

#include "core/core.h"

/* Physical types. */
enum {
    LKS_PQ_BOOLEAN = 0,
    LKS_PQ_INT32 = 1,
    LKS_PQ_INT64 = 2,
    LKS_PQ_INT96 = 3,
    LKS_PQ_FLOAT = 4,
    LKS_PQ_DOUBLE = 5,
    LKS_PQ_BYTE_ARRAY = 6,
    LKS_PQ_FIXED_LEN_BYTE_ARRAY = 7
};

/* Repetition. */
enum { LKS_PQ_REQUIRED = 0, LKS_PQ_OPTIONAL = 1, LKS_PQ_REPEATED = 2 };

/* ConvertedType (legacy annotations). */
enum {
    LKS_PQ_CT_UTF8 = 0, LKS_PQ_CT_MAP = 1, LKS_PQ_CT_MAP_KEY_VALUE = 2, LKS_PQ_CT_LIST = 3,
    LKS_PQ_CT_ENUM = 4, LKS_PQ_CT_DECIMAL = 5, LKS_PQ_CT_DATE = 6, LKS_PQ_CT_TIME_MILLIS = 7,
    LKS_PQ_CT_TIME_MICROS = 8, LKS_PQ_CT_TIMESTAMP_MILLIS = 9, LKS_PQ_CT_TIMESTAMP_MICROS = 10,
    LKS_PQ_CT_UINT_8 = 11, LKS_PQ_CT_UINT_16 = 12, LKS_PQ_CT_UINT_32 = 13, LKS_PQ_CT_UINT_64 = 14,
    LKS_PQ_CT_INT_8 = 15, LKS_PQ_CT_INT_16 = 16, LKS_PQ_CT_INT_32 = 17, LKS_PQ_CT_INT_64 = 18,
    LKS_PQ_CT_JSON = 19, LKS_PQ_CT_BSON = 20, LKS_PQ_CT_INTERVAL = 21
};

/* LogicalType: the kind is the union's Thrift field id (0: none). */
enum {
    LKS_PQ_LT_NONE = 0, LKS_PQ_LT_STRING = 1, LKS_PQ_LT_MAP = 2, LKS_PQ_LT_LIST = 3,
    LKS_PQ_LT_ENUM = 4, LKS_PQ_LT_DECIMAL = 5, LKS_PQ_LT_DATE = 6, LKS_PQ_LT_TIME = 7,
    LKS_PQ_LT_TIMESTAMP = 8, LKS_PQ_LT_INTEGER = 10, LKS_PQ_LT_UNKNOWN = 11 /* always null */,
    LKS_PQ_LT_JSON = 12, LKS_PQ_LT_BSON = 13, LKS_PQ_LT_UUID = 14, LKS_PQ_LT_FLOAT16 = 15,
    LKS_PQ_LT_VARIANT = 16, LKS_PQ_LT_GEOMETRY = 17, LKS_PQ_LT_GEOGRAPHY = 18
};
enum { LKS_PQ_UNIT_MILLIS = 1, LKS_PQ_UNIT_MICROS = 2, LKS_PQ_UNIT_NANOS = 3 };

typedef struct lks_pq_logical {
    int16_t kind;      /* LKS_PQ_LT_*, or any other field id seen in a file */
    uint8_t unit;      /* TIME / TIMESTAMP: LKS_PQ_UNIT_* */
    uint8_t utc;       /* TIME / TIMESTAMP: isAdjustedToUTC */
    uint8_t bit_width; /* INTEGER: 8, 16, 32, 64 */
    uint8_t is_signed; /* INTEGER */
    int32_t precision; /* DECIMAL */
    int32_t scale;     /* DECIMAL */
} lks_pq_logical;

/* Encodings. */
enum {
    LKS_PQ_ENC_PLAIN = 0, LKS_PQ_ENC_PLAIN_DICTIONARY = 2, LKS_PQ_ENC_RLE = 3,
    LKS_PQ_ENC_BIT_PACKED = 4, LKS_PQ_ENC_DELTA_BINARY_PACKED = 5,
    LKS_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6, LKS_PQ_ENC_DELTA_BYTE_ARRAY = 7,
    LKS_PQ_ENC_RLE_DICTIONARY = 8, LKS_PQ_ENC_BYTE_STREAM_SPLIT = 9
};

/* Compression codecs. */
enum {
    LKS_PQ_UNCOMPRESSED = 0, LKS_PQ_SNAPPY = 1, LKS_PQ_GZIP = 2, LKS_PQ_LZO = 3,
    LKS_PQ_BROTLI = 4, LKS_PQ_LZ4 = 5, LKS_PQ_ZSTD = 6, LKS_PQ_LZ4_RAW = 7
};

/* Page types. */
enum { LKS_PQ_DATA_PAGE = 0, LKS_PQ_INDEX_PAGE = 1, LKS_PQ_DICTIONARY_PAGE = 2, LKS_PQ_DATA_PAGE_V2 = 3 };

/* Which optional fields of a struct are present (bit per field). */
enum {
    LKS_PQ_ST_MAX = 1 << 0,        /* deprecated max (field 1) */
    LKS_PQ_ST_MIN = 1 << 1,        /* deprecated min (field 2) */
    LKS_PQ_ST_NULL_COUNT = 1 << 2,
    LKS_PQ_ST_DISTINCT = 1 << 3,
    LKS_PQ_ST_MAX_VALUE = 1 << 4,  /* field 5 */
    LKS_PQ_ST_MIN_VALUE = 1 << 5,  /* field 6 */
    LKS_PQ_ST_MAX_EXACT = 1 << 6,  /* field 7 present */
    LKS_PQ_ST_MIN_EXACT = 1 << 7   /* field 8 present */
};

typedef struct lks_pq_stats {
    unsigned has; /* LKS_PQ_ST_* bits */
    lks_slice max, min;             /* deprecated, signed-order fields 1/2 */
    int64_t null_count, distinct_count;
    lks_slice max_value, min_value; /* fields 5/6 */
    uint8_t is_max_value_exact, is_min_value_exact;
} lks_pq_stats;

typedef struct lks_pq_kv {
    const char *key;
    const char *value; /* NULL when the value is absent */
} lks_pq_kv;

typedef struct lks_pq_schema_elem {
    const char *name;
    int32_t type;           /* LKS_PQ_*, -1 when absent (a group) */
    int32_t type_length;    /* 0 when absent */
    int32_t repetition;     /* LKS_PQ_REQUIRED..., -1 when absent (the root) */
    int32_t num_children;   /* 0 for leaves */
    int32_t converted_type; /* LKS_PQ_CT_*, -1 when absent */
    int32_t scale, precision; /* legacy decimal, 0 when absent */
    int32_t field_id;
    uint8_t has_field_id;
    lks_pq_logical logical; /* kind 0 when absent */
} lks_pq_schema_elem;

typedef struct lks_pq_page_enc_stats {
    int32_t page_type, encoding, count;
} lks_pq_page_enc_stats;

typedef struct lks_pq_column_meta {
    int32_t type;
    int32_t *encodings;
    int num_encodings;
    const char **path;
    int path_len;
    int32_t codec;
    int64_t num_values;
    int64_t total_uncompressed_size, total_compressed_size;
    lks_pq_kv *kv;
    int num_kv;
    int64_t data_page_offset;
    int64_t index_page_offset;      /* -1 when absent */
    int64_t dictionary_page_offset; /* -1 when absent */
    lks_pq_stats stats;
    uint8_t has_stats;
    lks_pq_page_enc_stats *enc_stats;
    int num_enc_stats;
    int64_t bloom_filter_offset;    /* -1 when absent */
    int32_t bloom_filter_length;    /* -1 when absent */
} lks_pq_column_meta;

typedef struct lks_pq_column_chunk {
    const char *file_path; /* NULL when absent (the usual case) */
    int64_t file_offset;
    lks_pq_column_meta meta;
    uint8_t has_meta;
    uint8_t encrypted;     /* crypto_metadata or encrypted_column_metadata present */
    int64_t offset_index_offset, column_index_offset; /* -1 when absent */
    int32_t offset_index_length, column_index_length; /* -1 when absent */
} lks_pq_column_chunk;

typedef struct lks_pq_sorting_column {
    int32_t column_idx;
    uint8_t descending, nulls_first;
} lks_pq_sorting_column;

typedef struct lks_pq_row_group {
    lks_pq_column_chunk *columns;
    int num_columns;
    int64_t total_byte_size;
    int64_t num_rows;
    lks_pq_sorting_column *sorting;
    int num_sorting;
    int64_t file_offset;           /* -1 when absent */
    int64_t total_compressed_size; /* -1 when absent */
    int32_t ordinal;               /* -1 when absent */
} lks_pq_row_group;

typedef struct lks_pq_file_meta {
    int32_t version;
    lks_pq_schema_elem *schema; /* depth-first, root first */
    int num_schema;
    int64_t num_rows;
    lks_pq_row_group *row_groups;
    int num_row_groups;
    lks_pq_kv *kv;
    int num_kv;
    const char *created_by; /* NULL when absent */
    /* column_orders: one per leaf; 1 = TYPE_ORDER, 0 = unknown/absent */
    uint8_t *column_orders;
    int num_column_orders;
    uint8_t encrypted; /* encryption_algorithm present (plaintext-footer encryption) */
} lks_pq_file_meta;

typedef struct lks_pq_page_header {
    int32_t type; /* LKS_PQ_DATA_PAGE... */
    int32_t uncompressed_size, compressed_size;
    int32_t crc;
    uint8_t has_crc;
    /* data page v1, v2, dictionary page */
    int32_t num_values;
    int32_t encoding;
    /* v1 */
    int32_t def_encoding, rep_encoding;
    /* v2 */
    int32_t num_nulls, num_rows;
    int32_t def_levels_len, rep_levels_len;
    uint8_t is_compressed; /* v2, default 1 */
    /* dictionary page */
    uint8_t is_sorted;
    lks_pq_stats stats; /* v1/v2; slices point into the input */
    uint8_t has_stats;
} lks_pq_page_header;

/* Split-block bloom filter header: numBytes plus the (only) algorithm,
 * hash and compression the format defines.  Decoding refuses others. */
typedef struct lks_pq_bloom_header {
    int32_t num_bytes;
} lks_pq_bloom_header;

/* Decodes a FileMetaData from the footer bytes.  All memory in *out lives in
 * `a`.  LKS_ECORRUPT with offset and field on malformed input. */
int lks_pq_decode_file_meta(const uint8_t *p, size_t len, lks_arena *a, lks_pq_file_meta *out, lks_err *err);
/* Decodes one PageHeader from the start of p; *used receives its length.
 * `base` is the absolute file offset of p, for error messages. */
int lks_pq_decode_page_header(const uint8_t *p, size_t len, uint64_t base, lks_pq_page_header *out, size_t *used,
                              lks_err *err);
int lks_pq_decode_bloom_header(const uint8_t *p, size_t len, uint64_t base, lks_pq_bloom_header *out, size_t *used,
                               lks_err *err);

/* Encoders append to b.  They write every field that is present per the
 * struct's conventions above (-1 / NULL / has-bits mean absent). */
int lks_pq_encode_file_meta(lks_buf *b, const lks_pq_file_meta *m);
int lks_pq_encode_page_header(lks_buf *b, const lks_pq_page_header *h);
int lks_pq_encode_bloom_header(lks_buf *b, const lks_pq_bloom_header *h);

#endif
