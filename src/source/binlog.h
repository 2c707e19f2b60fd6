/*
 * binlog.h — decoding MySQL/MariaDB binary log events into change events.
 *
 * Pure decoding: bytes in, lks_cdc_event rows out; no I/O.  The same decoder
 * serves `lakesync binlog FILE…` (events read from a file) and live capture
 * (events from a replication connection, source.h).  Every input is hostile:
 * a truncated, oversized or inconsistent event is LKS_ECORRUPT naming the
 * event (type name, position) and what is wrong, never a crash or a guess; a
 * CRC32 mismatch is LKS_ECORRUPT "checksum mismatch".
 *
 * Supported (binlog v4, MySQL 5.1 … 9.x, MariaDB 10.x/11.x):
 *   FORMAT_DESCRIPTION (header and post-header lengths, checksum algorithm),
 *   ROTATE, QUERY (BEGIN / COMMIT / DDL text and default database), XID,
 *   GTID (MySQL GTID/ANONYMOUS_GTID/GTID_TAGGED, MariaDB GTID), GTID_LIST /
 *   PREVIOUS_GTIDS (skipped), HEARTBEAT, STOP, TABLE_MAP with optional
 *   metadata (signedness, charsets, column names, SET/ENUM values, geometry
 *   types, primary key, enum/set charsets, column visibility), WRITE/UPDATE/
 *   DELETE_ROWS v1 and v2 (incl. the v2 extra-data block and MariaDB's
 *   zlib-compressed variants), PARTIAL_UPDATE_ROWS (a JSON column's partial
 *   update is applied to its before image when it holds one, else the row is
 *   LKS_EUNSUPPORTED naming the column), TRANSACTION_PAYLOAD (zstd; inner
 *   events are decoded in order as if they were in the stream), and MariaDB's
 *   ANNOTATE_ROWS (skipped).  Other events are reported as LKS_BL_OTHER.
 *
 * Column types (TABLE_MAP type + metadata → lks_cdc_type, the one mapping the
 * snapshot path (source.h) uses too; optional = the column's null bit):
 *   TINY: signed INT8, unsigned INT16;   SHORT: signed INT16, unsigned INT32;
 *   INT24: INT32;  LONG: signed INT32, unsigned INT64;
 *   LONGLONG: signed INT64, unsigned UINT64;  FLOAT, DOUBLE;
 *   NEWDECIMAL(p,s): DECIMAL p,s;  DATE/NEWDATE: DATE;
 *   TIME/TIME2(fsp): TIME precision fsp;  DATETIME/DATETIME2(fsp): DATETIME;
 *   TIMESTAMP/TIMESTAMP2(fsp): TIMESTAMP;  YEAR: INT16 detail YEAR;
 *   STRING/VARCHAR/VAR_STRING/BLOB family: STRING when the column charset is
 *     not binary (63), BYTES when it is (BINARY, VARBINARY, BLOB); without
 *     charset metadata CHAR/VARCHAR are STRING and BLOBs BYTES;
 *   ENUM: STRING detail ENUM (`allowed` and the value's member text from the
 *     ENUM_STR_VALUE metadata; without it the value is the 1-based index in
 *     decimal text);  SET: STRING detail SET (comma-joined members; without
 *     metadata the bitmap in decimal text);
 *   BIT(1): BOOL;  BIT(n>1): BYTES detail BIT precision n;
 *   JSON (MySQL binary JSON): JSON, value as JSON text (mysql_json.h);
 *   GEOMETRY: BYTES detail GEOMETRY (value: the WKB after MySQL's 4-byte SRID);
 *   VECTOR (MySQL 9): BYTES.
 * Values: integers as LKS_CV_INT/UINT (unsigned per signedness metadata; a
 * negative-looking unsigned never wraps); DECIMAL binary format → LKS_CV_DECIMAL
 * (minimal big-endian two's complement, scale s); DATE → days since epoch;
 * TIME → signed µs; DATETIME → µs since 1970-01-01 wall clock; TIMESTAMP →
 * µs since epoch UTC; zero dates ('0000-00-00', a zero month or day) → NULL
 * (the column is optional in the mapped schema whatever its null bit says);
 * strings converted to UTF-8 from the column charset (utf8/utf8mb3/utf8mb4
 * and ascii pass through after validation, latin1 and other charsets
 * glibc's iconv knows by name are converted; an unknown charset id is
 * LKS_EUNSUPPORTED naming the column and id); BLOB/BINARY as bytes
 * (BINARY(n) is padded back to n bytes with zeros: servers strip trailing
 * zero bytes when they log a row, while SELECT and the snapshot return them).
 *
 * Columns absent from a partial row image (binlog_row_image=MINIMAL or
 * NOBLOB) are LKS_CV_ABSENT.
 *
 * Lifetimes: everything an item points to lives in the decoder's scratch
 * arena and is valid during the callback only (the table-map schema lives
 * until the table id is mapped again or the decoder is freed).
 */
