/*
 * delta_int.h — what the files of src/delta/ share and nobody else sees:
 * the table handle and one log action as a tagged union.
 */
#ifndef LKS_DELTA_INT_H
#define LKS_DELTA_INT_H

#include "delta/delta.h"

struct lks_delta_table {
    lks_store *st;    /* borrowed */
    char *prefix;     /* "" or "db/t" (no trailing '/') */
    char *log_prefix; /* "_delta_log/" or "db/t/_delta_log/" */
};

enum {
    LKS_DA_NONE = 0, /* an action we do not know: ignored, as the spec says */
    LKS_DA_PROTOCOL,
    LKS_DA_METADATA,
    LKS_DA_ADD,
    LKS_DA_REMOVE,
    LKS_DA_TXN,
    LKS_DA_DOMAIN,
    LKS_DA_COMMIT_INFO,
    LKS_DA_CDC,
    LKS_DA_CHECKPOINT_META, /* V2 checkpoint: checkpointMetadata */
    LKS_DA_SIDECAR          /* V2 checkpoint: sidecar */
};

typedef struct lks_delta_commit_info {
    int64_t timestamp;            /* ms, -1 when absent */
    int64_t in_commit_timestamp;  /* ms, -1 when absent */
    const char *operation;        /* NULL when absent */
    const char *txn_id;           /* lakesync's and Spark's unique commit id, NULL when absent */
    const char *json;             /* the whole commitInfo object as JSON text */
} lks_delta_commit_info;

typedef struct lks_delta_sidecar {
    const char *path;
    int64_t size_in_bytes, modification_time;
} lks_delta_sidecar;

typedef struct lks_delta_action {
    int kind; /* LKS_DA_* */
    union {
        lks_delta_protocol protocol;
        lks_delta_metadata metadata;
        lks_delta_add add;
        lks_delta_remove remove;
        lks_delta_txn_action txn;
        lks_delta_domain domain;
        lks_delta_commit_info commit_info;
        lks_delta_add cdc; /* path, partitionValues, size, dataChange, tags */
        int64_t checkpoint_version; /* checkpointMetadata.version */
        lks_delta_sidecar sidecar;
    } u;
} lks_delta_action;

/* Parses one JSON line of a commit file or a V2 JSON checkpoint into an
 * action; strings copied into a.  Unknown action kinds give LKS_DA_NONE;
 * unknown fields are ignored.  LKS_ECORRUPT naming the field on malformed
 * or mistyped input (the caller prefixes file and line). */
int lks_delta_action_parse(const char *line, size_t len, lks_arena *a, lks_delta_action *out, lks_err *err);
/* Appends one action as a JSON line (with '\n'). */
int lks_delta_action_write(lks_buf *b, const lks_delta_action *act);

/* Reads the actions of a Parquet checkpoint (classic part, or V2
 * checkpoint / sidecar file) at object key `key`, calling fn for each.
 * The action passed to fn is valid only during that call (copy what you
 * keep); `a` is not used. */
typedef int lks_delta_action_fn(void *ud, const lks_delta_action *act, lks_err *err);
int lks_delta_checkpoint_read_parquet(lks_delta_table *t, const char *key, lks_arena *a, lks_delta_action_fn *fn,
                                      void *ud, lks_err *err);

/* Log file names. */
/* "00000000000000000012.json" → 12 and kind; -1 for names that are not log
 * files.  kind: 'j' commit, 'c' classic checkpoint (single or part), 'v' V2
 * checkpoint (uuid-named), 'r' version checksum (.crc), 'x' compacted. */
int64_t lks_delta_log_name_version(const char *name, char *kind);

/* ---- deletion vectors and objects (dv.c; D2) ------------------------------------ */

/* Z85 (ZeroMQ RFC 32).  Encoding zero-pads a length that is not a multiple
 * of 4.  Decoding appends n/5*4 bytes; LKS_ECORRUPT naming the offset on a
 * length that is not a multiple of 5, a character outside the alphabet or
 * a group past 2^32-1. */
int lks_delta_z85_encode(lks_buf *b, const uint8_t *p, size_t n);
int lks_delta_z85_decode(const char *s, size_t n, lks_buf *out, lks_err *err);
/* Appends the serialized bitmap of a DV (magic + portable RoaringTreemap)
 * holding rows (any order, duplicates allowed; each < 2^63: LKS_EINVAL
 * otherwise).  A DV file wraps it as: version byte 1 (file start), then per
 * DV a big-endian u32 size, these bytes, a big-endian CRC-32 of them; the
 * descriptor's offset points at the size field. */
int lks_delta_dv_serialize(const uint64_t *rows, size_t n, lks_buf *out);
/* Parses serialized bitmap bytes (hostile input).  LKS_ECORRUPT naming
 * the offset.  Free with lks_delta_rowset_free(). */
