/*
 * parquet.h — reading and writing Apache Parquet files.
 *
 * Bytes in, bytes out: the writer emits through a sink callback and the
 * reader pulls byte ranges through a source callback; neither touches files
 * or the object store directly (helpers for local files and memory exist).
 *
 * Schemas are given as Parquet itself stores them: a depth-first array of
 * fields, root group first, each group followed by its children's subtrees.
 * LIST and MAP use the standard three-level structure, spelled out by the
 * caller.
 *
 * Values travel column-wise ("column batches": definition/repetition levels
 * plus the non-null values) on the fast path, and as value trees (one row at
 * a time) for nested data and for printing.
 */
#ifndef LKS_PARQUET_H
#define LKS_PARQUET_H

#include "core/core.h"
#include "parquet/meta.h"

/* ---- schema -------------------------------------------------------------- */

#define LKS_PQ_MAX_DEPTH 64    /* nesting cap for schemas and levels */
#define LKS_PQ_MAX_COLUMNS 100000

typedef struct lks_pq_field {
    const char *name;
    int repetition;         /* LKS_PQ_REQUIRED / OPTIONAL / REPEATED */
    int type;               /* physical type, or -1 for a group */
    int type_length;        /* FIXED_LEN_BYTE_ARRAY width in bytes */
    lks_pq_logical logical; /* kind LKS_PQ_LT_NONE for none */
    int field_id;           /* -1: none */
    int num_children;       /* groups: count of direct children */
} lks_pq_field;

/* One leaf (a column chunk in every row group). */
typedef struct lks_pq_column {
    int field;          /* index into schema fields */
    int type, type_length;
    lks_pq_logical logical; /* effective: derived from converted_type when the
                               file has no logical type */
    int max_def, max_rep;
    const char *path;   /* dotted path "a.b.c" */
} lks_pq_column;

typedef struct lks_pq_schema {
    lks_pq_field *fields;
    int num_fields;
    int *parent;        /* per field, -1 for the root */
    int *leaf;          /* per field, its column index or -1 for groups */
    lks_pq_column *cols;
    int num_cols;
    lks_arena arena;    /* owns everything above */
} lks_pq_schema;

/* Validates and copies a field array (root first).  Errors: LKS_EINVAL with
 * the offending field's path.  Free with lks_pq_schema_free(). */
int lks_pq_schema_build(const lks_pq_field *fields, int num_fields, lks_pq_schema **out, lks_err *err);
void lks_pq_schema_free(lks_pq_schema *s);
/* Column index of a dotted path, or -1. */
int lks_pq_schema_find(const lks_pq_schema *s, const char *path);
/* One past the last field of f's subtree: the index of f's next sibling
 * (fields are stored depth-first). */
int lks_pq_schema_subtree_end(const lks_pq_schema *s, int f);

/* ---- schema from a file footer (reader side) ---- */
/* Builds a schema from the decoded footer's element array (root first).
 * Legacy converted_type annotations become logical types when the element
 * has none (UTF8 -> STRING, TIMESTAMP_MILLIS -> TIMESTAMP(millis, utc)...),
 * so cols[].logical is the effective type.  Lenient where old writers
 * differ (two-level lists, unannotated repeated fields, annotations that do
 * not fit their physical type are kept for the reader to refuse), strict
 * about structure: children overrunning the array, trailing elements,
 * depth/column caps, leaves without a type, FIXED_LEN_BYTE_ARRAY without a
 * width, missing repetition give LKS_ECORRUPT naming the element index.
 * The elements are copied; free with lks_pq_schema_free(). */
int lks_pq_schema_from_meta(const lks_pq_schema_elem *elems, int n, lks_pq_schema **out, lks_err *err);
/* ---- end schema from a file footer ---- */

/* Logical-type shorthands for building fields. */
lks_pq_logical lks_pq_lt(int kind);
lks_pq_logical lks_pq_lt_decimal(int precision, int scale);
lks_pq_logical lks_pq_lt_timestamp(int unit, int utc);

/* ---- values ------------------------------------------------------------- */