#ifndef LKS_SOURCE_BINLOG_H
#define LKS_SOURCE_BINLOG_H

#include "cdc/cdc.h"

/* Event type codes (the binlog's own numbers). */
enum {
    LKS_BLE_QUERY = 2,
    LKS_BLE_STOP = 3,
    LKS_BLE_ROTATE = 4,
    LKS_BLE_FORMAT_DESCRIPTION = 15,
    LKS_BLE_XID = 16,
    LKS_BLE_TABLE_MAP = 19,
    LKS_BLE_WRITE_ROWS_V1 = 23,
    LKS_BLE_UPDATE_ROWS_V1 = 24,
    LKS_BLE_DELETE_ROWS_V1 = 25,
    LKS_BLE_HEARTBEAT = 27,
    LKS_BLE_ROWS_QUERY = 29,
    LKS_BLE_WRITE_ROWS_V2 = 30,
    LKS_BLE_UPDATE_ROWS_V2 = 31,
    LKS_BLE_DELETE_ROWS_V2 = 32,
    LKS_BLE_GTID = 33,
    LKS_BLE_ANONYMOUS_GTID = 34,
    LKS_BLE_PREVIOUS_GTIDS = 35,
    LKS_BLE_PARTIAL_UPDATE_ROWS = 39,
    LKS_BLE_TRANSACTION_PAYLOAD = 40,
    LKS_BLE_HEARTBEAT_V2 = 41,
    LKS_BLE_GTID_TAGGED = 42,
    LKS_BLE_MARIA_ANNOTATE_ROWS = 160,
    LKS_BLE_MARIA_BINLOG_CHECKPOINT = 161,
    LKS_BLE_MARIA_GTID = 162,
    LKS_BLE_MARIA_GTID_LIST = 163,
    LKS_BLE_MARIA_START_ENCRYPTION = 164,
    LKS_BLE_MARIA_QUERY_COMPRESSED = 165,
    LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED_V1 = 166,
    LKS_BLE_MARIA_UPDATE_ROWS_COMPRESSED_V1 = 167,
    LKS_BLE_MARIA_DELETE_ROWS_COMPRESSED_V1 = 168,
    LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED = 169,
    LKS_BLE_MARIA_UPDATE_ROWS_COMPRESSED = 170,
    LKS_BLE_MARIA_DELETE_ROWS_COMPRESSED = 171
};

/* Name of an event type ("WRITE_ROWS_V2"), "UNKNOWN(n)" in a static buffer
 * otherwise (not thread-safe for unknown codes). */
const char *lks_binlog_type_name(int type);

