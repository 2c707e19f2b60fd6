/*
 * cdc.h — the change-event model (DESIGN.md §3) and the Debezium MySQL
 * connector's JSON codec.
 *
 * An event is one row change: op, table identity, the before/after row
 * images as typed values aligned with a row schema, the primary key, the
 * source position and the commit time.
 *
 * The codec reads Debezium JSON with or without the {"schema","payload"}
 * envelope without building a DOM: one pass of a flat tokenizer that also
 * checks the grammar (json_scan.c) over the line, values decoded straight
 * from the token text.
 * Envelope schemas repeat on every event; the parser caches them by their
 * bytes, so a stream of one table parses its schema once.  Events without
 * the envelope carry bare JSON values: their types come from a schema hint
 * (the target table's), and without a hint from inference rules (below); a
 * value that cannot be decoded without a type it lacks (a precise-mode
 * DECIMAL of unknown scale) is LKS_EINVAL naming the field, never guessed.
 *
 * Lifetimes: an event and everything it points to live in the arena passed
 * to the parse call (or, for cached schemas, in the parser) and stay valid
 * until that arena is reset / the parser freed.
 */
#ifndef LKS_CDC_H
#define LKS_CDC_H

#include "core/core.h"

/* ---- types ---------------------------------------------------------------------- */

/* The semantic type of a column: what the value means, independent of how
 * Debezium spelled it.  Maps to Delta as DESIGN.md's type table says. */
enum {
    LKS_CT_BOOL = 1,
    LKS_CT_INT8,      /* TINYINT (signed) */
    LKS_CT_INT16,     /* SMALLINT, TINYINT UNSIGNED, YEAR */
    LKS_CT_INT32,     /* MEDIUMINT, INT, SMALLINT/MEDIUMINT UNSIGNED */
    LKS_CT_INT64,     /* BIGINT, INT UNSIGNED */
    LKS_CT_UINT64,    /* BIGINT UNSIGNED (Delta decimal(20,0)) */
    LKS_CT_FLOAT,
    LKS_CT_DOUBLE,
    LKS_CT_DECIMAL,   /* precision/scale; precision 0: unknown (variable scale) */
    LKS_CT_STRING,    /* CHAR, VARCHAR, TEXT, ENUM, SET (comma-joined) */
    LKS_CT_BYTES,     /* BINARY, VARBINARY, BLOB, BIT(n>1), GEOMETRY (WKB) */
    LKS_CT_DATE,      /* days since epoch */
    LKS_CT_TIME,      /* microseconds, may be negative */
    LKS_CT_DATETIME,  /* microseconds, wall clock (MySQL DATETIME) */
    LKS_CT_TIMESTAMP, /* microseconds since epoch, UTC (MySQL TIMESTAMP) */
    LKS_CT_JSON       /* JSON text */
};

/* What the kind alone loses but Debezium's JSON spells out (so a writer
 * can reproduce it): 0 for none. */
enum {
    LKS_CD_YEAR = 1,  /* INT16: MySQL YEAR (io.debezium.time.Year) */
    LKS_CD_ENUM,      /* STRING: ENUM (io.debezium.data.Enum, `allowed`) */
    LKS_CD_SET,       /* STRING: SET (io.debezium.data.EnumSet, `allowed`) */
    LKS_CD_BIT,       /* BYTES: BIT(n), precision = n; bytes big-endian, (n+7)/8 of them */
    LKS_CD_GEOMETRY,  /* BYTES: WKB of a spatial column (io.debezium.data.geometry.Geometry) */
    LKS_CD_POINT      /* BYTES: WKB of a POINT column (io.debezium.data.geometry.Point) */
};

typedef struct lks_cdc_type {
    int kind;          /* LKS_CT_* */
    int precision;     /* DECIMAL (0: unknown); DATETIME/TIME/TIMESTAMP fsp (-1 unknown); BIT length */
    int scale;         /* DECIMAL */
    int optional;      /* nullable */
    int detail;        /* LKS_CD_*, 0 when none (added member: zero-initialise) */
} lks_cdc_type;