/* Physical value arrays used by column batches: BOOLEAN uint8_t (0/1),
 * INT32 int32_t, INT64 int64_t, INT96 lks_pq_int96, FLOAT float, DOUBLE
 * double, BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY lks_slice. */
typedef struct lks_pq_int96 {
    uint8_t b[12]; /* little-endian nanoseconds-of-day (8) + Julian day (4) */
} lks_pq_int96;

/* A value tree: one row, or one field of a row. */
enum {
    LKS_PQ_V_NULL = 0,
    LKS_PQ_V_BOOL,
    LKS_PQ_V_INT32,
    LKS_PQ_V_INT64,
    LKS_PQ_V_INT96,
    LKS_PQ_V_FLOAT,
    LKS_PQ_V_DOUBLE,
    LKS_PQ_V_BYTES, /* BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY */
    LKS_PQ_V_GROUP, /* items: one per child field, in schema order */
    LKS_PQ_V_REPEATED /* items: the repetitions of a REPEATED field */
};

typedef struct lks_pq_value {
    int kind;
    union {
        int b;
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        lks_pq_int96 i96;
        lks_slice bytes;
        struct {
            struct lks_pq_value *items;
            size_t n;
        } list;
    } u;
} lks_pq_value;

/* Appends `v`, the value of schema field `field`, to b as JSON following
 * DESIGN.md "Rows as text": LIST and MAP annotations become arrays and
 * objects, decimals exact strings, timestamps ISO-8601 (micros: 6 fraction
 * digits, nanos and INT96: 9), dates "YYYY-MM-DD", binary base64, strings
 * JSON strings, FLOAT shortest float32 text, NaN/Infinity as strings.
 * Pass field 0 and a GROUP value to print a whole row as an object. */
int lks_pq_value_to_json(lks_buf *b, const lks_pq_schema *s, int field, const lks_pq_value *v);

/* ---- writer -------------------------------------------------------------- */

/* Receives the file's bytes in order.  Returns LKS_OK or an error code
 * (which the writer returns to its caller). */
typedef int lks_pq_sink_fn(void *ud, const void *p, size_t n, lks_err *err);

typedef struct lks_pq_writer_opts {
    int codec;               /* default LKS_PQ_SNAPPY */
    int level;               /* codec level, 0: codec default */
    size_t row_group_bytes;  /* flush a row group past this many buffered
                                (encoded, uncompressed) bytes; default 128 MiB */
    int64_t row_group_rows;  /* and past this many rows; default 1<<17 (small
                                chunks to buffer; stats and bloom filters
                                per 128Ki rows skip finely) */
    size_t page_bytes;       /* target data page size; default 1 MiB */
    size_t dict_max_bytes;   /* per column chunk; past it fall back to PLAIN;
                                default 1 MiB */
    int dictionary;          /* use RLE_DICTIONARY where it pays; default 1 */
    int stats;               /* write min/max/null_count; default 1 */
    const char *created_by;  /* default "lakesync version X" */
} lks_pq_writer_opts;

void lks_pq_writer_opts_default(lks_pq_writer_opts *o);

typedef struct lks_pq_writer lks_pq_writer;

/* Starts a file (writes the "PAR1" magic through sink).  The schema is
 * borrowed and must outlive the writer. */
int lks_pq_writer_open(const lks_pq_schema *s, const lks_pq_writer_opts *o, lks_pq_sink_fn *sink, void *ud,
                       lks_pq_writer **out, lks_err *err);
/* File key/value metadata (copied). */
int lks_pq_writer_set_kv(lks_pq_writer *w, const char *key, const char *value);
/* Writes a split-block bloom filter for column `col`, sized for `ndv`
 * distinct values per row group at false-positive rate `fpp`. */
int lks_pq_writer_set_bloom(lks_pq_writer *w, int col, uint64_t ndv, double fpp);

/* Appends n level entries to column `col` of the current row group.
 * def and rep hold n levels each (pass NULL when the column's max_def or
 * max_rep is 0).  `values` holds only the non-null values (entries whose
 * def equals max_def), in the physical array form above; byte slices are
 * copied.  Every column of a batch must receive the same number of rows
 * (entries with rep == 0) before lks_pq_writer_end_batch(). */