/* What one decoded event (or inner event of a TRANSACTION_PAYLOAD) is. */
enum {
    LKS_BL_OTHER = 0, /* nothing a capture needs (PREVIOUS_GTIDS, ROWS_QUERY, ...) */
    LKS_BL_FDE,       /* FORMAT_DESCRIPTION: server_version set */
    LKS_BL_ROTATE,    /* next file: rotate_file, rotate_pos */
    LKS_BL_BEGIN,     /* a transaction starts (QUERY "BEGIN", or a GTID event) */
    LKS_BL_COMMIT,    /* a transaction ends (XID, QUERY "COMMIT"; also after a
                         DDL statement, which is its own transaction) */
    LKS_BL_DDL,       /* QUERY other than BEGIN/COMMIT/ROLLBACK/SAVEPOINT…: db, sql */
    LKS_BL_TABLE_MAP, /* table: the mapped table */
    LKS_BL_ROWS,      /* events[0..nevents): one lks_cdc_event per row change */
    LKS_BL_HEARTBEAT,
    LKS_BL_STOP
};

/* A table as a TABLE_MAP event describes it. */
typedef struct lks_binlog_table {
    uint64_t table_id;
    const char *db, *table;
    int ncols;
    const uint8_t *types;    /* MYSQL_TYPE_* per column (real type for STRING-coded ENUM/SET) */
    const uint16_t *meta;    /* per-column metadata as the event stores it */
    int has_names;           /* column names came from optional metadata */
    lks_cdc_schema schema;   /* names ("@1", "@2", … when unknown) and mapped types */
    const int *key;          /* primary-key column indexes from optional metadata */
    int nkey;                /* 0 when the event does not say */
} lks_binlog_table;

typedef struct lks_binlog_item {
    int kind;          /* LKS_BL_* */
    int type;          /* raw event type code (the inner event's for payload contents) */
    uint64_t pos;      /* position of the event's first byte in its file
                          (inner payload events: the payload event's position) */
    uint64_t next_pos; /* position after the event (the header's log_pos; for
                          inner events the payload's) */
    uint32_t timestamp;/* header: seconds since epoch */
    uint32_t server_id;
    /* FDE */
    const char *server_version;
    /* ROTATE (file is NUL-terminated, trailing garbage some servers add cut
     * at the first byte that cannot be in a file name) */
    const char *rotate_file;
    uint64_t rotate_pos;
    /* BEGIN: the GTID when a GTID event started it ("0-1-42" MariaDB,
     * "uuid:42" MySQL), else NULL.  MariaDB: domain/server/seq also set. */
    const char *gtid;
    uint32_t gtid_domain, gtid_server;
    uint64_t gtid_seq;
    /* DDL: default database (may be ""), statement text (not NUL-terminated
     * in the event; the decoder copies it NUL-terminated) */
    const char *db;
    const char *sql;
    /* TABLE_MAP and ROWS */
    const lks_binlog_table *table;
    /* ROWS: one event per row (op 'c', 'u' or 'd'; before/after per op;
     * schema = table->schema; key = table->key; source filled: connector
     * "mysql", name = opts.topic_prefix, db, table, server_id, file, pos =
     * position of the event that began the transaction, row = index of this
     * row change within its transaction (0-based, across all rows events of
     * the transaction), gtid, snapshot FALSE, ts_ms = header timestamp ×
     * 1000, ts_us -1; ts_ms of the event -1: the caller sets it). */
    lks_cdc_event *events;
    int nevents;
} lks_binlog_item;

typedef struct lks_binlog_opts {
    const char *topic_prefix; /* source.name of the events; NULL: "lakesync" */
    const char *file;         /* name of the binlog file being decoded (source.file
                                 until the first ROTATE); may be NULL */
    int skip_checksum;        /* 1: do not verify CRC32 (default: verify) */
    /* Row events of tables this returns 0 for are reported as LKS_BL_ROWS with
     * nevents 0 and their rows not decoded (filters: include/exclude lists).
     * NULL: decode all. */
    int (*want_table)(void *ud, const char *db, const char *table);
    void *want_ud;
    size_t max_event_bytes;   /* 0: 1 GiB; larger events (or a payload that
                                 decompresses to more) are LKS_ECORRUPT */
} lks_binlog_opts;

typedef struct lks_binlog_decoder lks_binlog_decoder;