typedef struct lks_cdc_field {
    const char *name;
    lks_cdc_type type;
    const char *allowed; /* ENUM/SET: the comma-separated allowed values, else NULL */
} lks_cdc_field;

/* The columns of a row image, in the source table's order. */
typedef struct lks_cdc_schema {
    lks_cdc_field *fields;
    int nfields;
} lks_cdc_schema;

/* Index of a field by name (exact match), or -1. */
int lks_cdc_schema_find(const lks_cdc_schema *s, const char *name);

/* ---- values ------------------------------------------------------------------------ */

enum {
    LKS_CV_NULL = 0,
    LKS_CV_BOOL,
    LKS_CV_INT,    /* i64: every integer kind but UINT64, DATE (days), TIME/DATETIME/TIMESTAMP (µs) */
    LKS_CV_UINT,   /* u64: UINT64 */
    LKS_CV_DOUBLE, /* f64: FLOAT and DOUBLE */
    LKS_CV_DECIMAL,/* dec: unscaled big-endian two's complement + scale */
    LKS_CV_BYTES,  /* bytes: STRING (UTF-8), BYTES, JSON text */
    LKS_CV_ABSENT  /* not in a partial row image (binlog_row_image=MINIMAL) */
};

typedef struct lks_cdc_value {
    int kind;
    union {
        int b;
        int64_t i64;
        uint64_t u64;
        double f64;
        struct {
            const uint8_t *be; /* big-endian two's complement, 1..32 bytes */
            size_t len;
            int scale;
        } dec;
        lks_slice bytes;
    } u;
} lks_cdc_value;

/* A row image: one value per schema field. */
typedef struct lks_cdc_row {
    lks_cdc_value *v;
    int n;
} lks_cdc_row;

/* ---- events ---------------------------------------------------------------------------- */

enum { LKS_CDC_CREATE = 'c', LKS_CDC_UPDATE = 'u', LKS_CDC_DELETE = 'd', LKS_CDC_READ = 'r', LKS_CDC_TRUNCATE = 't' };

/* source.snapshot (Debezium's SnapshotRecord; a JSON boolean reads as FALSE/TRUE). */
enum {
    LKS_SNAP_FALSE = 0,
    LKS_SNAP_TRUE = 1,
    LKS_SNAP_LAST = 2,
    LKS_SNAP_FIRST = 3,
    LKS_SNAP_FIRST_IN_DATA_COLLECTION = 4,
    LKS_SNAP_LAST_IN_DATA_COLLECTION = 5,
    LKS_SNAP_INCREMENTAL = 6
};

typedef struct lks_cdc_source {
    const char *connector;  /* "mysql" */
    const char *name;       /* topic prefix (source.name) */
    const char *db, *table;
    int64_t server_id;
    const char *gtid;       /* NULL when absent */
    const char *file;       /* binlog file, NULL when absent */
    int64_t pos, row;       /* -1 when absent */
    int snapshot;           /* LKS_SNAP_*: 0 false, 1 true, 2 "last", 3 "first", ... */
    int64_t ts_ms;          /* commit time at the source, -1 when absent */
    int64_t ts_us;          /* -1 when absent */
} lks_cdc_source;

typedef struct lks_cdc_event {
    int op;                      /* LKS_CDC_* */
    const lks_cdc_schema *schema;/* columns of before/after */
    int has_before, has_after;
    lks_cdc_row before, after;
    lks_cdc_source source;
    int64_t ts_ms;               /* payload.ts_ms (when Debezium processed it), -1 when absent */
    /* primary key: indexes into schema fields (from the key document, a
     * hint, or none: nkey 0) */
    const int *key;
    int nkey;
} lks_cdc_event;

/* ---- the Debezium JSON codec ---------------------------------------------------------------- */

typedef struct lks_dbz_parser lks_dbz_parser;