int lks_pq_write_column(lks_pq_writer *w, int col, const void *values, const uint16_t *def, const uint16_t *rep,
                        size_t n, lks_err *err);
/* Declares that every column received `rows` more rows.  Checks it
 * (LKS_EINVAL naming the column otherwise) and closes the row group when a
 * size limit is reached. */
int lks_pq_writer_end_batch(lks_pq_writer *w, int64_t rows, lks_err *err);
/* Shreds one row given as a GROUP value for the root (items per top-level
 * field; NULL kind for absent optional fields) into the columns and ends a
 * batch of one row.  Slower than column batches; for nested data. */
int lks_pq_write_row(lks_pq_writer *w, const lks_pq_value *row, lks_err *err);
/* Closes the current row group now (no-op when it is empty). */
int lks_pq_writer_flush(lks_pq_writer *w, lks_err *err);
/* Flushes, writes the footer and the closing magic.  The writer must still
 * be freed. */
int lks_pq_writer_close(lks_pq_writer *w, lks_err *err);
/* Bounds of column col's non-null values in the row groups written so far
 * (after close: the whole file), exact and untruncated, in the column's
 * statistics order, as PLAIN bytes of the physical type (numbers
 * little-endian at their width; byte arrays as they are).  Float NaNs are
 * not counted; -0.0 and +0.0 are not told apart.  Returns 1 with bounds,
 * 0 without values, -1 when the writer keeps no statistics for the column
 * (statistics off, or an order without bounds: INT96, FLOAT16, BYTE_ARRAY
 * decimals).  Valid until the next write or free. */
int lks_pq_writer_bounds(const lks_pq_writer *w, int col, lks_slice *min, lks_slice *max);
/* Metadata of the closed file (valid until free), or NULL before close. */
const lks_pq_file_meta *lks_pq_writer_meta(const lks_pq_writer *w);
void lks_pq_writer_free(lks_pq_writer *w);

/* Sink that appends to an lks_buf (ud). */
int lks_pq_sink_buf(void *ud, const void *p, size_t n, lks_err *err);
/* Sink that writes to a FILE * (ud). */
int lks_pq_sink_stdio(void *ud, const void *p, size_t n, lks_err *err);

/* ---- reader -------------------------------------------------------------- */

/* Reads exactly n bytes at off into dst. */
typedef int lks_pq_read_fn(void *ud, uint64_t off, size_t n, uint8_t *dst, lks_err *err);

typedef struct lks_pq_source {
    lks_pq_read_fn *read;
    void *ud;
    uint64_t size;    /* total file size */
    const char *name; /* for error messages */
} lks_pq_source;

/* Sources over memory (ud = the bytes; borrowed) and over a local file
 * (opened with pread; close with lks_pq_source_close). */
int lks_pq_source_mem(lks_pq_source *src, const void *p, size_t n, const char *name);
int lks_pq_source_file(lks_pq_source *src, const char *path, lks_err *err);
void lks_pq_source_close(lks_pq_source *src);

typedef struct lks_pq_reader_opts {
    int verify_crc;          /* check page CRCs when present; default 1 */
    size_t max_footer_bytes; /* default 64 MiB */
    size_t max_page_bytes;   /* default 256 MiB (uncompressed) */
    size_t max_chunk_values; /* level entries per column chunk; default 2^28
                                (caps the memory a hostile file can claim) */
} lks_pq_reader_opts;

void lks_pq_reader_opts_default(lks_pq_reader_opts *o);

typedef struct lks_pq_reader lks_pq_reader;

/* Reads and validates the footer and schema.  Files using features we do
 * not implement (encryption, unknown logical types on physical types we
 * cannot interpret...) open fine when the feature only affects some columns;
 * reading such a column fails with LKS_EUNSUPPORTED naming the feature.
 * The source is borrowed until lks_pq_reader_free(). */