int lks_delta_dv_parse(const uint8_t *p, size_t n, lks_delta_rowset **out, lks_err *err);
/* Writes the rowset's rows, ascending, into out (room for its cardinality).
 * LKS_ENOMEM only. */
int lks_delta_rowset_rows(const lks_delta_rowset *rs, uint64_t *out);
/* Decodes the DV stored at `offset` (-1: absent) with sizeInBytes `size`
 * of a DV file whose bytes p[0..n) are in memory: version byte, size
 * field, CRC-32 and bitmap checked exactly as lks_delta_dv_load() does
 * (which shares the code).  Messages name offsets, not the file. */
int lks_delta_dv_decode_file(const uint8_t *p, size_t n, int64_t offset, int32_t size, lks_delta_rowset **out,
                             lks_err *err);

/* An object named by a log path: relative to the table root, or absolute
 * ("file:/x", "file:///x", "/x", "scheme://..."), which opens a store on
 * its parent (owned, closed by lks_delta_obj_close).  is_key: `path` is
 * already an object key of the table's store (as lks_delta_table_key gives). */
typedef struct lks_delta_obj {
    lks_store *st;    /* where to read key */
    const char *key;
    const char *name; /* for messages */
    lks_store *owned;
} lks_delta_obj;
int lks_delta_obj_open(lks_delta_table *t, const char *path, int is_key, lks_arena *a, lks_delta_obj *o,
                       lks_err *err);
void lks_delta_obj_close(lks_delta_obj *o);

/* ---- end deletion vectors and objects ---- */

/* ---- what dv_write.c needs of a transaction (txn.c) ---------------------------- */

lks_delta_table *lks_delta__txn_table(const lks_delta_txn *x);
/* The snapshot the transaction reads (NULL: creates the table), and the
 * protocol / metadata its commit leaves in force (NULL when none yet). */
const lks_delta_snapshot *lks_delta__txn_read(const lks_delta_txn *x);
const lks_delta_protocol *lks_delta__txn_protocol(const lks_delta_txn *x);
const lks_delta_metadata *lks_delta__txn_metadata(const lks_delta_txn *x);
/* The pending add of `path` (valid until the next add), or NULL. */
const lks_delta_add *lks_delta__txn_pending_add(const lks_delta_txn *x, const char *path);
/* Drops the pending add of `path` (no-op when there is none). */
void lks_delta__txn_drop_add(lks_delta_txn *x, const char *path);
/* Non-zero when the transaction removes `path`. */
int lks_delta__txn_removes(const lks_delta_txn *x, const char *path);

/* ---- end transaction internals ---- */

/* ---- what maint.c needs (snapshot.c, txn.c) ---------------------------------------- */

/* "interval 1 week", "7 days", "2 hours", ... (a Delta duration property)
 * → milliseconds; -1 when not understood. */
int64_t lks_delta_interval_ms(const char *s);
/* The adds staged in a transaction so far (valid until the next add); the
 * caller may change fields other than strings (OPTIMIZE clears dataChange). */
lks_delta_add *lks_delta__txn_adds(lks_delta_txn *x, size_t *n);

/* ---- end maintenance internals ---- */

/* ---- scan helpers (scan.c; D2) ---------------------------------------------------- */

/* Parses a partition value string (PROTOCOL.md "Partition Value
 * Serialization") of Delta type dt into its canonical form (rf: the column's
 * read-schema field, for the decimal width).  NULL or "" give a NULL value.
 * Byte slices point into s or a.  LKS_ECORRUPT naming the column on a bad
 * value. */
int lks_delta_partition_value_parse(const lks_delta_type *dt, const lks_pq_field *rf, const char *s, lks_arena *a,
                                    lks_pq_value *out, lks_err *err);
/* Reads every row of a Parquet file as rows of `rs`, the read schema of
 * struct type `root` (columns found by logical name, converted to the
 * canonical forms as a scan does), calling fn per row (valid during the
 * call); fn's non-OK status stops and is returned. */
typedef int lks_delta_row_fn(void *ud, const lks_pq_value *row, lks_err *err);
int lks_delta_read_parquet_as(const lks_delta_type *root, const lks_pq_schema *rs, const lks_pq_source *src,
                              lks_delta_row_fn *fn, void *ud, lks_err *err);

/* ---- end scan helpers ---- */

/* The table-relative path "<prefix>/deletion_vector_<uuid>.bin" of a 'u'
 * (relative, Z85 UUID) deletion vector descriptor; memory in a.  NULL with
 * LKS_ECORRUPT for a malformed descriptor, LKS_ENOMEM. */
const char *lks_delta_dv_uuid_path(const lks_delta_dv *dv, lks_arena *a, lks_err *err);

#endif