typedef struct lks_dbz_opts {
    /* Types for events without the envelope (and the key columns): the
     * target table's columns.  Borrowed.  NULL: infer (JSON integer →
     * INT64, number with fraction or exponent → DOUBLE, string → STRING,
     * bool → BOOL, object/array → JSON text). */
    const lks_cdc_schema *hint;
    const char *const *key_columns; /* primary key names when no key document says */
    int nkey_columns;
    /* Debezium connector settings that change the JSON of values without
     * the envelope saying so: "precise" (default), "double", "string". */
    const char *decimal_handling_mode;
    /* "adaptive_time_microseconds" (default), "adaptive", "connect". */
    const char *time_precision_mode;
    /* "bytes" (default), "base64", "base64-url-safe", "hex". */
    const char *binary_handling_mode;
} lks_dbz_opts;

/* The parser holds the options (copied) and the schema cache. */
int lks_dbz_parser_new(const lks_dbz_opts *o, lks_dbz_parser **out, lks_err *err);
void lks_dbz_parser_free(lks_dbz_parser *p);

/* Parses one record value (a JSON document: an envelope, a bare payload, or
 * "null"/empty for a tombstone).  Returns 1 with an event, 0 for a tombstone
 * or a record that is not a row change (schema change, transaction
 * metadata: *what says which, e.g. "tombstone", "transaction", "schema
 * change"), negative on error (LKS_ECORRUPT naming the JSON path and
 * offset; LKS_EINVAL for a value its type cannot decode). */
int lks_dbz_parse(lks_dbz_parser *p, const char *json, size_t len, lks_arena *a, lks_cdc_event *ev,
                  const char **what, lks_err *err);
/* Parses a record key document (with or without envelope) into the key
 * column names and values (arena-allocated).  Returns the count. */
int lks_dbz_parse_key(lks_dbz_parser *p, const char *json, size_t len, lks_arena *a, const char ***names,
                      lks_cdc_value **values, lks_err *err);

typedef struct lks_dbz_write_opts {
    int schemas_enable;              /* value.converter.schemas.enable */
    const char *decimal_handling_mode; /* as above */
    const char *time_precision_mode;
    const char *binary_handling_mode;
} lks_dbz_write_opts;

/* Appends the event as Debezium's MySQL connector writes it (field order
 * and spelling as Debezium's; "schema" when schemas_enable). */
int lks_dbz_write(lks_buf *b, const lks_cdc_event *ev, const lks_dbz_write_opts *o, lks_err *err);
/* Appends the key document of the event (its key columns, from the after
 * image when there is one, else the before image). */
int lks_dbz_write_key(lks_buf *b, const lks_cdc_event *ev, const lks_dbz_write_opts *o, lks_err *err);
/* Appends the same key as Kafka Connect's SimpleHeaderConverter writes the
 * key Struct into a message header (Connect's default header.converter;
 * Debezium's __debezium.oldkey / __debezium.newkey): {"col":value,...}
 * without envelope, strings quoted with only backslash and '"' escaped,
 * numbers and booleans bare, bytes in base64, decimals (and BIGINT
 * UNSIGNED) as Java's BigDecimal.toString, the connect time types as
 * Java's date text in UTC.  schemas_enable is ignored. */
int lks_dbz_write_key_text(lks_buf *b, const lks_cdc_event *ev, const lks_dbz_write_opts *o, lks_err *err);

/* A writer for a stream of events: the same bytes as lks_dbz_write, with
 * what repeats from event to event made once: each schema's quoted field
 * names (remembered by the schema's address, up to 16 schemas) and the
 * source block and tail of the last event (remembered by their values).
 * One writer per thread; lks_dbz_writer_free frees it (NULL is fine). */
typedef struct lks_dbz_writer lks_dbz_writer;
int lks_dbz_writer_new(const lks_dbz_write_opts *o, lks_dbz_writer **out, lks_err *err);
void lks_dbz_writer_free(lks_dbz_writer *dw);
/* Appends the event to b, as lks_dbz_write does. */
int lks_dbz_writer_put(lks_dbz_writer *dw, lks_buf *b, const lks_cdc_event *ev, lks_err *err);
/* Drops what the writer remembers of schema s.  Call it before s, its
 * fields or their names are freed or changed: a schema at an address the
 * writer has written must otherwise stay as it was. */
void lks_dbz_writer_forget(lks_dbz_writer *dw, const lks_cdc_schema *s);

#endif