int lks_pq_reader_open(const lks_pq_source *src, const lks_pq_reader_opts *o, lks_pq_reader **out, lks_err *err);
void lks_pq_reader_free(lks_pq_reader *r);
const lks_pq_file_meta *lks_pq_reader_meta(const lks_pq_reader *r);
const lks_pq_schema *lks_pq_reader_schema(const lks_pq_reader *r);

/* One column chunk decoded: n level entries, nvals non-null values. */
typedef struct lks_pq_colbatch {
    size_t n, nvals;
    uint16_t *def, *rep; /* NULL when the column's max level is 0 */
    void *values;        /* physical array form; slices point into the batch */
    /* storage, owned by the batch */
    lks_buf vals_buf, def_buf, rep_buf, data_buf;
} lks_pq_colbatch;

void lks_pq_colbatch_init(lks_pq_colbatch *b);
void lks_pq_colbatch_free(lks_pq_colbatch *b);

/* Decodes column `col` of row group `rg` entirely into b (reusing its
 * memory).  Errors name the file, row group, column and page offset. */
int lks_pq_read_column(lks_pq_reader *r, int rg, int col, lks_pq_colbatch *b, lks_err *err);

/* Typed statistics of a column chunk, when present and trustworthy for the
 * column's sort order: *min and *max point at physical values (as in the
 * value arrays: int32_t, int64_t, float, double, lks_slice...).  Returns 1
 * when min/max are set, 0 when unknown.  *null_count is -1 when unknown. */
typedef struct lks_pq_minmax {
    int has_minmax;
    lks_pq_value min, max; /* scalar kinds only */
    int64_t null_count;
} lks_pq_minmax;
int lks_pq_chunk_stats(const lks_pq_reader *r, int rg, int col, lks_pq_minmax *out);

/* Bloom filter probe for a physical value (same form as value arrays, one
 * element).  Returns 0 when the chunk certainly lacks the value, 1 when it
 * may hold it (or has no bloom filter), negative on a read error. */
int lks_pq_bloom_may_contain(lks_pq_reader *r, int rg, int col, const void *value, lks_err *err);

/* Row iteration over chosen columns (projection), assembling records from
 * levels, one row group at a time (memory bounded by a row group). */
typedef struct lks_pq_rows lks_pq_rows;
/* cols: column indexes to read (NULL: all).  Fields whose leaves are not
 * selected come back as NULL values. */
int lks_pq_rows_open(lks_pq_reader *r, const int *cols, int ncols, lks_pq_rows **out, lks_err *err);
/* Skip row group rg entirely (call before the iterator reaches it). */
void lks_pq_rows_skip_row_group(lks_pq_rows *it, int rg);
/* Next row as a GROUP value for the root, valid until the next call.
 * Returns 1 with a row, 0 at the end, negative on error. */
int lks_pq_rows_next(lks_pq_rows *it, const lks_pq_value **row, lks_err *err);
/* 1 when every selected child of the root is a leaf that is not repeated:
 * then lks_pq_rows_next_columns() can read the rows column by column. */
int lks_pq_rows_is_flat(const lks_pq_rows *it);
/* Flat iterators only: up to `max` (>= 1) next rows, all of one row group,
 * column by column.  For each selected child k of the root, cols[k] (which
 * must have room for max values) gets the values lks_pq_rows_next() would
 * have put in the rows' items k; other entries of cols are not touched.
 * *n gets the number of rows, *rg their row group and *first the first
 * one's position in it.  Returns 1 with rows, 0 at the end, negative on
 * error (LKS_EINVAL for an iterator that is not flat); the two ways of
 * reading may be mixed. */
int lks_pq_rows_next_columns(lks_pq_rows *it, size_t max, lks_pq_value *const *cols, size_t *n, int *rg, int64_t *first,
                             lks_err *err);
void lks_pq_rows_free(lks_pq_rows *it);

/* Moves the working memory (page and value buffers) of a reader, or of an
 * iterator, that is no longer used into a fresh one, so that reading file
 * after file reuses memory already touched.  `from` stays valid to free. */
void lks_pq_reader_take_buffers(lks_pq_reader *r, lks_pq_reader *from);
void lks_pq_rows_take_buffers(lks_pq_rows *it, lks_pq_rows *from);

#endif