int lks_binlog_decoder_new(const lks_binlog_opts *o, lks_binlog_decoder **out, lks_err *err);
void lks_binlog_decoder_free(lks_binlog_decoder *d);

/* Called once per decoded item, in stream order.  A non-zero return stops
 * decoding and is returned by lks_binlog_feed (the callback sets err). */
typedef int lks_binlog_cb(void *ud, const lks_binlog_item *it, lks_err *err);

/* Decodes one complete event: `ev` holds the 19-byte common header, the body
 * and (when the format description says so) the 4-byte CRC32.  `pos` is the
 * event's position in its file (used for items and messages; live streams
 * pass log_pos − event_length, or 0 for artificial events).  Before the first
 * FORMAT_DESCRIPTION, a binlog v4 layout with checksums as the caller said
 * (lks_binlog_decoder_set_checksum) is assumed.  Returns LKS_OK, a decoding
 * error, or the callback's non-zero value. */
int lks_binlog_feed(lks_binlog_decoder *d, uint64_t pos, const uint8_t *ev, size_t len, lks_binlog_cb *cb,
                    void *ud, lks_err *err);

/* Live streams learn the checksum algorithm before any event (the server
 * was told it with @master_binlog_checksum): 1 CRC32, 0 none. */
void lks_binlog_decoder_set_checksum(lks_binlog_decoder *d, int crc32);
/* The file name used for source.file from now on (live: after connecting). */
int lks_binlog_decoder_set_file(lks_binlog_decoder *d, const char *file, lks_err *err);

/* Decodes a whole binlog file in memory (the 4-byte magic "\xfebin", then
 * events back to back; an event whose length runs past the end is
 * LKS_ECORRUPT "truncated event at <pos>", unless it is the very last and
 * `allow_truncated_tail` is set, then decoding stops quietly).  `name` is
 * used in messages and as the initial file name. */
int lks_binlog_decode_file(lks_binlog_decoder *d, const char *name, const uint8_t *data, size_t len,
                           int allow_truncated_tail, lks_binlog_cb *cb, void *ud, lks_err *err);

/* Where lks_binlog_decode_stream gets a file's bytes: puts up to cap bytes
 * in buf and returns how many, 0 at the end of the file, or a negative
 * LKS_* code with err set (a read error; returned as is). */
typedef long lks_binlog_read_fn(void *ud, uint8_t *buf, size_t cap, lks_err *err);

/* lks_binlog_decode_file for a file read piece by piece through rd, with the
 * same checks, items and messages: the decoder holds about 256 KiB of the
 * file at a time (more only for an event that is larger), so what it reads
 * stays in the CPU's caches whatever the size of the file. */
int lks_binlog_decode_stream(lks_binlog_decoder *d, const char *name, lks_binlog_read_fn *rd, void *rd_ud,
                             int allow_truncated_tail, lks_binlog_cb *cb, void *ud, lks_err *err);

/* ---- value decoders the snapshot path and tests share -------------------------------------- */

/* MySQL's binary DECIMAL(p,s) (the row-image format) at p[0..n) into a
 * decimal value (be/len in a, minimal two's complement).  Returns the bytes
 * consumed, 0 when malformed or n is short. */
size_t lks_binlog_decimal(const uint8_t *p, size_t n, int precision, int scale, lks_arena *a, lks_cdc_value *out);

/* Text of a decimal ("-123.40") into a value of the given scale: the snapshot
 * path reads DECIMAL columns as text.  LKS_EINVAL when malformed or when the
 * text has more fraction digits than scale. */
int lks_decimal_from_text(const char *s, size_t n, int scale, lks_arena *a, lks_cdc_value *out);

/* The text of a SET's bit set over its members m[0..n) (n <= 64): the
 * members whose bits are set, joined with commas in order, in a.  Bits past
 * n are the caller's to refuse.  LKS_OK or LKS_ENOMEM. */
int lks_bl_set_text(const char *const *m, const size_t *len, int n, uint64_t bits, lks_arena *a, lks_slice *out);

#endif
